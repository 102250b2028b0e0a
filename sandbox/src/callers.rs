//! Who is calling, as axum extractors: a handler names its caller in its
//! arguments, and a request without a good one is refused before the handler
//! runs (before its body is even read).
//!
//! Two callers, as the vendor's API has them: the browser holding a checkout
//! token ([`Checkout`]), and a partner's backend holding an OAuth access
//! token ([`OAuthClient`]). Both are bearer tokens (RFC 6750), read from the
//! `Authorization` header only (see `bearer`); both are rate-limited per
//! caller once, and only once, they are known to be genuine.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::bearer::bearer_token;
use crate::ended::Ended;
use crate::error::ApiError;
use crate::records::OAuthGrant;
use crate::state::Sandbox;
use crate::token::{CheckoutClaims, TokenError};

/// The claims of the request's checkout token.
///
/// Refused: no token, a bad or revoked one (`invalid_token`), an expired
/// one (`access_token_expired`; also one a harness ended early, see
/// `ended`), each counted in the stats; then a genuine token
/// over its rate limit (`rate_limited`).
pub struct Checkout(pub CheckoutClaims);

impl FromRequestParts<Sandbox> for Checkout {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sandbox: &Sandbox) -> Result<Self, ApiError> {
        let Some(token) = bearer_token(&parts.headers) else {
            sandbox.stats.invalid_token();
            return Err(ApiError::InvalidToken);
        };
        match sandbox.tokens.verify(token, sandbox.clock.now()) {
            Ok(claims) => {
                match sandbox.ended.get(&claims.jti) {
                    Some(Ended::Expired) => {
                        sandbox.stats.checkout_token_expired();
                        return Err(ApiError::TokenExpired);
                    }
                    Some(Ended::Revoked) => {
                        sandbox.stats.invalid_token();
                        return Err(ApiError::InvalidToken);
                    }
                    None => {}
                }
                // The browser's calls are limited per checkout token: one
                // customer's page cannot use up the merchant's quota.
                sandbox.rate_limit(&format!("token:{}", claims.jti))?;
                Ok(Self(claims))
            }
            Err(TokenError::Expired) => {
                sandbox.stats.checkout_token_expired();
                Err(ApiError::TokenExpired)
            }
            Err(TokenError::Invalid) => {
                sandbox.stats.invalid_token();
                Err(ApiError::InvalidToken)
            }
        }
    }
}

/// The grant behind the request's OAuth access token: the client and its
/// partner.
///
/// Refused: no token, an unknown one, or one refused by fault injection as
/// if revoked (`invalid_token`); an expired one (`access_token_expired`);
/// then a genuine one over its client's rate limit (`rate_limited`).
pub struct OAuthClient(pub OAuthGrant);

impl FromRequestParts<Sandbox> for OAuthClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sandbox: &Sandbox) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::InvalidToken)?;
        let grant = sandbox
            .store
            .grant(token)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        if sandbox.clock.now() >= grant.expires_at {
            return Err(ApiError::TokenExpired);
        }
        if sandbox.config.faults.revoke_oauth_token() {
            tracing::warn!(client_id = %grant.client_id, "fault injection: refusing a valid OAuth token");
            return Err(ApiError::InvalidToken);
        }
        // One quota per client, shared with its token requests.
        sandbox.rate_limit(&format!("client:{}", grant.client_id))?;
        Ok(Self(grant))
    }
}
