//! Paying: the customer's saved methods, the Pay button, and the outcome.

use checkout_sdk::{PaymentMethod, PaymentRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::Shared;
use super::token_view::TokenView;
use crate::api::reconcile_payment;
use crate::money::format_amount;

/// The methods to choose from and the Pay button while the invoice is
/// open, then the payment's outcome, where focus moves after paying (the
/// Pay button goes away; focus is not lost to the top of the page).
#[component]
pub fn PayForm(shared: Shared, invoice_id: String) -> impl IntoView {
    let invoice_id = StoredValue::new(invoice_id);
    let Shared {
        invoice,
        methods,
        selected,
        paying,
        payment,
        token,
        ..
    } = shared;
    let status_ref = NodeRef::<leptos::html::P>::new();
    let is_paid = move || invoice.with(|i| i.as_ref().is_some_and(|i| i.status == "paid"));
    let total = move || {
        invoice.with(|i| {
            i.as_ref()
                .map(|i| format_amount(&i.total, &i.currency))
                .unwrap_or_default()
        })
    };
    view! {
        <Show when=move || !is_paid() && !methods.with(Vec::is_empty)>
            <fieldset class="methods">
                <legend>"Pay with"</legend>
                <For each=move || methods.get() key=|m| m.id.clone() let:method>
                    <label>
                        <input
                            type="radio"
                            name="payment-method"
                            value=method.id.clone()
                            prop:checked={
                                let id = method.id.clone();
                                move || selected.get().as_deref() == Some(id.as_str())
                            }
                            on:change={
                                let id = method.id.clone();
                                move |_| selected.set(Some(id.clone()))
                            }
                        />
                        {describe(&method)}
                    </label>
                </For>
            </fieldset>
            <button
                type="button"
                data-testid="pay-button"
                on:click=move |_| pay(shared, status_ref, invoice_id.get_value())
                disabled=move || {
                    paying.get() || selected.with(Option::is_none) || token.with(TokenView::stopped)
                }
            >
                {move || if paying.get() { "Paying…".to_owned() } else { format!("Pay {}", total()) }}
            </button>
        </Show>
        <p class="paid" role="status" tabindex="-1" node_ref=status_ref data-testid="payment-status">
            {move || payment.get().map(|p| format!("Paid {} — thank you. Reference {}.", format_amount(&p.amount, &p.currency), p.id))}
        </p>
    }
}

/// Pays the invoice's total with the selected method — once: a second
/// press while paying does nothing, and a retry of a failed attempt reuses
/// its request, and so its idempotency key.
fn pay(shared: Shared, status_ref: NodeRef<leptos::html::P>, invoice_id: String) {
    let Shared {
        invoice,
        selected,
        paying,
        payment,
        error,
        attempt,
        ..
    } = shared;
    let (Some(client), Some(method), Some(total)) = (
        shared.client(),
        selected.get_untracked(),
        invoice.with_untracked(|i| i.as_ref().map(|i| i.total.clone())),
    ) else {
        return;
    };
    if paying.get_untracked() {
        return;
    }
    paying.set(true);
    error.set(None);
    let request = attempt
        .get_value()
        .filter(|r| r.payment_method_id == method)
        .unwrap_or_else(|| PaymentRequest::new(method, total));
    attempt.set_value(Some(request.clone()));
    spawn_local(async move {
        match client.pay(&request).await {
            Ok(done) => {
                invoice.update(|i| {
                    if let Some(i) = i {
                        i.status = "paid".into();
                    }
                });
                payment.set(Some(done));
                if let Some(status) = status_ref.get_untracked() {
                    let _ = status.focus();
                }
                // The shop records it too; the vendor's event would tell it
                // later anyway, so a failure here is no failure of the payment.
                let _ = reconcile_payment(invoice_id).await;
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        paying.set(false);
    });
}

fn describe(method: &PaymentMethod) -> String {
    match (method.kind.as_str(), method.exp_month, method.exp_year) {
        ("card", Some(month), Some(year)) => {
            format!(
                "{} •••• {} (expires {month:02}/{year})",
                method.brand, method.last4
            )
        }
        ("bank_account", ..) => format!("{} account •••• {}", method.brand, method.last4),
        _ => format!("{} •••• {}", method.brand, method.last4),
    }
}
