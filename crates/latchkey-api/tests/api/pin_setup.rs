//! INITIALIZE and SET_PIN: preconditions, the PIN and question rules.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

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
