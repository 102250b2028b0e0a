//! Arbitrary bytes as a checkout token: the verifier must answer, never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sandbox::fuzzing::verify_token(data));
