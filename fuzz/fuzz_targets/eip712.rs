//! EIP-712 typed data: `typed_data_hash`, `describe_typed_data` and `sign_typed_data`.
//!
//! Hashing and describing must agree (both succeed or both fail, with a documented code);
//! the hash depends on the JSON value only (re-serialising it changes nothing); a signature
//! over valid typed data recovers to the signing key's address.
#![no_main]

use latchkey_chains::{
    address, codes, describe_typed_data, recover_evm_address, sign_typed_data, typed_data_hash,
    Family,
};
use libfuzzer_sys::fuzz_target;

/// The EIP-155 example key of the unit tests.
const KEY: [u8; 32] = [0x46; 32];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let hash = typed_data_hash(json);
    let described = describe_typed_data(json);
    let hash = match (hash, described) {
        (Ok(hash), Ok(described)) => {
            assert!(described["primaryType"].is_string());
            assert!(described["domain"].is_object());
            hash
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "hash and describe disagree on the error");
            assert!(
                [codes::TYPED_DATA_NOT_JSON, codes::INVALID_TYPED_DATA].contains(&a.code),
                "undocumented code {a}"
            );
            return;
        }
        (a, b) => panic!("hash {a:?} but describe {b:?}"),
    };

    // Same JSON value, other text: same hash.
    let value: serde_json::Value = serde_json::from_str(json).expect("hashed, so JSON");
    let again = typed_data_hash(&value.to_string()).expect("re-serialised typed data");
    assert_eq!(again, hash, "hash depends on formatting");

    let signature = sign_typed_data(&KEY, json).expect("valid typed data signs");
    let me = address(Family::Evm, &KEY).expect("the test key is valid");
    assert_eq!(recover_evm_address(&hash, &signature).expect("recover"), me);
});
