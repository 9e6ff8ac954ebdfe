//! PIN custody and challenges through real HTTP: the reset-PIN and recovery guides, rules,
//! guess limits, lifecycle, idempotency, and user boundaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

const PIN: &str = "159357";
const NEW_PIN: &str = "246813";

#[tokio::test]
async fn reset_pin_guide() {
    let app = spawn_app().await;
    let u = app.user().await;
    let init = app.initialize(&u, PIN).await;
    let c = app.challenge_status(&u, &init).await;
    assert_eq!(
        (c["type"].as_str(), c["status"].as_str()),
        (Some("INITIALIZE"), Some("COMPLETE"))
    );
    assert_eq!(c["correlationIds"], json!([]));
    let status = app.dev.get_user_status(&u.token).await.unwrap();
    assert_eq!(status["data"]["pinStatus"], "ENABLED");
    assert_eq!(status["data"]["securityQuestionStatus"], "ENABLED");

    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    assert_eq!(app.challenge_status(&u, &id).await["status"], "PENDING");
    let out = app
        .executor(&u)
        .execute(&id, &json!({ "pin": PIN, "newPin": NEW_PIN }))
        .await
        .unwrap();
    assert_eq!(
        out,
        json!({ "data": { "type": "CHANGE_PIN", "status": "COMPLETE", "data": {} } })
    );
    let c = app.challenge_status(&u, &id).await;
    assert_eq!(
        (c["type"].as_str(), c["status"].as_str()),
        (Some("CHANGE_PIN"), Some("COMPLETE"))
    );

    // The old PIN no longer opens anything; the new one does.
    let err = app.change_pin(&u, PIN, "135792").await.unwrap_err();
    assert_eq!(api_code(&err), 155112);
    app.change_pin(&u, NEW_PIN, "135792").await.unwrap();
}

#[tokio::test]
async fn recovery_guide_restores_the_same_user_key() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
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
    let user = app
        .lk
        .store()
        .user(&app.entity_id, &u.user_id)
        .await
        .unwrap()
        .unwrap();
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
async fn custody_nothing_opens_without_the_pin_or_with_another_master_key() {
    use latchkey_core::crypto::{MasterKey, WrapContext, WrapPurpose};
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    let user = app
        .lk
        .store()
        .user(&app.entity_id, &u.user_id)
        .await
        .unwrap()
        .unwrap();
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
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    // Lock both by wrong guesses, then the operator lifts both locks: that resets counters
    // only. Without the PIN or the answers every path still fails.
    for _ in 0..3 {
        let _ = app.change_pin(&u, "111113", NEW_PIN).await;
    }
    app.lk
        .lift_lock(
            &app.entity_id,
            &u.user_id,
            latchkey_core::model::SecretKind::Pin,
        )
        .await
        .unwrap();
    let err = app.change_pin(&u, "111114", NEW_PIN).await.unwrap_err();
    assert_eq!(api_code(&err), 155112);
    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    let err = app
        .executor(&u)
        .execute(
            &id,
            &json!({ "securityAnswers": ["a", "b"], "newPin": NEW_PIN }),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 155115);
    // And the user row holds nothing but wraps: no plaintext key column exists.
    let user = app
        .lk
        .store()
        .user(&app.entity_id, &u.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(user.pin_wrap.unwrap().sealed.len() == 12 + 32 + 16);
}

#[tokio::test]
async fn wrong_pins_lock_fail_the_challenge_and_unlock_after_the_cooldown() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    let ex = app.executor(&u);
    for left in [2, 1] {
        let e = ex
            .execute(&id, &json!({ "pin": "111112", "newPin": NEW_PIN }))
            .await
            .unwrap_err();
        assert_eq!(
            (api_code(&e), api_body(&e)["attemptsLeft"].as_i64()),
            (155112, Some(left))
        );
        assert_eq!(app.challenge_status(&u, &id).await["status"], "IN_PROGRESS");
    }
    let e = ex
        .execute(&id, &json!({ "pin": "111112", "newPin": NEW_PIN }))
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
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
    assert_eq!(s["pinStatus"], "LOCKED");
    assert_eq!(s["pinDetails"]["failedAttempts"], 3);
    assert_eq!(s["pinDetails"]["lockedExpiryDate"], expiry.as_str());
    assert!(s["pinDetails"]["lockedDate"].is_string());

    // While locked, even the right PIN is refused, and the challenge fails.
    let e = app.change_pin(&u, PIN, NEW_PIN).await.unwrap_err();
    assert_eq!(api_code(&e), 155119);

    // The answers are a separate lock: still usable.
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
    assert_eq!(s["securityQuestionStatus"], "ENABLED");

    app.clock.advance_ms(30 * 60 * 1000 + 1000);
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
    assert_eq!(s["pinStatus"], "ENABLED");
    assert_eq!(s["pinDetails"]["failedAttempts"], 0);
    // A fresh run of attempts starts after the lock ran out.
    let e = app.change_pin(&u, "111112", NEW_PIN).await.unwrap_err();
    assert_eq!(api_body(&e)["attemptsLeft"], 2);
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
}

#[tokio::test]
async fn restore_clears_the_pin_lock_and_answers_lock_separately() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    for _ in 0..3 {
        let _ = app.change_pin(&u, "111112", NEW_PIN).await;
    }
    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    app.executor(&u)
        .execute(
            &id,
            &json!({ "securityAnswers": ["rex", "lyon"], "newPin": NEW_PIN }),
        )
        .await
        .unwrap();
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
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
    for _ in 0..2 {
        let e = ex
            .execute(
                &id,
                &json!({ "securityAnswers": ["x", "y"], "newPin": "135792" }),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&e), 155115);
    }
    let e = ex
        .execute(
            &id,
            &json!({ "securityAnswers": ["x", "y"], "newPin": "135792" }),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155120);
    assert!(api_body(&e)["lockedExpiryDate"].is_string());
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
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

#[tokio::test]
async fn fifty_concurrent_wrong_pins_evaluate_exactly_three() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
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
    let evaluated = app
        .audit_actions(&u)
        .await
        .iter()
        .filter(|a| *a == "pin.attempt.failed")
        .count();
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
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
    assert_eq!(
        (
            s["pinStatus"].as_str(),
            s["pinDetails"]["failedAttempts"].as_i64()
        ),
        (Some("LOCKED"), Some(3))
    );
}

#[tokio::test]
async fn preconditions_as_circle() {
    let app = spawn_app().await;
    let u = app.user().await;
    let create = |m: Method, p: &'static str| {
        let (app, token) = (&app, u.token.clone());
        async move {
            app.call(
                m,
                p,
                Some(&token),
                Some(json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string() })),
            )
            .await
        }
    };
    let (s, b, _) = create(Method::PUT, "/v1/w3s/user/pin").await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(155110)));
    let (s, b, _) = create(Method::POST, "/v1/w3s/user/pin/restore").await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(155111)));
    app.initialize(&u, PIN).await;
    let (s, b, _) = create(Method::POST, "/v1/w3s/user/initialize").await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155106)));
    let (s, b, _) = create(Method::POST, "/v1/w3s/user/pin").await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155107)));
}

#[tokio::test]
async fn set_pin_sets_questions_once() {
    let app = spawn_app().await;
    let u = app.user().await;
    let id = app.challenge(&u, Method::POST, "/v1/w3s/user/pin").await;
    let ex = app.executor(&u);
    let d = ex.describe(&id).await.unwrap();
    assert_eq!(
        d["requires"],
        json!({ "pin": false, "newPin": true, "securityQuestions": true, "securityAnswers": false })
    );
    let e = ex
        .execute(&id, &json!({ "newPin": PIN }))
        .await
        .unwrap_err();
    assert_eq!(
        (api_code(&e), api_body(&e)["errors"][0]["location"].as_str()),
        (2, Some("securityQuestions"))
    );
    ex.execute(
        &id,
        &json!({ "newPin": PIN, "securityQuestions": questions() }),
    )
    .await
    .unwrap();
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
}

#[tokio::test]
async fn input_rules_are_checked_before_any_guess_counts() {
    let app = spawn_app().await;
    let u = app.user().await;
    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/initialize")
        .await;
    let ex = app.executor(&u);
    let q = |hint: &str| json!([{ "question": "Pet?", "answer": "Rex", "hint": hint }, { "question": "City?", "answer": "Lyon" }]);
    let cases = [
        (
            json!({ "newPin": "123456", "securityQuestions": questions() }),
            155704,
        ),
        (
            json!({ "newPin": "000000", "securityQuestions": questions() }),
            155704,
        ),
        (
            json!({ "newPin": "12345", "securityQuestions": questions() }),
            2,
        ),
        (
            json!({ "newPin": 159357, "securityQuestions": questions() }),
            2,
        ),
        (
            json!({ "newPin": PIN, "securityQuestions": q(" rex ") }),
            155705,
        ),
        (
            json!({ "newPin": PIN, "securityQuestions": [{ "question": "Pet?", "answer": "Rex" }] }),
            2,
        ),
        (
            json!({ "newPin": PIN, "securityQuestions": [{ "question": "P", "answer": "Rex" }, { "question": "City?", "answer": "Lyon" }] }),
            2,
        ),
        (
            json!({ "newPin": PIN, "securityQuestions": [{ "question": "Pet?", "answer": "   " }, { "question": "City?", "answer": "Lyon" }] }),
            2,
        ),
        (
            json!({ "newPin": PIN, "securityQuestions": [{ "question": "Pet?", "answer": "a" }, { "question": "pet?", "answer": "b" }] }),
            2,
        ),
    ];
    for (input, code) in cases {
        let e = ex.execute(&id, &input).await.unwrap_err();
        assert_eq!(api_code(&e), code, "{input}");
    }
    ex.execute(
        &id,
        &json!({ "newPin": PIN, "securityQuestions": q("dog") }),
    )
    .await
    .unwrap();
    // CHANGE_PIN: same PIN, weak PIN: refused without spending an attempt.
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    let e = ex
        .execute(&id, &json!({ "pin": PIN, "newPin": PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 2);
    let e = ex
        .execute(&id, &json!({ "pin": PIN, "newPin": "654321" }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155704);
    let e = ex
        .execute(&id, &json!({ "newPin": NEW_PIN }))
        .await
        .unwrap_err();
    assert_eq!(
        (api_code(&e), api_body(&e)["errors"][0]["location"].as_str()),
        (2, Some("pin"))
    );
    let s = app.dev.get_user_status(&u.token).await.unwrap();
    assert_eq!(s["data"]["pinDetails"]["failedAttempts"], 0);
}

#[tokio::test]
async fn lifecycle_expiry_and_terminal_states() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    app.clock.advance_ms(15 * 60 * 1000);
    assert_eq!(app.challenge_status(&u, &id).await["status"], "EXPIRED");
    let e = app
        .executor(&u)
        .execute(&id, &json!({ "pin": PIN, "newPin": NEW_PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155121);
    assert_eq!(app.challenge_status(&u, &id).await["status"], "EXPIRED");

    // A COMPLETE challenge cannot run twice.
    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    app.executor(&u)
        .execute(&id, &json!({ "pin": PIN, "newPin": NEW_PIN }))
        .await
        .unwrap();
    let e = app
        .executor(&u)
        .execute(&id, &json!({ "pin": NEW_PIN, "newPin": PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155122);
    app.clock.advance_ms(60 * 60 * 1000);
    let (_, token_key) = app
        .dev
        .create_user_token(&u.user_id)
        .await
        .map(|(t, k)| (t.clone(), (t, k)))
        .unwrap();
    let fresh = TestUser {
        user_id: u.user_id.clone(),
        token: token_key.0,
        key: token_key.1,
    };
    assert_eq!(
        app.challenge_status(&fresh, &id).await["status"],
        "COMPLETE",
        "terminal states never change"
    );

    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/user/challenges?status=EXPIRED",
            Some(&fresh.token),
            None,
        )
        .await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 1);
    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/user/challenges?status=COMPLETE",
            Some(&fresh.token),
            None,
        )
        .await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 2);
    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/user/challenges",
            Some(&fresh.token),
            None,
        )
        .await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 3);
    let (s, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/user/challenges?status=DONE",
            Some(&fresh.token),
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(2)));
}

#[tokio::test]
async fn idempotency_through_the_endpoint() {
    let app = spawn_app().await;
    let u = app.user().await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "idempotencyKey": key, "blockchains": ["ETH-SEPOLIA"] });
    let (s1, b1, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&u.token),
            Some(body.clone()),
        )
        .await;
    let (s2, b2, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&u.token),
            Some(body),
        )
        .await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(b1, b2);
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&u.token),
            Some(json!({ "idempotencyKey": key })),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (403, Some(156020)));
    let (s, b, _) = app
        .call(
            Method::PUT,
            "/v1/w3s/user/pin",
            Some(&u.token),
            Some(json!({ "idempotencyKey": key })),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64()),
        (403, Some(156020)),
        "another endpoint with the same key"
    );
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/pin",
            Some(&u.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64(), b["errors"][0]["location"].as_str()),
        (400, Some(2), Some("idempotencyKey"))
    );
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/pin",
            Some(&u.token),
            Some(json!({ "idempotencyKey": "k1" })),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)));
    let (s, b, _) = app
        .call(Method::POST, "/v1/w3s/user/initialize", Some(&u.token), Some(json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": ["ETH-SEPOLIA"], "metadata": [] })))
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(155504)));

    // Concurrent duplicates: one effect.
    let key = uuid::Uuid::new_v4().to_string();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, base, api, token, key) = (
            app.http.clone(),
            app.base.clone(),
            app.api_key.clone(),
            u.token.clone(),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1/w3s/user/pin"))
                .header("authorization", format!("Bearer {api}"))
                .header("x-user-token", token)
                .json(&json!({ "idempotencyKey": key }))
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()["data"]["challengeId"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1);
    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/user/challenges?status=PENDING",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["challenges"].as_array().unwrap().len(),
        2,
        "the initialize one and exactly one SET_PIN"
    );
}

#[tokio::test]
async fn users_cannot_see_or_execute_each_others_challenges() {
    let app = spawn_app().await;
    let (a, b) = (app.user().await, app.user().await);
    let id = app
        .challenge(&a, Method::POST, "/v1/w3s/user/initialize")
        .await;
    let (s, body, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/user/challenges/{id}"),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155116)));
    let (_, body, _) = app
        .call(Method::GET, "/v1/w3s/user/challenges", Some(&b.token), None)
        .await;
    assert_eq!(body["data"]["challenges"], json!([]));
    let e = app.executor(&b).describe(&id).await.unwrap_err();
    assert_eq!(api_code(&e), 155116);
    let e = app
        .executor(&b)
        .execute(
            &id,
            &json!({ "newPin": PIN, "securityQuestions": questions() }),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155116);
    // B's token with A's key, or A's token with B's key: the body does not open.
    let mixed =
        latchkey_client::ChallengeExecutor::new(&app.base, &app.app_id, &a.token, &b.key).unwrap();
    let e = mixed
        .execute(
            &id,
            &json!({ "newPin": PIN, "securityQuestions": questions() }),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), 155118);
    // A body sealed for another challenge id does not open either.
    let other = app.challenge(&a, Method::POST, "/v1/w3s/user/pin").await;
    let key = latchkey_core::crypto::b64_decode(&a.key).unwrap();
    let sealed = latchkey_core::crypto::seal(
        &latchkey_core::crypto::SecretKey::from_bytes(key.try_into().unwrap()),
        other.as_bytes(),
        br#"{"newPin":"159357"}"#,
    );
    let r = app
        .http
        .post(format!("{}/v1/w3s/sdk/challenges/{id}/execute", app.base))
        .header("x-app-id", &app.app_id)
        .header("x-user-token", &a.token)
        .json(&json!({ "encrypted": latchkey_core::crypto::b64(&sealed) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 155118);
    // The end user's side never accepts the API key instead of the App ID.
    let r = app
        .http
        .get(format!("{}/v1/w3s/sdk/challenges/{id}", app.base))
        .header("authorization", format!("Bearer {}", app.api_key))
        .header("x-user-token", &a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 155114);
}

#[tokio::test]
async fn disabled_users_are_refused_everywhere() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.lk
        .set_user_disabled(&app.entity_id, &u.user_id, true)
        .await
        .unwrap();
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users/token",
            None,
            Some(json!({ "userId": u.user_id })),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155109)));
    let (s, b, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&u.token), None)
        .await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155109)));
    let (_, b, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/users/{}", u.user_id),
            None,
            None,
        )
        .await;
    assert_eq!(b["data"]["user"]["status"], "DISABLED");
    app.lk
        .set_user_disabled(&app.entity_id, &u.user_id, false)
        .await
        .unwrap();
    let (s, _, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&u.token), None)
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn operator_unlock_records_the_override() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    for _ in 0..3 {
        let _ = app.change_pin(&u, "111112", NEW_PIN).await;
    }
    app.lk
        .lift_lock(
            &app.entity_id,
            &u.user_id,
            latchkey_core::model::SecretKind::Pin,
        )
        .await
        .unwrap();
    let s = app.dev.get_user_status(&u.token).await.unwrap()["data"].clone();
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
async fn audit_log_is_append_only() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.initialize(&u, PIN).await;
    let url = app.database_url.clone();
    let result = if url.starts_with("sqlite") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET action = 'x'")
            .execute(&mut c)
            .await
            .map(|_| ())
    } else {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut c)
            .await
            .map(|_| ())
    };
    assert!(result.is_err(), "the audit log refused the change");
}

#[tokio::test]
async fn two_instances_on_one_database_still_evaluate_exactly_three() {
    // On PostgreSQL this is two server instances sharing one database; on SQLite, two
    // instances sharing one file (each with its own pools), as two processes would.
    let first = spawn_app().await;
    let second = spawn_app_on(
        &first.database_url,
        None,
        first.master.clone(),
        test_settings(),
    )
    .await;
    second.clock.advance_ms(0);
    let u = first.user().await;
    first.initialize(&u, PIN).await;
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
    let evaluated = first
        .audit_actions(&u)
        .await
        .iter()
        .filter(|a| *a == "pin.attempt.failed")
        .count();
    assert_eq!(evaluated, 3);
}
