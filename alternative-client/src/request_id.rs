//! The id of the request a vendor call is made for, sent as `X-Request-Id`
//! so that one id finds a payment's lines in the merchant's logs and, when
//! asked, in the vendor's.
//!
//! The caller sets it around the work it does for one request
//! ([`with_request_id`]); every call the client makes inside carries it.
//! A call shared by several requests (the OAuth token's single flight)
//! carries the id of the one that was running it.

use std::future::Future;

use reqwest::header::HeaderValue;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// A request id fit to be sent on and logged: 1–64 characters of
/// `[A-Za-z0-9._-]`, so that no id taken from a caller's header can split a
/// header or a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub(crate) HeaderValue);

impl RequestId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// `id` if it has the shape above.
    pub fn new(id: &str) -> Option<Self> {
        let fits = (1..=Self::MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        fits.then(|| Self(HeaderValue::from_str(id).expect("checked above")))
    }

    /// A new id: 128 random bits, as 32 hex digits.
    pub fn random() -> Self {
        let id = format!("{:032x}", rand::random::<u128>());
        Self(HeaderValue::from_str(&id).expect("hex digits"))
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("checked at construction")
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Runs `work` with `id` as the request id of every vendor call it makes.
///
/// ```
/// use alternative_client::{with_request_id, RequestId};
///
/// # async fn example(vendor: alternative_client::VendorClient) {
/// let id = RequestId::new("req-42").unwrap();
/// // The init call (and the OAuth call, if one is due) carry X-Request-Id: req-42.
/// let issued = with_request_id(id, vendor.checkout_token("cus_acme", "inv_1001")).await;
/// # }
/// ```
pub async fn with_request_id<F: Future>(id: RequestId, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

/// The request id of the work running now, if it set one.
pub fn current_request_id() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_that_cannot_split_a_header_or_a_log_line() {
        assert!(RequestId::new("9f1c-ab_12.x").is_some());
        for bad in ["", "a b", "a\nb", "a\r\nX-Evil: 1", "é", &"x".repeat(65)] {
            assert_eq!(RequestId::new(bad), None, "{bad:?}");
        }
        let made = RequestId::random();
        assert_eq!(made.as_str().len(), 32);
        assert_ne!(made, RequestId::random());
    }

    #[tokio::test]
    async fn the_id_is_set_inside_the_scope_only() {
        assert_eq!(current_request_id(), None);
        let id = RequestId::new("req-1").unwrap();
        let inside = with_request_id(id.clone(), async { current_request_id() }).await;
        assert_eq!(inside, Some(id));
        assert_eq!(current_request_id(), None);
    }
}
