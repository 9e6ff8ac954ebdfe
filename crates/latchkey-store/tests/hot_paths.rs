//! Timing of the hot read paths (API-key lookup, user by internal id, challenge by id), run
//! by hand to compare store implementations:
//! `cargo test -p latchkey-store --test hot_paths -- --ignored --nocapture`
//! (set `LATCHKEY_TEST_DATABASE_URL` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::clock::Timestamp;
use latchkey_core::model::*;
use latchkey_core::store::*;
use std::sync::Arc;
use std::time::Instant;

const T0: Timestamp = Timestamp(1_800_000_000_000);
const ROUNDS: u32 = 3_000;

async fn fresh_store() -> Arc<dyn Store> {
    let url = match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("lk_bench_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
        _ => {
            let dir = std::env::temp_dir()
                .join(format!("latchkey-bench-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}", dir.join("t.db").display())
        }
    };
    latchkey_store::open(&url, 8).await.unwrap()
}

fn report(name: &str, started: Instant) {
    let per = started.elapsed().as_nanos() / u128::from(ROUNDS);
    println!("{name:<22} {:>8.1} µs/op", per as f64 / 1000.0);
}

#[tokio::test]
#[ignore = "timing, run by hand"]
async fn hot_read_paths() {
    let s = fresh_store().await;
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "e".into(),
        created_at: T0,
    };
    let (e, _) = s.ensure_default_entity(&e).await.unwrap();
    s.insert_api_key(&ApiKeyRecord {
        key_id: "kid".into(),
        entity_id: e.id.clone(),
        name: "n".into(),
        environment: Environment::Live,
        secret_hash: vec![7; 32],
        created_at: T0,
    })
    .await
    .unwrap();
    let u = s
        .insert_user(&NewUser {
            entity_id: e.id.clone(),
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: "u".into(),
            created_at: T0,
        })
        .await
        .unwrap();
    let c = ChallengeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        kind: ChallengeType::SetPin,
        status: ChallengeStatus::Pending,
        correlation_ids: vec!["a".into()],
        error_code: None,
        error_message: None,
        payload: serde_json::json!({ "k": 1 }),
        created_at: T0,
        expires_at: T0.plus_ms(900_000),
        updated_at: T0,
    };
    let claim = IdempotencyClaim {
        key: "k".into(),
        request_hash: vec![1; 32],
    };
    s.create_challenge(&c, &claim).await.unwrap();
    for _ in 0..200 {
        s.api_key("kid").await.unwrap().unwrap();
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        s.api_key("kid").await.unwrap().unwrap();
    }
    report("api_key", started);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        s.user_by_internal_id(&e.id, &u.internal_id)
            .await
            .unwrap()
            .unwrap();
    }
    report("user_by_internal_id", started);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        s.challenge(&e.id, &u.internal_id, &c.id)
            .await
            .unwrap()
            .unwrap();
    }
    report("challenge", started);
}
