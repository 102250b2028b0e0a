//! The one way a call goes out to the vendor: with the request id of the
//! work it is made for (`X-Request-Id`), timed and counted
//! ([`crate::metrics`]), a transport failure told as [`VendorError`]
//! without its URL's secrets.

use std::time::Instant;

use reqwest::{RequestBuilder, Response};

use crate::error::VendorError;
use crate::metrics::{Endpoint, VENDOR_CALLS, VENDOR_CALL_DURATION};
use crate::request_id::{current_request_id, RequestId};

/// Sends one vendor call: with the current request id as `X-Request-Id`,
/// timed and counted.
pub(crate) async fn send(
    request: RequestBuilder,
    endpoint: Endpoint,
) -> Result<Response, VendorError> {
    let request = match current_request_id() {
        Some(RequestId(id)) => request.header("x-request-id", id),
        None => request,
    };
    let started = Instant::now();
    let sent = request.send().await;
    let status = match &sent {
        Ok(response) => response.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".to_owned(),
        Err(_) => "transport".to_owned(),
    };
    let endpoint = endpoint.label();
    metrics::histogram!(VENDOR_CALL_DURATION, "endpoint" => endpoint)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(VENDOR_CALLS, "endpoint" => endpoint, "status" => status).increment(1);
    sent.map_err(VendorError::from_transport)
}
