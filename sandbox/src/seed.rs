//! The seed data a fresh (or `--reset`) sandbox starts from: `seed.json`
//! beside this crate by default, or the file `SANDBOX_SEED_FILE` names.

use serde::Deserialize;

use crate::records::Invoice;

/// The default seed, documented in the book (`docs/src/sandbox.md`).
pub const DEMO_SEED: &str = include_str!("../seed.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub partners: Vec<SeedPartner>,
    pub clients: Vec<SeedClient>,
    pub customers: Vec<SeedCustomer>,
    /// Seeded as they are stored.
    pub invoices: Vec<Invoice>,
    pub payment_methods: Vec<SeedPaymentMethod>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPartner {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    pub client_id: String,
    pub partner_id: String,
    /// In the clear here, as a vendor's dashboard shows it once; the store
    /// keeps only its hash.
    pub client_secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCustomer {
    pub id: String,
    pub partner_id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPaymentMethod {
    pub id: String,
    pub customer_id: String,
    pub kind: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
}

impl Seed {
    pub fn demo() -> Self {
        serde_json::from_str(DEMO_SEED).expect("the bundled seed file is valid")
    }

    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_seed_parses() {
        let seed = super::Seed::demo();
        assert_eq!(seed.invoices.len(), 3);
        assert_eq!(seed.clients[0].client_id, "demo_client_id");
    }
}
