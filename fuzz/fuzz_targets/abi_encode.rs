//! Contract-call data: `encode_call` on a fuzzed signature and JSON parameter list (split at
//! the first newline: `signature\nJSON array`; no newline means no parameters).
//!
//! It must never panic; every refusal is code 155209; what encodes is a 4-byte selector plus
//! a whole number of 32-byte words, encodes the same way twice, and stops encoding when a
//! parameter is dropped (the count is checked).
#![no_main]

use latchkey_chains::{codes, encode_call};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (signature, params) = text.split_once('\n').unwrap_or((text, "[]"));
    let Ok(serde_json::Value::Array(params)) = serde_json::from_str(params) else {
        return;
    };
    match encode_call(signature, &params) {
        Ok(calldata) => {
            assert!(calldata.len() >= 4 && (calldata.len() - 4) % 32 == 0);
            assert_eq!(encode_call(signature, &params).ok(), Some(calldata));
            if let Some((_, fewer)) = params.split_last() {
                let e = encode_call(signature, fewer).expect_err("one parameter short");
                assert_eq!(e.code, codes::ABI_PACK_FAILED);
            }
        }
        Err(e) => assert_eq!(e.code, codes::ABI_PACK_FAILED, "{e}"),
    }
});
