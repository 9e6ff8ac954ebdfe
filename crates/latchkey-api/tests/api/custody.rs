//! Custody: what the stored wraps open and what nothing (not even the operator) can open.

use crate::support::*;

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
    let rec_wrap = user.recovery_wrap.clone().unwrap();
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
    // Answers do not open the PIN wrap, nor the PIN the recovery wrap.
    let answers = latchkey_core::rules::encode_answers(&["rex", "lyon"]);
    assert!(ctx
        .unwrap(&app.master, WrapPurpose::Pin, &answers, &pin_wrap)
        .is_err());
    assert!(ctx
        .unwrap(
            &app.master,
            WrapPurpose::Recovery,
            PIN.as_bytes(),
            &rec_wrap
        )
        .is_err());
    let a = ctx
        .unwrap(&app.master, WrapPurpose::Recovery, &answers, &rec_wrap)
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
