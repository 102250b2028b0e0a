//! Token reuse and single flight, behind one interface with two
//! implementations chosen at start: this instance's own slots (one
//! instance), or the fleet's tokens in Redis, with the slots as what the
//! instance falls back on while Redis cannot say. The mint path asks
//! [`Reuse::reusable`], then [`Reuse::mint_once`], whichever it is.
//!
//! A token is handed out again while it has more life left than its reuse
//! floor (three eighths to a half, `slots::reuse_floor`): a reload, a
//! second tab or a double click costs the vendor quota nothing. Concurrent
//! mints of one key share one vendor call: here, by the slot's mutex; in a
//! fleet, by the fleet's lease too.

use std::future::Future;
use std::time::Duration;

use alternative_client::IssuedCheckoutToken;
use fleet_redis::{Lease, Lookup};
use tokio::time::Instant;

use super::fleet_tokens::{self, FleetTokens, TokenRead};
use super::slots::{Key, Recent, Slots};
use crate::error::CheckoutError;
use crate::metrics::MintOutcome;

pub(super) enum Reuse {
    /// This instance alone.
    Instance(Slots),
    /// A fleet: the tokens in Redis; the slots while Redis cannot say.
    Fleet { tokens: FleetTokens, slots: Slots },
}

impl Reuse {
    fn slots(&self) -> &Slots {
        match self {
            Self::Instance(slots) | Self::Fleet { slots, .. } => slots,
        }
    }

    /// The token last minted for `key`, if it is still worth handing out.
    /// The records are not read for it: it exists only because they said
    /// the invoice is this customer's, and giving the same token again
    /// grants nothing new. That makes the most common mint — a reload, a
    /// refresh, another tab — one without a database round trip.
    /// In a fleet, `read` is the fleet's token as the request's gate has
    /// just read it (`crate::gate`); `None`: read it now.
    pub(super) async fn reusable(&self, key: &Key, read: Option<TokenRead>) -> Option<Recent> {
        match self {
            Self::Instance(slots) => slots.reusable(key).await,
            // The fleet's token is the one to hand out (a payment or a
            // refusal elsewhere forgets it); this instance's own only while
            // Redis cannot say.
            Self::Fleet { tokens, slots } => match fleet_reusable(tokens, key, read).await {
                Lookup::Found(recent) => Some(recent),
                Lookup::Missing => None,
                Lookup::Unknown => slots.reusable(key).await,
            },
        }
    }

    /// A token for `key` from `issue` — unless a mint of the same key,
    /// here or (in a fleet) anywhere, brought one meanwhile: then that one.
    pub(super) async fn mint_once<F, Fut>(
        &self,
        key: &Key,
        issue: F,
    ) -> Result<(Recent, MintOutcome), CheckoutError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<IssuedCheckoutToken, CheckoutError>>,
    {
        let slot = self.slots().get_or_make(key.clone());
        let mut current = slot.current.lock().await;
        let minted = match self {
            Self::Instance(_) => match current.take().filter(Recent::reusable) {
                // Another request for the same slot has just issued one.
                Some(recent) => Ok((recent, MintOutcome::Reused)),
                None => fresh(&issue).await,
            },
            Self::Fleet { tokens, .. } => {
                let held = current.take().filter(Recent::reusable);
                fleet_mint_once(tokens, key, held, &issue).await
            }
        };
        if let Ok((recent, _)) = &minted {
            *current = Some(recent.clone());
        }
        minted
    }

    /// Hands out no token again for `invoice_id`, whoever it was minted
    /// for: it is paid (a page that still holds one can use it until it
    /// expires; the vendor refuses a second payment).
    pub(super) async fn forget_invoice(&self, invoice_id: &str) {
        self.slots().forget_invoice(invoice_id);
        if let Self::Fleet { tokens, .. } = self {
            tokens.forget(invoice_id, None).await;
        }
    }

    /// Forgets `key`'s token if it is the one with id `refused_id` (or one
    /// whose id is not known): the vendor refused it before its time.
    pub(super) async fn forget_refused(&self, key: &Key, refused_id: &str) {
        if let Self::Fleet { tokens, .. } = self {
            tokens.forget(&key.1, Some(refused_id)).await;
        }
        self.slots().forget_refused(key, refused_id).await;
    }
}

async fn fresh<F, Fut>(issue: &F) -> Result<(Recent, MintOutcome), CheckoutError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<IssuedCheckoutToken, CheckoutError>>,
{
    let recent = Recent::minted(issue().await?);
    Ok((recent, MintOutcome::Issued))
}

/// The fleet's token for `key` as a [`Recent`] of this instance's clock,
/// from `read` if the request has read it already.
async fn fleet_reusable(
    tokens: &FleetTokens,
    (customer, invoice): &Key,
    read: Option<TokenRead>,
) -> Lookup<Recent> {
    let found = match read {
        Some(read) => FleetTokens::from_read(customer, read),
        None => tokens.reusable(customer, invoice).await,
    };
    match found {
        Lookup::Found(shared) => Lookup::Found(Recent {
            minted_at: Instant::now()
                .checked_sub(shared.lifetime.saturating_sub(shared.issued.expires_in))
                .unwrap_or_else(Instant::now),
            issued: IssuedCheckoutToken {
                expires_in: shared.lifetime,
                ..shared.issued
            },
            reuse_floor: shared.reuse_floor,
        }),
        Lookup::Missing => Lookup::Missing,
        Lookup::Unknown => Lookup::Unknown,
    }
}

/// One vendor call per invoice for the whole fleet: the instance holding
/// the lease mints and publishes; the others wait for its token. While
/// Redis cannot say, this instance's own token (`held`) if it has one.
async fn fleet_mint_once<F, Fut>(
    tokens: &FleetTokens,
    key: &Key,
    held: Option<Recent>,
    issue: &F,
) -> Result<(Recent, MintOutcome), CheckoutError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<IssuedCheckoutToken, CheckoutError>>,
{
    let (customer, invoice) = key;
    let give_up = Instant::now() + fleet_tokens::MINT_LOCK;
    let mut held = held;
    loop {
        // Minted meanwhile, here or elsewhere (this request may have
        // waited for the slot while another minted).
        match fleet_reusable(tokens, key, None).await {
            Lookup::Found(recent) => return Ok((recent, MintOutcome::Reused)),
            Lookup::Unknown => {
                if let Some(recent) = held.take() {
                    return Ok((recent, MintOutcome::Reused));
                }
            }
            Lookup::Missing => {}
        }
        match tokens.lock(invoice).await {
            Lease::Held(holder) => {
                // Published between that read and this lease (the holder
                // before gives its lease up as it publishes): then it is
                // there now, and no second vendor call is made for it.
                if let Lookup::Found(recent) = fleet_reusable(tokens, key, None).await {
                    tokens.unlock(holder).await;
                    return Ok((recent, MintOutcome::Reused));
                }
                let minted = fresh(issue).await;
                match &minted {
                    Ok((recent, _)) => {
                        let floor = recent.reuse_floor;
                        tokens
                            .store(customer, invoice, &recent.issued, floor, holder)
                            .await
                    }
                    Err(_) => tokens.unlock(holder).await,
                }
                return minted;
            }
            // Another instance is minting it: take it when it is in.
            Lease::Elsewhere if Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            // Redis away, or the other instance took too long.
            Lease::Elsewhere | Lease::Unknown => return fresh(issue).await,
        }
    }
}
