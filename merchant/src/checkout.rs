//! Minting a checkout token for one of the merchant's invoices.

use std::time::Duration;

use crate::error::MintError;
use crate::records::Records;
use crate::secret::CheckoutToken;
use crate::vendor::VendorClient;

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
    records: Records,
}

impl CheckoutService {
    pub fn new(vendor: VendorClient, records: Records) -> Self {
        Self { vendor, records }
    }

    /// A checkout token for `invoice_id`, scoped to the customer the
    /// merchant's records say owes it.
    pub async fn mint(&self, invoice_id: &str) -> Result<MintedToken, MintError> {
        let record = self
            .records
            .invoice(invoice_id)
            .ok_or(MintError::UnknownInvoice)?;
        let issued = self
            .vendor
            .checkout_token(&record.customer_id, &record.invoice_id)
            .await?;
        Ok(MintedToken {
            token: issued.token,
            expires_in: issued.expires_in,
            api_url: self.vendor.api_url().to_owned(),
        })
    }
}
