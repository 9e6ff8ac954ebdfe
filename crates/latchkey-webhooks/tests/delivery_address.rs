//! The delivery worker checks the endpoint's address at every attempt, not only when the
//! subscription was made: an endpoint accepted by a lenient instance (allow-loopback) is not
//! delivered to by a strict one, whether the URL names the address or a host resolving to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::routing::post;
use latchkey_core::clock::SystemClock;
use latchkey_core::crypto::{KdfParams, MasterKey};
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::model::Environment;
use latchkey_core::{Latchkey, Settings};
use latchkey_webhooks::{SubscriptionInput, WebhookSettings, Webhooks};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

async fn receiver() -> (Arc<AtomicUsize>, u16) {
    let posts = Arc::new(AtomicUsize::new(0));
    let counter = posts.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                StatusCode::OK
            }
        })
        .head(|| async { StatusCode::OK }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (posts, port)
}

fn settings(allow_loopback: bool) -> WebhookSettings {
    WebhookSettings {
        allow_http: true,
        allow_loopback,
        timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_strict_worker_refuses_loopback_endpoints_at_delivery() {
    let dir = std::env::temp_dir().join(format!("lk-wh-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = latchkey_store::open(&url, 4).await.unwrap();
    let lk = Latchkey::new(
        store,
        Arc::new(SystemClock),
        MasterKey::generate(),
        KdfPool::new(1, 8),
        Settings {
            kdf: KdfParams::DEV,
            dev: true,
            ..Settings::default()
        },
    );
    let (entity, _) = lk.ensure_default_entity().await.unwrap();
    let key = lk
        .create_api_key(&entity.id, "t", Environment::Test)
        .await
        .unwrap();
    let caller = lk
        .authenticate_api_key(Some(&format!("Bearer {key}")))
        .await
        .unwrap();
    let (posts, port) = receiver().await;
    let lenient = Webhooks::new(lk.clone(), settings(true));
    let strict = Webhooks::try_new(lk.clone(), settings(false)).unwrap();

    // Accepted while loopback was allowed; each subscription enqueues a webhooks.test.
    for endpoint in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ] {
        let input = SubscriptionInput {
            endpoint,
            notification_types: None,
        };
        lenient.create_subscription(&caller, input).await.unwrap();
    }
    assert_eq!(strict.run_once().await, 3, "three test notifications due");
    assert_eq!(posts.load(Ordering::SeqCst), 0, "nothing reaches loopback");

    // The same receiver is reachable by a worker that allows loopback (the control).
    let input = SubscriptionInput {
        endpoint: format!("http://127.0.0.1:{port}/hook"),
        notification_types: None,
    };
    lenient.create_subscription(&caller, input).await.unwrap();
    assert_eq!(lenient.run_once().await, 1);
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
