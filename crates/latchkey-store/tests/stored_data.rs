//! What the store does with data it did not write itself: values that cannot be decoded are
//! errors naming their table and column (never a default), and a database migrated by the
//! runner latchkey used before sqlx's (`latchkey_migrations`) opens and is adopted.
//! Runs on PostgreSQL when `LATCHKEY_TEST_DATABASE_URL` names one, else on a SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::clock::Timestamp;
use latchkey_core::model::*;
use latchkey_core::store::*;
use sqlx::{AnyPool, Row};
use std::sync::Arc;

const T0: Timestamp = Timestamp(1_800_000_000_000);

/// A URL of a fresh, empty database.
async fn fresh_url() -> String {
    match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
        _ => {
            let dir = std::env::temp_dir()
                .join(format!("latchkey-store-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}", dir.join("t.db").display())
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres")
}

/// A raw connection pool to the same database, to write what the store never would.
async fn raw(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    let url = if is_postgres(url) {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    };
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap()
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::raw_sql(sql).execute(pool).await.unwrap();
}

/// A store with one entity, one user and one challenge; their ids.
async fn seeded(url: &str) -> (Arc<dyn Store>, Entity, UserRecord, ChallengeRecord) {
    let s = latchkey_store::open(url, 4).await.unwrap();
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "e".into(),
        created_at: T0,
    };
    let (e, _) = s.ensure_default_entity(&e).await.unwrap();
    let u = s
        .insert_user(&NewUser {
            entity_id: e.id.clone(),
            environment: Environment::Test,
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
        correlation_ids: vec![],
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
    (s, e, u, c)
}

fn assert_names(err: StoreError, table_column: &str) {
    match err {
        StoreError::Database(text) => assert!(
            text.contains(table_column),
            "{text:?} does not name {table_column}"
        ),
        other => panic!("expected a database error naming {table_column}, got {other:?}"),
    }
}

#[tokio::test]
async fn undecodable_challenge_columns_are_errors_naming_them() {
    let url = fresh_url().await;
    let (s, e, u, c) = seeded(&url).await;
    let pool = raw(&url).await;
    let read = || s.challenge(&e.id, &u.internal_id, &c.id);
    assert!(read().await.unwrap().is_some());

    exec(&pool, "UPDATE challenges SET payload = 'not json'").await;
    assert_names(read().await.unwrap_err(), "challenges.payload");
    let first = PageQuery {
        size: 10,
        cursor: Cursor::None,
        order: Order::Desc,
        from: None,
        to: None,
    };
    let listed = s
        .list_challenges(&e.id, &u.internal_id, None, &first, T0)
        .await;
    assert_names(listed.unwrap_err(), "challenges.payload");

    exec(
        &pool,
        "UPDATE challenges SET payload = '{}', status = 'MAYBE'",
    )
    .await;
    assert_names(read().await.unwrap_err(), "challenges.status");

    exec(
        &pool,
        "UPDATE challenges SET status = 'PENDING', kind = 'NOPE'",
    )
    .await;
    assert_names(read().await.unwrap_err(), "challenges.kind");

    exec(
        &pool,
        "UPDATE challenges SET kind = 'SET_PIN', correlation_ids = '{\"a\":1}'",
    )
    .await;
    assert_names(read().await.unwrap_err(), "challenges.correlation_ids");

    exec(&pool, "UPDATE challenges SET correlation_ids = '[]'").await;
    assert!(read().await.unwrap().is_some());
}

#[tokio::test]
async fn undecodable_user_columns_are_errors_naming_them() {
    let url = fresh_url().await;
    let (s, e, u, _) = seeded(&url).await;
    let pool = raw(&url).await;
    let read = || s.user_by_internal_id(&e.id, &u.internal_id);

    exec(&pool, "UPDATE users SET questions = '[{'").await;
    assert_names(read().await.unwrap_err(), "users.questions");
    assert_names(
        s.user(&e.id, Environment::Test, "u").await.unwrap_err(),
        "users.questions",
    );

    // A PIN wrap whose KDF parameters do not parse.
    let (salt, sealed) = if is_postgres(&url) {
        ("'\\x0101'::bytea", "'\\x0202'::bytea")
    } else {
        ("x'0101'", "x'0202'")
    };
    exec(
        &pool,
        &format!(
            "UPDATE users SET questions = NULL, pin_salt = {salt}, pin_params = 'garbage', \
             pin_sealed = {sealed}"
        ),
    )
    .await;
    assert_names(read().await.unwrap_err(), "users.pin_params");

    exec(
        &pool,
        "UPDATE users SET pin_salt = NULL, pin_params = NULL, pin_sealed = NULL, disabled = 7",
    )
    .await;
    assert_names(read().await.unwrap_err(), "users.disabled");
}

#[tokio::test]
async fn undecodable_subscription_columns_are_errors_naming_them() {
    let url = fresh_url().await;
    let (s, e, _, _) = seeded(&url).await;
    let pool = raw(&url).await;
    s.insert_subscription(&latchkey_core::webhooks::SubscriptionRecord {
        id: "sub".into(),
        entity_id: e.id.clone(),
        environment: Environment::Test,
        name: "s".into(),
        endpoint: "https://example.test/hook".into(),
        enabled: true,
        notification_types: vec![],
        failing_since: None,
        created_at: T0,
        updated_at: T0,
    })
    .await
    .unwrap();
    exec(
        &pool,
        "UPDATE subscriptions SET notification_types = 'nope'",
    )
    .await;
    assert_names(
        s.subscription(&e.id, Environment::Test, "sub")
            .await
            .unwrap_err(),
        "subscriptions.notification_types",
    );
    assert_names(
        s.list_subscriptions(&e.id, Environment::Test)
            .await
            .unwrap_err(),
        "subscriptions.notification_types",
    );
}

/// The migrations of `backend` as the old runner applied them: (version, name, SQL).
fn legacy_migrations(postgres: bool) -> [(i64, &'static str, &'static str); 4] {
    if postgres {
        [
            (
                1,
                "init",
                include_str!("../migrations/postgres/0001_init.sql"),
            ),
            (
                2,
                "webhooks",
                include_str!("../migrations/postgres/0002_webhooks.sql"),
            ),
            (
                3,
                "wallets",
                include_str!("../migrations/postgres/0003_wallets.sql"),
            ),
            (
                4,
                "frame_ancestors",
                include_str!("../migrations/postgres/0004_frame_ancestors.sql"),
            ),
        ]
    } else {
        [
            (
                1,
                "init",
                include_str!("../migrations/sqlite/0001_init.sql"),
            ),
            (
                2,
                "webhooks",
                include_str!("../migrations/sqlite/0002_webhooks.sql"),
            ),
            (
                3,
                "wallets",
                include_str!("../migrations/sqlite/0003_wallets.sql"),
            ),
            (
                4,
                "frame_ancestors",
                include_str!("../migrations/sqlite/0004_frame_ancestors.sql"),
            ),
        ]
    }
}

/// Builds a database the way the old runner did, applying the first `applied` migrations.
async fn legacy_database(url: &str, applied: usize) {
    let pool = raw(url).await;
    exec(
        &pool,
        "CREATE TABLE latchkey_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    )
    .await;
    for (version, name, sql) in legacy_migrations(is_postgres(url))
        .into_iter()
        .take(applied)
    {
        exec(&pool, sql).await;
        sqlx::query("INSERT INTO latchkey_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

async fn sqlx_versions(url: &str) -> Vec<(i64, bool)> {
    let pool = raw(url).await;
    // `success` through an expression: `Any` cannot read SQLite's declared BOOLEAN columns.
    let rows = sqlx::query(
        "SELECT version, CASE WHEN success THEN 1 ELSE 0 END FROM _sqlx_migrations ORDER BY version",
    )
        .fetch_all(&pool)
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) == 1))
        .collect()
}

/// Every migration the crate ships, applied: `(version, success)` for each file's number, in
/// order, read from the migration files so that a new migration needs no edit here (numbers
/// may have gaps while parallel work lands: 0009 can arrive before 0008).
fn every_migration() -> Vec<(i64, bool)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.split('_').next().unwrap().parse().unwrap()
        })
        .collect();
    versions.sort_unstable();
    versions.into_iter().map(|v| (v, true)).collect()
}

#[tokio::test]
async fn a_database_of_the_old_migrator_is_adopted_and_opens() {
    let url = fresh_url().await;
    legacy_database(&url, 4).await;
    let (s, e, u, c) = seeded(&url).await;
    assert!(s
        .challenge(&e.id, &u.internal_id, &c.id)
        .await
        .unwrap()
        .is_some());
    let all = every_migration();
    assert_eq!(sqlx_versions(&url).await, all);
    drop(s);
    // Opening again finds everything applied, checksums matching.
    let again = latchkey_store::open(&url, 4).await.unwrap();
    assert!(again
        .user(&e.id, Environment::Test, "u")
        .await
        .unwrap()
        .is_some());
    assert_eq!(sqlx_versions(&url).await, all);
}

#[tokio::test]
async fn an_old_database_behind_the_latest_migration_is_adopted_then_migrated() {
    let url = fresh_url().await;
    legacy_database(&url, 3).await;
    let (s, e, _, _) = seeded(&url).await;
    // Version 4 (frame ancestors) and later ones were applied by sqlx's migrator after the
    // adoption.
    assert!(s
        .set_frame_ancestor(&e.id, "https://a.test", true)
        .await
        .unwrap());
    assert_eq!(
        s.frame_ancestors(&e.id).await.unwrap(),
        vec!["https://a.test".to_string()]
    );
    assert_eq!(sqlx_versions(&url).await, every_migration());
}

#[tokio::test]
async fn instances_opening_a_new_database_together_all_open_it() {
    let url = fresh_url().await;
    let opens = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { latchkey_store::open(&url, 4).await.map(|_| ()) })
    });
    for open in opens.collect::<Vec<_>>() {
        open.await.unwrap().unwrap();
    }
    assert_eq!(sqlx_versions(&url).await, every_migration());
}

#[tokio::test]
async fn existing_users_and_subscriptions_get_the_environment_their_keys_and_wallets_show() {
    let url = fresh_url().await;
    legacy_database(&url, 4).await;
    let pool = raw(&url).await;
    // Entity "mixed" has a TEST and a LIVE key; entity "live" has LIVE keys only.
    exec(
        &pool,
        "INSERT INTO entities (id, app_id, name, is_default, created_at) VALUES \
         ('mixed', 'app-mixed', 'm', 1, 0), ('live', 'app-live', 'l', 0, 0)",
    )
    .await;
    for (key, entity, env) in [
        ("k1", "mixed", "TEST"),
        ("k2", "mixed", "LIVE"),
        ("k3", "live", "LIVE"),
    ] {
        sqlx::query(
            "INSERT INTO api_keys (key_id, entity_id, name, environment, secret_hash, created_at) \
             VALUES ($1, $2, 'k', $3, $4, 0)",
        )
        .bind(key)
        .bind(entity)
        .bind(env)
        .bind(vec![0u8; 32])
        .execute(&pool)
        .await
        .unwrap();
    }
    exec(
        &pool,
        "INSERT INTO users (entity_id, internal_id, user_id, created_at) VALUES \
         ('mixed', 'i-none', 'no-wallets', 0), ('mixed', 'i-main', 'mainnet-only', 0), \
         ('mixed', 'i-both', 'both-networks', 0), ('mixed', 'i-test', 'testnet-only', 0), \
         ('live', 'i-live', 'anyone', 0)",
    )
    .await;
    for (wallet, user, chain) in [
        ("w1", "i-main", "ETH"),
        ("w2", "i-main", "SOL"),
        ("w3", "i-both", "ETH"),
        ("w4", "i-both", "ETH-SEPOLIA"),
        ("w5", "i-test", "BASE-SEPOLIA"),
    ] {
        sqlx::query(
            "INSERT INTO wallets (id, entity_id, user_internal_id, wallet_set_id, blockchain, \
             account_type, address, state, sealed_key, created_at, updated_at) \
             VALUES ($1, 'mixed', $2, 'set', $3, 'EOA', 'addr', 'LIVE', $4, 0, 0)",
        )
        .bind(wallet)
        .bind(user)
        .bind(chain)
        .bind(vec![1u8; 48])
        .execute(&pool)
        .await
        .unwrap();
    }
    exec(
        &pool,
        "INSERT INTO challenges (id, entity_id, user_internal_id, kind, status, created_at, \
         expires_at, updated_at) VALUES ('c-main', 'mixed', 'i-main', 'SET_PIN', 'PENDING', 0, 0, 0), \
         ('c-none', 'mixed', 'i-none', 'SET_PIN', 'PENDING', 0, 0, 0); \
         INSERT INTO subscriptions (id, entity_id, name, endpoint, created_at, updated_at) VALUES \
         ('s-mixed', 'mixed', 's', 'https://a.test', 0, 0), ('s-live', 'live', 's', 'https://b.test', 0, 0)",
    )
    .await;
    pool.close().await;

    let s = latchkey_store::open(&url, 4).await.unwrap();
    let (test, live) = (Environment::Test, Environment::Live);
    for (entity, user_id, env) in [
        ("mixed", "no-wallets", test),
        ("mixed", "mainnet-only", live),
        ("mixed", "both-networks", test),
        ("mixed", "testnet-only", test),
        ("live", "anyone", live),
    ] {
        let other = if env == test { live } else { test };
        assert!(
            s.user(entity, env, user_id).await.unwrap().is_some(),
            "{user_id}"
        );
        assert!(
            s.user(entity, other, user_id).await.unwrap().is_none(),
            "{user_id}"
        );
    }
    // Rows that point at users survived the rebuild, still reachable through their user.
    for (user, challenge) in [("i-main", "c-main"), ("i-none", "c-none")] {
        assert!(s
            .challenge("mixed", user, challenge)
            .await
            .unwrap()
            .is_some());
    }
    assert!(s.wallet("mixed", "i-main", "w1").await.unwrap().is_some());
    assert!(s
        .subscription("mixed", test, "s-mixed")
        .await
        .unwrap()
        .is_some());
    assert!(s
        .subscription("live", live, "s-live")
        .await
        .unwrap()
        .is_some());
    // The old uniqueness is gone: the same userId can now exist in the other environment.
    s.insert_user(&NewUser {
        entity_id: "mixed".into(),
        environment: live,
        internal_id: "i-new".into(),
        user_id: "no-wallets".into(),
        created_at: T0,
    })
    .await
    .unwrap();
    assert_eq!(sqlx_versions(&url).await.last(), every_migration().last());
}
