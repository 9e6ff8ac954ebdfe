//! Custody: what the stored wraps open and what nothing (not even the operator) can open, and
//! weak wraps made again under the current Argon2id policy.

use crate::support::wallets::*;
use crate::support::*;
use latchkey_core::crypto::KdfParams;
use serde_json::json;

#[tokio::test]
async fn custody_nothing_opens_without_the_pin_or_with_another_master_key() {
    use latchkey_core::crypto::{MasterKey, WrapContext, WrapPurpose};
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    let user = app.user_row(&u).await;
    let ctx = WrapContext {
        entity_id: &app.entity_id,
        user_internal_id: &user.internal_id,
    };
    let pin_wrap = user.pin_wrap.clone().unwrap();
    let rec_wrap = user.answers_wrap.clone().unwrap();
    // The database alone (even with the right PIN) opens nothing: the pepper is missing.
    assert!(ctx
        .unwrap(
            &MasterKey::generate(),
            WrapPurpose::Pin,
            PIN.as_bytes(),
            &pin_wrap
        )
        .is_err());
    // The database and the master key without the PIN: every wrong guess fails.
    for guess in ["000001", "135790", "999998"] {
        assert!(ctx
            .unwrap(&app.master, WrapPurpose::Pin, guess.as_bytes(), &pin_wrap)
            .is_err());
    }
    // Answers do not open the PIN wrap, nor the PIN the answers wrap.
    let answers = latchkey_core::rules::encode_answers(&["rex", "lyon"]);
    assert!(ctx
        .unwrap(&app.master, WrapPurpose::Pin, &answers, &pin_wrap)
        .is_err());
    assert!(ctx
        .unwrap(&app.master, WrapPurpose::Answers, PIN.as_bytes(), &rec_wrap)
        .is_err());
    let a = ctx
        .unwrap(&app.master, WrapPurpose::Answers, &answers, &rec_wrap)
        .unwrap();
    let b = ctx
        .unwrap(&app.master, WrapPurpose::Pin, PIN.as_bytes(), &pin_wrap)
        .unwrap();
    assert_eq!(a, b);
    // A wrap moved to another user does not open.
    let other = WrapContext {
        entity_id: &app.entity_id,
        user_internal_id: "someone-else",
    };
    assert!(other
        .unwrap(&app.master, WrapPurpose::Pin, PIN.as_bytes(), &pin_wrap)
        .is_err());
}

#[tokio::test]
async fn lost_pin_and_answers_cannot_be_recovered_even_by_the_operator() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    // Lock both by wrong guesses, then the operator lifts both locks: that resets counters
    // only. Without the PIN or the answers every path still fails.
    app.lock_pin(&u, "111113").await;
    app.lift_pin_lock(&u).await;
    let err = app.change_pin(&u, "111114", NEW_PIN).await.unwrap_err();
    assert_eq!(api_code(&err), 155112);
    let err = app.restore_pin(&u, ["a", "b"], NEW_PIN).await.unwrap_err();
    assert_eq!(api_code(&err), 155115);
    // And the user row holds nothing but wraps: no plaintext key column exists.
    let user = app.user_row(&u).await;
    assert!(user.pin_wrap.unwrap().sealed.len() == 12 + 32 + 16);
}

#[tokio::test]
async fn weak_wraps_are_made_again_under_the_current_policy() {
    // Wraps made under --dev (fast Argon2id) ...
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let (w, address) = (&wallets[0]["id"], wallets[0]["address"].as_str().unwrap());
    let before = app.user_row(&u).await;
    assert_eq!(before.pin_wrap.as_ref().unwrap().params, KdfParams::DEV);
    // ... then the same database and master key served with a stronger policy.
    let strong = KdfParams {
        m_kib: 1024,
        t: 2,
        p: 1,
    };
    let settings = latchkey_core::Settings {
        kdf: strong,
        ..test_settings()
    };
    let prod = spawn_app_on(&app.database_url, None, app.master.clone(), settings).await;
    let count =
        |actions: Vec<String>, action: &str| actions.iter().filter(|a| *a == action).count();

    assert_eq!(
        evm_message_signer(&prod, &u, w, "after the upgrade", PIN).await,
        address
    );
    let after = prod.user_row(&u).await;
    let pin_wrap = after.pin_wrap.unwrap();
    assert_eq!(
        (pin_wrap.params, after.pin_version),
        (strong, before.pin_version)
    );
    assert_ne!(pin_wrap.salt, before.pin_wrap.unwrap().salt);
    assert_eq!(
        after.answers_wrap.unwrap().params,
        KdfParams::DEV,
        "only the wrap that was opened"
    );
    assert_eq!(count(prod.audit_actions(&u).await, "pin.rewrapped"), 1);
    // The new wrap opens with the same PIN to the same key, and is not made again.
    assert_eq!(
        evm_message_signer(&prod, &u, w, "again", PIN).await,
        address
    );
    assert_eq!(count(prod.audit_actions(&u).await, "pin.rewrapped"), 1);

    // The answers' wrap, when the answers open the key.
    prod.restore_pin(&u, ["rex", "lyon"], NEW_PIN)
        .await
        .unwrap();
    let restored = prod.user_row(&u).await;
    assert_eq!(restored.answers_wrap.unwrap().params, strong);
    assert_eq!(count(prod.audit_actions(&u).await, "answers.rewrapped"), 1);
    assert_eq!(
        evm_message_signer(&prod, &u, w, "after restore", NEW_PIN).await,
        address
    );

    // A challenge that fails after the PIN opened a weak wrap completes nothing: the rewrap
    // is written on its own.
    let v = app.user().await;
    let wallets = init_with_wallets(&app, &v, json!(["ETH-SEPOLIA"])).await;
    let id = prod
        .start_challenge(
            &v,
            "/v1/w3s/user/sign/message",
            json!({ "walletId": wallets[0]["id"], "message": "0xdeadbeef", "encodedByHex": true }),
        )
        .await;
    let changed = prod
        .sql(
            "UPDATE challenges SET payload = REPLACE(payload, 'deadbeef', 'zz') WHERE id = $1",
            &[&id],
        )
        .await;
    assert_eq!(changed, 1);
    let e = prod
        .executor(&v)
        .execute(&id, &json!({ "pin": PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 156023);
    assert_eq!(prod.challenge_status(&v, &id).await["status"], "FAILED");
    assert_eq!(prod.user_row(&v).await.pin_wrap.unwrap().params, strong);
    assert_eq!(count(prod.audit_actions(&v).await, "pin.rewrapped"), 1);
}
