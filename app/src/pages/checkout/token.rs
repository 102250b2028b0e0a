//! The token's trouble on the page — the "session expired" notice with its
//! retry — and the developer panel, both read from a [`TokenView`].

use checkout_sdk::RefreshReason;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::Shared;
use super::token_view::TokenView;

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
