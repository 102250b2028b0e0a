//! `/checkout/:invoice_id`: the server reads the invoice and renders the
//! page; the checkout itself is an island, the one part of the site that is
//! hydrated (and so the only code in the wasm).
//!
//! In the browser the island asks the merchant's server for a checkout
//! token, builds a [`CheckoutClient`] whose `on_access_token_expired`
//! handler asks again, and talks to the vendor with it: invoice, PDF link,
//! saved payment methods, payment. The token lives in the client, never in
//! the HTML or in a signal. `?refresh=off` leaves the handler out, to show
//! `AccessTokenExpiredError`.

use std::rc::Rc;
use std::time::Duration;

use checkout_sdk::{
    retry_delay, AccessToken, CheckoutClient, Invoice, Options, Payment, PaymentMethod,
    PaymentRequest, RefreshReason, SdkError, TokenState, TokenStatus,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use send_wrapper::SendWrapper;

use crate::api::{invoice_summary, mint_checkout_token, AppError, CheckoutSession, InvoiceView};

/// The server's part: which invoice, whether to refresh, and the invoice as
/// the vendor has it — all handed to the island as its starting point.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let invoice_id = use_params_map()
        .read_untracked()
        .get("invoice_id")
        .unwrap_or_default();
    let refresh = use_query_map().read_untracked().get("refresh").as_deref() != Some("off");
    let summary = Resource::new(|| (), {
        let invoice_id = invoice_id.clone();
        move |_| invoice_summary(invoice_id.clone())
    });
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let invoice_id = invoice_id.clone();
                Suspend::new(async move {
                    let (summary, server_error) = match summary.await {
                        Ok(summary) => (Some(summary), None),
                        Err(error) => (None, Some(error.to_string())),
                    };
                    let title = match &summary {
                        Some(s) => format!("Pay invoice {}", s.invoice_number),
                        None => "Pay invoice".to_owned(),
                    };
                    view! {
                        <Title text=title/>
                        <Checkout invoice_id refresh summary server_error/>
                    }
                })
            }}
        </Suspense>
    }
}

/// What the page shows of the token: never the token itself.
#[derive(Clone, Default, PartialEq)]
struct TokenView {
    /// A refresh is under way (a QA hook, `data-token-refreshing`: a test
    /// that moves the page's clock waits until a refresh it set off has
    /// been answered and its next timer armed).
    refreshing: bool,
    expires_in: u64,
    refresh_count: u32,
    last_reason: &'static str,
    /// "12 ms", or "—" before this tab's first refresh.
    last_refresh_took: String,
    /// Why the last refresh failed, while the token is expired.
    expired: Option<String>,
    /// Seconds until the SDK tries again by itself.
    retry_in: Option<u64>,
}

impl From<&TokenState> for TokenView {
    fn from(state: &TokenState) -> Self {
        Self {
            refreshing: state.status == TokenStatus::Refreshing,
            expires_in: state.expires_in.as_secs(),
            refresh_count: state.refresh_count,
            last_reason: match state.last_reason {
                None => "—",
                Some(RefreshReason::Timer) => "timer",
                Some(RefreshReason::Expired) => "401",
                Some(RefreshReason::Tab) => "tab",
                Some(RefreshReason::Visibility) => "visibility",
                Some(RefreshReason::Manual) => "retry",
            },
            last_refresh_took: state
                .last_refresh_took
                .map_or_else(|| "—".to_owned(), |took| format!("{} ms", took.as_millis())),
            expired: match &state.status {
                TokenStatus::Expired { error, .. } => Some(match error {
                    SdkError::RefreshFailed(why) => why.clone(),
                    other => other.to_string(),
                }),
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

/// The island: everything on the page that needs JavaScript. Its props
/// cross from the server to the browser inside the HTML, so they hold
/// nothing secret (no token: the island mints its own).
#[island]
fn Checkout(
    invoice_id: String,
    refresh: bool,
    /// The invoice as the server read it, shown until the SDK's own read.
    summary: Option<InvoiceView>,
    /// The server's plain-language refusal (not logged in, not yours).
    server_error: Option<String>,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    let invoice = RwSignal::new(None::<Invoice>);
    let methods = RwSignal::new(Vec::<PaymentMethod>::new());
    let selected = RwSignal::new(None::<String>);
    let pdf_url = RwSignal::new(None::<String>);
    let payment = RwSignal::new(None::<Payment>);
    let paying = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let token = RwSignal::new(TokenView::default());
    // The server's refusal stands until the island has done better itself.
    let server_error = RwSignal::new(server_error);
    // Owned by this component: disposed with it, which drops the client —
    // its timer and listeners too. Only the browser ever puts one here (the
    // client is not `Send`; the wrapper is never moved between threads there).
    let client = StoredValue::new(None::<SendWrapper<Rc<CheckoutClient>>>);
    // The payment being attempted: a retry reuses it, and so its idempotency key.
    let attempt = StoredValue::new(None::<PaymentRequest>);
    // Paying removes the Pay button; focus moves to the outcome instead of
    // being lost to the top of the page.
    let status_ref = NodeRef::<leptos::html::P>::new();

    Effect::new(move |_| {
        hydrated.set(true);
        // The remaining lifetime ticks in the developer panel.
        let interval = set_interval_with_handle(
            move || {
                if let Some(Some(opened)) = client.try_get_value() {
                    token.set(TokenView::from(&opened.token_state()));
                }
            },
            Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(interval) = interval {
                interval.clear();
            }
        });
        let invoice_id = invoice_id.clone();
        spawn_local(async move {
            // The merchant or the vendor may be down as the page opens: it
            // says so and tries again by itself, on the SDK's schedule.
            let mut failures = 0;
            let opened = loop {
                match open_client(invoice_id.clone(), refresh, token).await {
                    Ok(opened) => break Rc::new(opened),
                    Err(e) if e.is_transient() => {
                        failures += 1;
                        if !wait_to_retry(error, e.to_string(), failures).await {
                            return;
                        }
                    }
                    Err(e) => return error.set(Some(e.to_string())),
                }
            };
            client.set_value(Some(SendWrapper::new(opened.clone())));
            loop {
                // The three reads go out together: one round trip instead of
                // three, and if the token has expired they share one refresh.
                let (fetched, list, link) = futures::join!(
                    opened.invoice(),
                    opened.payment_methods(),
                    opened.pdf_link()
                );
                match fetched {
                    Ok(fetched) => invoice.set(Some(fetched)),
                    Err(e @ SdkError::Unavailable(_)) => {
                        failures += 1;
                        if !wait_to_retry(error, e.to_string(), failures).await {
                            return;
                        }
                        continue;
                    }
                    Err(e) => return error.set(Some(e.to_string())),
                }
                error.set(None);
                server_error.set(None);
                if let Ok(list) = list {
                    selected.set(list.first().map(|m| m.id.clone()));
                    methods.set(list);
                }
                if let Ok(link) = link {
                    pdf_url.set(Some(link.url));
                }
                break;
            }
        });
    });

    let pay = move |_| {
        let (Some(opened), Some(method), Some(total)) = (
            client.get_value().map(SendWrapper::take),
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
            match opened.pay(&request).await {
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
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            paying.set(false);
        });
    };
    let retry_token = move |_| {
        if let Some(opened) = client.get_value().map(SendWrapper::take) {
            spawn_local(async move {
                if let Err(e) = opened.refresh(RefreshReason::Manual).await {
                    error.set(Some(e.to_string()));
                }
            });
        }
    };

    let shown = Memo::new(move |_| {
        invoice
            .with(|i| i.as_ref().map(InvoiceView::from))
            .or_else(|| summary.clone())
    });
    let field = move |read: fn(&InvoiceView) -> String| {
        move || shown.with(|i| i.as_ref().map(read).unwrap_or_default())
    };
    let is_paid = move || shown.with(|i| i.as_ref().is_some_and(|i| i.status == "paid"));
    // The SDK's error, or else the server's (e.g. "please log in" without JavaScript).
    let error_text = move || {
        error
            .get()
            .or_else(|| server_error.get())
            .unwrap_or_default()
    };
    view! {
        <section
            class="checkout"
            data-testid="checkout-root"
            data-hydrated=move || hydrated.get().to_string()
            data-token-refreshing=move || token.with(|t| t.refreshing).to_string()
        >
            <h1>"Pay invoice " <span data-testid="invoice-number">{field(|i| i.invoice_number.clone())}</span></h1>
            <dl class="summary" aria-busy=move || shown.with(Option::is_none).to_string()>
                <dt>"Subtotal"</dt>
                <dd data-testid="invoice-subtotal">{field(|i| format!("{} {}", i.currency, i.sub_total))}</dd>
                <dt>"Total"</dt>
                <dd data-testid="invoice-total">{field(|i| format!("{} {}", i.currency, i.total))}</dd>
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
                    on:click=pay
                    disabled=move || paying.get() || selected.with(Option::is_none)
                >
                    {move || if paying.get() { "Paying…".to_owned() } else { format!("Pay {}", field(|i| format!("{} {}", i.currency, i.total))()) }}
                </button>
            </Show>
            <p class="paid" role="status" tabindex="-1" node_ref=status_ref data-testid="payment-status">
                {move || payment.get().map(|p| format!("Paid {} {} — thank you. Reference {}.", p.currency, p.amount, p.id))}
            </p>
            <p class="error" role="alert" data-testid="checkout-error">{error_text}</p>
            <Show when=move || token.with(|t| t.expired.is_some())>
                <div data-testid="token-trouble">
                    // Only the sentence is announced, not the countdown's every tick.
                    <p class="error" role="alert">
                        "Your checkout session expired. "
                        <span data-testid="token-trouble-reason">{move || token.with(|t| t.expired.clone().unwrap_or_default())}</span>
                    </p>
                    <p>
                        {move || token.with(|t| t.retry_in.map(|s| format!("Trying again by itself in {s} s. ")))}
                        <button type="button" on:click=retry_token>"Try again now"</button>
                    </p>
                </div>
            </Show>
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
        </section>
    }
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

/// Shows `why` with a note that the page will try again, and waits until
/// then. `false` if the page went away meanwhile.
async fn wait_to_retry(error: RwSignal<Option<String>>, why: String, failures: u32) -> bool {
    let wait = retry_delay(failures, js_sys::Math::random());
    let note = format!("{why} Trying again by itself in {} s.", wait.as_secs());
    // A disposed signal (the component is gone) refuses the value.
    if error.try_set(Some(note)).is_some() {
        return false;
    }
    gloo_timers::future::sleep(wait).await;
    error.try_get_untracked().is_some()
}

/// Mints the first token and starts the SDK — with a handler that mints the
/// next ones unless `refresh` is off.
async fn open_client(
    invoice_id: String,
    refresh: bool,
    token: RwSignal<TokenView>,
) -> Result<CheckoutClient, AppError> {
    let first = mint_checkout_token(invoice_id.clone()).await?;
    let mut options = Options::new(first.api_url.clone());
    if refresh {
        let invoice_id_for_handler = invoice_id.clone();
        options.on_access_token_expired = Some(Rc::new(move || {
            let invoice_id = invoice_id_for_handler.clone();
            Box::pin(async move {
                mint_checkout_token(invoice_id)
                    .await
                    .map(access_token)
                    .map_err(|e| e.to_string())
            })
        }));
    }
    options.on_token_state = Some(Rc::new(move |state| token.set(TokenView::from(state))));
    options.share_between_tabs = Some(invoice_id);
    let client = CheckoutClient::new(access_token(first), options);
    token.set(TokenView::from(&client.token_state()));
    Ok(client)
}

fn access_token(session: CheckoutSession) -> AccessToken {
    AccessToken {
        token: session.token,
        expires_in: Duration::from_secs(session.expires_in),
    }
}
