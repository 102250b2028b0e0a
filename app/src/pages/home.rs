//! `/`: the logged-in user's invoices, each a link to its checkout.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{my_invoices, AppError, PaymentView};
use crate::money::format_amount;

#[component]
pub fn Home() -> impl IntoView {
    let invoices = Resource::new(|| (), |_| my_invoices());
    view! {
        <Title text="Your invoices"/>
        <h1>"Your invoices"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match invoices.await {
                    Ok(list) if list.is_empty() => view! { <p>"No invoices."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="invoice-list" data-testid="invoice-list">
                            {list.into_iter().map(|i| view! {
                                <li data-testid=format!("invoice-{}", i.id)>
                                    <a href=format!("/checkout/{}", i.id)>{i.number}</a>
                                    <span class="amount">{format_amount(&i.total, &i.currency)}</span>
                                    <PaymentBadge payment=i.payment/>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(AppError::NotLoggedIn) => view! {
                        <p><a href="/login">"Log in"</a>" to see and pay your invoices."</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the merchant has recorded of an invoice's payment, beside it.
#[component]
fn PaymentBadge(payment: PaymentView) -> impl IntoView {
    match payment {
        PaymentView::Open => ().into_any(),
        PaymentView::Paid { paid_by } => view! {
            <span class="paid-badge" data-testid="paid-badge" title=format!("Payment {paid_by}")>"Paid"</span>
        }
        .into_any(),
        PaymentView::Mismatch { paid_by, amount, currency } => view! {
            <span class="mismatch-badge" data-testid="mismatch-badge" title=format!("Payment {paid_by}")>
                "Payment of " {format_amount(&amount, &currency)} " does not match: needs attention"
            </span>
        }
        .into_any(),
    }
}
