//! The token as the page shows it — its state, never the token itself: the
//! "session expired" notice with its retry, and the developer panel.

use checkout_sdk::{RefreshReason, SdkError, StopReason, TokenState, TokenStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::Shared;

/// What the page shows of the token: never the token itself.
#[derive(Clone, Default, PartialEq)]
pub struct TokenView {
    /// A refresh is under way (a QA hook, `data-token-refreshing`: a test
    /// that moves the page's clock waits until a refresh it set off has
    /// been answered and its next timer armed).
    pub refreshing: bool,
    /// The first token has arrived: until then a failure is the page's
    /// error (there is no session to call expired yet).
    opened: bool,
    expires_in: u64,
    refresh_count: u32,
    last_reason: &'static str,
    /// "12 ms", or "—" before this tab's first refresh.
    last_refresh_took: String,
    /// Why the last refresh failed, while the token is expired.
    expired: Option<String>,
    /// Seconds until the SDK tries again by itself.
    retry_in: Option<u64>,
    /// Nothing will renew the token: why.
    pub ended: Option<Ending>,
}

/// Why a checkout cannot go on, each with its own words on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server said trying again will not help.
    Stopped(StopReason),
    /// Expired with no handler to renew it (`?refresh=off`).
    Expired,
}

impl From<&TokenState> for TokenView {
    fn from(state: &TokenState) -> Self {
        Self {
            refreshing: state.status == TokenStatus::Refreshing,
            opened: state.opened,
            expires_in: state.expires_in.as_secs(),
            refresh_count: state.refresh_count,
            last_reason: match state.last_reason {
                None => "—",
                Some(RefreshReason::Opening) => "opening",
                Some(RefreshReason::Timer) => "timer",
                Some(RefreshReason::Expired) => "401",
                Some(RefreshReason::Tab) => "tab",
                Some(RefreshReason::Visibility) => "visibility",
                Some(RefreshReason::Manual) => "retry",
                Some(RefreshReason::Payment) => "payment",
            },
            last_refresh_took: state
                .last_refresh_took
                .map_or_else(|| "—".to_owned(), |took| format!("{} ms", took.as_millis())),
            expired: match &state.status {
                TokenStatus::Expired { error, .. } => Some(match error {
                    SdkError::RefreshFailed(why) => why.clone(),
                    SdkError::RefreshRefused { message, .. } => message.clone(),
                    other => other.to_string(),
                }),
                _ => None,
            },
            ended: match &state.status {
                TokenStatus::Expired {
                    error: SdkError::RefreshRefused { reason, .. },
                    ..
                } => Some(Ending::Stopped(*reason)),
                TokenStatus::Expired {
                    error: SdkError::AccessTokenExpired,
                    ..
                } => Some(Ending::Expired),
                _ => None,
            },
            retry_in: match &state.status {
                TokenStatus::Expired { retry_in, .. } => {
                    retry_in.map(|d| d.as_secs_f64().ceil() as u64)
                }
                _ => None,
            },
        }
    }
}

impl TokenView {
    /// Why the first token has not come yet, and when the SDK tries again.
    pub fn opening_trouble(&self) -> Option<String> {
        let why = self.expired.as_ref().filter(|_| !self.opened)?;
        Some(match self.retry_in {
            Some(s) => format!("{why} Trying again by itself in {s} s."),
            None => why.clone(),
        })
    }

    /// Expired, and the SDK is trying again: not ended.
    fn session_trouble(&self) -> bool {
        self.opened && self.expired.is_some() && self.ended.is_none()
    }

    pub fn opened(&self) -> bool {
        self.opened
    }

    /// The checkout has stopped for good (not merely expired without a
    /// handler, where a call still goes out and fails with the SDK's error).
    pub fn stopped(&self) -> bool {
        matches!(self.ended, Some(Ending::Stopped(_)))
    }
}

/// Shown while the token is expired: why, when the SDK tries again by
/// itself, and a button to try at once.
#[component]
pub fn TokenTrouble(shared: Shared) -> impl IntoView {
    let token = shared.token;
    let retry_now = move |_| {
        if let Some(client) = shared.client() {
            spawn_local(async move {
                if let Err(e) = client.refresh(RefreshReason::Manual).await {
                    shared.error.set(Some(e.to_string()));
                }
            });
        }
    };
    view! {
        <Show when=move || token.with(TokenView::session_trouble)>
            <div data-testid="token-trouble">
                // Only the sentence is announced, not the countdown's every tick.
                <p class="error" role="alert">
                    "Your checkout session expired. "
                    <span data-testid="token-trouble-reason">{move || token.with(|t| t.expired.clone().unwrap_or_default())}</span>
                </p>
                <p>
                    {move || token.with(|t| t.retry_in.map(|s| format!("Trying again by itself in {s} s. ")))}
                    <button type="button" on:click=retry_now>"Try again now"</button>
                </p>
            </div>
        </Show>
    }
}

/// The token's lifetime, refreshes and their reasons, for a developer.
#[component]
pub fn DeveloperPanel(token: RwSignal<TokenView>) -> impl IntoView {
    view! {
        <details class="developer" data-testid="developer-panel">
            <summary>"Developer"</summary>
            <dl>
                <dt>"Token expires in"</dt>
                <dd><span data-testid="token-expires-in">{move || token.with(|t| t.expires_in)}</span>" s"</dd>
                <dt>"Refreshes"</dt>
                <dd data-testid="token-refresh-count">{move || token.with(|t| t.refresh_count)}</dd>
                <dt>"Last refresh"</dt>
                <dd data-testid="token-last-reason">{move || token.with(|t| t.last_reason)}</dd>
                <dt>"Last refresh took"</dt>
                <dd data-testid="token-last-refresh-took">{move || token.with(|t| t.last_refresh_took.clone())}</dd>
            </dl>
        </details>
    }
}
