//! Overload answered, not queued: at most `MERCHANT_MAX_IN_FLIGHT` requests
//! of the site are worked on at once (tower's concurrency limit), and one
//! more is answered at once — 503 with `Retry-After: 1`, in the body the
//! page already reads as "busy" — instead of waiting in a queue that grows
//! with the load (latency for everyone, memory without bound). Counted
//! ([`SHED`]). The probes and the vendor's webhook sit outside it: a
//! balancer must still hear the instance, and the vendor retries anyway.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::BoxError;
use tower_http::classify::ServerErrorsFailureClass;
use tracing::Span;

/// Counter: requests answered "busy" at once because the instance was
/// working on as many as it takes.
pub const SHED: &str = "merchant_requests_shed_total";

/// The most requests one instance works on at once by default: far above
/// what a healthy instance holds in flight (at 10,000 reused mints a
/// second, about 40), so only overload meets it.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 512;

/// The answer to a request shed (or to anything else the limit's stack
/// fails with, which it does not).
pub async fn busy(error: BoxError) -> Response {
    if !error.is::<tower::load_shed::error::Overloaded>() {
        tracing::error!(%error, "the request limit failed");
    }
    metrics::counter!(SHED).increment(1);
    let body = r#"{"code":"busy","detail":{"retry_after_secs":1}}"#;
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The request log's line for a failed answer (the trace layer's
/// `on_failure`): tower-http's own `ERROR` line, except for a 503. Each
/// 503 is counted or logged where it is decided — a request shed here
/// ([`SHED`]), the vendor busy or away, the database away (a warning with
/// what was being done) — and a line for every request shed would spend
/// on writing logs what shedding saves, at the moment the instance has
/// least to spare (BENCHMARKS.md: about 50,000 lines in two seconds).
pub fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    if let ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) = class {
        return;
    }
    tracing::error!(
        classification = %class,
        latency = %format_args!("{} ms", latency.as_millis()),
        "response failed"
    );
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What [`log_failure`] writes for an answer of `status`.
    fn logged(status: StatusCode) -> String {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            log_failure(
                ServerErrorsFailureClass::StatusCode(status),
                Duration::from_millis(3),
                &Span::none(),
            )
        });
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_503_writes_no_line() {
        assert_eq!(logged(StatusCode::SERVICE_UNAVAILABLE), "");
    }

    #[test]
    fn another_server_error_is_logged_as_before() {
        let line = logged(StatusCode::INTERNAL_SERVER_ERROR);
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("response failed"), "{line}");
        assert!(line.contains("500"), "{line}");
        assert!(line.contains("3 ms"), "{line}");
    }
}
