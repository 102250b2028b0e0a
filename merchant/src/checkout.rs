//! Minting a checkout token for one of the merchant's invoices.
//!
//! Concurrent mints for the same customer and invoice share one vendor call,
//! and a token that still has most of its life is handed out again instead
//! of minting another: a page reload, a second tab or a double click costs
//! the vendor quota nothing. A fleet shares both through Redis
//! ([`CheckoutService::shared_through`], `shared.rs`).

mod catch_up;
mod settle;
mod shared;
mod slots;

use std::time::Duration;

use alternative_client::{CheckoutToken, IssuedCheckoutToken, VendorClient, VendorInvoice};
use fleet_redis::{Lease, Lookup};
use tokio::time::Instant;

use crate::error::MintError;
use crate::fleet::FleetRedis;
use crate::input::InvoiceId;
use crate::metrics::MintOutcome;
use crate::records::{InvoiceRecord, PaymentState, Records};
use crate::users::User;
pub use catch_up::{CatchUpError, CaughtUp, Turn, CATCH_UP_LEASE};
use slots::{Key, Recent, Slots};

/// What the page receives: a token for the vendor API at `api_url`.
#[derive(Debug)]
pub struct MintedToken {
    pub token: CheckoutToken,
    pub expires_in: Duration,
    /// The vendor API the token is valid for: tokens from one vendor
    /// environment do not work in another, so they travel together.
    pub api_url: String,
}

pub struct CheckoutService {
    vendor: VendorClient,
    pub(crate) records: Records,
    /// This instance's tokens; with a fleet, what it falls back on while
    /// Redis cannot be reached.
    slots: Slots,
    shared: Option<shared::SharedTokens>,
    /// Held by a catch-up run and by a demo reset: never both at once.
    settling: tokio::sync::Mutex<()>,
}

impl CheckoutService {
    pub fn new(vendor: VendorClient, records: Records) -> Self {
        Self {
            vendor,
            records,
            slots: Slots::default(),
            shared: None,
            settling: tokio::sync::Mutex::new(()),
        }
    }

    /// Shares token reuse and single flight with every instance using
    /// `redis`: one token per invoice for the fleet, forgotten by all once
    /// paid or refused.
    pub fn shared_through(mut self, redis: &FleetRedis) -> Self {
        self.shared = Some(shared::SharedTokens::new(redis.clone()));
        self
    }

    /// The vendor API the tokens are for (the browser calls it).
    pub fn api_url(&self) -> &str {
        self.vendor.api_url()
    }

    /// Whether a mint could succeed now, for a readiness probe: the records
    /// answer and the vendor is usable ([`VendorClient::check`]). A vendor
    /// busy under its quota is ready: taking the instance out of rotation
    /// for that would only move the load to the others.
    pub async fn ready(&self) -> Result<(), MintError> {
        self.records.ping().await.map_err(MintError::storage)?;
        match self.vendor.check().await.map_err(MintError::from) {
            Err(MintError::Busy(_)) => Ok(()),
            outcome => outcome,
        }
    }

    /// A checkout token for `user` to pay `invoice_id` — if the merchant's
    /// records say it is theirs. Unknown and not-theirs get one answer.
    pub async fn mint(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<MintedToken, MintError> {
        let started = std::time::Instant::now();
        let minted = self.mint_uncounted(user, invoice_id).await;
        let outcome = match &minted {
            Ok((_, outcome)) => *outcome,
            Err(error) => error.outcome(),
        };
        crate::metrics::mint(outcome, started.elapsed());
        minted.map(|(minted, _)| minted)
    }

    /// [`Self::mint`] before it is counted: the token and whether it was
    /// reused or issued.
    async fn mint_uncounted(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<(MintedToken, MintOutcome), MintError> {
        let key = (user.customer_id.clone(), invoice_id.as_str().to_owned());
        // With a fleet the shared token is the one to hand out (a payment
        // or a refusal elsewhere forgets it); this instance's own only while
        // Redis cannot say.
        let fleet_knows = match self.shared_reusable(&key).await {
            Lookup::Found(recent) => return Ok((self.handed_out(&recent), MintOutcome::Reused)),
            Lookup::Missing => true,
            Lookup::Unknown => false,
        };
        if !fleet_knows {
            if let Some(minted) = self.reuse(&key).await {
                return Ok((minted, MintOutcome::Reused));
            }
        }
        match self.own_record(user, invoice_id).await?.payment {
            PaymentState::Open => {}
            PaymentState::Paid { .. } => return Err(MintError::Paid),
            PaymentState::Mismatch { .. } => return Err(MintError::PaymentMismatch),
        }
        let slot = self.slots.get_or_make(key.clone());
        let mut current = slot.current.lock().await;
        // Another request for the same slot may have just issued one.
        let held = current
            .take()
            .filter(|_| !fleet_knows)
            .filter(Recent::reusable);
        let (recent, outcome) = match held {
            Some(recent) => (recent, MintOutcome::Reused),
            None => match self.mint_once(&key).await {
                Err(refusal) if refusal.vendor_says_paid() => {
                    return Err(self.heal_already_paid(user, invoice_id, refusal).await)
                }
                minted => minted?,
            },
        };
        let minted = self.handed_out(&recent);
        *current = Some(recent);
        Ok((minted, outcome))
    }

    /// The fleet's reusable token for `key`, as a [`Recent`]; without a
    /// fleet, [`Lookup::Unknown`], as while Redis cannot say.
    async fn shared_reusable(&self, (customer, invoice): &Key) -> Lookup<Recent> {
        let Some(shared) = &self.shared else {
            return Lookup::Unknown;
        };
        match shared.reusable(customer, invoice).await {
            Lookup::Found(shared) => Lookup::Found(Recent {
                minted_at: Instant::now()
                    .checked_sub(shared.lifetime.saturating_sub(shared.issued.expires_in))
                    .unwrap_or_else(Instant::now),
                issued: IssuedCheckoutToken {
                    expires_in: shared.lifetime,
                    ..shared.issued
                },
            }),
            Lookup::Missing => Lookup::Missing,
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    /// A token from the vendor for `key` — or, with a fleet, the one
    /// another instance is minting for it right now (one vendor call per
    /// invoice for the whole fleet).
    async fn mint_once(&self, key: &Key) -> Result<(Recent, MintOutcome), MintError> {
        let (customer, invoice) = key;
        let issue = || async {
            let issued = self.vendor.checkout_token(customer, invoice).await?;
            Ok::<_, MintError>(Recent {
                issued,
                minted_at: Instant::now(),
            })
        };
        let Some(shared) = &self.shared else {
            return Ok((issue().await?, MintOutcome::Issued));
        };
        let give_up = Instant::now() + shared::MINT_LOCK;
        loop {
            // Minted meanwhile, here or elsewhere (this request may have
            // waited for the slot while another minted).
            if let Lookup::Found(recent) = self.shared_reusable(key).await {
                return Ok((recent, MintOutcome::Reused));
            }
            match shared.lock(invoice).await {
                Lease::Held(holder) => {
                    let minted = issue().await;
                    match &minted {
                        Ok(recent) => {
                            shared
                                .store(customer, invoice, &recent.issued, holder)
                                .await
                        }
                        Err(_) => shared.unlock(holder).await,
                    }
                    return Ok((minted?, MintOutcome::Issued));
                }
                // Another instance is minting it: take it when it is in.
                Lease::Elsewhere if Instant::now() < give_up => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                // Redis away, or the other instance took too long.
                Lease::Elsewhere | Lease::Unknown => {
                    return Ok((issue().await?, MintOutcome::Issued))
                }
            }
        }
    }

    /// The token this customer was last given for this invoice, if it is
    /// still worth handing out. The records are not read again for it: the
    /// slot exists only because they said the invoice is this customer's,
    /// and giving the same token again grants nothing new (the vendor takes
    /// it until it expires, whatever happens here). That makes the most
    /// common mint — a reload, a refresh, another tab — one without a
    /// database round trip.
    async fn reuse(&self, key: &Key) -> Option<MintedToken> {
        let slot = self.slots.get(key)?;
        let current = slot.current.lock().await;
        current
            .as_ref()
            .filter(|recent| recent.reusable())
            .map(|recent| self.handed_out(recent))
    }

    fn handed_out(&self, recent: &Recent) -> MintedToken {
        MintedToken {
            token: recent.issued.token.clone(),
            expires_in: recent.remaining(),
            api_url: self.vendor.api_url().to_owned(),
        }
    }

    /// The vendor refused the token with id `refused_id` before its time
    /// (revoked, a key pulled, its clock ahead): if it is the one this
    /// customer would be given again for this invoice, forget it, so the
    /// next mint asks the vendor for a new one. A token whose id is not
    /// known (no JWKS to read it with) is forgotten too: one more vendor
    /// call is cheaper than a page handed a refused token in a loop. A
    /// different id means a newer token is there already, and it stays.
    pub async fn forget_refused(&self, user: &User, invoice_id: &InvoiceId, refused_id: &str) {
        if let Some(shared) = &self.shared {
            shared.forget(invoice_id.as_str(), Some(refused_id)).await;
        }
        let key = (user.customer_id.clone(), invoice_id.as_str().to_owned());
        let Some(slot) = self.slots.get(&key) else {
            return;
        };
        let mut current = slot.current.lock().await;
        let refused = current.as_ref().is_some_and(|recent| {
            recent
                .issued
                .jti
                .as_deref()
                .is_none_or(|jti| jti == refused_id)
        });
        if refused {
            *current = None;
            tracing::info!(jti = %refused_id, "forgot a checkout token the vendor refused");
        }
    }

    /// The vendor's view of the user's invoice (status, amounts, due date),
    /// read with the checkout token the page will get anyway.
    pub async fn invoice(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<VendorInvoice, MintError> {
        let minted = self.mint(user, invoice_id).await?;
        match self
            .vendor
            .invoice(&minted.token, &user.customer_id)
            .await
            .map_err(MintError::from)
        {
            Err(refusal) if refusal.vendor_says_paid() => {
                Err(self.heal_already_paid(user, invoice_id, refusal).await)
            }
            read => read,
        }
    }

    /// `user`'s own record of `invoice_id`: someone else's invoice and no
    /// invoice at all get the same answer.
    async fn own_record(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<InvoiceRecord, MintError> {
        self.records
            .invoice(invoice_id.as_str())
            .await
            .map_err(MintError::storage)?
            .filter(|r| r.customer_id == user.customer_id)
            .ok_or(MintError::UnknownInvoice)
    }

    /// The user's invoices, from the merchant's records.
    pub async fn invoices_of(&self, user: &User) -> Result<Vec<InvoiceRecord>, MintError> {
        self.records
            .invoices_of(&user.customer_id)
            .await
            .map_err(MintError::storage)
    }

    /// Hands out no token again for `invoice_id`, whoever it was minted
    /// for: it is paid. (A page that still holds one can use it until it
    /// expires; the vendor refuses a second payment.)
    async fn forget_invoice(&self, invoice_id: &str) {
        self.slots.forget_invoice(invoice_id);
        if let Some(shared) = &self.shared {
            shared.forget(invoice_id, None).await;
        }
    }
}
