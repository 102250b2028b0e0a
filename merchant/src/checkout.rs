//! Minting a checkout token for one of the merchant's invoices.
//!
//! Concurrent mints for the same customer and invoice share one vendor call,
//! and a token is handed out again until three eighths to a half of its
//! life is left, instead of minting another: a page reload, a second tab or
//! a double click costs the vendor quota nothing. A fleet shares both
//! through Redis ([`CheckoutService::in_fleet`]); `reuse.rs` is the one
//! interface to both.

mod catch_up;
mod fleet_tokens;
mod reuse;
mod settle;
mod slots;

use alternative_client::{IssuedCheckoutToken, VendorClient, VendorInvoice};

use crate::error::CheckoutError;
use crate::fleet::FleetRedis;
use crate::input::InvoiceId;
use crate::metrics::{MintOutcome, MintReason};
use crate::records::{InvoiceRecord, PaymentState, Records};
use crate::users::User;
pub use catch_up::{CatchUpError, CaughtUp, Turn, CATCH_UP_LEASE};
pub(crate) use fleet_tokens::FleetTokens;
pub use fleet_tokens::TokenRead;
use reuse::Reuse;
use slots::{Recent, Slots};

pub struct CheckoutService {
    vendor: VendorClient,
    pub(crate) records: Records,
    /// The tokens handed out again, this instance's or the fleet's.
    reuse: Reuse,
    /// Held by a catch-up run and by a demo reset: never both at once.
    settling: tokio::sync::Mutex<()>,
}

impl CheckoutService {
    pub fn new(vendor: VendorClient, records: Records) -> Self {
        Self {
            vendor,
            records,
            reuse: Reuse::Instance(Slots::default()),
            settling: tokio::sync::Mutex::new(()),
        }
    }

    /// Shares token reuse and single flight with every instance using
    /// `redis`: one token per invoice for the fleet, forgotten by all once
    /// paid or refused.
    pub fn in_fleet(mut self, redis: &FleetRedis) -> Self {
        self.reuse = Reuse::Fleet {
            tokens: fleet_tokens::FleetTokens::new(redis.clone()),
            slots: Slots::default(),
        };
        self
    }

    /// The vendor API the tokens are for (the browser calls it: tokens of
    /// one vendor environment do not work in another, so the page gets
    /// both together).
    pub fn api_url(&self) -> &str {
        self.vendor.api_url()
    }

    /// Whether a mint could succeed now, for a readiness probe: the records
    /// answer and the vendor is usable ([`VendorClient::check`]). A vendor
    /// busy under its quota is ready: taking the instance out of rotation
    /// for that would only move the load to the others.
    pub async fn ready(&self) -> Result<(), CheckoutError> {
        self.records.ping().await.map_err(CheckoutError::storage)?;
        match self.vendor.check().await.map_err(CheckoutError::from) {
            Err(CheckoutError::Busy(_)) => Ok(()),
            outcome => outcome,
        }
    }

    /// A checkout token for `user` to pay `invoice_id` — if the merchant's
    /// records say it is theirs. Unknown and not-theirs get one answer.
    /// Counted as the server's own ([`MintReason::Server`]).
    pub async fn mint(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<IssuedCheckoutToken, CheckoutError> {
        self.mint_with(user, invoice_id, None, MintReason::Server)
            .await
    }

    /// [`Self::mint`] for a page that said why it asks (`reason`, counted
    /// with the outcome), given in a fleet the fleet's token for the
    /// invoice as the request's gate read it (`crate::gate`): then Redis
    /// is not asked again for it.
    pub async fn mint_with(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        read: Option<TokenRead>,
        reason: MintReason,
    ) -> Result<IssuedCheckoutToken, CheckoutError> {
        let started = std::time::Instant::now();
        let minted = self.mint_uncounted(user, invoice_id, read).await;
        let outcome = match &minted {
            Ok((_, outcome)) => *outcome,
            Err(error) => error.outcome(),
        };
        crate::metrics::mint(outcome, reason, started.elapsed());
        minted.map(|(minted, _)| minted)
    }

    /// [`Self::mint`] before it is counted: the token and whether it was
    /// reused or issued.
    async fn mint_uncounted(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        read: Option<TokenRead>,
    ) -> Result<(IssuedCheckoutToken, MintOutcome), CheckoutError> {
        let key = (user.customer_id.clone(), invoice_id.as_str().to_owned());
        if let Some(recent) = self.reuse.reusable(&key, read).await {
            return Ok((self.handed_out(&recent), MintOutcome::Reused));
        }
        match self.own_record(user, invoice_id).await?.payment {
            PaymentState::Open => {}
            PaymentState::Paid { .. } => return Err(CheckoutError::Paid),
            PaymentState::Mismatch { .. } => return Err(CheckoutError::PaymentMismatch),
        }
        let issue = || async {
            let (customer, invoice) = &key;
            Ok(self.vendor.checkout_token(customer, invoice).await?)
        };
        let (recent, outcome) = match self.reuse.mint_once(&key, issue).await {
            Err(refusal) if refusal.vendor_says_paid() => {
                return Err(self.heal_already_paid(user, invoice_id, refusal).await)
            }
            minted => minted?,
        };
        Ok((self.handed_out(&recent), outcome))
    }

    /// The token as handed to a page: what it has left of its life now.
    fn handed_out(&self, recent: &Recent) -> IssuedCheckoutToken {
        IssuedCheckoutToken {
            expires_in: recent.remaining(),
            ..recent.issued.clone()
        }
    }

    /// The vendor refused the token with id `refused_id` before its time
    /// (revoked, a key pulled, its clock ahead): if it is the one this
    /// customer would be given again for this invoice, forget it, so the
    /// next mint asks the vendor for a new one.
    pub async fn forget_refused(&self, user: &User, invoice_id: &InvoiceId, refused_id: &str) {
        let key = (user.customer_id.clone(), invoice_id.as_str().to_owned());
        self.reuse.forget_refused(&key, refused_id).await;
    }

    /// The vendor's view of the user's invoice (status, amounts, due date),
    /// read with the checkout token the page will get anyway.
    pub async fn invoice(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
    ) -> Result<VendorInvoice, CheckoutError> {
        let minted = self.mint(user, invoice_id).await?;
        match self
            .vendor
            .invoice(&minted.token, &user.customer_id)
            .await
            .map_err(CheckoutError::from)
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
    ) -> Result<InvoiceRecord, CheckoutError> {
        self.records
            .invoice(invoice_id.as_str())
            .await
            .map_err(CheckoutError::storage)?
            .filter(|r| r.customer_id == user.customer_id)
            .ok_or(CheckoutError::UnknownInvoice)
    }

    /// The user's invoices, from the merchant's records.
    pub async fn invoices_of(&self, user: &User) -> Result<Vec<InvoiceRecord>, CheckoutError> {
        self.records
            .invoices_of(&user.customer_id)
            .await
            .map_err(CheckoutError::storage)
    }

    /// Hands out no token again for `invoice_id`, whoever it was minted
    /// for: it is paid.
    async fn forget_invoice(&self, invoice_id: &str) {
        self.reuse.forget_invoice(invoice_id).await;
    }
}
