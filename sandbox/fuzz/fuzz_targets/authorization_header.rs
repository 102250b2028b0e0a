//! Arbitrary bytes as an `Authorization` header, read as Bearer and as Basic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sandbox::fuzzing::parse_authorization(data));
