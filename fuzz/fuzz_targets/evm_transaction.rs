//! EVM transaction parsing: `describe_evm_transaction`, `sign_evm_transaction` (fixed test
//! key) and `recover_evm_transaction_sender`, on raw RLP and on JSON.
//!
//! The first byte chooses the form and the wallet's chain id; the rest is the transaction:
//! raw bytes sent as `0x` hex (so that the fuzzer mutates the RLP itself), JSON text, or raw
//! text as the caller typed it. Whatever signs must describe, must recover to the key's
//! address, must be refused when offered again ("already signed") and must hash to its
//! `tx_hash`; every error carries one of the codes `sign_evm_transaction` documents.
#![no_main]

use latchkey_chains::{
    address, codes, describe_evm_transaction, recover_evm_transaction_sender, sign_evm_transaction,
    EvmTxInput, Family,
};
use libfuzzer_sys::fuzz_target;
use sha3::{Digest, Keccak256};

/// The EIP-155 example key of the unit tests.
const KEY: [u8; 32] = [0x46; 32];

const SIGN_ERRORS: [i64; 5] = [
    codes::DESERIALIZATION_FAILED,
    codes::INVALID_TRANSACTION,
    codes::ALREADY_SIGNED,
    codes::CHAIN_ID_MISMATCH,
    codes::MISSING_CHAIN_ID,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let raw_text = match selector % 3 {
        0 => format!("0x{}", hex::encode(body)),
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    let input = if selector % 3 == 1 {
        EvmTxInput::Json(raw_text.clone())
    } else {
        EvmTxInput::Raw(raw_text.clone())
    };
    let wallet_chain = match (selector / 3) % 4 {
        0 => None,
        1 => Some(1),
        2 => Some(31_337),
        _ => Some(u64::MAX),
    };

    if let Ok(sender) = recover_evm_transaction_sender(&raw_text) {
        assert!(is_checksummed_address(&sender), "bad sender {sender}");
    }

    let described = describe_evm_transaction(&input);
    let signed = sign_evm_transaction(&KEY, &input, wallet_chain);
    let signed = match signed {
        Ok(signed) => signed,
        Err(e) => {
            assert!(SIGN_ERRORS.contains(&e.code), "undocumented code {e}");
            if let Ok(d) = &described {
                // A describable transaction fails to sign only for its chain or its `from`.
                let named = d["chainId"].as_u64();
                let allowed = match e.code {
                    codes::CHAIN_ID_MISMATCH => {
                        named.is_some() && wallet_chain.is_some() && named != wallet_chain
                    }
                    codes::MISSING_CHAIN_ID => named.is_none() && wallet_chain.is_none(),
                    codes::INVALID_TRANSACTION => {
                        e.message.contains("`from`") || e.message.contains("chain id")
                    }
                    _ => false,
                };
                assert!(allowed, "described but not signed: {e}");
            }
            return;
        }
    };
    let d = described.expect("a transaction that signs must describe");
    let chain = d["chainId"]
        .as_u64()
        .or(wallet_chain)
        .expect("signed without a chain id");
    if let Some(w) = wallet_chain {
        assert_eq!(chain, w, "signed for another chain than the wallet's");
    }

    // The signature is r‖s‖v with v = 27/28.
    let sig = signed.signature.strip_prefix("0x").expect("0x signature");
    assert_eq!(sig.len(), 130);
    assert!(sig.ends_with("1b") || sig.ends_with("1c"), "v: {sig}");

    // tx_hash = keccak256(signed transaction).
    let bytes = hex::decode(signed.signed_transaction.trim_start_matches("0x")).expect("hex");
    assert_eq!(
        signed.tx_hash,
        format!("0x{}", hex::encode(Keccak256::digest(&bytes)))
    );

    // The signed transaction recovers to the wallet and is refused as input.
    let me = address(Family::Evm, &KEY).expect("the test key is valid");
    assert_eq!(
        recover_evm_transaction_sender(&signed.signed_transaction).expect("recover"),
        me
    );
    let again = EvmTxInput::Raw(signed.signed_transaction.clone());
    assert_eq!(
        describe_evm_transaction(&again).map_err(|e| e.code),
        Err(codes::ALREADY_SIGNED)
    );
    assert_eq!(
        sign_evm_transaction(&KEY, &again, wallet_chain).map_err(|e| e.code),
        Err(codes::ALREADY_SIGNED)
    );

    // Deterministic (RFC 6979).
    assert_eq!(
        sign_evm_transaction(&KEY, &input, wallet_chain).ok(),
        Some(signed)
    );
});

fn is_checksummed_address(s: &str) -> bool {
    s.len() == 42 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}
