//! Settling: what the vendor says was paid becomes the merchant's record —
//! from its event (delivered to the webhook endpoint, or found by the
//! catch-up, `catch_up.rs`), from the merchant's own read after a Pay, or
//! from that read when the vendor refuses a token because the invoice is
//! paid already. Whichever comes first records it; the others find it done.
//! Once an invoice has a payment recorded (matching or not), no checkout
//! token is minted or handed out for it again.

use alternative_client::webhook::{Event, Payload};
use alternative_client::VendorError;

use super::CheckoutService;
use crate::error::CheckoutError;
use crate::input::InvoiceId;
use crate::payments::{Recorded, Via};
use crate::records::PaymentState;
use crate::users::User;

impl CheckoutService {
    /// Records a verified vendor event (its raw `body` kept) at `now` (Unix
    /// seconds). A repeated event id changes nothing.
    pub async fn receive_event(
        &self,
        event: &Event,
        body: &str,
        now: u64,
    ) -> Result<Recorded, CheckoutError> {
        self.record_event(event, body, now, Via::Webhook).await
    }

    /// [`Self::receive_event`] for an event that came `via` either path.
    pub(super) async fn record_event(
        &self,
        event: &Event,
        body: &str,
        now: u64,
        via: Via,
    ) -> Result<Recorded, CheckoutError> {
        let recorded = self
            .records
            .record_event(event, body, now, via)
            .await
            .map_err(CheckoutError::storage)?;
        if let (Payload::PaymentSucceeded(payment), true) = (&event.payload, recorded.settled_now())
        {
            self.forget_invoice(&payment.invoice_id).await;
        }
        Ok(recorded)
    }

    /// Asks the vendor whether `user`'s invoice is paid, and records it if
    /// so (at `now`): the page calls this after a Pay, so the merchant's
    /// records are right even while the event is on its way. What the
    /// records say of its payment afterwards.
    pub async fn reconcile(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        now: u64,
    ) -> Result<PaymentState, CheckoutError> {
        let record = self.own_record(user, invoice_id).await?;
        if !record.payment.is_open() {
            return Ok(record.payment);
        }
        self.settle_from_vendor(user, invoice_id, now).await
    }

    /// The vendor refused a token, or an invoice read, with 409: it says
    /// the invoice is paid already, which the records do not know yet (the
    /// event lost, the payer's tab closed before the reconcile). Ask it for
    /// the payment and record it before answering, so the records heal on
    /// the spot. What to answer: paid, a mismatch — or `refusal` itself if
    /// the vendor's read says otherwise or cannot be made (the catch-up
    /// will find the payment's event).
    pub(super) async fn heal_already_paid(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        refusal: CheckoutError,
    ) -> CheckoutError {
        match self.settle_from_vendor(user, invoice_id, unix_now()).await {
            Ok(PaymentState::Paid { .. }) => CheckoutError::Paid,
            Ok(PaymentState::Mismatch { .. }) => CheckoutError::PaymentMismatch,
            Ok(PaymentState::Open) => {
                tracing::warn!(%invoice_id, "the vendor refused the invoice as paid, but its read shows no payment");
                refusal
            }
            Err(error) => {
                tracing::warn!(%invoice_id, %error, "could not read the payment of an invoice the vendor says is paid");
                refusal
            }
        }
    }

    /// Reads the invoice's settlement from the vendor with the merchant's
    /// own credentials and records its payment, if it has one; what the
    /// records say afterwards.
    async fn settle_from_vendor(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        now: u64,
    ) -> Result<PaymentState, CheckoutError> {
        let settlement = self
            .vendor
            .settlement(invoice_id.as_str(), &user.customer_id)
            .await?;
        let Some(payment) = settlement.payment.filter(|_| settlement.status == "paid") else {
            return Ok(PaymentState::Open);
        };
        if payment.invoice_id != invoice_id.as_str() {
            return Err(CheckoutError::Vendor(VendorError::Malformed(
                "the vendor answered with another invoice's payment",
            )));
        }
        let recorded = self
            .records
            .record_payment(&payment, now)
            .await
            .map_err(CheckoutError::storage)?;
        if recorded.settled_now() {
            self.forget_invoice(invoice_id.as_str()).await;
        }
        Ok(self.own_record(user, invoice_id).await?.payment)
    }
}

impl CheckoutError {
    /// The vendor's 409: it will not take payment for the invoice, which
    /// it says is paid already.
    pub(super) fn vendor_says_paid(&self) -> bool {
        matches!(
            self,
            Self::Refused(VendorError::Rejected { status: 409, .. })
        )
    }
}

/// Now, in Unix seconds, for what a record notes of when it was made.
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
