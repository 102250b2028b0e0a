//! The pages, one module each, and the header they share.

mod checkout;
mod home;
mod login;

pub use checkout::CheckoutPage;
pub use home::Home;
pub use login::LoginPage;

use leptos::prelude::*;

use crate::api::{whoami, Logout};

/// The site header: who is logged in, and a way out. A plain form, so
/// logging out works without JavaScript too.
#[component]
pub fn Header() -> impl IntoView {
    // Asked again on every navigation: logging in or out navigates.
    let location = leptos_router::hooks::use_location();
    let user = Resource::new(move || location.pathname.get(), |_| whoami());
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Demo Merchant"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => view! {
                            <span class="who" data-testid="user-name">{user.name}</span>
                            <ActionForm action=logout attr:class="logout">
                                <button type="submit">"Log out"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! { <a href="/login">"Log in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
    }
}
