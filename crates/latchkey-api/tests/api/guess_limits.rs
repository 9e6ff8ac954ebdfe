//! Wrong guesses: three per lock, exactly three even under concurrency or on two instances, the
//! cooldown and the operator's unlock. A right guess costs nothing: it gives back its own
//! count (and nobody else's), even when what follows it fails.

use crate::support::wallets::*;
use crate::support::*;
use latchkey_core::crypto::KdfParams;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

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

#[tokio::test]
async fn a_failure_after_the_right_pin_fails_the_challenge_and_costs_no_attempt() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["SOL-DEVNET"])).await;
    let sol = &wallets[0];
    let raw = solana_transaction(&[sol["address"].as_str().unwrap()]);
    // One wrong PIN first: the count that the right PIN must leave as it found it.
    let id = app
        .start_challenge(
            &u,
            "/v1/w3s/user/sign/message",
            json!({ "walletId": sol["id"], "message": "m" }),
        )
        .await;
    let e = app
        .executor(&u)
        .execute(&id, &json!({ "pin": WRONG_PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155112);
    // The probe's case, three times: once locked the user out.
    for round in 0..3 {
        let id = app
            .start_challenge(
                &u,
                "/v1/w3s/user/sign/transaction",
                json!({ "walletId": sol["id"], "rawTransaction": raw }),
            )
            .await;
        // The stored transaction goes bad after creation: signing fails after the unlock.
        let changed = app
            .sql(
                "UPDATE challenges SET payload = REPLACE(payload, $1, 'AAAA') WHERE id = $2",
                &[&raw, &id],
            )
            .await;
        assert_eq!(changed, 1);
        let e = app
            .executor(&u)
            .execute(&id, &json!({ "pin": PIN }))
            .await
            .unwrap_err();
        assert_eq!(api_code(&e), 155805, "round {round}: {}", api_body(&e));
        let c = app.challenge_status(&u, &id).await;
        assert_eq!(
            (c["status"].as_str(), c["errorCode"].as_i64()),
            (Some("FAILED"), Some(155805)),
            "round {round}"
        );
        let s = app.user_status(&u).await;
        assert_eq!(
            (
                s["pinStatus"].as_str(),
                s["pinDetails"]["failedAttempts"].as_i64()
            ),
            (Some("ENABLED"), Some(1)),
            "round {round}"
        );
    }
    let actions = app.audit_actions(&u).await;
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(
        (count("challenge.failed"), count("pin.attempt.failed")),
        (3, 1),
        "{actions:?}"
    );
    let out = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/transaction",
        json!({ "walletId": sol["id"], "rawTransaction": raw }),
        PIN,
    )
    .await
    .unwrap();
    assert!(out["signature"].is_string());
}

#[tokio::test]
async fn a_right_pin_gives_back_only_its_own_attempt() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
    app.change_pin(&u, WRONG_PIN, NEW_PIN).await.unwrap_err();
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
    let s = app.user_status(&u).await;
    assert_eq!(
        (
            s["pinStatus"].as_str(),
            s["pinDetails"]["failedAttempts"].as_i64()
        ),
        (Some("ENABLED"), Some(1)),
        "the wrong PIN before the right one still counts"
    );
    let e = app.change_pin(&u, WRONG_PIN, PIN).await.unwrap_err();
    assert_eq!(
        (api_code(&e), api_body(&e)["attemptsLeft"].as_i64()),
        (155112, Some(1))
    );
    let e = app.change_pin(&u, WRONG_PIN, PIN).await.unwrap_err();
    assert_eq!(api_code(&e), 155119, "three wrong PINs since the last lock");
    let s = app.user_status(&u).await;
    assert_eq!(
        (
            s["pinStatus"].as_str(),
            s["pinDetails"]["failedAttempts"].as_i64()
        ),
        (Some("LOCKED"), Some(3))
    );
}

/// Creates a SIGN_MESSAGE challenge on `wallet` for each entry of `pins` and executes them
/// all at once; returns each PIN with its outcome.
async fn sign_storm(
    app: &TestApp,
    u: &TestUser,
    wallet: &Value,
    pins: &[&'static str],
) -> Vec<(&'static str, Result<Value, latchkey_client::ClientError>)> {
    let mut ids = Vec::new();
    for (i, _) in pins.iter().enumerate() {
        let body = json!({ "walletId": wallet, "message": format!("storm {i}") });
        ids.push(
            app.start_challenge(u, "/v1/w3s/user/sign/message", body)
                .await,
        );
    }
    let ex = Arc::new(app.executor(u));
    let tasks: Vec<_> = ids
        .into_iter()
        .zip(pins.iter().copied())
        .map(|(id, pin)| {
            let ex = ex.clone();
            tokio::spawn(async move { (pin, ex.execute(&id, &json!({ "pin": pin })).await) })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn storms_mixing_right_and_wrong_pins_evaluate_at_most_three_wrong_per_lock() {
    let app = spawn_app().await;
    let mut u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let mut pins = Vec::new();
    for i in 0..12 {
        pins.push(if i % 3 == 0 { PIN } else { WRONG_PIN });
    }
    let (mut since_lock, mut wrong_answers, mut locks) = (0, 0, 0);
    for round in 0..6 {
        let before = app.failed_pin_attempts(&u).await;
        for (pin, outcome) in sign_storm(&app, &u, &wallets[0]["id"], &pins).await {
            match outcome {
                Ok(_) => assert_eq!(pin, PIN, "round {round}"),
                Err(e) => match api_code(&e) {
                    155112 => {
                        assert_eq!(pin, WRONG_PIN);
                        wrong_answers += 1;
                    }
                    155119 => {}
                    other => panic!("round {round}: {other} {}", api_body(&e)),
                },
            }
        }
        since_lock += app.failed_pin_attempts(&u).await - before;
        assert!(
            since_lock <= 3,
            "round {round}: {since_lock} wrong PINs evaluated"
        );
        assert!(
            wrong_answers <= 2,
            "round {round}: {wrong_answers} × 155112"
        );
        let s = app.user_status(&u).await;
        if s["pinStatus"] == "LOCKED" {
            (since_lock, wrong_answers, locks) = (0, 0, locks + 1);
            app.clock.advance_ms(30 * 60 * 1000 + 1000);
            u = app.token_for(&u.user_id).await;
        } else {
            assert_eq!(
                s["pinDetails"]["failedAttempts"].as_i64(),
                Some(since_lock as i64),
                "round {round}: a success erased wrong guesses"
            );
        }
    }
    assert!(locks > 0, "the storms never locked the PIN");
}

#[tokio::test]
async fn two_attacker_guesses_during_each_right_entry_end_locked() {
    // Production-like Argon2id cost: the right entry is still being checked when the
    // attacker's two guesses arrive.
    let settings = latchkey_core::Settings {
        kdf: KdfParams {
            m_kib: 16 * 1024,
            t: 2,
            p: 1,
        },
        ..test_settings()
    };
    let app = spawn_app_with(settings).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let w = wallets[0]["id"].clone();
    let ex = Arc::new(app.executor(&u));
    let start = |message: &'static str| {
        let body = json!({ "walletId": w, "message": message });
        app.start_challenge(&u, "/v1/w3s/user/sign/message", body)
    };
    let mut evaluated_wrong = 0i64;
    for cycle in 0..3 {
        if app.user_status(&u).await["pinStatus"] == "LOCKED" {
            break;
        }
        let (right, a, b) = (start("right").await, start("a").await, start("b").await);
        let before = app.user_row(&u).await.pin_guesses.failed_attempts;
        let user = {
            let ex = ex.clone();
            tokio::spawn(async move { ex.execute(&right, &json!({ "pin": PIN })).await })
        };
        // Once the user's guess is counted, and while it is checked, the attacker guesses.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while app.user_row(&u).await.pin_guesses.failed_attempts <= before {
            assert!(std::time::Instant::now() < deadline, "cycle {cycle}");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let attacks: Vec<_> = [a, b]
            .into_iter()
            .map(|id| {
                let ex = ex.clone();
                tokio::spawn(async move { ex.execute(&id, &json!({ "pin": WRONG_PIN })).await })
            })
            .collect();
        for t in attacks {
            let e = t.await.unwrap().unwrap_err();
            // Evaluated and wrong (155112), or refused unevaluated while a guess holds the
            // lock or after it (155119): never anything else.
            match api_code(&e) {
                155112 => evaluated_wrong += 1,
                155119 => {}
                other => panic!("cycle {cycle}: attacker got {other}"),
            }
        }
        user.await.unwrap().unwrap();
    }
    // However the guesses interleaved, no success erased a wrong guess: either the three
    // wrong PINs evaluated locked the user, or every wrong PIN evaluated is still counted.
    // (Before the fix a success reset the count, so 2 per cycle were evaluated, 6 in all,
    // and the user was never locked.)
    let s = app.user_status(&u).await;
    assert!(
        evaluated_wrong <= 3,
        "{evaluated_wrong} wrong PINs evaluated; {s}"
    );
    if s["pinStatus"] != "LOCKED" {
        assert_eq!(
            s["pinDetails"]["failedAttempts"].as_i64(),
            Some(evaluated_wrong),
            "a success erased wrong guesses: {s}"
        );
    }
}
