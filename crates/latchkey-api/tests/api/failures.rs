//! Failures the caller cannot fix still answer in Circle's shape, and never as a hang: a
//! panicking handler is an opaque 500 (the server keeps serving), and a database that cannot
//! be reached is a quick 503 that clears by itself once the database is back.

use crate::support::{fresh_database_url, spawn_app_on, test_settings};
use latchkey_api::{AppParts, AppState};
use latchkey_core::clock::{Clock, SystemClock, Timestamp};
use latchkey_core::crypto::MasterKey;
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::model::Environment;
use latchkey_core::Latchkey;
use serde_json::Value;
use sqlx::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The system clock, until armed: then reading it panics (a stand-in for any bug).
#[derive(Debug, Default)]
struct TrippingClock(AtomicBool);

impl Clock for TrippingClock {
    fn now(&self) -> Timestamp {
        if self.0.load(Ordering::SeqCst) {
            panic!("clock tripped: internal detail /srv/secret-path");
        }
        SystemClock.now()
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_an_opaque_circle_shaped_500() {
    let (url, _dir) = fresh_database_url().await;
    let store = latchkey_store::open(&url, 4).await.unwrap();
    let clock = Arc::new(TrippingClock::default());
    let lk = Latchkey::new(
        store,
        clock.clone(),
        MasterKey::generate(),
        KdfPool::new(1, 16),
        test_settings(),
    );
    let (entity, _) = lk.ensure_default_entity().await.unwrap();
    let key = lk
        .create_api_key(&entity.id, "t", Environment::Test)
        .await
        .unwrap();
    let webhooks = latchkey_webhooks::Webhooks::new(lk.clone(), Default::default());
    let app = latchkey_api::router(AppState::new(AppParts {
        lk,
        public_url: None,
        frame_ancestors: vec![],
        webhooks,
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{base}/v1/w3s/users?pageSize=1"))
            .bearer_auth(&key)
            .header("x-request-id", "panic-probe")
            .send()
    };
    assert_eq!(get().await.unwrap().status().as_u16(), 200);

    clock.0.store(true, Ordering::SeqCst);
    let resp = get().await.unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(resp.headers()["x-request-id"], "panic-probe");
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], -1, "{text}");
    assert_eq!(body["message"], "Something went wrong");
    assert!(
        !text.contains("tripped") && !text.contains("secret-path"),
        "{text}"
    );

    // The server is still up.
    clock.0.store(false, Ordering::SeqCst);
    assert_eq!(get().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn an_unreachable_database_answers_503_quickly_and_recovers_by_itself() {
    let Ok(admin_url) = std::env::var("LATCHKEY_TEST_DATABASE_URL") else {
        return; // PostgreSQL only: a SQLite file cannot go away while it is open.
    };
    if !admin_url.starts_with("postgres") {
        return;
    }
    // The app connects as a role of its own: database connection limits do not apply to
    // superusers, and the test's connection is one.
    let name = format!("lk_down_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    for sql in [
        format!("CREATE ROLE {name} LOGIN"),
        format!("CREATE DATABASE {name} OWNER {name}"),
    ] {
        sqlx::query(&sql).execute(&mut admin).await.unwrap();
    }
    let (prefix, _) = admin_url.rsplit_once('/').unwrap();
    let (scheme, rest) = prefix.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let url = format!("{scheme}://{name}@{host}/{name}");
    let app = spawn_app_on(&url, None, MasterKey::generate(), test_settings()).await;
    let u = app.user().await;
    let path = format!("/v1/w3s/users/{}", u.user_id);
    assert_eq!(app.get(&path, None).await.0, 200);

    // The database stops taking the app's connections, and its open ones are cut.
    sqlx::query(&format!("ALTER DATABASE {name} CONNECTION LIMIT 0"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let (s, b, _) = app.get(&path, None).await;
        let took = started.elapsed();
        assert_eq!((s, b["code"].as_i64()), (503, Some(503)), "{b}");
        assert!(
            b["message"].as_str().unwrap().contains("unavailable"),
            "{b}"
        );
        let limit = Duration::from_millis(latchkey_core::defaults::DB_ACQUIRE_TIMEOUT_MS + 2_000);
        assert!(took < limit, "took {took:?}");
    }

    // An outage outlasts the pool's ping-free window (a restart takes longer): every stale
    // connection is then pinged and replaced instead of failing a request.
    tokio::time::sleep(Duration::from_millis(
        latchkey_core::defaults::DB_PING_IF_IDLE_MS + 100,
    ))
    .await;
    // Back: the next request succeeds, nothing restarted.
    sqlx::query(&format!("ALTER DATABASE {name} CONNECTION LIMIT -1"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (s, b, _) = app.get(&path, None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["user"]["id"], u.user_id.as_str());

    drop(app);
    for sql in [
        format!("DROP DATABASE {name} WITH (FORCE)"),
        format!("DROP ROLE {name}"),
    ] {
        let _ = sqlx::query(&sql).execute(&mut admin).await;
    }
}
