//! A webhook receiver on a random port whose answer the test flips, and the subscribe /
//! drain / verify steps the webhook modules share.

use super::TestApp;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// Every request the receiver got: headers and raw body.
pub type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A webhook endpoint whose answer (status, `Retry-After`) the test sets.
#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Received,
    pub heads: Arc<AtomicU16>,
    pub status: Arc<AtomicU16>,
    pub retry_after: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    /// Starts a receiver answering 200; returns it and its `/hook` URL.
    pub async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        r.answer_with(200);
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

    /// The status the receiver answers from now on (HEAD and POST).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// How many HEAD checks the receiver has seen.
    pub fn head_count(&self) -> u16 {
        self.heads.load(Ordering::SeqCst)
    }

    /// Every body received so far, as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }

    /// The bodies received so far whose `notificationType` is `t`.
    pub fn of_type(&self, t: &str) -> Vec<Value> {
        self.bodies()
            .into_iter()
            .filter(|b| b["notificationType"] == t)
            .collect()
    }

    /// The states notified (`t`) for transaction `id`, sorted (deliveries run in parallel:
    /// like Circle's, they are unordered).
    pub fn states_of(&self, t: &str, id: &str) -> Vec<String> {
        let mut states: Vec<String> = self
            .of_type(t)
            .into_iter()
            .filter(|b| b["notification"]["id"] == id)
            .filter_map(|b| b["notification"]["state"].as_str().map(str::to_owned))
            .collect();
        states.sort();
        states
    }
}

/// Subscribes `endpoint` (to `types`, or everything); asserts 201 and returns the subscription.
pub async fn subscribe(app: &TestApp, endpoint: &str, types: Option<Vec<&str>>) -> Value {
    let mut body = json!({ "endpoint": endpoint });
    if let Some(t) = types {
        body["notificationTypes"] = json!(t);
    }
    let (s, b, _) = app
        .post("/v2/notifications/subscriptions", None, body)
        .await;
    assert_eq!(s, 201, "{b}");
    b["data"].clone()
}

/// The entity's first webhook subscription as stored.
pub async fn first_subscription(app: &TestApp) -> latchkey_core::webhooks::SubscriptionRecord {
    app.lk
        .store()
        .list_subscriptions(&app.entity_id, latchkey_core::model::Environment::Test)
        .await
        .unwrap()
        .remove(0)
}

/// Runs the worker until nothing is due.
pub async fn drain(app: &TestApp) {
    while app.webhooks.run_once().await > 0 {}
}

/// Checks the notification's signature against the public key the API publishes for its key id.
pub async fn verify(app: &TestApp, headers: &HeaderMap, body: &[u8]) {
    let key_id = headers["x-circle-key-id"].to_str().unwrap();
    let (s, key, _) = app
        .get(&format!("/v2/notifications/publicKey/{key_id}"), None)
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
