//! Arbitrary bytes as the form body of each server function: see
//! `app::fuzzing::server_fn_form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| app::fuzzing::server_fn_form(data));
