//! Wrong guesses: three per lock, exactly three even under concurrency or on two instances, the
//! cooldown and the operator's unlock.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn wrong_pins_lock_fail_the_challenge_and_unlock_after_the_cooldown() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    let ex = app.executor(&u);
    for left in [2, 1] {
        let e = ex
            .execute(&id, &json!({ "pin": WRONG_PIN, "newPin": NEW_PIN }))
            .await
            .unwrap_err();
        assert_eq!(
            (api_code(&e), api_body(&e)["attemptsLeft"].as_i64()),
            (155112, Some(left))
        );
        assert_eq!(app.challenge_status(&u, &id).await["status"], "IN_PROGRESS");
    }
    let e = ex
        .execute(&id, &json!({ "pin": WRONG_PIN, "newPin": NEW_PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155119);
    let expiry = api_body(&e)["lockedExpiryDate"]
        .as_str()
        .unwrap()
        .to_string();
    let c = app.challenge_status(&u, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["errorCode"].as_i64()),
        (Some("FAILED"), Some(155119))
    );
    assert!(c["errorMessage"].is_string());
    let s = app.user_status(&u).await;
    assert_eq!(s["pinStatus"], "LOCKED");
    assert_eq!(s["pinDetails"]["failedAttempts"], 3);
    assert_eq!(s["pinDetails"]["lockedExpiryDate"], expiry.as_str());
    assert!(s["pinDetails"]["lockedDate"].is_string());

    // While locked, even the right PIN is refused, and the challenge fails.
    let e = app.change_pin(&u, PIN, NEW_PIN).await.unwrap_err();
    assert_eq!(api_code(&e), 155119);

    // The answers are a separate lock: still usable.
    let s = app.user_status(&u).await;
    assert_eq!(s["securityQuestionStatus"], "ENABLED");

    app.clock.advance_ms(30 * 60 * 1000 + 1000);
    let s = app.user_status(&u).await;
    assert_eq!(s["pinStatus"], "ENABLED");
    assert_eq!(s["pinDetails"]["failedAttempts"], 0);
    // A fresh run of attempts starts after the lock ran out.
    let e = app.change_pin(&u, WRONG_PIN, NEW_PIN).await.unwrap_err();
    assert_eq!(api_body(&e)["attemptsLeft"], 2);
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
}

#[tokio::test]
async fn fifty_concurrent_wrong_pins_evaluate_exactly_three() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    let ex = std::sync::Arc::new(app.executor(&u));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (ex, id) = (ex.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            ex.execute(
                &id,
                &json!({ "pin": format!("{:06}", 200_000 + i * 7), "newPin": NEW_PIN }),
            )
            .await
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(api_code(&t.await.unwrap().unwrap_err()));
    }
    let evaluated = app.failed_pin_attempts(&u).await;
    assert_eq!(evaluated, 3, "codes: {codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == 155112).count(),
        2,
        "{codes:?}"
    );
    assert!(
        codes.iter().all(|c| [155112, 155119, 155122].contains(c)),
        "{codes:?}"
    );
    let s = app.user_status(&u).await;
    assert_eq!(
        (
            s["pinStatus"].as_str(),
            s["pinDetails"]["failedAttempts"].as_i64()
        ),
        (Some("LOCKED"), Some(3))
    );
}

#[tokio::test]
async fn two_instances_on_one_database_still_evaluate_exactly_three() {
    // On PostgreSQL this is two server instances sharing one database; on SQLite, two
    // instances sharing one file (each with its own pools), as two processes would.
    let first = spawn_app().await;
    let second = first.second_instance().await;
    second.clock.advance_ms(0);
    let u = first.initialized_user(PIN).await;
    let id = first.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    let executors = [
        std::sync::Arc::new(first.executor(&u)),
        std::sync::Arc::new(second.executor(&u)),
    ];
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (ex, id) = (executors[i % 2].clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            ex.execute(
                &id,
                &json!({ "pin": format!("{:06}", 300_000 + i * 11), "newPin": NEW_PIN }),
            )
            .await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    let evaluated = first.failed_pin_attempts(&u).await;
    assert_eq!(evaluated, 3);
}

#[tokio::test]
async fn operator_unlock_records_the_override() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    app.lock_pin(&u, WRONG_PIN).await;
    app.lift_pin_lock(&u).await;
    let s = app.user_status(&u).await;
    assert_eq!(s["pinStatus"], "ENABLED");
    assert_eq!(s["pinDetails"]["failedAttempts"], 0);
    assert!(s["pinDetails"]["lastLockOverrideDate"].is_string());
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
    let actions = app.audit_actions(&u).await;
    for expected in [
        "token.issued",
        "pin.set",
        "pin.attempt.failed",
        "pin.locked",
        "pin.unlocked",
        "pin.attempt.passed",
        "pin.changed",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
}
