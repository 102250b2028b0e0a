//! Metrics in the Prometheus text format, on a listener of their own
//! (`MERCHANT_METRICS_ADDR`, off by default) and never on the public site:
//! what the mint path does is the operator's business, not the internet's.
//!
//! The series are recorded where they happen, through the `metrics` facade
//! (`alternative_client::metrics`, `merchant::metrics`); this installs the
//! Prometheus recorder they go to and serves what it holds.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use merchant::SqlSessions;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets for every `_seconds` series: from a reused token (well
/// under a millisecond) to a vendor call at its 5 s timeout.
const SECONDS_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the process's recorder. Once per process: a second call fails.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)?
        .install_recorder()
}

/// Folds what was recorded into the histograms, as the recorder needs
/// every so often (without it, recorded values pile up between scrapes).
pub async fn upkeep_every(handle: PrometheusHandle, period: std::time::Duration) {
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    sessions: SqlSessions,
}

/// `GET /metrics` on the metrics listener.
pub fn router(handle: PrometheusHandle, sessions: SqlSessions) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, sessions })
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    // Read now rather than kept up to date on every log-in and log-out.
    match scrape.sessions.count_live().await {
        Ok(live) => metrics::gauge!(merchant::metrics::ACTIVE_SESSIONS).set(live as f64),
        Err(error) => tracing::warn!(%error, "could not count the live sessions"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        scrape.handle.render(),
    )
}
