use super::*;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Verifier as _};

fn key(n: u8) -> ([u8; 32], [u8; 32]) {
    let seed = [n; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    (seed, public)
}

/// A message with `signers` as required signers, one program and one instruction;
/// `v0` adds the version prefix and one address-table lookup.
fn message(signers: &[[u8; 32]], v0: bool) -> Vec<u8> {
    let mut m = Vec::new();
    if v0 {
        m.push(0x80);
    }
    m.extend([signers.len() as u8, 0, 1]);
    put_compact_u16(&mut m, signers.len() + 1);
    for s in signers {
        m.extend(s);
    }
    m.extend([9u8; 32]); // program id
    m.extend([7u8; 32]); // recent blockhash
    m.push(1); // one instruction
    m.push(signers.len() as u8); // program id index
    m.extend([1, 0]); // accounts: [0]
    m.extend([3, 1, 2, 3]); // data
    if v0 {
        m.push(1);
        m.extend([5u8; 32]);
        m.extend([1, 0]);
        m.extend([0]);
    }
    m
}

fn transaction(slots: usize, message: &[u8]) -> String {
    let mut t = Vec::new();
    put_compact_u16(&mut t, slots);
    for _ in 0..slots {
        t.extend([0u8; 64]);
    }
    t.extend(message);
    STANDARD.encode(t)
}

fn check(signed: &SignedTx, message: &[u8], slot: usize, slots: usize, public: &[u8; 32]) {
    let raw = STANDARD.decode(&signed.signed_transaction).unwrap();
    let (sigs, msg, info) = parse_transaction(&raw).unwrap();
    assert_eq!(msg, message);
    assert_eq!(sigs.len(), slots);
    assert_eq!(info.num_required_signatures, slots);
    let sig = Signature::from_bytes(&sigs[slot]);
    ed25519_dalek::VerifyingKey::from_bytes(public)
        .unwrap()
        .verify(message, &sig)
        .unwrap();
    assert_eq!(signed.signature, bs58::encode(sigs[slot]).into_string());
    assert_eq!(signed.tx_hash, bs58::encode(sigs[0]).into_string());
}

#[test]
fn signs_legacy_and_v0_messages() {
    let (seed, public) = key(1);
    for v0 in [false, true] {
        let m = message(&[public], v0);
        let signed = sign_solana_transaction(&seed, &transaction(1, &m)).unwrap();
        check(&signed, &m, 0, 1, &public);
        // Re-signing is deterministic and idempotent.
        let again = sign_solana_transaction(&seed, &signed.signed_transaction).unwrap();
        assert_eq!(again, signed);
    }
}

#[test]
fn signs_in_its_own_slot_of_a_multi_signer_transaction() {
    let (_, payer) = key(2);
    let (seed, public) = key(3);
    let m = message(&[payer, public], false);
    let signed = sign_solana_transaction(&seed, &transaction(2, &m)).unwrap();
    check(&signed, &m, 1, 2, &public);
    let raw = STANDARD.decode(&signed.signed_transaction).unwrap();
    assert_eq!(raw[1..65], [0u8; 64]); // the payer's slot is untouched
}

#[test]
fn accepts_zero_slots_and_bare_messages() {
    let (seed, public) = key(4);
    let m = message(&[public], true);
    let zero = sign_solana_transaction(&seed, &transaction(0, &m)).unwrap();
    check(&zero, &m, 0, 1, &public);
    let bare = sign_solana_transaction(&seed, &STANDARD.encode(&m)).unwrap();
    assert_eq!(bare, zero);
}

#[test]
fn errors() {
    let (seed, public) = key(5);
    let (_, other) = key(6);
    let m = message(&[other], false);
    assert_eq!(
        sign_solana_transaction(&seed, &transaction(1, &m))
            .unwrap_err()
            .code,
        codes::NOT_A_SIGNER
    );
    // Our key present but not among the required signers.
    let mut m2 = message(&[other], false);
    let pos = 4 + 32;
    m2[pos..pos + 32].copy_from_slice(&public);
    assert_eq!(
        sign_solana_transaction(&seed, &transaction(1, &m2))
            .unwrap_err()
            .code,
        codes::NOT_A_SIGNER
    );
    assert_eq!(
        sign_solana_transaction(&seed, "not base64!")
            .unwrap_err()
            .code,
        codes::DESERIALIZATION_FAILED
    );
    assert_eq!(
        sign_solana_transaction(&seed, &STANDARD.encode([1, 2, 3]))
            .unwrap_err()
            .code,
        codes::DESERIALIZATION_FAILED
    );
    let m = message(&[public], false);
    let mut truncated = STANDARD.decode(transaction(1, &m)).unwrap();
    truncated.pop();
    assert_eq!(
        sign_solana_transaction(&seed, &STANDARD.encode(&truncated))
            .unwrap_err()
            .code,
        codes::DESERIALIZATION_FAILED
    );
    assert_eq!(
        sign_solana_transaction(&seed, &transaction(2, &m))
            .unwrap_err()
            .code,
        codes::INVALID_TRANSACTION
    );
}

#[test]
fn compact_u16_round_trip_and_canonical_form() {
    for n in [0usize, 1, 127, 128, 255, 16_383, 16_384, 65_535] {
        let mut buf = Vec::new();
        put_compact_u16(&mut buf, n);
        let mut r = Reader { buf: &buf, pos: 0 };
        assert_eq!(r.compact_u16().unwrap(), n);
        assert_eq!(r.pos, buf.len());
    }
    for bad in [
        &[0x80u8, 0x00][..],
        &[0xff, 0xff, 0x04],
        &[0x80, 0x80, 0x80],
        &[0x80],
    ] {
        let mut r = Reader { buf: bad, pos: 0 };
        assert!(r.compact_u16().is_err(), "{bad:?}");
    }
}

#[test]
fn the_key_free_check_refuses_exactly_what_signing_refuses() {
    let (seed, public) = key(7);
    let (_, other) = key(8);
    let address = bs58::encode(public).into_string();
    let mine = message(&[public], true);
    let mut truncated = STANDARD.decode(transaction(1, &mine)).unwrap();
    truncated.pop();
    let inputs = [
        transaction(1, &mine),
        transaction(0, &mine),
        STANDARD.encode(&mine),
        transaction(2, &mine),
        transaction(1, &message(&[other], false)),
        transaction(2, &message(&[other, public], false)),
        STANDARD.encode(&truncated),
        "AAAA".to_string(),
        "not base64!".to_string(),
        String::new(),
    ];
    for input in &inputs {
        let checked = check_solana_transaction(input, &address);
        let signed = sign_solana_transaction(&seed, input);
        assert_eq!(checked.err(), signed.err(), "{input}");
    }
    assert_eq!(
        check_solana_transaction("AAAA", &address).unwrap_err().code,
        codes::DESERIALIZATION_FAILED
    );
    assert_eq!(
        check_solana_transaction(&transaction(1, &mine), "0xnot-base58")
            .unwrap_err()
            .code,
        codes::INTERNAL
    );
}
