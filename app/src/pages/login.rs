//! `/login`: a plain HTML form posting to `/api/login` — no JavaScript, and
//! none needed. Success redirects to `/`, or to `?next=` (a path on this
//! site: a checkout whose session ended sends people here and back); a
//! refusal redirects back here with its code (`?error=invalid_credentials`),
//! which the page says in words.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{return_path, AppError, Login};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map().read_untracked();
    let error = query.get("error").map(|code| refusal(&code));
    // A refusal takes the focus (WCAG 3.3.1): with no script on this page,
    // by `autofocus`, which a paragraph honours once it is focusable.
    let refused = error.is_some();
    let next = query
        .get("next")
        .and_then(|next| return_path(&next).map(str::to_owned));
    view! {
        <Title text="Log in"/>
        <h1>"Log in"</h1>
        <ActionForm action=login attr:class="login-form">
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="username" required aria-describedby="login-error"/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required aria-describedby="login-error"/>
            {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
            <button type="submit" data-testid="login-submit">"Log in"</button>
        </ActionForm>
        <p
            class="error"
            id="login-error"
            role="alert"
            data-testid="login-error"
            tabindex=refused.then_some("-1")
            autofocus=refused
        >
            {error}
        </p>
    }
}

/// The sentence for a refusal's code (the query can say anything: unknown
/// codes get the generic sentence, never the text itself).
fn refusal(code: &str) -> String {
    match code {
        "invalid_credentials" => AppError::InvalidCredentials.to_string(),
        "bad_request" => "Please enter your email address and password.".to_owned(),
        "too_many_requests" => "Too many attempts. Please wait a minute and try again.".to_owned(),
        "storage_unavailable" => AppError::StorageUnavailable.to_string(),
        _ => AppError::Internal.to_string(),
    }
}
