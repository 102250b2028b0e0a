//! Arbitrary bytes as the body of each endpoint that reads one (the first
//! byte picks which): the OAuth token form (without and with a Basic header),
//! the checkout-auth init JSON, the payment JSON, and the PDF link's file
//! name and query. Each goes through the handler's own parsing and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sandbox::fuzzing::sandbox_body(data));
