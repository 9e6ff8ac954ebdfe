//! User tokens: Circle's claims, the encryption key, and every way a token is refused.

use crate::support::*;
use serde_json::{json, Value};

fn claims(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn user_token_has_circles_claims_and_works() {
    let app = spawn_app().await;
    let u = app.user().await;
    let c = claims(&u.token);
    assert_eq!(c["sub"], u.user_id.as_str());
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["entityId"], app.entity_id.as_str());
    for k in ["jti", "iss", "internalUserId", "developerEntityEnvironment"] {
        assert!(c[k].is_string(), "{k}");
    }
    let key = latchkey_core::crypto::b64_decode(&u.key).unwrap();
    assert_eq!(key.len(), 32);
    let status = app.dev.get_user_status(&u.token).await.unwrap();
    assert_eq!(status["data"]["id"], u.user_id.as_str());

    // A second token for the same user has its own key.
    let (_, key2) = app.dev.create_user_token(&u.user_id).await.unwrap();
    assert_ne!(key2, u.key);

    let (s, body, _) = app
        .post("/v1/w3s/users/token", None, json!({ "userId": "nobody-x" }))
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
}

#[tokio::test]
async fn token_errors_missing_tampered_expired_foreign() {
    let app = spawn_app().await;
    let u = app.user().await;
    let (s, body, _) = app.get("/v1/w3s/user", None).await;
    assert_eq!((s, body["code"].as_i64()), (401, Some(155103)));

    let mut parts: Vec<String> = u.token.split('.').map(str::to_string).collect();
    parts[2] = parts[2].chars().rev().collect();
    let tampered = parts.join(".");
    let (s, body, _) = app.get("/v1/w3s/user", Some(&tampered)).await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));

    // A token of another deployment (another master key) is invalid here.
    let other = spawn_app().await;
    let ou = other.user().await;
    let (s, body, _) = app.get("/v1/w3s/user", Some(&ou.token)).await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));

    app.clock.advance_ms(60 * 60 * 1000 + 1000);
    let (s, body, _) = app.get("/v1/w3s/user", Some(&u.token)).await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155104)));
}
