//! Challenges: lifecycle, expiry, terminal states, listing, idempotency keys.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn lifecycle_expiry_and_terminal_states() {
    let app = spawn_app().await;
    let u = app.initialized_user(PIN).await;
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
        .get("/v1/w3s/user/challenges?status=EXPIRED", Some(&fresh.token))
        .await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 1);
    let (_, body, _) = app
        .get(
            "/v1/w3s/user/challenges?status=COMPLETE",
            Some(&fresh.token),
        )
        .await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 2);
    let (_, body, _) = app.get("/v1/w3s/user/challenges", Some(&fresh.token)).await;
    assert_eq!(body["data"]["challenges"].as_array().unwrap().len(), 3);
    let (s, body, _) = app
        .get("/v1/w3s/user/challenges?status=DONE", Some(&fresh.token))
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
        .post("/v1/w3s/user/initialize", Some(&u.token), body.clone())
        .await;
    let (s2, b2, _) = app
        .post("/v1/w3s/user/initialize", Some(&u.token), body)
        .await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(b1, b2);
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/initialize",
            Some(&u.token),
            json!({ "idempotencyKey": key }),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (403, Some(156020)));
    let (s, b, _) = app
        .put(
            "/v1/w3s/user/pin",
            Some(&u.token),
            json!({ "idempotencyKey": key }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64()),
        (403, Some(156020)),
        "another endpoint with the same key"
    );
    let (s, b, _) = app
        .post("/v1/w3s/user/pin", Some(&u.token), json!({}))
        .await;
    assert_eq!(
        (s, b["code"].as_i64(), b["errors"][0]["location"].as_str()),
        (400, Some(2), Some("idempotencyKey"))
    );
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/pin",
            Some(&u.token),
            json!({ "idempotencyKey": "k1" }),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)));
    let (s, b, _) = app
        .post("/v1/w3s/user/initialize", Some(&u.token), json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": ["ETH-SEPOLIA"], "metadata": [] }))
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
        .get("/v1/w3s/user/challenges?status=PENDING", Some(&u.token))
        .await;
    assert_eq!(
        body["data"]["challenges"].as_array().unwrap().len(),
        2,
        "the initialize one and exactly one SET_PIN"
    );
}
