//! Browser security headers on every answer: a Content-Security-Policy whose
//! only inline script is the one Leptos writes, by a nonce made for each
//! request, plus `Referrer-Policy`, `X-Content-Type-Options` and, outside
//! the sandbox environment, HSTS.
//!
//! The nonce is made here, before the page renders, and handed to Leptos
//! through the request ([`provide_nonce`], called in the router's context):
//! so the header and the `nonce` attributes of the hydration script and
//! the resolved-resource scripts are the same value by construction.
//!
//! ```no_run
//! use std::sync::Arc;
//! use checkout_headers::BrowserPolicy;
//!
//! # fn wire(router: axum::Router) -> axum::Router {
//! // The page may call the site and the vendor API; HSTS where served over HTTPS.
//! let policy = BrowserPolicy::new("https://public-api.alternativepayments.io", true).unwrap();
//! // Outside every route, so pages, server functions and assets all carry them;
//! // and `checkout_headers::provide_nonce` in the routes' Leptos context.
//! router.layer(axum::middleware::from_fn_with_state(Arc::new(policy), checkout_headers::set))
//! # }
//! ```

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{request, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use std::sync::Arc;

/// What every answer tells the browser to enforce.
#[derive(Clone, Debug)]
pub struct BrowserPolicy {
    /// `connect-src`: the site and the vendor API (the SDK calls it from
    /// the page), and the live-reload socket under `cargo leptos watch`.
    connect_src: String,
    hsts: bool,
}

impl BrowserPolicy {
    /// A policy letting the page call the vendor API at `vendor_api_url`.
    /// `hsts`: tell browsers to come back only over HTTPS (RFC 6797), for
    /// a site served over HTTPS — every environment but the sandbox.
    pub fn new(vendor_api_url: &str, hsts: bool) -> Result<Self, String> {
        let uri: Uri = vendor_api_url
            .parse()
            .map_err(|e| format!("vendor API URL {vendor_api_url:?}: {e}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(format!("vendor API URL {vendor_api_url:?} is not absolute"));
        };
        Ok(Self {
            connect_src: format!("'self' {scheme}://{authority}"),
            hsts,
        })
    }

    /// Also lets the page open cargo-leptos's live-reload socket (any
    /// host, this port): `cargo leptos watch` only.
    pub fn with_live_reload(mut self, port: u32) -> Self {
        self.connect_src
            .push_str(&format!(" ws://*:{port} wss://*:{port}"));
        self
    }

    /// The policy with this request's nonce (CSP Level 3). Scripts: the
    /// site's own files, the one inline bootstrap Leptos writes (by its
    /// nonce), and compiling the wasm. Nothing framed, no `<base>`, no
    /// plugins, forms only to the site.
    fn content_security_policy(&self, nonce: &Nonce) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             connect-src {}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; \
             form-action 'self'",
            self.connect_src
        )
    }
}

/// Makes this request's nonce, lets the handler see it, and sets the
/// headers on the answer.
pub async fn set(
    State(policy): State<Arc<BrowserPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    // 128 random bits, base64url: leptos's own generator.
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let csp = policy.content_security_policy(&nonce);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::try_from(csp).expect("a CSP of URL characters is a header value"),
    );
    // The full address only to the site itself; the vendor, and links
    // out, see none (the checkout's URL names the invoice). Not
    // `no-referrer`: that would make the browser send `Origin: null` with
    // the site's own form POSTs, which the cross-site check refuses.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if policy.hsts {
        // A year, the common floor for preload lists. No includeSubDomains:
        // whether the merchant's other hosts speak HTTPS is not ours to say.
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Gives Leptos the nonce [`set`] made for this request, in place of the
/// one it made itself, so the scripts it writes carry the header's value.
/// Called in the router's Leptos context, after the integration's own.
pub fn provide_nonce() {
    let nonce =
        use_context::<request::Parts>().and_then(|parts| parts.extensions.get::<Nonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn answer(hsts: bool) -> Response {
        let policy = BrowserPolicy::new("https://vendor.example:8443/api", hsts).unwrap();
        Router::new()
            .route("/", get(|| async { "page" }))
            .layer(axum::middleware::from_fn_with_state(Arc::new(policy), set))
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap()
    }

    fn header(response: &Response, name: impl axum::http::header::AsHeaderName) -> String {
        response.headers()[name].to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn every_answer_carries_the_policy_with_a_nonce_of_its_own() {
        let (first, second) = (answer(true).await, answer(true).await);
        let csp = header(&first, CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("connect-src 'self' https://vendor.example:8443;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
        let nonce = |csp: &str| {
            csp.split("'nonce-")
                .nth(1)
                .unwrap()
                .split('\'')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_ne!(
            nonce(&csp),
            nonce(&header(&second, CONTENT_SECURITY_POLICY))
        );
        assert_eq!(header(&first, REFERRER_POLICY), "same-origin");
        assert_eq!(header(&first, X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(
            header(&first, STRICT_TRANSPORT_SECURITY),
            "max-age=31536000"
        );
    }

    #[tokio::test]
    async fn no_hsts_where_the_site_is_not_served_over_https() {
        assert!(!answer(false)
            .await
            .headers()
            .contains_key(STRICT_TRANSPORT_SECURITY));
    }

    #[test]
    fn a_vendor_url_that_is_not_absolute_is_refused() {
        assert!(BrowserPolicy::new("/v1", true).is_err());
        assert!(BrowserPolicy::new("https://vendor.example", true)
            .unwrap()
            .with_live_reload(3001)
            .connect_src
            .ends_with("ws://*:3001 wss://*:3001"));
    }
}
