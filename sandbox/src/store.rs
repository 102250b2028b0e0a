//! The sandbox's records: partners' API clients, customers and invoices, and
//! the OAuth access tokens it has issued. In memory, seeded at start.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::UnixSeconds;

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub client_id: String,
    pub partner_id: String,
    /// Only the SHA-256 of the secret is kept: a dump of the store leaks no credential.
    secret_sha256: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceStatus {
    Open,
    Paid,
}

impl InvoiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub invoice_number: String,
    pub currency: String,
    /// Decimal strings, never floats: money keeps its cents exactly.
    pub sub_total: String,
    pub total: String,
    pub status: InvoiceStatus,
    pub created_at: String,
    pub due_date: String,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub partner_id: String,
}

/// What an OAuth access token stands for.
#[derive(Debug, Clone)]
pub struct OAuthGrant {
    pub client_id: String,
    pub partner_id: String,
    pub expires_at: UnixSeconds,
}

#[derive(Debug, Default)]
pub struct Store {
    clients: HashMap<String, ApiClient>,
    customers: HashMap<String, Customer>,
    invoices: HashMap<String, Invoice>,
    /// Keyed by the SHA-256 of the token, for the same reason as client secrets.
    grants: Mutex<HashMap<[u8; 32], OAuthGrant>>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compared against when the client id is unknown, so that an unknown client
/// and a wrong secret take the same work and cannot be told apart by timing.
const NO_SUCH_CLIENT: [u8; 32] = [0; 32];

impl Store {
    /// The documented demo data (README, "Sandbox seed data").
    pub fn seeded() -> Self {
        let mut store = Self::default();
        store.add_client("demo_client_id", "partner_demo", "demo_client_secret");
        for (customer, invoices) in [
            (
                "cus_acme",
                &[
                    ("inv_1001", "INV-1001", "USD", "1250.00", "2026-12-15"),
                    ("inv_1002", "INV-1002", "USD", "310.40", "2026-12-31"),
                ][..],
            ),
            (
                "cus_globex",
                &[("inv_2001", "INV-2001", "EUR", "89.99", "2027-01-10")][..],
            ),
        ] {
            store.customers.insert(
                customer.to_owned(),
                Customer {
                    partner_id: "partner_demo".to_owned(),
                },
            );
            for &(id, number, currency, total, due) in invoices {
                store.invoices.insert(
                    id.to_owned(),
                    Invoice {
                        id: id.to_owned(),
                        partner_id: "partner_demo".to_owned(),
                        customer_id: customer.to_owned(),
                        invoice_number: number.to_owned(),
                        currency: currency.to_owned(),
                        sub_total: total.to_owned(),
                        total: total.to_owned(),
                        status: InvoiceStatus::Open,
                        created_at: "2026-11-01T09:00:00Z".to_owned(),
                        due_date: due.to_owned(),
                    },
                );
            }
        }
        store
    }

    fn add_client(&mut self, client_id: &str, partner_id: &str, secret: &str) {
        self.clients.insert(
            client_id.to_owned(),
            ApiClient {
                client_id: client_id.to_owned(),
                partner_id: partner_id.to_owned(),
                secret_sha256: sha256(secret.as_bytes()),
            },
        );
    }

    /// The client these credentials belong to, if they are right. Hashing and
    /// comparing happen whether or not the client exists, in constant time.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> Option<&ApiClient> {
        let client = self.clients.get(client_id);
        let expected = client.map_or(&NO_SUCH_CLIENT, |c| &c.secret_sha256);
        let matches: bool = sha256(secret.as_bytes()).ct_eq(expected).into();
        client.filter(|_| matches)
    }

    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.get(id)
    }

    pub fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoices.get(id)
    }

    pub fn record_grant(&self, token: &str, grant: OAuthGrant, now: UnixSeconds) {
        let mut grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        // Forget expired grants now and then, so the map stays as small as
        // the number of live tokens.
        if grants.len() >= 1024 {
            grants.retain(|_, g| g.expires_at > now);
        }
        grants.insert(sha256(token.as_bytes()), grant);
    }

    pub fn grant(&self, token: &str) -> Option<OAuthGrant> {
        let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
        grants.get(&sha256(token.as_bytes())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_client_authenticates_only_with_its_secret() {
        let store = Store::seeded();
        let client = store.authenticate_client("demo_client_id", "demo_client_secret");
        assert_eq!(client.map(|c| c.partner_id.as_str()), Some("partner_demo"));
        assert!(store
            .authenticate_client("demo_client_id", "wrong")
            .is_none());
        assert!(store
            .authenticate_client("nobody", "demo_client_secret")
            .is_none());
        assert!(store.authenticate_client("nobody", "").is_none());
    }

    #[test]
    fn seed_invoices_belong_to_their_customers() {
        let store = Store::seeded();
        assert_eq!(store.invoice("inv_1001").unwrap().customer_id, "cus_acme");
        assert_eq!(store.invoice("inv_1002").unwrap().total, "310.40");
        assert_eq!(store.invoice("inv_2001").unwrap().currency, "EUR");
        assert!(store.customer("cus_globex").is_some());
    }
}
