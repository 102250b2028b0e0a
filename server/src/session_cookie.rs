//! The session cookie an answer may set: only for what its own request did
//! to the session store (`merchant::sessions::Writes`).
//!
//! - a new id, or the request's own refreshed (its expiry slides): only if
//!   the store created or saved that session as live for this request;
//! - a removal (`merchant_session=` with a past expiry): only if this
//!   request deleted a session — the log-out.
//!
//! Anything else is dropped: a late answer of a request that ran through a
//! log-in in another tab would otherwise set the replaced id again, and one
//! whose session was already gone when it read it would remove the new
//! cookie — the browser keeps the last cookie it is given (RFC 6265 §5.3,
//! step 11), so either logs the customer out.

use axum::extract::Request;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use merchant::sessions::{recording_writes, Writes};

/// The session cookie's name.
pub const NAME: &str = "merchant_session";

pub async fn guard(request: Request, next: Next) -> Response {
    let (mut response, writes) = recording_writes(next.run(request)).await;
    let headers = response.headers_mut();
    if !headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|value| session_value(value).is_some())
    {
        return response;
    }
    let set: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    headers.remove(SET_COOKIE);
    for value in set {
        if session_value(&value).is_none_or(|id| allowed(id, &writes)) {
            headers.append(SET_COOKIE, value);
        } else {
            tracing::debug!("dropped a session cookie the request's own writes do not back");
        }
    }
    response
}

/// The value a `Set-Cookie` gives the session cookie, if it is that one.
fn session_value(header: &HeaderValue) -> Option<&str> {
    let pair = header.to_str().ok()?.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    (name.trim() == NAME).then(|| value.trim())
}

fn allowed(value: &str, writes: &Writes) -> bool {
    if value.is_empty() {
        return writes.ended;
    }
    writes.live.is_some_and(|id| id.to_string() == value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session::Id;

    #[test]
    fn only_the_session_the_request_kept_or_ended_is_set() {
        let id = Id::default();
        let kept = Writes {
            live: Some(id),
            ended: false,
        };
        assert!(allowed(&id.to_string(), &kept));
        assert!(!allowed(&Id::default().to_string(), &kept));
        assert!(!allowed("", &kept));
        let ended = Writes {
            live: None,
            ended: true,
        };
        assert!(allowed("", &ended));
        assert!(!allowed(&id.to_string(), &ended));
        assert!(!allowed(&id.to_string(), &Writes::default()));
    }

    #[test]
    fn the_session_cookie_is_told_from_others() {
        let header = |v: &'static str| HeaderValue::from_static(v);
        assert_eq!(
            session_value(&header("merchant_session=abc; HttpOnly; Path=/")),
            Some("abc")
        );
        assert_eq!(
            session_value(&header("merchant_session=; Max-Age=0")),
            Some("")
        );
        assert_eq!(session_value(&header("other=abc")), None);
        assert_eq!(session_value(&header("merchant_session_x=abc")), None);
    }
}
