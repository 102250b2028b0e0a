//! For a merchant's own tests: the sandbox on a free loopback port, started
//! inside a `#[tokio::test]`, its controls as methods (end a checkout token
//! early, expired or revoked; move its clock; hold its events back) and its
//! counters at hand. The
//! merchant's code under test talks HTTP to [`TestVendor::url`] as it would
//! to the vendor; the seed is the documented demo data (the book,
//! `docs/src/users-and-mint.md`), and nothing outlives the test.
//!
//! ```
//! use std::time::Duration;
//!
//! use sandbox::testing::TestVendor;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let vendor = TestVendor::start().await;
//! let http = reqwest::Client::new();
//! // What a merchant's backend does: an OAuth token, then a checkout token.
//! let oauth: serde_json::Value = http
//!     .post(format!("{}/oauth/token", vendor.url()))
//!     .basic_auth("demo_client_id", Some("demo_client_secret"))
//!     .form(&[("grant_type", "client_credentials")])
//!     .send().await.unwrap().json().await.unwrap();
//! let init: serde_json::Value = http
//!     .post(format!("{}/v1/checkout-auth/init", vendor.url()))
//!     .bearer_auth(oauth["access_token"].as_str().unwrap())
//!     .json(&serde_json::json!({"customer_id": "cus_acme", "invoice_id": "inv_1001"}))
//!     .send().await.unwrap().json().await.unwrap();
//! let token = init["token"].as_str().unwrap();
//! assert_eq!(vendor.sandbox().stats().checkout_tokens_issued, 1);
//!
//! // The vendor ends that token early: the next call with it is refused as
//! // expired, which is what a page's `on_access_token_expired` is for.
//! use base64::Engine;
//! let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
//!     .decode(token.split('.').nth(1).unwrap())
//!     .unwrap();
//! let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
//! vendor.expire_token(claims["jti"].as_str().unwrap()).unwrap();
//! let read = http
//!     .get(format!("{}/checkout/v1/invoice", vendor.url()))
//!     .bearer_auth(token)
//!     .send().await.unwrap();
//! assert_eq!(read.status(), 401);
//! # }
//! ```

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::ManualClock;
use crate::controls;
use crate::ended::Ended;
use crate::{Config, Sandbox};

/// A sandbox serving on `127.0.0.1` for the length of a test: dropped, it
/// stops.
pub struct TestVendor {
    sandbox: Sandbox,
    url: String,
    clock: ManualClock,
    _stop: oneshot::Sender<()>,
}

/// A control the sandbox refused (a malformed token id; too many ended).
#[derive(Debug, thiserror::Error)]
#[error("the sandbox refused the control: {0}")]
pub struct Refused(String);

impl TestVendor {
    /// In memory, the demo seed, no rate limit, its clock at the system's
    /// now and moved only by [`Self::advance`].
    pub async fn start() -> Self {
        Self::start_with(Config::unlimited_in_memory()).await
    }

    /// As [`Self::start`], with `config` (a rate limit, a token lifetime…).
    ///
    /// # Panics
    ///
    /// If the sandbox cannot open or no loopback port is free: a test
    /// cannot go on without its vendor.
    pub async fn start_with(config: Config) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the system clock is after 1970")
            .as_secs();
        let clock = ManualClock::starting_at(now);
        let sandbox = Sandbox::open(config, clock.clone())
            .await
            .expect("the test sandbox opens");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a bound port"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(sandbox.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            sandbox,
            url,
            clock,
            _stop: stop,
        }
    }

    /// Where the vendor API answers: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The sandbox itself: its counters (`stats()`), its seed data again
    /// (`reset()`).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The checkout token with this `jti` is refused as expired from now on
    /// (`401 access_token_expired`), whatever its `exp` says.
    pub fn expire_token(&self, jti: &str) -> Result<(), Refused> {
        self.end(jti, Ended::Expired)
    }

    /// The checkout token with this `jti` is refused as withdrawn from now
    /// on (`401 invalid_token`).
    pub fn revoke_token(&self, jti: &str) -> Result<(), Refused> {
        self.end(jti, Ended::Revoked)
    }

    /// Moves the sandbox's clock forward: tokens age, events fall due.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Holds the vendor's events back (`true`): stored and not delivered
    /// to the webhook endpoint, as when the merchant's endpoint cannot be
    /// reached; `false` sends what waited at once. For a merchant's tests
    /// of catching up on missed events.
    pub fn pause_events(&self, paused: bool) {
        crate::events::pause(&self.sandbox, paused);
    }

    fn end(&self, jti: &str, how: Ended) -> Result<(), Refused> {
        controls::end_token(&self.sandbox, jti, how)
            .map(drop)
            .map_err(|error| Refused(format!("{error:?}")))
    }
}
