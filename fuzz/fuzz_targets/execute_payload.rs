//! The execute call's `encrypted` field, as `execute_challenge` handles it: standard base64 ->
//! AES-256-GCM open under the session's encryption key with the challenge id as associated
//! data -> the JSON `ExecuteBody`, then every challenge type's `input` step (the PIN, question
//! and answer checks the engine runs on it).
//!
//! Every input is used twice: as the `encrypted` text a client sends (decoding and opening
//! must fail cleanly, never panic), and as a plaintext sealed with the same key, which must
//! come back byte for byte through `b64` / `b64_decode` / `open`, fail to open under another
//! associated data or with any byte flipped, and then parse (or be rejected) without panic.
#![no_main]

use latchkey_core::crypto::{self, MasterKey};
use latchkey_core::challenge::{
    ChallengeSpec, ChangePin, CreateWallet, ExecuteBody, Initialize, RestorePin, SetPin,
    SignMessage, SignTransaction, SignTypedData,
};
use libfuzzer_sys::fuzz_target;

/// The challenge id the seeds were sealed for (the associated data).
const CHALLENGE_ID: &str = "8f3c2a3e-6b1d-4b8e-9a57-2f0e1c9d4b11";
/// The session token id the key is derived from.
const TOKEN_ID: &str = "fuzz-token";

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_bytes([7; 32]).token_encryption_key(TOKEN_ID);

    // 1. The input as the `encrypted` field of a request.
    let text = String::from_utf8_lossy(data);
    if let Some(sealed) = crypto::b64_decode(&text) {
        if let Ok(plain) = crypto::open(&key, CHALLENGE_ID.as_bytes(), &sealed) {
            parse_like_the_engine(&plain);
        }
    }

    // 2. The input as the plaintext a client seals.
    let sealed = crypto::seal(&key, CHALLENGE_ID.as_bytes(), data);
    let encoded = crypto::b64(&sealed);
    let decoded = crypto::b64_decode(&encoded).expect("b64 output must decode");
    assert_eq!(decoded, sealed, "b64 round trip");
    let plain = crypto::open(&key, CHALLENGE_ID.as_bytes(), &decoded).expect("must open");
    assert_eq!(&plain[..], data, "seal/open round trip");
    assert!(
        crypto::open(&key, b"another-challenge", &decoded).is_err(),
        "opened under the wrong associated data"
    );
    let mut tampered = decoded.clone();
    let at = data.first().map_or(0, |&b| usize::from(b)) % tampered.len();
    tampered[at] ^= 0x01;
    assert!(
        crypto::open(&key, CHALLENGE_ID.as_bytes(), &tampered).is_err(),
        "opened a tampered value"
    );
    parse_like_the_engine(&plain);
});

/// `serde_json::from_slice::<ExecuteBody>` as the engine does, then each challenge type's
/// `input` step on what was parsed: every outcome must be a value or an `ApiError`.
fn parse_like_the_engine(plain: &[u8]) {
    let body: ExecuteBody = match serde_json::from_slice(plain) {
        Ok(body) => body,
        Err(e) => {
            // The engine reports only the category; both must be computable.
            let _ = e.classify();
            return;
        }
    };
    // Debug must never print a secret.
    let secrets = [&body.pin, &body.new_pin]
        .into_iter()
        .flatten()
        .chain(body.security_questions.iter().flatten().map(|q| &q.answer))
        .chain(body.security_answers.iter().flatten());
    for secret in secrets {
        assert_eq!(format!("{secret:?}"), "***", "a secret in Debug output");
    }
    input_step::<SetPin>(plain);
    input_step::<ChangePin>(plain);
    input_step::<RestorePin>(plain);
    input_step::<Initialize>(plain);
    input_step::<CreateWallet>(plain);
    input_step::<SignMessage>(plain);
    input_step::<SignTransaction>(plain);
    input_step::<SignTypedData>(plain);
}

/// Spec `S`'s `input` on a fresh parse of `plain` (the body is consumed by the step).
fn input_step<S: ChallengeSpec>(plain: &[u8]) {
    if let Ok(body) = serde_json::from_slice::<ExecuteBody>(plain) {
        let _ = S::input(body);
    }
}
