//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::bearer::basic_credentials;
use crate::error::OAuthError;
use crate::ids::random_id;
use crate::records::{ApiClient, OAuthGrant};
use crate::state::Sandbox;

/// The client credentials grant's form body (RFC 6749 §4.4.2), the client
/// authenticated with HTTP Basic. A client that cannot use Basic may send
/// `client_id` and `client_secret` in this form instead (RFC 6749 §2.3.1),
/// never both (§2.3: one method per request; both get 400 `invalid_request`).
// The body fields are described, not listed: OpenAPI cannot tie a body field
// to the absence of a header, and a tester would send both.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the raw pairs
pub struct TokenRequest {
    grant_type: GrantType,
}

/// The one grant this endpoint serves.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum GrantType {
    ClientCredentials,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// Prefix of every OAuth access token, so a leaked one is recognisable in a
/// log or a page (secret scanners key on such prefixes).
pub const ACCESS_TOKEN_PREFIX: &str = "sbx_oat_";

#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token; `Cache-Control: no-store`", body = TokenResponse),
        (status = 400, description = "invalid_request (also: Basic and body credentials together), unsupported_grant_type", body = crate::error::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = crate::error::OAuthErrorBody),
        (status = 429, description = "temporarily_unavailable, with Retry-After: over the client's token rate, or too many failed client authentications from this address, for this client id, or for this client at this address (then the secret is not checked)", body = crate::error::OAuthErrorBody),
    ),
    security(("client_basic" = [])),
)]
pub async fn issue_token(
    State(sandbox): State<Sandbox>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = TokenForm::parse(&body)?;
    // A request with no credentials at all guesses nothing: refused here,
    // before the failed-authentication limit.
    let (client_id, secret) = form.client_credentials(&headers)?;
    let client = authenticate(&sandbox, peer.map(|p| p.0 .0), &client_id, &secret).await?;

    sandbox
        .rate_limit(&format!("client:{}", client.client_id))
        .map_err(|e| match e {
            crate::error::ApiError::RateLimited { retry_after_secs } => {
                OAuthError::RateLimited { retry_after_secs }
            }
            _ => OAuthError::ServerError,
        })?;

    form.grant_type()?;

    let now = sandbox.clock.now();
    let lifetime = sandbox.config.oauth_token_ttl.as_secs();
    let access_token = random_id(ACCESS_TOKEN_PREFIX, 32);
    let grant = OAuthGrant {
        client_id: client.client_id.clone(),
        partner_id: client.partner_id.clone(),
        expires_at: now + lifetime,
    };
    sandbox
        .store
        .record_grant(&access_token, &grant, now)
        .await
        .map_err(|error| {
            tracing::error!(%error, "sandbox storage failed");
            OAuthError::ServerError
        })?;
    sandbox.stats.oauth_token_issued();
    tracing::info!(client_id = %client.client_id, "issued an OAuth access token");

    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetime,
    })
    .into_response();
    // RFC 6749 §5.1: token responses must not be cached.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Client authentication under the failed-attempt limit (`auth_failures`):
/// the limit first, so a request over it tests no secret; then the secret,
/// with one answer and the same work for an unknown client and a wrong secret.
async fn authenticate(
    sandbox: &Sandbox,
    peer: Option<SocketAddr>,
    client_id: &str,
    secret: &str,
) -> Result<ApiClient, OAuthError> {
    let address = peer.map(|p| p.ip());
    let attempt = sandbox
        .auth_failures
        .begin(client_id, address, sandbox.clock.now_millis())
        .map_err(|retry_after_secs| {
            tracing::debug!(client_id, ?address, "over the failed-authentication limit");
            OAuthError::RateLimited { retry_after_secs }
        })?;
    match sandbox.store.authenticate_client(client_id, secret).await {
        Ok(Some(client)) => {
            sandbox
                .auth_failures
                .succeeded(attempt, client_id, sandbox.clock.now_millis());
            Ok(client)
        }
        Ok(None) => {
            // The reservation stands: this was a failure. Logged at most as
            // often as the limit lets failures through; never the secret.
            tracing::info!(client_id, ?address, "client authentication failed");
            Err(OAuthError::InvalidClient)
        }
        Err(error) => {
            sandbox.auth_failures.did_not_count(attempt);
            tracing::error!(%error, "sandbox storage failed");
            Err(OAuthError::ServerError)
        }
    }
}

/// The token request's form body, as the handler reads it.
pub(crate) struct TokenForm(Vec<(String, String)>);

impl TokenForm {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        serde_urlencoded::from_bytes(body)
            .map(Self)
            .map_err(|_| OAuthError::InvalidRequest("the body must be form-urlencoded"))
    }

    fn param(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        match values.next() {
            // RFC 6749 §3.2: parameters must not be repeated.
            Some(_) => Err(OAuthError::InvalidRequest("a parameter was repeated")),
            None => Ok(first),
        }
    }

    /// Client authentication: HTTP Basic, or the body (RFC 6749 §2.3.1), never both.
    pub(crate) fn client_credentials(
        &self,
        headers: &HeaderMap,
    ) -> Result<(String, String), OAuthError> {
        match (
            basic_credentials(headers),
            self.param("client_id")?,
            self.param("client_secret")?,
        ) {
            (Some(basic), None, None) => Ok(basic),
            (None, Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
            (Some(_), _, _) => Err(OAuthError::InvalidRequest(
                "use one client authentication method, not two",
            )),
            _ => Err(OAuthError::InvalidClient),
        }
    }

    pub(crate) fn grant_type(&self) -> Result<(), OAuthError> {
        match self.param("grant_type")? {
            Some("client_credentials") => Ok(()),
            Some(_) => Err(OAuthError::UnsupportedGrantType),
            None => Err(OAuthError::InvalidRequest("grant_type is required")),
        }
    }
}
