//! Solana transaction parsing and signing: `sign_solana_transaction` with a fixed key.
//!
//! The first byte chooses the form: the rest as raw wire bytes (sent base64, so that the
//! fuzzer mutates the wire format itself) or as the base64 text a caller sends. A signed
//! result must carry a valid Ed25519 signature of the message in the wallet's slot, its
//! `tx_hash` must be the first signature, and signing the signed transaction again must give
//! it back unchanged.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, SigningKey, Verifier as _};
use latchkey_chains::{codes, sign_solana_transaction};
use libfuzzer_sys::fuzz_target;

/// The key the seed corpus names as a signer (public key 8a88e3dd…6f5c).
const SEED: [u8; 32] = [1; 32];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let text = if selector % 2 == 0 {
        STANDARD.encode(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let signed = match sign_solana_transaction(&SEED, &text) {
        Ok(signed) => signed,
        Err(e) => {
            assert!(
                [
                    codes::DESERIALIZATION_FAILED,
                    codes::INVALID_TRANSACTION,
                    codes::NOT_A_SIGNER
                ]
                .contains(&e.code),
                "undocumented code {e}"
            );
            return;
        }
    };

    let raw = STANDARD
        .decode(&signed.signed_transaction)
        .expect("base64 output");
    let (count, prefix) = compact_u16(&raw).expect("signature count");
    let message = &raw[prefix + 64 * count..];
    let slots: Vec<&[u8]> = raw[prefix..prefix + 64 * count].chunks(64).collect();
    assert!(count >= 1);
    assert_eq!(signed.tx_hash, bs58::encode(slots[0]).into_string());

    let signature: [u8; 64] = bs58::decode(&signed.signature)
        .into_vec()
        .expect("base58 signature")
        .try_into()
        .expect("64 bytes");
    assert!(slots.contains(&&signature[..]), "signature not in a slot");
    SigningKey::from_bytes(&SEED)
        .verifying_key()
        .verify(message, &Signature::from_bytes(&signature))
        .expect("the signature verifies over the message");

    let again = sign_solana_transaction(&SEED, &signed.signed_transaction).expect("re-sign");
    assert_eq!(again, signed, "re-signing changed the transaction");
});

/// Solana's compact-u16 (shortvec): the value and how many bytes it took.
fn compact_u16(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().take(3).enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}
