//! Refusing state-changing requests that another site's page sent.
//!
//! Browsers send `Origin` with every cross-origin POST. A POST whose Origin
//! is not one of this site's is refused before it reaches a server function:
//! no logging a victim into the attacker's account, no minting on their
//! behalf. Browsers also say where a request came from in `Sec-Fetch-Site`
//! (Fetch Metadata, https://w3c.github.io/webappsec-fetch-metadata/#sec-fetch-site-header),
//! even where they leave `Origin` out; a POST that carries it is refused
//! unless it says:
//! - `same-origin`: a page of this very origin sent it;
//! - `none`: no page did — the user, from the address bar, a bookmark or a
//!   reload. No site can make a browser send it, so it is let by.
//!
//! `same-site` is refused as `cross-site` is: a sibling subdomain (another
//! tenant, a host serving users' content under the same registrable
//! domain) is another origin, and `SameSite=Lax` cookies go along with its
//! requests, so the cookie is no defence against it. Requests with neither
//! header (curl, scripts) are not browsers acting for someone else, and go
//! through.
//!
//! A form POST that asks for HTML is answered with a redirect back to its
//! `Referer` (Leptos's no-JavaScript form handling). A `Referer` from
//! another site is dropped before the handler sees it, so the redirect goes
//! to `/` instead: the site is never an open redirect.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderName, Method, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Where the browser says a request came from (Fetch Metadata).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// This site as reached at its listening address (and as `localhost`
    /// when that is a loopback address), plus the configured public origins.
    pub fn for_site(addr: SocketAddr, public: &[String]) -> Self {
        let mut origins = vec![format!("http://{addr}")];
        if addr.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", addr.port()));
        }
        origins.extend(public.iter().cloned());
        Self(origins)
    }

    /// Every allowed origin, e.g. for the embedded sandbox's CORS list.
    pub fn list(&self) -> &[String] {
        &self.0
    }

    fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// Whether `referer` (a URL) is a page of this site.
    fn allows_page(&self, referer: &str) -> bool {
        referer
            .parse::<Uri>()
            .ok()
            .and_then(|uri| Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?)))
            .is_some_and(|origin| self.allows(&origin))
    }
}

pub async fn refuse_cross_site_posts(
    State(allowed): State<Arc<AllowedOrigins>>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let origin = headers.get(header::ORIGIN);
        let fetched_from = headers.get(SEC_FETCH_SITE);
        let foreign_origin = origin.is_some_and(|o| !o.to_str().is_ok_and(|o| allowed.allows(o)));
        let foreign_fetch =
            fetched_from.is_some_and(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"));
        if foreign_origin || foreign_fetch {
            tracing::warn!(?origin, ?fetched_from, path = ?request.uri().path(), "refused a cross-site request");
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
        let foreign_referer = request
            .headers()
            .get(header::REFERER)
            .is_some_and(|r| !r.to_str().is_ok_and(|r| allowed.allows_page(r)));
        if foreign_referer {
            request.headers_mut().remove(header::REFERER);
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_itself_and_configured_origins_are_allowed() {
        let allowed = AllowedOrigins::for_site(
            "127.0.0.1:3000".parse().unwrap(),
            &["https://shop.example".to_owned()],
        );
        assert!(allowed.allows("http://127.0.0.1:3000"));
        assert!(allowed.allows("http://localhost:3000"));
        assert!(allowed.allows("https://shop.example"));
        assert!(!allowed.allows("https://evil.example"));
        assert!(!allowed.allows("http://127.0.0.1:3001"));
    }

    #[test]
    fn only_pages_of_the_site_count_as_its_referers() {
        let allowed = AllowedOrigins::for_site("127.0.0.1:3000".parse().unwrap(), &[]);
        assert!(allowed.allows_page("http://127.0.0.1:3000/checkout/inv_1001?x=1"));
        assert!(allowed.allows_page("http://localhost:3000/"));
        for foreign in [
            "https://evil.example/",
            "http://127.0.0.1:3000.evil.example/",
            "http://user@evil.example/",
            "//evil.example/",
            "/relative",
            "not a url",
        ] {
            assert!(!allowed.allows_page(foreign), "{foreign}");
        }
    }
}
