//! Boundaries: entities never see each other, users never see each other's challenges.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn tenants_never_see_each_other() {
    // Two entities on one server: B's key, users and tokens are invisible to A and back.
    let app = spawn_app().await;
    let b_entity = latchkey_core::model::Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "tenant-b".into(),
        created_at: app.lk.now(),
    };
    app.lk.store().insert_entity(&b_entity).await.unwrap();
    let b_key = app
        .lk
        .create_api_key(&b_entity.id, "b", latchkey_core::model::Environment::Test)
        .await
        .unwrap();
    let b = latchkey_client::DeveloperClient::new(&app.base, &b_key);
    assert_eq!(b.app_id().await.unwrap(), b_entity.app_id);
    b.create_user("shared-name").await.unwrap();
    app.dev.create_user("shared-name").await.unwrap();
    let (b_token, b_enc) = b.create_user_token("shared-name").await.unwrap();
    let a = app.user().await;

    // B's token with A's API key, and A's token with B's key: invalid.
    let (s, body, _) = app.get("/v1/w3s/user", Some(&b_token)).await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));
    let e = b.get_user_status(&a.token).await.unwrap_err();
    assert_eq!(api_code(&e), 155105);
    // A's key cannot read or issue tokens for B-only users.
    b.create_user("only-in-b").await.unwrap();
    let (s, body, _) = app.get("/v1/w3s/users/only-in-b", None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
    let (_, body, _) = app.get("/v1/w3s/users?pageSize=50", None).await;
    assert!(!body.to_string().contains("only-in-b"));
    // B's token on the end-user side with A's App ID: invalid; with B's App ID: fine.
    let id = uuid::Uuid::new_v4().to_string();
    let wrong =
        latchkey_client::ChallengeExecutor::new(&app.base, &app.app_id, &b_token, &b_enc).unwrap();
    assert_eq!(api_code(&wrong.describe(&id).await.unwrap_err()), 155105);
    let right =
        latchkey_client::ChallengeExecutor::new(&app.base, &b_entity.app_id, &b_token, &b_enc)
            .unwrap();
    assert_eq!(api_code(&right.describe(&id).await.unwrap_err()), 155116);
    let unknown = latchkey_client::ChallengeExecutor::new(
        &app.base,
        &uuid::Uuid::new_v4().to_string(),
        &b_token,
        &b_enc,
    )
    .unwrap();
    assert_eq!(api_code(&unknown.describe(&id).await.unwrap_err()), 155114);
}

#[tokio::test]
async fn users_cannot_see_or_execute_each_others_challenges() {
    let app = spawn_app().await;
    let (a, b) = (app.user().await, app.user().await);
    let id = app
        .challenge(&a, Method::POST, "/v1/w3s/user/initialize")
        .await;
    let (s, body, _) = app
        .get(&format!("/v1/w3s/user/challenges/{id}"), Some(&b.token))
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155116)));
    let (_, body, _) = app.get("/v1/w3s/user/challenges", Some(&b.token)).await;
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
        .bare(
            Method::POST,
            &format!("/v1/w3s/sdk/challenges/{id}/execute"),
        )
        .header("x-app-id", &app.app_id)
        .header("x-user-token", &a.token)
        .json(&json!({ "encrypted": latchkey_core::crypto::b64(&sealed) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 155118);
    // The end user's side never accepts the API key instead of the App ID.
    let r = app
        .bare(Method::GET, &format!("/v1/w3s/sdk/challenges/{id}"))
        .header("authorization", format!("Bearer {}", app.api_key))
        .header("x-user-token", &a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 155114);
}
