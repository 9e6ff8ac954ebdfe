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
const ROUNDS: u32 = 10_000;

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

/// CPU time of the whole process (every thread, SQLite's worker included) in milliseconds,
/// from /proc (Linux): less disturbed than wall time when other work shares the machine.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second).
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10
}

struct Timer {
    wall: Instant,
    cpu: u64,
}

fn start() -> Timer {
    Timer {
        wall: Instant::now(),
        cpu: cpu_ms(),
    }
}

fn report(name: &str, t: Timer) {
    let wall = t.wall.elapsed().as_nanos() / u128::from(ROUNDS);
    let cpu = (cpu_ms() - t.cpu) as f64 * 1000.0 / f64::from(ROUNDS);
    println!(
        "{name:<22} {:>8.1} µs/op wall {cpu:>8.1} µs/op cpu",
        wall as f64 / 1000.0
    );
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
            environment: Environment::Live,
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
        payload: latchkey_core::challenge::ChallengePayload::decode(ChallengeType::SetPin, "{}")
            .unwrap(),
        created_at: T0,
        expires_at: T0.plus_ms(900_000),
        updated_at: T0,
    };
    let claim = IdempotencyClaim {
        key: "k".into(),
        request_hash: vec![1; 32],
    };
    s.create_challenge(&c, &claim, 100).await.unwrap();
    for _ in 0..200 {
        s.api_key("kid").await.unwrap().unwrap();
    }
    let started = start();
    for _ in 0..ROUNDS {
        s.api_key("kid").await.unwrap().unwrap();
    }
    report("api_key", started);
    let started = start();
    for _ in 0..ROUNDS {
        s.user_by_internal_id(&e.id, &u.internal_id)
            .await
            .unwrap()
            .unwrap();
    }
    report("user_by_internal_id", started);
    let started = start();
    for _ in 0..ROUNDS {
        s.challenge(&e.id, &u.internal_id, &c.id)
            .await
            .unwrap()
            .unwrap();
    }
    report("challenge", started);
}
