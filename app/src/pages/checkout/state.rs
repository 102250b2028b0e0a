//! What the island's parts share: its signals and stored values, all `Copy`,
//! owned by the island and disposed with it.

use std::rc::Rc;

use checkout_sdk::{CheckoutClient, Payment, PaymentMethod, PaymentRequest};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use super::token_view::TokenView;
use crate::api::InvoiceView;

#[derive(Clone, Copy)]
pub struct Shared {
    /// The invoice as the page shows it: the server's reading, which the
    /// island does not repeat (one read per page open), else the island's
    /// own once it is in; marked paid when the page pays it.
    pub invoice: RwSignal<Option<InvoiceView>>,
    pub methods: RwSignal<Vec<PaymentMethod>>,
    pub selected: RwSignal<Option<String>>,
    pub pdf_url: RwSignal<Option<String>>,
    pub payment: RwSignal<Option<Payment>>,
    pub paying: RwSignal<bool>,
    /// The SDK's error, as a sentence for the person at the page.
    pub error: RwSignal<Option<String>>,
    /// The server's refusal (not logged in, not yours): it stands until the
    /// island has done better itself.
    pub server_error: RwSignal<Option<String>>,
    pub token: RwSignal<TokenView>,
    /// Disposed with the island, which drops the client — its timer and
    /// listeners too. Only the browser ever puts one here (the client is not
    /// `Send`; the wrapper is never moved between threads there).
    pub client: StoredValue<Option<SendWrapper<Rc<CheckoutClient>>>>,
    /// The payment being attempted: a retry reuses it, and so its
    /// idempotency key.
    pub attempt: StoredValue<Option<PaymentRequest>>,
}

impl Shared {
    pub fn new(invoice: Option<InvoiceView>, server_error: Option<String>) -> Self {
        Self {
            invoice: RwSignal::new(invoice),
            methods: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            pdf_url: RwSignal::new(None),
            payment: RwSignal::new(None),
            paying: RwSignal::new(false),
            error: RwSignal::new(None),
            server_error: RwSignal::new(server_error),
            token: RwSignal::new(TokenView::default()),
            client: StoredValue::new(None),
            attempt: StoredValue::new(None),
        }
    }

    /// The client, once the island has one.
    pub fn client(&self) -> Option<Rc<CheckoutClient>> {
        self.client.get_value().map(SendWrapper::take)
    }
}
