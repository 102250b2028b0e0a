//! Invoice PDFs: `GET /checkout/v1/invoice/pdf-link` hands the token holder a
//! short-lived signed link, and the link serves a small, real PDF.
//!
//! The link carries no bearer token (it is opened by the browser as a plain
//! URL); an HMAC over the invoice id and expiry is its authority instead
//! (see `links`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::callers::Checkout;
use crate::checkout_api::scoped_invoice;
use crate::error::ApiError;
use crate::links::LinkQuery;
use crate::records::Invoice;
use crate::state::Sandbox;

/// Long enough to click, short enough that a forwarded link soon dies.
const LINK_LIFETIME_SECS: u64 = 300;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PdfLink {
    url: String,
}

#[utoipa::path(
    get,
    path = "/checkout/v1/invoice/pdf-link",
    tag = "checkout",
    responses(
        (status = 200, description = "A signed link to the invoice PDF, valid 5 minutes", body = PdfLink),
        (status = 401, description = "invalid_token or access_token_expired", body = crate::error::ApiErrorBody),
        (status = 404, description = "the token's invoice is gone", body = crate::error::ApiErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::ApiErrorBody),
    ),
    security(("checkout_bearer" = [])),
)]
pub async fn pdf_link(
    State(sandbox): State<Sandbox>,
    Checkout(claims): Checkout,
) -> Result<Json<PdfLink>, ApiError> {
    let invoice = scoped_invoice(&sandbox, &claims).await?;
    let expires = sandbox.clock.now() + LINK_LIFETIME_SECS;
    let base = sandbox.public_url();
    let signature = sandbox.links.sign(&invoice.id, expires);
    Ok(Json(PdfLink {
        url: format!(
            "{base}/files/invoices/{}.pdf?expires={expires}&signature={signature}",
            invoice.id
        ),
    }))
}

#[utoipa::path(
    get,
    path = "/files/invoices/{file}",
    tag = "checkout",
    params(
        ("file" = String, Path, description = "`<invoice id>.pdf`"),
        ("expires" = u64, Query, description = "Unix time after which the link is dead"),
        ("signature" = String, Query, description = "The sandbox's signature over the invoice and `expires`"),
    ),
    responses(
        (status = 200, description = "The invoice as a PDF", content_type = "application/pdf"),
        (status = 404, description = "not a live link this sandbox signed: unknown file, forged, expired, or without a well-formed `expires` and `signature`", body = crate::error::ApiErrorBody),
    ),
)]
pub async fn invoice_pdf(
    State(sandbox): State<Sandbox>,
    Path(file): Path<String>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    // A link without both parts is no link this sandbox signed: the same
    // answer as a forged one, so a prober learns nothing from which part is off.
    let Ok(Query(query)) = query else {
        return Err(ApiError::NotFound("no such file"));
    };
    let invoice_id = sandbox.links.check(&file, &query, sandbox.clock.now())?;
    let invoice = sandbox
        .store
        .invoice(invoice_id)
        .await?
        .ok_or(ApiError::NotFound("no such file"))?;
    let customer = sandbox
        .store
        .customer(&invoice.customer_id)
        .await?
        .map_or_else(|| invoice.customer_id.clone(), |c| c.name);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.pdf\"", invoice.invoice_number),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        render(&invoice, &customer),
    ))
}

/// A one-page PDF 1.4 listing the invoice, built by hand: five objects, a
/// content stream of text lines in Helvetica, and a cross-reference table.
pub fn render(invoice: &Invoice, customer: &str) -> Vec<u8> {
    let lines = [
        format!("Invoice {}", invoice.invoice_number),
        String::new(),
        format!("Issued: {}", invoice.created_at),
        format!("Due: {}", invoice.due_date),
        format!("Bill to: {customer}"),
        format!("Subtotal: {} {}", invoice.currency, invoice.sub_total),
        format!("Total: {} {}", invoice.currency, invoice.total),
        format!("Status: {}", invoice.status),
    ];
    let mut content = String::from("BT /F1 14 Tf 72 760 Td 20 TL\n");
    for line in &lines {
        content.push_str(&format!("({}) Tj T*\n", pdf_text(line)));
    }
    content.push_str("ET\n");

    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// Text for a PDF string literal: printable ASCII, with `\`, `(` and `)` escaped.
fn pdf_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\\' | '(' | ')' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            _ => "?".to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice() -> Invoice {
        Invoice {
            id: "inv_1001".into(),
            partner_id: "partner_demo".into(),
            customer_id: "cus_acme".into(),
            invoice_number: "INV-1001".into(),
            currency: "USD".into(),
            sub_total: "1250.00".into(),
            total: "1250.00".into(),
            status: "open".into(),
            created_at: "2026-11-01T09:00:00Z".into(),
            due_date: "2026-12-15".into(),
        }
    }

    #[test]
    fn the_pdf_is_well_formed_and_its_xref_points_at_its_objects() {
        let pdf = render(&invoice(), "Acme Corp");
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        assert!(text.contains("(Total: USD 1250.00) Tj"));
        assert!(text.contains("(Bill to: Acme Corp) Tj"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[startxref..].starts_with("xref\n0 6\n"));
        for (n, line) in text[startxref..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                text[offset..].starts_with(&format!("{} 0 obj", n + 1)),
                "object {}",
                n + 1
            );
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(pdf_text(r"a(b)c\d é"), r"a\(b\)c\\d ?");
    }
}
