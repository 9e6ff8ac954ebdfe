//! Webhook subscriptions: endpoint checks, the signed test notification, CRUD, key rotation.

use crate::support::webhooks::*;
use crate::support::*;
use serde_json::{json, Value};

#[tokio::test]
async fn subscribe_checks_the_endpoint_then_sends_a_signed_test() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    let sub = subscribe(&app, &url, None).await;
    assert_eq!(rx.head_count(), 1, "HEAD check");
    assert_eq!(sub["endpoint"], url.as_str());
    assert_eq!(
        (sub["enabled"].as_bool(), sub["restricted"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(sub["notificationTypes"], json!(["*"]));
    for k in ["id", "name", "createDate", "updateDate"] {
        assert!(sub.get(k).is_some(), "{k}");
    }
    drain(&app).await;
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    verify(&app, headers, body).await;
    let env: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(env["notificationType"], "webhooks.test");
    assert_eq!(env["notification"], json!({ "hello": "world" }));
    // Circle's test notification carries zero UUIDs.
    assert_eq!(
        env["subscriptionId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        env["notificationId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(env["version"], 2);
    assert!(env["notificationId"].is_string() && env["timestamp"].is_string());

    let (_, list, _) = app.get("/v2/notifications/subscriptions", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let id = sub["id"].as_str().unwrap();
    let (s, upd, _) = app
        .patch(
            &format!("/v2/notifications/subscriptions/{id}"),
            None,
            json!({ "name": "renamed", "enabled": false }),
        )
        .await;
    assert_eq!(
        (
            s,
            upd["data"]["name"].as_str(),
            upd["data"]["enabled"].as_bool()
        ),
        (200, Some("renamed"), Some(false))
    );
    let (s, _, _) = app
        .delete(&format!("/v2/notifications/subscriptions/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b, _) = app
        .get(&format!("/v2/notifications/subscriptions/{id}"), None)
        .await;
    assert_eq!((s, b["code"].is_number()), (404, true));
}

#[tokio::test]
async fn bad_endpoints_and_types_are_400() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    rx.answer_with(404);
    let (s, b, _) = app
        .post(
            "/v2/notifications/subscriptions",
            None,
            json!({ "endpoint": url }),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)));
    assert!(b["message"].as_str().unwrap().contains("404"), "{b}");
    rx.answer_with(200);
    for (body, why) in [
        (
            json!({ "endpoint": "http://127.0.0.1:1/none" }),
            "unreachable",
        ),
        (json!({ "endpoint": "not a url" }), "not a URL"),
        (json!({ "endpoint": "ftp://example.com/x" }), "scheme"),
        (
            json!({ "endpoint": url, "notificationTypes": ["challenges.nope"] }),
            "unknown type",
        ),
        (json!({}), "missing endpoint"),
    ] {
        let (s, b, _) = app
            .post("/v2/notifications/subscriptions", None, body)
            .await;
        assert_eq!((s, b["code"].as_i64()), (400, Some(2)), "{why}: {b}");
    }
    // Outside --dev: http:// and loopback endpoints are refused before any request is made.
    let strict = latchkey_webhooks::Webhooks::new(app.lk.clone(), Default::default());
    let caller = app
        .lk
        .authenticate_api_key(Some(&format!("Bearer {}", app.api_key)))
        .await
        .unwrap();
    let heads = rx.head_count();
    for endpoint in [
        url.clone(),
        url.replace("http://", "https://"),
        "https://localhost/x".to_string(),
    ] {
        let input = latchkey_webhooks::SubscriptionInput {
            endpoint,
            notification_types: None,
        };
        let e = strict
            .create_subscription(&caller, input)
            .await
            .unwrap_err();
        assert_eq!(e.code, 2);
    }
    assert_eq!(rx.head_count(), heads);
}

#[tokio::test]
async fn rotated_keys_stay_resolvable() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    subscribe(&app, &url, None).await;
    drain(&app).await;
    let old = rx.got.lock().unwrap()[0].clone();
    let new_key = app.webhooks.rotate_key(&app.entity_id).await.unwrap();
    let sub_id = app
        .lk
        .store()
        .list_subscriptions(&app.entity_id, latchkey_core::model::Environment::Test)
        .await
        .unwrap()[0]
        .id
        .clone();
    app.patch(
        &format!("/v2/notifications/subscriptions/{sub_id}"),
        None,
        json!({ "name": "x" }),
    )
    .await;
    drain(&app).await;
    let newer = rx.got.lock().unwrap()[1].clone();
    assert_eq!(newer.0["x-circle-key-id"].to_str().unwrap(), new_key.id);
    assert_ne!(old.0["x-circle-key-id"], newer.0["x-circle-key-id"]);
    verify(&app, &old.0, &old.1).await;
    verify(&app, &newer.0, &newer.1).await;
    let (s, _, _) = app
        .get(
            "/v2/notifications/publicKey/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(s, 404);
}
