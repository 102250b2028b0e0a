//! The merchant's own records of its invoices and which vendor customer each
//! belongs to. The vendor is asked for a token only for an invoice found here
//! and owned by the logged-in user: the browser names an invoice, never a
//! customer.

use serde::Serialize;
use sqlx::{AnyPool, Error as DbError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub invoice_id: String,
    /// The vendor's id of the customer who owes this invoice.
    pub customer_id: String,
    pub invoice_number: String,
    pub currency: String,
    pub total: String,
    /// What the merchant knows of its payment (`payments`).
    pub payment: PaymentState,
}

/// What the merchant's records say of an invoice's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PaymentState {
    /// No payment recorded: a token may be minted for it.
    Open,
    /// Paid, in full and in its currency, by this payment.
    Paid { payment_id: String },
    /// A payment was taken whose amount or currency is not the invoice's:
    /// neither paid nor open — no token is minted for it until a person
    /// has looked (the payment's own amount is kept).
    Mismatch {
        payment_id: String,
        amount: String,
        currency: String,
    },
}

impl PaymentState {
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }
}

/// An invoice row with its payment's columns, if it has one.
#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: String,
    customer_id: String,
    invoice_number: String,
    currency: String,
    total: String,
    payment_id: Option<String>,
    payment_state: Option<String>,
    paid_amount: Option<String>,
    paid_currency: Option<String>,
}

impl From<InvoiceRow> for InvoiceRecord {
    fn from(row: InvoiceRow) -> Self {
        let payment = match (row.payment_id, row.payment_state.as_deref()) {
            (None, _) => PaymentState::Open,
            (Some(payment_id), Some("mismatch")) => PaymentState::Mismatch {
                payment_id,
                amount: row.paid_amount.unwrap_or_default(),
                currency: row.paid_currency.unwrap_or_default(),
            },
            // `paid`, the migration's default and the only other value
            // its CHECK allows.
            (Some(payment_id), _) => PaymentState::Paid { payment_id },
        };
        Self {
            invoice_id: row.id,
            customer_id: row.customer_id,
            invoice_number: row.invoice_number,
            currency: row.currency,
            total: row.total,
            payment,
        }
    }
}

/// Every invoice column, and the payment recorded for it.
const INVOICES: &str = "SELECT i.id, i.customer_id, i.invoice_number, i.currency, i.total, \
     p.payment_id, p.state AS payment_state, p.amount AS paid_amount, \
     p.currency AS paid_currency FROM invoices i LEFT JOIN payments p ON p.invoice_id = i.id";

#[derive(Clone)]
pub struct Records {
    pub(crate) pool: AnyPool,
}

impl Records {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Whether the database answers (for a readiness probe).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(drop)
    }

    pub async fn invoice(&self, invoice_id: &str) -> Result<Option<InvoiceRecord>, DbError> {
        let row: Option<InvoiceRow> = sqlx::query_as(&format!("{INVOICES} WHERE i.id = $1"))
            .bind(invoice_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(InvoiceRecord::from))
    }

    pub async fn invoices_of(&self, customer_id: &str) -> Result<Vec<InvoiceRecord>, DbError> {
        let rows: Vec<InvoiceRow> = sqlx::query_as(&format!(
            "{INVOICES} WHERE i.customer_id = $1 ORDER BY i.id"
        ))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(InvoiceRecord::from).collect())
    }
}

/// Why an import was refused: nothing of it was recorded.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a JSON array of invoices of the documented shape.
    #[error(
        "not a JSON array of invoices ({{id, customer_id, invoice_number, currency, total}}): {0}"
    )]
    Unreadable(#[from] serde_json::Error),
    /// One invoice is malformed; `index` counts from 0.
    #[error("invoice {index} ({id:?}): {problem}")]
    Malformed {
        index: usize,
        id: String,
        problem: &'static str,
    },
    #[error("invoice {0} is already recorded (or listed twice)")]
    Duplicate(String),
    #[error("the database: {0}")]
    Storage(DbError),
}

/// One invoice to import, as the merchant's own system exports it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvoice {
    id: String,
    customer_id: String,
    invoice_number: String,
    currency: String,
    total: String,
}

impl NewInvoice {
    fn check(&self) -> Result<(), &'static str> {
        crate::InvoiceId::parse(&self.id).map_err(|m| m.0)?;
        crate::input::CustomerId::parse(&self.customer_id).map_err(|m| m.0)?;
        if self.invoice_number.trim().is_empty() || self.invoice_number.len() > 64 {
            return Err("an invoice number is 1 to 64 characters");
        }
        // A NUL is refused by PostgreSQL on every write; a newline or an
        // escape sequence forges log lines and pages.
        if self.invoice_number.chars().any(char::is_control) {
            return Err("an invoice number has no control characters (NUL, newline, tab, escape)");
        }
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err("a currency is three capital letters (ISO 4217, e.g. USD)");
        }
        let (units, cents) = self.total.split_once('.').unwrap_or((&self.total, "00"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(units) && units.len() <= 12 && digits(cents) && cents.len() == 2) {
            return Err("a total is a decimal string with two decimals, e.g. 1250.00");
        }
        Ok(())
    }
}

impl Records {
    /// Records the invoices in `json` (an array of `{id, customer_id,
    /// invoice_number, currency, total}`): all of them, or — if any is
    /// malformed or already recorded — none. Returns how many.
    pub async fn import(&self, json: &[u8]) -> Result<usize, ImportError> {
        let invoices: Vec<NewInvoice> = serde_json::from_slice(json)?;
        for (index, invoice) in invoices.iter().enumerate() {
            invoice.check().map_err(|problem| ImportError::Malformed {
                index,
                id: invoice.id.chars().take(64).collect(),
                problem,
            })?;
        }
        let mut tx = self.pool.begin().await.map_err(ImportError::Storage)?;
        for invoice in &invoices {
            sqlx::query(
                "INSERT INTO invoices (id, customer_id, invoice_number, currency, total) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&invoice.id)
            .bind(&invoice.customer_id)
            .bind(&invoice.invoice_number)
            .bind(&invoice.currency)
            .bind(&invoice.total)
            .execute(&mut *tx)
            .await
            .map_err(|error| match &error {
                DbError::Database(e) if e.is_unique_violation() => {
                    ImportError::Duplicate(invoice.id.clone())
                }
                _ => ImportError::Storage(error),
            })?;
        }
        tx.commit().await.map_err(ImportError::Storage)?;
        Ok(invoices.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records, and the database they live in (dropped with it).
    async fn records() -> (crate::db::Database, Records) {
        let db = crate::db::open(&crate::db::scratch_url().await)
            .await
            .unwrap();
        let records = Records::new(db.pool().clone());
        (db, records)
    }

    const TWO: &str = r#"[
        {"id": "inv_9001", "customer_id": "cus_acme", "invoice_number": "INV-9001", "currency": "USD", "total": "10.00"},
        {"id": "inv_9002", "customer_id": "cus_globex", "invoice_number": "INV-9002", "currency": "EUR", "total": "7"}
    ]"#;

    #[tokio::test]
    async fn an_import_records_every_invoice() {
        let (_db, records) = records().await;
        assert_eq!(records.import(TWO.as_bytes()).await.unwrap(), 2);
        let second = records.invoice("inv_9002").await.unwrap().unwrap();
        assert_eq!(second.customer_id, "cus_globex");
        assert_eq!(second.total, "7");
    }

    #[tokio::test]
    async fn a_malformed_invoice_is_named_and_nothing_is_recorded() {
        let (_db, records) = records().await;
        let bad = TWO.replace("\"EUR\"", "\"euro\"");
        let error = records.import(bad.as_bytes()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "invoice 1 (\"inv_9002\"): a currency is three capital letters (ISO 4217, e.g. USD)"
        );
        assert!(records.invoice("inv_9001").await.unwrap().is_none());
    }

    /// Found by reading: a NUL in an invoice number made PostgreSQL refuse
    /// the row (and the vendor's event for it) on every attempt.
    #[tokio::test]
    async fn control_characters_in_an_invoice_number_are_refused_before_storage() {
        let (_db, records) = records().await;
        for number in [
            "INV\\u00009002",
            "INV-9002\\n",
            "INV\\t9002",
            "\\u001b[31mINV",
        ] {
            let bad = TWO.replace("\"INV-9002\"", &format!("\"{number}\""));
            let error = records.import(bad.as_bytes()).await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "invoice 1 (\"inv_9002\"): an invoice number has no control characters (NUL, newline, tab, escape)",
                "{number}"
            );
            assert!(records.invoice("inv_9001").await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn an_invoice_already_recorded_refuses_the_whole_import() {
        let (_db, records) = records().await;
        let again = TWO.replace("inv_9002", "inv_9001");
        assert!(matches!(
            records.import(again.as_bytes()).await,
            Err(ImportError::Duplicate(id)) if id == "inv_9001"
        ));
        assert!(records.invoice("inv_9001").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn what_is_not_an_array_of_invoices_is_refused_as_unreadable() {
        let (_db, records) = records().await;
        for input in [
            "",
            "{}",
            r#"[{"id": "inv_1"}]"#,
            r#"[{"id": "x", "extra": 1}]"#,
        ] {
            assert!(matches!(
                records.import(input.as_bytes()).await,
                Err(ImportError::Unreadable(_))
            ));
        }
    }
}
