//! Decides at build time which tests this machine can run, so that a test whose tool is missing is reported as
//! ignored with its reason instead of passing silently:
//! - the PostgreSQL variants run when `TEST_DATABASE_URL` is set (cfg `postgres`);
//! - the browser test runs when Chromium is found: `CHROMIUM`, else `chromium` on the path (cfg `browser`; the
//!   path is handed to the test as `OBSERVATORY_TEST_CHROMIUM`);
//! - the SDMX client test runs when `SDMX_PYTHON` names a Python with sdmx1 and pysdmx (cfg `sdmx_clients`);
//! - the shared rate limits' test runs when `TEST_REDIS_URL` is set (cfg `redis`; the URL is handed to the test as
//!   `OBSERVATORY_TEST_REDIS_URL`);
//! - the read replica's test runs when `TEST_REPLICA_URL` names a streaming replica of the `TEST_DATABASE_URL` server
//!   that replays on purpose about a second late (cfg `replica`; handed over as `OBSERVATORY_TEST_REPLICA_URL`).
//!
//! A tool installed after the build is seen at the next build that changes one of these variables (or after
//! `touch tests/build.rs`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres)");
    println!("cargo::rustc-check-cfg=cfg(browser)");
    println!("cargo::rustc-check-cfg=cfg(sdmx_clients)");
    println!("cargo::rustc-check-cfg=cfg(redis)");
    println!("cargo::rustc-check-cfg=cfg(replica)");
    for variable in [
        "TEST_DATABASE_URL",
        "CHROMIUM",
        "SDMX_PYTHON",
        "TEST_REDIS_URL",
        "TEST_REPLICA_URL",
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let set = |variable: &str| std::env::var(variable).ok().filter(|value| !value.is_empty());
    if set("TEST_DATABASE_URL").is_some() {
        println!("cargo::rustc-cfg=postgres");
    }
    let chromium = set("CHROMIUM").map(std::path::PathBuf::from).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|candidate| candidate.is_file())
        })
    });
    if let Some(chromium) = chromium {
        println!("cargo::rustc-cfg=browser");
        println!("cargo::rustc-env=OBSERVATORY_TEST_CHROMIUM={}", chromium.display());
    }
    if let Some(url) = set("TEST_REDIS_URL") {
        println!("cargo::rustc-cfg=redis");
        println!("cargo::rustc-env=OBSERVATORY_TEST_REDIS_URL={url}");
    }
    if let (Some(url), Some(_)) = (set("TEST_REPLICA_URL"), set("TEST_DATABASE_URL")) {
        println!("cargo::rustc-cfg=replica");
        println!("cargo::rustc-env=OBSERVATORY_TEST_REPLICA_URL={url}");
    }
    if let Some(python) = set("SDMX_PYTHON") {
        println!("cargo::rustc-cfg=sdmx_clients");
        println!("cargo::rustc-env=OBSERVATORY_TEST_SDMX_PYTHON={python}");
    }
}
