//! Settling: what the vendor says was paid becomes the merchant's record,
//! from its signed event or from the merchant's own read after a Pay —
//! whichever comes first; the other finds it done. Once an invoice is
//! recorded paid, no checkout token is minted or handed out for it again.

use alternative_client::webhook::{Event, Payload};

use super::CheckoutService;
use crate::error::MintError;
use crate::input::InvoiceId;
use crate::payments::Recorded;
use crate::users::User;

impl CheckoutService {
    /// Records a verified vendor event (its raw `body` kept) at `now` (Unix
    /// seconds). A repeated event id changes nothing.
    pub async fn receive_event(
        &self,
        event: &Event,
        body: &str,
        now: u64,
    ) -> Result<Recorded, MintError> {
        let recorded = self
            .records
            .record_event(event, body, now)
            .await
            .map_err(MintError::storage)?;
        if let (Payload::PaymentSucceeded(payment), Recorded::Paid) = (&event.payload, recorded) {
            self.forget_invoice(&payment.invoice_id).await;
        }
        Ok(recorded)
    }

    /// Asks the vendor whether `user`'s invoice is paid, and records it if
    /// so (at `now`): the page calls this after a Pay, so the merchant's
    /// records are right even while the event is on its way. Whether it is
    /// paid.
    pub async fn reconcile(
        &self,
        user: &User,
        invoice_id: &InvoiceId,
        now: u64,
    ) -> Result<bool, MintError> {
        if self.own_record(user, invoice_id).await?.paid_by.is_some() {
            return Ok(true);
        }
        let settlement = self.vendor.settlement(invoice_id.as_str()).await?;
        let Some(payment) = settlement.payment.filter(|_| settlement.status == "paid") else {
            return Ok(false);
        };
        if payment.invoice_id != invoice_id.as_str() {
            return Err(MintError::Vendor(
                alternative_client::VendorError::Malformed(
                    "the vendor answered with another invoice's payment",
                ),
            ));
        }
        let recorded = self
            .records
            .record_payment(&payment, now)
            .await
            .map_err(MintError::storage)?;
        if recorded == Recorded::Paid {
            self.forget_invoice(invoice_id.as_str()).await;
        }
        Ok(true)
    }
}
