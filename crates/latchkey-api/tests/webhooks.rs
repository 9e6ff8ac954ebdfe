//! Webhooks through real HTTP: a receiver on a random port whose answer the test flips,
//! signatures checked against the published public key, retries on an injected clock,
//! restarts, and two instances sharing one outbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

#[derive(Clone, Default)]
struct Receiver {
    got: Received,
    heads: Arc<AtomicU16>,
    status: Arc<AtomicU16>,
    retry_after: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        r.status.store(200, Ordering::SeqCst);
        let app = axum::Router::new()
            .route(
                "/hook",
                post(|State(r): State<Receiver>, headers: HeaderMap, body: axum::body::Bytes| async move {
                    r.got.lock().unwrap().push((headers, body.to_vec()));
                    let code = StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap();
                    let mut resp = axum::response::IntoResponse::into_response(code);
                    if let Some(ra) = r.retry_after.lock().unwrap().clone() {
                        resp.headers_mut().insert("retry-after", ra.parse().unwrap());
                    }
                    resp
                })
                .head(|State(r): State<Receiver>| async move {
                    r.heads.fetch_add(1, Ordering::SeqCst);
                    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
                }),
            )
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }

    fn of_type(&self, t: &str) -> Vec<Value> {
        self.bodies()
            .into_iter()
            .filter(|b| b["notificationType"] == t)
            .collect()
    }
}

async fn subscribe(app: &TestApp, endpoint: &str, types: Option<Vec<&str>>) -> Value {
    let mut body = json!({ "endpoint": endpoint });
    if let Some(t) = types {
        body["notificationTypes"] = json!(t);
    }
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v2/notifications/subscriptions",
            None,
            Some(body),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

/// Runs the worker until nothing is due.
async fn drain(app: &TestApp) {
    while app.webhooks.run_once().await > 0 {}
}

async fn verify(app: &TestApp, headers: &HeaderMap, body: &[u8]) {
    let key_id = headers["x-circle-key-id"].to_str().unwrap();
    let (s, key, _) = app
        .call(
            Method::GET,
            &format!("/v2/notifications/publicKey/{key_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(key["data"]["algorithm"], "ECDSA_SHA_256");
    let der =
        latchkey_core::crypto::b64_decode(key["data"]["publicKey"].as_str().unwrap()).unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&der).unwrap();
    let sig =
        latchkey_core::crypto::b64_decode(headers["x-circle-signature"].to_str().unwrap()).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&sig).unwrap();
    vk.verify(body, &sig)
        .expect("signature over the body as sent");
    // Circle's recipe re-serialises the JSON compactly before verifying: the same bytes.
    let reserialised = serde_json::to_vec(&serde_json::from_slice::<Value>(body).unwrap()).unwrap();
    assert_eq!(reserialised, body);
}

#[tokio::test]
async fn subscribe_checks_the_endpoint_then_sends_a_signed_test() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    let sub = subscribe(&app, &url, None).await;
    assert_eq!(rx.heads.load(Ordering::SeqCst), 1, "HEAD check");
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

    let (_, list, _) = app
        .call(Method::GET, "/v2/notifications/subscriptions", None, None)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let id = sub["id"].as_str().unwrap();
    let (s, upd, _) = app
        .call(
            Method::PATCH,
            &format!("/v2/notifications/subscriptions/{id}"),
            None,
            Some(json!({ "name": "renamed", "enabled": false })),
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
        .call(
            Method::DELETE,
            &format!("/v2/notifications/subscriptions/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, b, _) = app
        .call(
            Method::GET,
            &format!("/v2/notifications/subscriptions/{id}"),
            None,
            None,
        )
        .await;
    assert_eq!((s, b["code"].is_number()), (404, true));
}

#[tokio::test]
async fn bad_endpoints_and_types_are_400() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    rx.status.store(404, Ordering::SeqCst);
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v2/notifications/subscriptions",
            None,
            Some(json!({ "endpoint": url })),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)));
    assert!(b["message"].as_str().unwrap().contains("404"), "{b}");
    rx.status.store(200, Ordering::SeqCst);
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
            .call(
                Method::POST,
                "/v2/notifications/subscriptions",
                None,
                Some(body),
            )
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
    let heads = rx.heads.load(Ordering::SeqCst);
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
    assert_eq!(rx.heads.load(Ordering::SeqCst), heads);
}

#[tokio::test]
async fn challenge_notifications_follow_the_filters() {
    let app = spawn_app().await;
    let (all, all_url) = Receiver::start().await;
    let (restore_only, restore_url) = Receiver::start().await;
    subscribe(&app, &all_url, Some(vec!["challenges.*"])).await;
    let sub = subscribe(&app, &restore_url, Some(vec!["challenges.restorePin"])).await;
    assert_eq!(sub["restricted"], true);
    let u = app.user().await;
    let init = app.initialize(&u, "159357").await;
    for _ in 0..3 {
        let _ = app.change_pin(&u, "111112", "246813").await;
    }
    let id = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    app.executor(&u)
        .execute(
            &id,
            &json!({ "securityAnswers": ["rex", "lyon"], "newPin": "246813" }),
        )
        .await
        .unwrap();
    drain(&app).await;

    let inits = all.of_type("challenges.initialize");
    assert_eq!(inits.len(), 1);
    assert_eq!(
        inits[0]["notification"],
        json!({ "id": init, "userId": u.user_id, "type": "INITIALIZE", "status": "COMPLETE", "correlationIds": [], "errorCode": 0, "errorMessage": "" })
    );
    let changes = all.of_type("challenges.changePin");
    assert_eq!(
        changes.len(),
        1,
        "only the challenge that failed notifies: {changes:?}"
    );
    assert_eq!(
        (
            changes[0]["notification"]["status"].as_str(),
            changes[0]["notification"]["errorCode"].as_i64()
        ),
        (Some("FAILED"), Some(155119))
    );
    assert_eq!(all.of_type("challenges.restorePin").len(), 1);
    assert_eq!(restore_only.of_type("challenges.restorePin").len(), 1);
    assert_eq!(
        restore_only.bodies().len(),
        2,
        "the test and the restorePin only"
    );
    let received = all.got.lock().unwrap().clone();
    for (headers, body) in received {
        verify(&app, &headers, &body).await;
    }
}

#[tokio::test]
async fn retries_follow_the_schedule_keep_the_id_and_honour_retry_after() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    subscribe(
        &app,
        &url,
        Some(
            vec!["webhooks.test", "challenges.*"]
                .into_iter()
                .filter(|t| *t != "webhooks.test")
                .collect(),
        ),
    )
    .await;
    drain(&app).await;
    rx.got.lock().unwrap().clear();
    rx.status.store(503, Ordering::SeqCst);
    let draft = latchkey_core::webhooks::NotificationDraft {
        entity_id: app.entity_id.clone(),
        notification_type: "challenges.setPin".into(),
        payload: json!({ "id": "c1" }),
        only_subscription: None,
    };
    app.lk
        .store()
        .enqueue_notification(&draft, app.lk.now())
        .await
        .unwrap();
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 1);
    app.clock.advance_ms(4_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 1, "not before 5 s");
    app.clock.advance_ms(1_000);
    *rx.retry_after.lock().unwrap() = Some("600".into());
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 2);
    app.clock.advance_ms(5 * 60_000);
    drain(&app).await;
    assert_eq!(
        rx.bodies().len(),
        2,
        "Retry-After: 600 beats the 5 min step"
    );
    app.clock.advance_ms(5 * 60_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 3);
    *rx.retry_after.lock().unwrap() = None;
    for step in [
        30 * 60_000,
        2 * 3_600_000,
        5 * 3_600_000,
        10 * 3_600_000,
        10 * 3_600_000,
    ] {
        app.clock.advance_ms(step);
        drain(&app).await;
    }
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 8, "eight attempts in all");
    assert!(
        bodies
            .iter()
            .all(|b| b["notificationId"] == bodies[0]["notificationId"]),
        "same notificationId every time"
    );
    // The test notification shares the (hand-moved) clock's instant: pick ours by type.
    let deliveries: Vec<_> = app
        .lk
        .store()
        .list_deliveries(&app.entity_id, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.notification_type == "challenges.setPin")
        .collect();
    assert_eq!(
        deliveries[0].status,
        latchkey_core::webhooks::DeliveryStatus::Failed
    );
    let sub = app
        .lk
        .store()
        .list_subscriptions(&app.entity_id)
        .await
        .unwrap()
        .remove(0);
    assert!(sub.failing_since.is_some(), "marked failing");
    app.clock.advance_ms(100 * 3_600_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 8, "nothing after the schedule");

    // The operator redelivers once the receiver is back.
    rx.status.store(200, Ordering::SeqCst);
    assert!(app
        .lk
        .store()
        .redeliver(&app.entity_id, &deliveries[0].id, app.lk.now())
        .await
        .unwrap());
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 9);
    let sub = app
        .lk
        .store()
        .list_subscriptions(&app.entity_id)
        .await
        .unwrap()
        .remove(0);
    assert!(sub.failing_since.is_none());
}

#[tokio::test]
async fn a_restart_mid_schedule_and_a_lapsed_claim_lose_nothing() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    subscribe(&app, &url, None).await;
    rx.status.store(500, Ordering::SeqCst);
    drain(&app).await;
    // "Restart": a new instance (new process state) on the same database and master key.
    let restarted =
        spawn_app_on(&app.database_url, None, app.master.clone(), test_settings()).await;
    restarted.clock.advance_ms(5_000);
    rx.status.store(200, Ordering::SeqCst);
    drain(&restarted).await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["notificationId"], bodies[1]["notificationId"]);
    let second = rx.got.lock().unwrap()[1].clone();
    verify(&restarted, &second.0, &second.1).await;

    // A worker that claimed a row and died: after the lease lapses another one delivers it.
    let u = app.user().await;
    app.initialize(&u, "159357").await;
    let now = restarted.lk.now();
    let claimed = app
        .lk
        .store()
        .claim_deliveries(now, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        restarted.webhooks.run_once().await,
        0,
        "held by the dead worker's lease"
    );
    restarted.clock.advance_ms(60_001);
    drain(&restarted).await;
    assert_eq!(rx.of_type("challenges.initialize").len(), 1);
    // The dead worker cannot record anything on a row it no longer holds.
    let outcome = latchkey_core::webhooks::AttemptOutcome::Delivered { status_code: 200 };
    assert!(!app
        .lk
        .store()
        .finish_delivery(&claimed[0], &outcome, now)
        .await
        .unwrap());
}

#[tokio::test]
async fn two_instances_deliver_a_thousand_notifications_once_each() {
    let first = spawn_app().await;
    let second = spawn_app_on(
        &first.database_url,
        None,
        first.master.clone(),
        test_settings(),
    )
    .await;
    let (rx, url) = Receiver::start().await;
    subscribe(&first, &url, Some(vec!["challenges.*"])).await;
    let now = first.lk.now();
    for i in 0..1000 {
        let draft = latchkey_core::webhooks::NotificationDraft {
            entity_id: first.entity_id.clone(),
            notification_type: "challenges.setPin".into(),
            payload: json!({ "n": i }),
            only_subscription: None,
        };
        first
            .lk
            .store()
            .enqueue_notification(&draft, now)
            .await
            .unwrap();
    }
    let run = |app: &TestApp| {
        let w = app.webhooks.clone();
        tokio::spawn(async move {
            let mut idle = 0;
            while idle < 3 {
                if w.run_once().await == 0 {
                    idle += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                } else {
                    idle = 0;
                }
            }
        })
    };
    let (a, b) = (run(&first), run(&second));
    a.await.unwrap();
    b.await.unwrap();
    let bodies = rx.of_type("challenges.setPin");
    let ids: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| b["notificationId"].as_str().unwrap().to_string())
        .collect();
    let ns: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| b["notification"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        (bodies.len(), ids.len(), ns.len()),
        (1000, 1000, 1000),
        "none lost, none twice"
    );
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
        .list_subscriptions(&app.entity_id)
        .await
        .unwrap()[0]
        .id
        .clone();
    app.call(
        Method::PATCH,
        &format!("/v2/notifications/subscriptions/{sub_id}"),
        None,
        Some(json!({ "name": "x" })),
    )
    .await;
    drain(&app).await;
    let newer = rx.got.lock().unwrap()[1].clone();
    assert_eq!(newer.0["x-circle-key-id"].to_str().unwrap(), new_key.id);
    assert_ne!(old.0["x-circle-key-id"], newer.0["x-circle-key-id"]);
    verify(&app, &old.0, &old.1).await;
    verify(&app, &newer.0, &newer.1).await;
    let (s, _, _) = app
        .call(
            Method::GET,
            "/v2/notifications/publicKey/00000000-0000-0000-0000-000000000000",
            None,
            None,
        )
        .await;
    assert_eq!(s, 404);
}
