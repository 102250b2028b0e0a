//! `/login`: a plain form posting to `/api/login`. With JavaScript it is
//! submitted by Leptos; without, by the browser — both end in a redirect.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    view! {
        <Title text="Log in"/>
        <h1>"Log in"</h1>
        <ActionForm action=login attr:class="login-form">
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="username" required aria-describedby="login-error"/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required aria-describedby="login-error"/>
            <button type="submit" data-testid="login-submit">"Log in"</button>
        </ActionForm>
        <p class="error" id="login-error" role="alert" data-testid="login-error">{error}</p>
    }
}
