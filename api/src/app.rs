//! The served application: every transport's routes merged (GraphQL over HTTP with reports, SDMX), wrapped in the
//! layers they share, and served on a listener. The transports sit below this file and never import each other's
//! routes.

use crate::http::AppState;

/// The whole router: `http::routes` and `sdmx::routes`, with tracing, CORS and compression.
pub fn router(state: AppState) -> axum::Router {
    crate::http::with_layers(crate::http::routes().merge(crate::sdmx::routes()), state)
}

/// Serves the whole router on a listener until `shutdown` completes (the connection layer: `http::serve`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::http::serve::serve(listener, router(state.clone()), state, shutdown).await
}
