//! The invoice as the page shows it (the server's reading, or the SDK's
//! where the server had none), then the PDF link.

use checkout_sdk::Invoice;
use leptos::prelude::*;

use super::token_view::TokenView;
use crate::api::InvoiceView;
use crate::money::format_amount;

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        Self {
            invoice_number: i.invoice_number.clone(),
            currency: i.currency.clone(),
            sub_total: i.sub_total.clone(),
            total: i.total.clone(),
            status: i.status.clone(),
            due_date: i.due_date.clone(),
        }
    }
}

/// The invoice's number, amounts, due date and status, and its PDF link.
/// Once the checkout has ended (`token`), an invoice the server could not
/// read will not come from the SDK either: the list goes rather than stay
/// empty and busy (a paid or mismatched invoice is not read for payment).
/// A data attribute and a style rule, not `hidden`: a string attribute's
/// code is in the wasm already (this cost 216 B gzip; `hidden` bound to a
/// derived `bool` signal cost 1,408 B).
#[component]
pub fn Summary(
    invoice: RwSignal<Option<InvoiceView>>,
    pdf_url: RwSignal<Option<String>>,
    token: RwSignal<TokenView>,
) -> impl IntoView {
    let field = move |read: fn(&InvoiceView) -> String| {
        move || invoice.with(|i| i.as_ref().map(read).unwrap_or_default())
    };
    let nothing_to_show =
        move || (token.with(|t| t.ended.is_some()) && invoice.with(Option::is_none)).to_string();
    view! {
        <h1>"Pay invoice " <span data-testid="invoice-number">{field(|i| i.invoice_number.clone())}</span></h1>
        <dl class="summary" data-nothing-to-show=nothing_to_show aria-busy=move || invoice.with(Option::is_none).to_string()>
            <dt>"Subtotal"</dt>
            <dd data-testid="invoice-subtotal">{field(|i| format_amount(&i.sub_total, &i.currency))}</dd>
            <dt>"Total"</dt>
            <dd data-testid="invoice-total">{field(|i| format_amount(&i.total, &i.currency))}</dd>
            <dt>"Due"</dt>
            <dd data-testid="invoice-due">{field(|i| i.due_date.clone())}</dd>
            <dt>"Status"</dt>
            <dd data-testid="invoice-status">{field(|i| i.status.clone())}</dd>
        </dl>
        {move || pdf_url.get().map(|url| view! {
            <p><a href=url target="_blank" rel="noopener" data-testid="invoice-pdf">
                "Download the invoice (PDF)"<span class="visually-hidden">" (opens in a new tab)"</span>
            </a></p>
        })}
    }
}
