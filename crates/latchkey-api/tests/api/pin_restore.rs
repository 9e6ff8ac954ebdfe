//! RESTORE_PIN: the recovery guide and its separate answers lock.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn recovery_guide_restores_the_same_user_key() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    let before = user_key_via_pin(&app, &u, PIN).await;
    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    let ex = app.executor(&u);
    let described = ex.describe(&id).await.unwrap();
    assert_eq!(
        described["securityQuestions"][0]["question"],
        "What was the name of your first pet?"
    );
    assert_eq!(described["securityQuestions"][0]["hint"], "dog");
    assert!(
        described.to_string().find("Rex").is_none(),
        "answers are never sent back"
    );
    assert_eq!(
        described["challenge"]["status"], "IN_PROGRESS",
        "the first read moves PENDING on"
    );

    let wrong = ex
        .execute(
            &id,
            &json!({ "securityAnswers": ["Max", "Lyon"], "newPin": NEW_PIN }),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&wrong), 155115);
    assert_eq!(api_body(&wrong)["attemptsLeft"], 2);
    ex.execute(
        &id,
        &json!({ "securityAnswers": ["  rex ", "LYON"], "newPin": NEW_PIN }),
    )
    .await
    .unwrap();
    assert_eq!(app.challenge_status(&u, &id).await["status"], "COMPLETE");
    let after = user_key_via_pin(&app, &u, NEW_PIN).await;
    assert_eq!(
        before, after,
        "RESTORE_PIN keeps the user key (and so every wallet)"
    );
    assert_eq!(
        api_code(&app.change_pin(&u, PIN, "135792").await.unwrap_err()),
        155112
    );
}

/// Opens the PIN wrap as the server would (white-box: the test holds the master key).
async fn user_key_via_pin(
    app: &TestApp,
    u: &TestUser,
    pin: &str,
) -> latchkey_core::crypto::SecretKey {
    use latchkey_core::crypto::{WrapContext, WrapPurpose};
    let user = app.user_row(u).await;
    let ctx = WrapContext {
        entity_id: &app.entity_id,
        user_internal_id: &user.internal_id,
    };
    ctx.unwrap(
        &app.master,
        WrapPurpose::Pin,
        pin.as_bytes(),
        user.pin_wrap.as_ref().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn restore_clears_the_pin_lock_and_answers_lock_separately() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    app.lock_pin(&u, WRONG_PIN).await;
    app.restore_pin(&u, ["rex", "lyon"], NEW_PIN).await.unwrap();
    let s = app.user_status(&u).await;
    assert_eq!(
        (
            s["pinStatus"].as_str(),
            s["pinDetails"]["failedAttempts"].as_i64()
        ),
        (Some("ENABLED"), Some(0))
    );

    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    let ex = app.executor(&u);
    let wrong = json!({ "securityAnswers": ["x", "y"], "newPin": "135792" });
    for _ in 0..2 {
        let e = ex.execute(&id, &wrong).await.unwrap_err();
        assert_eq!(api_code(&e), 155115);
    }
    let e = ex.execute(&id, &wrong).await.unwrap_err();
    assert_eq!(api_code(&e), 155120);
    assert!(api_body(&e)["lockedExpiryDate"].is_string());
    let s = app.user_status(&u).await;
    assert_eq!(
        (
            s["securityQuestionStatus"].as_str(),
            s["pinStatus"].as_str()
        ),
        (Some("LOCKED"), Some("ENABLED"))
    );
    let c = app.challenge_status(&u, &id).await;
    assert_eq!(c["errorCode"], 155120);
}
