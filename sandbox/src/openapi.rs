//! `GET /openapi.json`: an OpenAPI 3.1 description of the sandbox, generated
//! from the handlers' own annotations so it cannot drift from the code.

use axum::extract::State;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::controls;
use crate::state::Sandbox;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alternative Payments API — local sandbox",
        description = "The endpoints a merchant backend and the checkout SDK use: the OAuth \
            client credentials grant, checkout-token minting, and the checkout API scoped \
            by a checkout token. Plus sandbox-only controls under /sandbox/.",
        version = "1.1.0-sandbox",
    ),
    paths(
        crate::oauth::issue_token,
        crate::checkout_auth::init,
        crate::checkout_api::invoice,
        crate::checkout_api::payment_methods,
        crate::pdf::pdf_link,
        crate::pdf::invoice_pdf,
        crate::payments::pay,
        crate::partner_api::invoice,
        crate::events::listing::list,
        crate::events::resend,
        crate::jwks::jwks,
        crate::stats::stats,
        crate::stats::payments,
        crate::controls::rotate_keys,
        crate::controls::reset,
        crate::controls::advance_clock,
        crate::controls::expire_token,
        crate::controls::revoke_token,
        crate::events::pause_delivery,
    ),
    // Named in a parameter, not a body: utoipa collects only bodies' schemas.
    components(schemas(crate::events::listing::EventListQuery, crate::events::listing::Order)),
    modifiers(&SecuritySchemes, &UnversionedInit, &CursorNeedsOldestFirst),
    tags(
        (name = "oauth", description = "RFC 6749 §4.4 client credentials"),
        (name = "checkout-auth", description = "Server-side: mint checkout tokens"),
        (name = "checkout", description = "Browser-side: calls scoped by a checkout token"),
        (name = "keys", description = "Public keys that verify checkout tokens"),
        (name = "partner", description = "Server-side: a partner's own records, with its OAuth token"),
        (name = "events", description = "Server-side: events delivered to the partner's webhook endpoint, signed"),
        (name = "sandbox", description = "Sandbox-only controls"),
    ),
)]
pub struct ApiDoc;

struct SecuritySchemes;

/// `POST /checkout-auth/init` is served too (some environments of the real
/// API have the path without the version): the same operation, under its
/// own operation id.
struct UnversionedInit;

impl Modify for UnversionedInit {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(mut alias) = openapi.paths.paths.get("/v1/checkout-auth/init").cloned() else {
            return;
        };
        if let Some(operation) = alias.post.as_mut() {
            operation.operation_id = Some("init_unversioned".to_owned());
            operation.summary = Some("The same as POST /v1/checkout-auth/init".to_owned());
        }
        openapi
            .paths
            .paths
            .insert("/checkout-auth/init".to_owned(), alias);
    }
}

/// `GET /v1/events`: `after` needs `order=oldest_first`. utoipa has no
/// attribute for a rule across fields, so it is written into the query
/// object's schema here, as JSON Schema 2020-12's `dependentSchemas` (which
/// OpenAPI 3.1 schemas are): a tester then never calls a request with
/// `after` and without `order=oldest_first` valid, and never expects it to
/// be accepted.
struct CursorNeedsOldestFirst;

impl Modify for CursorNeedsOldestFirst {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let schema = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("EventListQuery"));
        let Some(RefOr::T(Schema::Object(query))) = schema else {
            return;
        };
        query
            .extensions
            .get_or_insert_with(Default::default)
            .insert(
                "dependentSchemas".to_owned(),
                serde_json::json!({
                    "after": {
                        "required": ["order"],
                        "properties": {"order": {"const": "oldest_first"}},
                    },
                }),
            );
    }
}

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "oauth_bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An OAuth access token from /oauth/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "checkout_bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A checkout token from /v1/checkout-auth/init"))
                    .build(),
            ),
        );
    }
}

/// The document, without the control routes when they are off: it
/// describes what this sandbox serves.
pub async fn openapi_json(State(sandbox): State<Sandbox>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    if !sandbox.config.controls {
        doc.paths
            .paths
            .retain(|path, _| !controls::PATHS.contains(&path.as_str()));
    }
    Json(doc)
}
