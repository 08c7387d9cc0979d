//! Builds the PostgreSQL variants of the tests as runnable only when `TEST_DATABASE_URL` is set, so that a run
//! without PostgreSQL reports them as ignored instead of passing them silently.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres");
    }
}
