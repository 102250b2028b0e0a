//! Server-side helpers for the server functions: the session's user, the
//! merchant services from context, rate limits, and HTTP statuses.

use std::net::SocketAddr;
use std::sync::Arc;

use alternative_client::{with_request_id, RequestId};
use axum::extract::ConnectInfo;
use http::{header, StatusCode};
use leptos::prelude::*;
use leptos::server_fn::error::ServerFnErrorErr;
use leptos_axum::ResponseOptions;
use merchant::gate::{Ask, Gate, MintGate};
use merchant::limiter::{KeyedLimiter, Limits};
use merchant::{CheckoutService, InvoiceId, TokenRead, User, Users};
use tower_sessions::Session;

use super::AppError;

/// A form posted by the browser itself (JavaScript off, or a page without
/// it — the log-in page has none): on failure it goes back to `page` with
/// the error's code in the query, where the page says it in words. Scripts
/// and `fetch` calls (not asking for HTML) keep the JSON error and status.
pub fn back_to_form(page: &str, error: AppError) -> AppError {
    let asks_for_html = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if asks_for_html {
        let join = if page.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&format!("{page}{join}error={}", error.code()));
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(StatusCode::SEE_OTHER);
        }
    }
    error
}

/// The session key holding the logged-in user, as they were at log-in: the
/// session answers who is asking without a database read per request
/// (checked against a fresh copy of their row: `Users::session_user`).
pub const USER: &str = merchant::sessions::USER_KEY;

/// The session key holding when the user logged in (Unix seconds): a
/// log-in lasts `MERCHANT_SESSION_MAX_AGE_SECS` from then, however busy.
pub const LOGGED_IN_AT: &str = merchant::sessions::LOGGED_IN_AT_KEY;

fn from_context<T: Send + Sync + 'static>() -> Result<Arc<T>, AppError> {
    use_context::<Arc<T>>().ok_or_else(|| {
        tracing::error!(
            missing = std::any::type_name::<T>(),
            "server function context"
        );
        with_status(AppError::Internal)
    })
}

pub fn checkout() -> Result<Arc<CheckoutService>, AppError> {
    from_context()
}

pub fn users() -> Result<Arc<Users>, AppError> {
    from_context()
}

pub fn limits() -> Result<Arc<Limits>, AppError> {
    from_context()
}

pub fn gate() -> Result<Arc<MintGate>, AppError> {
    from_context()
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| with_status(AppError::Internal))
}

/// The logged-in user, if any. Asking restarts the session's inactivity
/// clock: the expiry is set again, so the session is saved on the way out
/// (the store writes it only once it has slid a minute). A session with no
/// user is left alone, so nothing is stored for a stranger's cookie. A
/// log-in that is over — past its maximum age, or its user removed — ends
/// here as by a log-out, and the page is told no one is logged in.
pub async fn optional_user() -> Result<Option<User>, AppError> {
    let session = session().await?;
    let read = |e| storage_unavailable("read the session", e);
    let Some(held) = session.get::<User>(USER).await.map_err(read)? else {
        return Ok(None);
    };
    let logged_in_at = session.get::<i64>(LOGGED_IN_AT).await.map_err(read)?;
    let user = users()?
        .session_user(&held, logged_in_at)
        .await
        .map_err(|e| storage_unavailable("look the user up", e))?;
    match &user {
        Some(_) => session.set_expiry(session.expiry()),
        None => {
            tracing::info!(user = held.id, "a log-in is over: its session ends");
            if let Err(error) = session.flush().await {
                // Refused all the same: the check above runs on every use.
                tracing::warn!(%error, "could not delete a session that is over");
            }
        }
    }
    Ok(user)
}

/// The logged-in user, or 401.
pub async fn current_user() -> Result<User, AppError> {
    optional_user()
        .await?
        .ok_or_else(|| with_status(AppError::NotLoggedIn))
}

/// The client's address, as the server established it: put in the
/// request's extensions by the server before the server functions run
/// (behind trusted proxies, the address they forwarded; `server::proxies`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Runs `work` with this request's id (put in the request by the server)
/// on every vendor call it makes, and in a log span of its own. Resources
/// run on tasks of their own, where neither the id set around the handler
/// nor the request's log span follows; the Leptos context, which holds the
/// request, does.
pub async fn for_this_request<F: std::future::Future>(work: F) -> F::Output {
    use tracing::Instrument;

    let id = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestId>().cloned());
    match id {
        Some(id) => {
            let span = tracing::info_span!("vendor", request_id = %id);
            with_request_id(id, work).instrument(span).await
        }
        None => work.await,
    }
}

/// The key of the per-address limits: the [`ClientAddress`] the server
/// put in the request, else the socket's peer.
pub async fn client_address() -> String {
    let established = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientAddress>().copied());
    if let Some(ClientAddress(ip)) = established {
        return format!("addr:{ip}");
    }
    match leptos_axum::extract::<ConnectInfo<SocketAddr>>().await {
        Ok(ConnectInfo(addr)) => format!("addr:{}", addr.ip()),
        Err(_) => "addr:unknown".to_owned(),
    }
}

pub async fn limit(limiter: &KeyedLimiter, key: &str) -> Result<(), AppError> {
    limiter.check(key).await.map_err(too_many)
}

pub fn too_many(wait: std::time::Duration) -> AppError {
    with_status(AppError::TooManyRequests {
        retry_after_secs: wait.as_secs().max(1),
    })
}

/// A call that may spend vendor quota for `user`: counted per session and
/// per client address.
pub async fn limit_vendor_calls(user: &User) -> Result<(), AppError> {
    let limits = limits()?;
    let session = session()
        .await?
        .id()
        .map_or_else(|| format!("user:{}", user.id), session_limit_key);
    limit(&limits.vendor_per_session, &session).await?;
    limit(&limits.vendor_per_address, &client_address().await).await
}

/// The per-session limit's key for session `id`.
fn session_limit_key(id: tower_sessions::session::Id) -> String {
    format!("session:{id}")
}

/// The caller of a mint for `invoice_id`, counted as [`limit_vendor_calls`]
/// counts, with the fleet's token for the invoice if the gate read it: in
/// a fleet, its session, limits and token in one round trip to Redis
/// (`merchant::gate`); else, or when the gate cannot say, part by part.
pub async fn mint_caller(invoice_id: &InvoiceId) -> Result<(User, Option<TokenRead>), AppError> {
    if let Some(id) = session().await?.id() {
        let session_key = session_limit_key(id);
        let address_key = client_address().await;
        let ask = Ask {
            session: id,
            session_key: &session_key,
            address_key: &address_key,
            invoice_id,
        };
        match gate()?.ask(&ask).await {
            Gate::Through(read) => {
                let user = merchant::sessions::known_live(id, current_user()).await?;
                return Ok((user, Some(read)));
            }
            Gate::Limited(wait) => return Err(too_many(wait)),
            // An ended session: its own check, next, says so.
            Gate::Ended | Gate::AskEach => {}
        }
    }
    let user = current_user().await?;
    limit_vendor_calls(&user).await?;
    Ok((user, None))
}

/// The invoice id a server function was given, if it has the documented
/// shape ([`InvoiceId`]); checked before anything else reads it.
pub fn invoice_id(id: &str) -> Result<InvoiceId, AppError> {
    InvoiceId::parse(id).map_err(|why| with_status(AppError::BadRequest(why.to_string())))
}

/// A refused token's id (`jti`) as the page reports it: the shape the
/// vendor's ids have (short, `[A-Za-z0-9_-]`), else a bad request; it is
/// logged, so nothing else may pass.
pub fn token_id(id: &str) -> Result<&str, AppError> {
    let sane = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if sane {
        Ok(id)
    } else {
        Err(with_status(AppError::BadRequest(
            "refused: not a token id".to_owned(),
        )))
    }
}

/// What the page is told when the checkout service could not do what it
/// was asked (`doing`, for the log: "get a checkout token", …).
pub fn checkout_error(
    error: merchant::CheckoutError,
    invoice_id: &InvoiceId,
    doing: &'static str,
) -> AppError {
    use merchant::CheckoutError;
    tracing::warn!(%invoice_id, %error, "could not {doing}");
    with_status(match error {
        CheckoutError::UnknownInvoice => AppError::InvoiceNotFound,
        CheckoutError::Paid => AppError::AlreadyPaid,
        CheckoutError::PaymentMismatch => AppError::PaymentMismatch,
        // The vendor's 409: a token for a paid invoice is no use to anyone.
        CheckoutError::Refused(alternative_client::VendorError::Rejected {
            status: 409, ..
        }) => AppError::AlreadyPaid,
        CheckoutError::Refused(_) => AppError::NotPayable,
        CheckoutError::Vendor(_) => AppError::VendorUnavailable,
        CheckoutError::Busy(after) => AppError::Busy {
            retry_after_secs: after.as_secs().max(1),
        },
        CheckoutError::Storage => AppError::StorageUnavailable,
    })
}

/// What the page is told when the merchant's own database (or the session
/// store on it) failed while `doing` something: logged with its cause, and
/// 503, since nothing was changed and the request can be sent again.
pub fn storage_unavailable(doing: &'static str, error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "could not {doing}: the database failed");
    with_status(AppError::StorageUnavailable)
}

/// Leptos's own errors, on the server: about the request.
pub fn framework_error(error: ServerFnErrorErr) -> AppError {
    let answer = match error {
        ServerFnErrorErr::Args(why)
        | ServerFnErrorErr::MissingArg(why)
        | ServerFnErrorErr::Deserialization(why) => AppError::BadRequest(why),
        other => {
            tracing::error!(error = ?other, "server function failed");
            AppError::Internal
        }
    };
    with_status(answer)
}

/// Sets the response's status (and `Retry-After`) for `error`, and returns it.
pub fn with_status(error: AppError) -> AppError {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(status(&error));
        if let AppError::Busy { retry_after_secs }
        | AppError::TooManyRequests { retry_after_secs } = error
        {
            response.insert_header(header::RETRY_AFTER, retry_after_secs.into());
        }
    }
    error
}

fn status(error: &AppError) -> StatusCode {
    match error {
        AppError::NotLoggedIn | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AppError::InvoiceNotFound => StatusCode::NOT_FOUND,
        AppError::NotPayable | AppError::AlreadyPaid | AppError::PaymentMismatch => {
            StatusCode::CONFLICT
        }
        AppError::VendorUnavailable => StatusCode::BAD_GATEWAY,
        AppError::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
