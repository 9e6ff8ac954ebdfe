//! The store conformance suite, written once and run against whichever backend
//! `LATCHKEY_TEST_DATABASE_URL` names (a PostgreSQL server) or, by default, a fresh SQLite file.
//! Each test gets a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::challenge::ChallengePayload;
use latchkey_core::clock::Timestamp;
use latchkey_core::crypto::{KdfParams, WrappedKey};
use latchkey_core::model::*;
use latchkey_core::store::*;
use latchkey_core::webhooks::*;
use serde_json::json;
use std::sync::Arc;

#[path = "support/fresh_database.rs"]
mod fresh_database;

/// Guess counting, giving guesses back, provisional locks and rewraps.
#[path = "conformance/guesses.rs"]
mod guesses;

/// The stored token registry and the monitored-token configuration.
#[path = "conformance/tokens.rs"]
mod tokens;

/// Transactions: every column, Circle's list filters, paging, lowest nonce, unique indexes.
#[path = "conformance/transactions.rs"]
mod transactions;

/// Challenges: idempotency, completion, states, paging, the open cap.
#[path = "conformance/challenges.rs"]
mod challenges;

/// Webhooks: subscriptions, the outbox and its claims, keys, pruning.
#[path = "conformance/webhooks.rs"]
mod webhooks;
use webhooks::{draft, subscription};

/// Wallets: the owner's userId by id and in the list, per user.
#[path = "conformance/wallets.rs"]
mod wallets;

/// Nonce reservation: per challenge, concurrent, released first, the sweeper.
#[path = "conformance/nonces.rs"]
mod nonces;

/// Sponsorship policies and the day's sponsored operations.
#[path = "conformance/sponsorship.rs"]
mod sponsorship;

/// The follower: the chain lease and cursor, wallets by address.
#[path = "conformance/follower.rs"]
mod follower;

async fn fresh_store() -> Arc<dyn Store> {
    let (url, _) = fresh_database::fresh_database_url().await;
    latchkey_store::open(&url, 8).await.unwrap()
}

const T0: Timestamp = Timestamp(1_800_000_000_000);

async fn entity(store: &dyn Store) -> Entity {
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "e".into(),
        created_at: T0,
    };
    let (got, created) = store.ensure_default_entity(&e).await.unwrap();
    assert!(created);
    got
}

async fn user(store: &dyn Store, e: &Entity, user_id: &str, at: Timestamp) -> UserRecord {
    user_in(store, e, Environment::Test, user_id, at).await
}

async fn user_in(
    store: &dyn Store,
    e: &Entity,
    environment: Environment,
    user_id: &str,
    at: Timestamp,
) -> UserRecord {
    store
        .insert_user(&NewUser {
            entity_id: e.id.clone(),
            environment,
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.into(),
            created_at: at,
        })
        .await
        .unwrap()
}

fn wrap(tag: u8) -> WrappedKey {
    WrappedKey {
        salt: vec![tag; 16],
        params: KdfParams::DEV,
        sealed: vec![tag; 60],
    }
}

fn challenge(e: &Entity, u: &UserRecord, kind: ChallengeType) -> ChallengeRecord {
    ChallengeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        kind,
        status: ChallengeStatus::Pending,
        correlation_ids: vec![],
        error_code: None,
        error_message: None,
        payload: ChallengePayload::decode(kind, "{}").unwrap(),
        created_at: T0,
        expires_at: T0.plus_ms(900_000),
        updated_at: T0,
    }
}

/// The first page (of 50) of the user's challenges.
async fn challenges_of(
    s: &dyn Store,
    e: &Entity,
    u: &UserRecord,
    status: Option<ChallengeStatus>,
    now: Timestamp,
) -> StoreResult<Vec<ChallengeRecord>> {
    let page = PageQuery {
        size: 50,
        cursor: Cursor::None,
        order: Order::Desc,
        from: None,
        to: None,
    };
    let listed = s
        .list_challenges(&e.id, &u.internal_id, status, &page, now)
        .await?;
    Ok(listed.map(|p| p.items).unwrap_or_default())
}

fn claim(key: &str, hash: u8) -> IdempotencyClaim {
    IdempotencyClaim {
        key: key.into(),
        request_hash: vec![hash; 32],
    }
}

#[tokio::test]
async fn default_entity_is_created_once() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let other = Entity {
        id: "x".into(),
        app_id: "y".into(),
        name: "z".into(),
        created_at: T0,
    };
    let (again, created) = s.ensure_default_entity(&other).await.unwrap();
    assert!(!created);
    assert_eq!(again, e);
    assert_eq!(
        s.entity_by_app_id(&e.app_id).await.unwrap(),
        Some(e.clone())
    );
    assert_eq!(s.entity_by_app_id("nope").await.unwrap(), None);
}

#[tokio::test]
async fn users_are_unique_per_entity_and_isolated() {
    let s = fresh_store().await;
    let a = entity(&*s).await;
    let b = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "b".into(),
        created_at: T0,
    };
    s.insert_entity(&b).await.unwrap();
    let ua = user(&*s, &a, "same-id", T0).await;
    assert_eq!(ua.pin_wrap, None);
    let dup = s
        .insert_user(&NewUser {
            entity_id: a.id.clone(),
            environment: Environment::Test,
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: "same-id".into(),
            created_at: T0,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));
    let ub = user(&*s, &b, "same-id", T0).await;
    assert_ne!(ua.internal_id, ub.internal_id);
    assert_eq!(
        s.user(&a.id, Environment::Test, "same-id")
            .await
            .unwrap()
            .unwrap()
            .internal_id,
        ua.internal_id
    );
    assert_eq!(
        s.user_by_internal_id(&a.id, &ub.internal_id).await.unwrap(),
        None,
        "another entity's user"
    );
    let c = challenge(&b, &ub, ChallengeType::SetPin);
    s.create_challenge(&c, &claim("k", 1), 100).await.unwrap();
    assert_eq!(
        s.challenge(&a.id, &ub.internal_id, &c.id).await.unwrap(),
        None
    );
    assert_eq!(
        s.challenge(&b.id, &ua.internal_id, &c.id).await.unwrap(),
        None,
        "another user's challenge"
    );
    assert!(s
        .challenge(&b.id, &ub.internal_id, &c.id)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn users_and_subscriptions_belong_to_one_environment() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let (test, live) = (Environment::Test, Environment::Live);
    // The same userId once per environment: two users; a second one in an environment conflicts.
    let t = user_in(&*s, &e, test, "twin-user", T0).await;
    let l = user_in(&*s, &e, live, "twin-user", T0).await;
    assert_ne!(t.internal_id, l.internal_id);
    assert_eq!((t.environment, l.environment), (test, live));
    let dup = s
        .insert_user(&NewUser {
            entity_id: e.id.clone(),
            environment: live,
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: "twin-user".into(),
            created_at: T0,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));
    let id_in = |env| {
        let s = s.clone();
        let e = e.id.clone();
        async move { s.user(&e, env, "twin-user").await.unwrap().unwrap() }
    };
    assert_eq!(id_in(test).await.internal_id, t.internal_id);
    assert_eq!(id_in(live).await.internal_id, l.internal_id);
    let only_live = user_in(&*s, &e, live, "only-live", T0.plus_ms(1)).await;
    assert_eq!(s.user(&e.id, test, "only-live").await.unwrap(), None);
    // Lists and their cursors stay in one environment.
    let page = PageQuery {
        size: 10,
        cursor: Cursor::None,
        order: Order::Asc,
        from: None,
        to: None,
    };
    let listed = |env| {
        let (s, e, page) = (s.clone(), e.id.clone(), page.clone());
        async move {
            let all = UserFilter::default();
            let p = s.list_users(&e, env, &all, &page, T0).await;
            let items = p.unwrap().unwrap().items;
            items.into_iter().map(|u| u.internal_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(test).await, vec![t.internal_id.clone()]);
    assert_eq!(
        listed(live).await,
        vec![l.internal_id.clone(), only_live.internal_id.clone()]
    );
    let from_live = PageQuery {
        cursor: Cursor::After("only-live".into()),
        ..page.clone()
    };
    let all = UserFilter::default();
    let p = s.list_users(&e.id, test, &all, &from_live, T0).await;
    assert!(p.unwrap().is_none(), "a cursor of the other environment");
    // The operator's changes reach exactly the user named.
    let ev = AuditEvent::user(&e.id, &l.internal_id, "user.disabled", json!({}), T0);
    assert!(s
        .set_user_disabled(&e.id, &l.internal_id, true, &ev)
        .await
        .unwrap());
    assert!(id_in(live).await.disabled && !id_in(test).await.disabled);

    // Subscriptions: each environment sees, changes and deletes its own only, and a
    // notification goes to the subscriptions of its environment only.
    let t_sub = subscription(&e, &[]);
    let l_sub = SubscriptionRecord {
        environment: live,
        ..subscription(&e, &[])
    };
    for sub in [&t_sub, &l_sub] {
        s.insert_subscription(sub).await.unwrap();
    }
    for (env, mine, other) in [(test, &t_sub, &l_sub), (live, &l_sub, &t_sub)] {
        assert_eq!(
            s.list_subscriptions(&e.id, env).await.unwrap(),
            vec![mine.clone()]
        );
        assert_eq!(s.subscription(&e.id, env, &other.id).await.unwrap(), None);
        let renamed = s.update_subscription(&e.id, env, &other.id, Some("x"), None, T0);
        assert!(!renamed.await.unwrap());
        assert!(!s.delete_subscription(&e.id, env, &other.id).await.unwrap());
        let to_env = NotificationDraft {
            environment: env,
            ..draft(&e, "challenges.setPin")
        };
        assert_eq!(s.enqueue_notification(&to_env, T0).await.unwrap().len(), 1);
        let to_other = NotificationDraft {
            only_subscription: Some(other.id.clone()),
            ..to_env
        };
        assert!(s
            .enqueue_notification(&to_other, T0)
            .await
            .unwrap()
            .is_empty());
    }
    let claimed = s.claim_deliveries(T0, 60_000, 10).await.unwrap();
    let mut targets: Vec<_> = claimed
        .iter()
        .map(|c| c.delivery.subscription_id.clone())
        .collect();
    targets.sort();
    let mut expected = vec![t_sub.id.clone(), l_sub.id.clone()];
    expected.sort();
    assert_eq!(targets, expected);
    assert_eq!(
        s.subscription(&e.id, live, &l_sub.id)
            .await
            .unwrap()
            .unwrap()
            .name,
        l_sub.name,
        "untouched by the other environment"
    );
}

#[tokio::test]
async fn list_users_pages_both_ways() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    for i in 0..5 {
        user(&*s, &e, &format!("user-{i}"), T0.plus_ms(i * 1000)).await;
    }
    let q = |cursor, order| PageQuery {
        size: 2,
        cursor,
        order,
        from: None,
        to: None,
    };
    let ids = |p: &Page<UserRecord>| {
        p.items
            .iter()
            .map(|u| u.user_id.clone())
            .collect::<Vec<_>>()
    };
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::None, Order::Desc),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ids(&p), p.has_next, p.has_prev),
        (vec!["user-4".to_string(), "user-3".into()], true, false)
    );
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::After("user-3".into()), Order::Desc),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ids(&p), p.has_next, p.has_prev),
        (vec!["user-2".to_string(), "user-1".into()], true, true)
    );
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::Before("user-1".into()), Order::Desc),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&p), vec!["user-3".to_string(), "user-2".into()]);
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::After("user-1".into()), Order::Desc),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ids(&p), p.has_next), (vec!["user-0".to_string()], false));
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::None, Order::Asc),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&p), vec!["user-0".to_string(), "user-1".into()]);
    let ranged = PageQuery {
        size: 10,
        cursor: Cursor::None,
        order: Order::Asc,
        from: Some(T0.plus_ms(1000)),
        to: Some(T0.plus_ms(3000)),
    };
    let p = s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &ranged,
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ids(&p),
        vec!["user-1".to_string(), "user-2".into(), "user-3".into()]
    );
    assert!(s
        .list_users(
            &e.id,
            Environment::Test,
            &UserFilter::default(),
            &q(Cursor::After("ghost".into()), Order::Desc),
            T0
        )
        .await
        .unwrap()
        .is_none());
    let unset = UserFilter {
        pin_status: Some("UNSET".into()),
        security_question_status: None,
    };
    assert_eq!(
        s.list_users(
            &e.id,
            Environment::Test,
            &unset,
            &q(Cursor::None, Order::Desc),
            T0
        )
        .await
        .unwrap()
        .unwrap()
        .items
        .len(),
        2
    );
    let enabled = UserFilter {
        pin_status: Some("ENABLED".into()),
        security_question_status: None,
    };
    assert_eq!(
        s.list_users(
            &e.id,
            Environment::Test,
            &enabled,
            &q(Cursor::None, Order::Desc),
            T0
        )
        .await
        .unwrap()
        .unwrap()
        .items
        .len(),
        0
    );
}

#[tokio::test]
async fn operator_changes_and_audit() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "op-user", T0).await;
    let ev = AuditEvent::user(&e.id, &u.internal_id, "user.disabled", json!({}), T0);
    assert!(s
        .set_user_disabled(&e.id, &u.internal_id, true, &ev)
        .await
        .unwrap());
    assert!(
        s.user(&e.id, Environment::Test, "op-user")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert!(!s
        .set_user_disabled(&e.id, "ghost-internal-id", true, &ev)
        .await
        .unwrap());
    let policy = LockPolicy {
        max_attempts: 1,
        lock_ms: 1000,
    };
    s.reserve_guess(&e.id, &u.internal_id, SecretKind::Answers, policy, T0, "g1")
        .await
        .unwrap();
    assert!(s
        .user(&e.id, Environment::Test, "op-user")
        .await
        .unwrap()
        .unwrap()
        .answer_guesses
        .is_locked(T0));
    let ev = AuditEvent::user(
        &e.id,
        &u.internal_id,
        "security_answers.unlocked",
        json!({}),
        T0,
    );
    assert!(s
        .lift_lock(
            &e.id,
            &u.internal_id,
            SecretKind::Answers,
            T0.plus_ms(5),
            &ev
        )
        .await
        .unwrap());
    let g = s
        .user(&e.id, Environment::Test, "op-user")
        .await
        .unwrap()
        .unwrap()
        .answer_guesses;
    assert_eq!(
        (g.failed_attempts, g.locked_expiry, g.last_lock_override),
        (0, None, Some(T0.plus_ms(5)))
    );
    s.append_audit(&[AuditEvent {
        entity_id: e.id.clone(),
        user_internal_id: None,
        action: "x".into(),
        detail: json!({}),
        at: T0,
    }])
    .await
    .unwrap();
    let all = s.audit_log(&e.id, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["user.disabled", "security_answers.unlocked", "x"]
    );
    assert_eq!(
        s.audit_log(&e.id, Some(&u.internal_id), 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn api_keys_round_trip() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let k = ApiKeyRecord {
        key_id: "kid".into(),
        entity_id: e.id.clone(),
        name: "n".into(),
        environment: Environment::Live,
        secret_hash: vec![7; 32],
        created_at: T0,
    };
    s.insert_api_key(&k).await.unwrap();
    assert_eq!(s.api_key("kid").await.unwrap(), Some(k));
    assert_eq!(s.api_key("other").await.unwrap(), None);
}
