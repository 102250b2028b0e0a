//! `target/release/floor`: the floor under a mint's cost, for the loadtest
//! (`LOADTEST_FLOOR=1`; BENCHMARKS.md, "the mint against its floor"). A bare axum endpoint of
//! the mint's shape — `POST /api/checkout/token` with a form body and the
//! session cookie, answered with a token's JSON from memory — and nothing
//! of the merchant's: no session store, limits, records, vendor client,
//! security headers, request ids, metrics or log. What the real mint costs
//! above this, on the same load, is what the server adds.
//!
//! `FLOOR_ADDR` (default `127.0.0.1:3390`) is where it listens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct MintForm {
    invoice_id: String,
}

/// The mint's answer, as the server's `CheckoutTokenView` has it.
#[derive(Clone, Serialize)]
struct TokenView {
    token: String,
    expires_in: u64,
    api_url: String,
}

/// What a mint that reuses a token reads, kept as plainly as it can be.
#[derive(Default)]
struct Memory {
    /// Requests by session cookie: one lookup and write per request, as a
    /// session store's in-memory copy has.
    sessions: Mutex<HashMap<String, u64>>,
    /// One token per invoice, made on its first mint.
    tokens: Mutex<HashMap<String, TokenView>>,
}

async fn mint(
    State(memory): State<Arc<Memory>>,
    headers: HeaderMap,
    Form(form): Form<MintForm>,
) -> Result<Json<TokenView>, StatusCode> {
    let session = headers
        .get(header::COOKIE)
        .and_then(|cookie| cookie.to_str().ok())
        .and_then(|cookie| {
            cookie
                .split(';')
                .find_map(|pair| pair.trim().strip_prefix("merchant_session="))
        })
        .ok_or(StatusCode::UNAUTHORIZED)?;
    *lock(&memory.sessions)
        .entry(session.to_owned())
        .or_default() += 1;
    let token = lock(&memory.tokens)
        .entry(form.invoice_id)
        .or_insert_with_key(|invoice| TokenView {
            token: format!("floor.{invoice}"),
            expires_in: 900,
            api_url: "http://127.0.0.1:3330".to_owned(),
        })
        .clone();
    Ok(Json(token))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("FLOOR_ADDR").unwrap_or_else(|_| "127.0.0.1:3390".to_owned());
    let app = Router::new()
        .route("/api/checkout/token", post(mint))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Arc::new(Memory::default()));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    // The loadtest stops it with SIGINT. A handler of its own, because a
    // process started in the background by a shell inherits SIGINT
    // ignored: without one the floor outlived the run, which waited on it.
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
