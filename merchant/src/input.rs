//! What the browser sends, checked against a documented shape before
//! anything else reads it: an id that passes cannot carry a newline into a
//! log line, a quote into a query, or a megabyte into a hash.

use std::fmt;

/// Why an input was refused: a sentence for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub &'static str);

/// An invoice id: 1 to 64 ASCII letters, digits, `_` and `-` (the vendor's
/// ids look like `inv_1001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InvoiceId(String);

impl InvoiceId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(id: &str) -> Result<Self, Malformed> {
        if vendor_id_shaped(id) {
            Ok(Self(id.to_owned()))
        } else {
            Err(Malformed(
                "an invoice id is 1 to 64 letters, digits, _ or - (e.g. inv_1001)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A customer id, as the vendor gives them (`cus_acme`): the shape of its
/// ids, checked where one comes in (an invoice import).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(id: &str) -> Result<Self, Malformed> {
        if vendor_id_shaped(id) {
            Ok(Self(id.to_owned()))
        } else {
            Err(Malformed(
                "a customer id is the vendor's: 1 to 64 letters, digits, _ or -",
            ))
        }
    }
}

/// The vendor's ids: 1 to 64 ASCII letters, digits, `_` and `-`.
fn vendor_id_shaped(id: &str) -> bool {
    (1..=InvoiceId::MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The email and password of a log-in, before they are looked up.
///
/// Email: 3 to 254 bytes (RFC 5321 §4.5.3.1.3's path limit), with an `@`
/// and no whitespace or control characters. Password: 1 to 1,024 bytes:
/// longer ones are refused before Argon2 spends time on them.
pub fn check_credentials(email: &str, password: &str) -> Result<(), Malformed> {
    let email = email.trim();
    let email_shaped = (3..=254).contains(&email.len())
        && email.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !email_shaped {
        return Err(Malformed("that is not an email address"));
    }
    if !(1..=1024).contains(&password.len()) {
        return Err(Malformed("a password is 1 to 1,024 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_ids_of_the_documented_shape_pass() {
        for id in ["inv_1001", "INV-2", "a", &"x".repeat(64)] {
            assert_eq!(InvoiceId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn log_forging_and_oversized_invoice_ids_are_refused() {
        for id in [
            "",
            "inv_1001\n2026-12-01T00:00:00Z INFO logged in user=1",
            "inv_1001\r",
            "inv\0",
            "inv 1001",
            "inv/../1001",
            "inv_1001'--",
            "inv_é",
            &"x".repeat(65),
        ] {
            assert!(InvoiceId::parse(id).is_err(), "{id:?} passed");
        }
    }

    #[test]
    fn credentials_are_shaped_before_they_are_looked_up() {
        assert!(check_credentials(" alice@example.com ", "pw").is_ok());
        for (email, password) in [
            ("alice", "pw"),
            ("al\nice@example.com", "pw"),
            ("alice@example.com", ""),
            ("alice@example.com", &"p".repeat(1025)),
            (&format!("{}@example.com", "a".repeat(250)), "pw"),
        ] {
            assert!(check_credentials(email, password).is_err(), "{email:?}");
        }
    }
}
