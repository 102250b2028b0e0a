//! Logging in and out, and what the logged-in user may see.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;
use super::AppError;

/// The logged-in user, as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub email: String,
}

/// One of the user's invoices, as the merchant's records have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub number: String,
    pub currency: String,
    pub total: String,
    /// What the merchant has recorded of its payment.
    #[serde(flatten)]
    pub payment: PaymentView,
}

/// An invoice's payment as the list shows it (`state`: `open`, `paid`,
/// `mismatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PaymentView {
    Open,
    /// Paid in full by this payment.
    Paid {
        paid_by: String,
    },
    /// A payment that is not the invoice's amount or currency: it needs
    /// the merchant's attention, and the invoice takes no other payment.
    Mismatch {
        paid_by: String,
        amount: String,
        currency: String,
    },
}

/// `POST /api/login` (form fields `email`, `password`, and `next`, the
/// page to return to): starts a session and redirects to `next` if it is a
/// path on this site ([`return_path`]), else to `/`. One answer, after the
/// same work, for a wrong password and an unknown email; failures limited
/// per client address and per account (`merchant::limiter::LoginLimits`).
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let next = next.as_deref().and_then(return_path);
    let outcome = log_in(email, password, next.unwrap_or("/")).await;
    merchant::metrics::login(match &outcome {
        Ok(()) => "ok",
        Err(AppError::InvalidCredentials) => "invalid_credentials",
        Err(AppError::TooManyRequests { .. }) => "limited",
        Err(AppError::BadRequest(_)) => "bad_request",
        Err(_) => "error",
    });
    let form = match next {
        Some(next) => format!("/login?next={next}"),
        None => "/login".to_owned(),
    };
    outcome.map_err(|error| ssr::back_to_form(&form, error))
}

/// `next` if it is a path on this site that is safe to redirect to and to
/// put in a link: it starts with one `/` (not `//host`, a link elsewhere)
/// and holds only letters, digits, `_`, `-` and `/` — so no scheme, no
/// host, no query, nothing to encode. Anything else is ignored, not
/// followed: a log-in link cannot be made to send anyone off the site.
pub fn return_path(next: &str) -> Option<&str> {
    let safe = next.len() <= 200
        && next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b));
    safe.then_some(next)
}

#[cfg(feature = "ssr")]
async fn log_in(email: String, password: String, next: &str) -> Result<(), AppError> {
    merchant::check_credentials(&email, &password)
        .map_err(|why| ssr::with_status(AppError::BadRequest(why.to_string())))?;
    let limits = ssr::limits()?;
    let address = ssr::client_address().await;
    let account = email.trim().to_lowercase();
    // Failures count; see `LoginLimits` for why the owner is not locked out.
    let attempt = limits
        .login
        .attempt(&account, &address)
        .await
        .map_err(ssr::too_many)?;
    let users = ssr::users()?;
    let user = users
        .authenticate(&email, &password)
        .await
        .map_err(|e| ssr::storage_unavailable("look the user up", e))?
        .ok_or_else(|| ssr::with_status(AppError::InvalidCredentials))?;
    attempt.succeeded().await;
    let session = ssr::session().await?;
    // A new session id at log-in: an id planted before it is worth nothing after.
    session
        .cycle_id()
        .await
        .map_err(|e| ssr::storage_unavailable("start a session", e))?;
    session
        .insert(ssr::USER, &user)
        .await
        .map_err(|e| ssr::storage_unavailable("start a session", e))?;
    // Counted from here, however busy the session (`ssr::optional_user`).
    session
        .insert(ssr::LOGGED_IN_AT, users.log_in_time())
        .await
        .map_err(|e| ssr::storage_unavailable("start a session", e))?;
    tracing::info!(user = user.id, "logged in");
    leptos_axum::redirect(next);
    Ok(())
}

/// `POST /api/logout`: ends the session and redirects to `/login`.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ssr::session()
        .await?
        .flush()
        .await
        .map_err(|e| ssr::storage_unavailable("end the session", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The logged-in user, or `None`.
#[server(prefix = "/api", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<UserView>, AppError> {
    Ok(ssr::optional_user().await?.map(|user| UserView {
        name: user.name,
        email: user.email,
    }))
}

/// The logged-in user's invoices.
#[server(prefix = "/api", endpoint = "invoices")]
pub async fn my_invoices() -> Result<Vec<InvoiceSummary>, AppError> {
    let user = ssr::current_user().await?;
    let invoices = ssr::checkout()?
        .invoices_of(&user)
        .await
        .map_err(|e| ssr::storage_unavailable("list the user's invoices", e))?;
    Ok(invoices
        .into_iter()
        .map(|i| InvoiceSummary {
            id: i.invoice_id,
            number: i.invoice_number,
            currency: i.currency,
            total: i.total,
            payment: match i.payment {
                merchant::PaymentState::Open => PaymentView::Open,
                merchant::PaymentState::Paid { payment_id } => PaymentView::Paid {
                    paid_by: payment_id,
                },
                merchant::PaymentState::Mismatch {
                    payment_id,
                    amount,
                    currency,
                } => PaymentView::Mismatch {
                    paid_by: payment_id,
                    amount,
                    currency,
                },
            },
        })
        .collect())
}
