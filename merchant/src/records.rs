//! The merchant's own records of its invoices and which vendor customer each
//! belongs to. The vendor is asked for a token only for an invoice found here
//! and owned by the logged-in user: the browser names an invoice, never a
//! customer.

use serde::Serialize;
use sqlx::{Error as DbError, SqlitePool};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct InvoiceRecord {
    #[sqlx(rename = "id")]
    pub invoice_id: String,
    /// The vendor's id of the customer who owes this invoice.
    pub customer_id: String,
    pub invoice_number: String,
    pub currency: String,
    pub total: String,
}

pub struct Records {
    pool: SqlitePool,
}

impl Records {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn invoice(&self, invoice_id: &str) -> Result<Option<InvoiceRecord>, DbError> {
        sqlx::query_as("SELECT * FROM invoices WHERE id = ?")
            .bind(invoice_id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn invoices_of(&self, customer_id: &str) -> Result<Vec<InvoiceRecord>, DbError> {
        sqlx::query_as("SELECT * FROM invoices WHERE customer_id = ? ORDER BY id")
            .bind(customer_id)
            .fetch_all(&self.pool)
            .await
    }
}
