//! `GET /v1/events`: a partner's events, newest first (what happened
//! lately), or oldest first from a cursor, for a partner whose webhook
//! endpoint was down and that reads every event it missed:
//! `?order=oldest_first&limit=100`, then
//! `?order=oldest_first&after=<last id>&limit=100` until a page is shorter
//! than its limit. Each event comes once, in the order the vendor recorded
//! it; one recorded while the partner pages is on a later page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use super::EventView;
use crate::callers::OAuthClient;
use crate::error::ApiError;
use crate::ids::well_formed;
use crate::state::Sandbox;

/// The most events one page holds, and how many it holds unless told.
pub const LIST_LIMIT: i64 = 100;

/// Which end of the partner's events a page starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Order {
    /// The newest first (the default).
    NewestFirst,
    /// In the order the vendor recorded them, the oldest first.
    OldestFirst,
}

/// The list's query parameters, each optional and at most once; `after`
/// only with `order=oldest_first`; no others.
// One query object (`style: form, explode: true` on the wire: `?order=…&
// after=…`), so that the document can state the rule between `after` and
// `order` (see `openapi::CursorNeedsOldestFirst`). Strings, checked by
// `page`, so that each malformed parameter gets a sentence of its own.
// Unknown parameters are refused: a misspelt cursor (`?afer=…`) ignored
// would answer the first page again, and a partner catching up would
// silently read events twice, or loop.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventListQuery {
    /// Only events whose delivery is in this state.
    #[schema(value_type = String, required = false, pattern = "^(pending|delivered|failed)$")]
    status: Option<String>,
    /// `newest_first` (the default) or `oldest_first`.
    #[schema(value_type = Order, required = false)]
    order: Option<String>,
    /// An event id: only the events recorded after it, oldest first (with
    /// `order=oldest_first` only). 404 `not_found` if this partner has no
    /// such event (a cursor from another sandbox, or from before a reset):
    /// start over without it.
    #[schema(
        value_type = String,
        required = false,
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    after: Option<String>,
    /// At most this many events (default 100). A page shorter than its
    /// limit is the last, for now.
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// A well-formed query: which page to read.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    status: Option<String>,
    order: Order,
    after: Option<String>,
    limit: i64,
}

impl EventListQuery {
    fn page(self) -> Result<Page, ApiError> {
        if let Some(status) = self.status.as_deref() {
            if !["pending", "delivered", "failed"].contains(&status) {
                return Err(ApiError::InvalidRequest(
                    "status is one of pending, delivered, failed",
                ));
            }
        }
        let order = match self.order.as_deref() {
            None | Some("newest_first") => Order::NewestFirst,
            Some("oldest_first") => Order::OldestFirst,
            Some(_) => {
                return Err(ApiError::InvalidRequest(
                    "order is newest_first or oldest_first",
                ))
            }
        };
        let limit = match self.limit.as_deref() {
            None => LIST_LIMIT,
            Some(limit) => limit
                .parse()
                .ok()
                .filter(|limit| (1..=LIST_LIMIT).contains(limit))
                .ok_or(ApiError::InvalidRequest(
                    "limit is a whole number from 1 to 100",
                ))?,
        };
        if let Some(after) = self.after.as_deref() {
            if order != Order::OldestFirst {
                return Err(ApiError::InvalidRequest(
                    "after needs order=oldest_first: a cursor reads on from an event, oldest first",
                ));
            }
            if !well_formed(after) {
                return Err(ApiError::InvalidRequest(
                    "after is an event id, as the list gives it",
                ));
            }
        }
        Ok(Page {
            status: self.status,
            order,
            after: self.after,
            limit,
        })
    }
}

#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(("query" = Option<EventListQuery>, Query, style = Form, explode,
        description = "`status`, `order`, `after` and `limit`, each optional; no other parameter")),
    responses(
        (status = 200, description = "A page of the partner's events: the newest first (at most `limit`, default 100), or with `order=oldest_first` in the order they were recorded, after the event `after` if given. A page shorter than `limit` is the last.", body = Vec<EventView>),
        (status = 400, description = "invalid_request: a parameter malformed, repeated or unknown, or `after` without `order=oldest_first`", body = crate::error::ApiErrorBody),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "not_found: `after` names no event of this partner; start over without it", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("oauth_bearer" = [])),
)]
pub async fn list(
    State(sandbox): State<Sandbox>,
    OAuthClient(grant): OAuthClient,
    query: Result<Query<EventListQuery>, QueryRejection>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::InvalidRequest(
            "the query takes status, order, after and limit, each at most once",
        ));
    };
    let page = query.page()?;
    let partner = &grant.partner_id;
    let status = page.status.as_deref();
    let events = match page.order {
        Order::NewestFirst => sandbox.store.events_of(partner, status, page.limit).await?,
        Order::OldestFirst => sandbox
            .store
            .events_in_order(partner, status, page.after.as_deref(), page.limit)
            .await?
            .ok_or(ApiError::NotFound("no such event"))?,
    };
    Ok(Json(events.into_iter().map(EventView::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(status: Option<&str>, order: Option<&str>, after: Option<&str>) -> EventListQuery {
        EventListQuery {
            status: status.map(str::to_owned),
            order: order.map(str::to_owned),
            after: after.map(str::to_owned),
            limit: None,
        }
    }

    #[test]
    fn without_parameters_a_page_is_the_newest_hundred() {
        let page = query(None, None, None).page().unwrap();
        assert_eq!(
            page,
            Page {
                status: None,
                order: Order::NewestFirst,
                after: None,
                limit: 100
            }
        );
    }

    #[test]
    fn a_cursor_is_refused_before_it_is_looked_up_unless_oldest_first() {
        for order in [None, Some("newest_first")] {
            assert!(matches!(
                query(None, order, Some("evt_x")).page(),
                Err(ApiError::InvalidRequest(why)) if why.starts_with("after needs")
            ));
        }
        let page = query(Some("failed"), Some("oldest_first"), Some("evt_x"))
            .page()
            .unwrap();
        assert_eq!(
            (page.order, page.after.as_deref()),
            (Order::OldestFirst, Some("evt_x"))
        );
    }
}
