//! Shown when the checkout cannot go on: the session ended (with a link to
//! log in again that comes back here), the invoice is not this customer's,
//! cannot be paid or is paid, or the token expired with nothing to renew
//! it. The SDK has stopped asking by then, in every tab of this checkout.

use checkout_sdk::{SdkError, StopReason};
use leptos::prelude::*;

use super::token_view::{Ending, TokenView};

#[component]
pub fn CheckoutEnded(token: RwSignal<TokenView>, invoice_id: String) -> impl IntoView {
    let log_in = format!("/login?next=/checkout/{invoice_id}");
    let ending = move || token.with(|t| t.ended.filter(|_| t.opened()));
    move || {
        ending().map(|ending| {
            let (sentence, log_in) = words(ending, &log_in);
            view! {
                <div class="error" role="alert" data-testid="checkout-ended">
                    <p data-testid="checkout-ended-reason">{sentence}</p>
                    {log_in.map(|href| view! {
                        <p><a href=href data-testid="log-in-again">"Log in again"</a>" to continue with this payment."</p>
                    })}
                </div>
            }
        })
    }
}

/// The sentence for an ending, and where to log in again if that helps.
fn words(ending: Ending, log_in: &str) -> (String, Option<String>) {
    let sentence = |s: &str| s.to_owned();
    match ending {
        Ending::Stopped(StopReason::NotLoggedIn) => (
            sentence("Your session has ended, so this checkout has stopped."),
            Some(log_in.to_owned()),
        ),
        Ending::Stopped(StopReason::NotYours) => {
            (sentence("We could not find this invoice."), None)
        }
        Ending::Stopped(StopReason::NotPayable) => (
            sentence("This invoice cannot be paid online right now."),
            None,
        ),
        Ending::Stopped(StopReason::Paid) => (sentence("This invoice is paid already."), None),
        Ending::Stopped(StopReason::Other) => (
            sentence("This checkout has stopped. Please reload the page."),
            None,
        ),
        Ending::Expired => (SdkError::AccessTokenExpired.to_string(), None),
    }
}
