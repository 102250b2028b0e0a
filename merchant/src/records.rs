//! The merchant's own records of its invoices and which vendor customer each
//! belongs to. The vendor is asked for a token only for an invoice found here:
//! the browser names an invoice, never a customer.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    pub invoice_id: String,
    /// The vendor's id of the customer who owes this invoice.
    pub customer_id: String,
}

#[derive(Debug, Default)]
pub struct Records {
    invoices: HashMap<String, InvoiceRecord>,
}

impl Records {
    /// The demo merchant's invoices, matching the sandbox's seed data.
    pub fn demo() -> Self {
        let invoices = [
            ("inv_1001", "cus_acme"),
            ("inv_1002", "cus_acme"),
            ("inv_2001", "cus_globex"),
        ]
        .into_iter()
        .map(|(invoice, customer)| {
            (
                invoice.to_owned(),
                InvoiceRecord {
                    invoice_id: invoice.to_owned(),
                    customer_id: customer.to_owned(),
                },
            )
        })
        .collect();
        Self { invoices }
    }

    pub fn invoice(&self, invoice_id: &str) -> Option<&InvoiceRecord> {
        self.invoices.get(invoice_id)
    }
}
