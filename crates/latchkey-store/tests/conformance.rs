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

/// Wallets: the owner's userId by id and in the list, per user.
#[path = "conformance/wallets.rs"]
mod wallets;

/// Nonce reservation: per challenge, concurrent, released first, the sweeper.
#[path = "conformance/nonces.rs"]
mod nonces;

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
async fn idempotent_create_replays_refuses_mismatch_and_admits_one_of_many() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "idem-user", T0).await;
    let c = challenge(&e, &u, ChallengeType::SetPin);
    assert_eq!(
        s.create_challenge(&c, &claim("k1", 1), 100).await.unwrap(),
        Idempotent::Created(c.id.clone())
    );
    let c2 = challenge(&e, &u, ChallengeType::SetPin);
    assert_eq!(
        s.create_challenge(&c2, &claim("k1", 1), 100).await.unwrap(),
        Idempotent::Replayed(c.id.clone())
    );
    assert_eq!(
        s.create_challenge(&c2, &claim("k1", 2), 100).await.unwrap(),
        Idempotent::Mismatch
    );
    assert_eq!(
        s.idempotency_record(&e.id, "k1").await.unwrap(),
        Some((vec![1; 32], c.id.clone()))
    );
    assert_eq!(
        s.challenge(&e.id, &u.internal_id, &c2.id).await.unwrap(),
        None,
        "no second effect"
    );

    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (s, c) = (s.clone(), challenge(&e, &u, ChallengeType::ChangePin));
        tasks.push(tokio::spawn(async move {
            s.create_challenge(&c, &claim("k2", 9), 100).await.unwrap()
        }));
    }
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            Idempotent::Created(id) => {
                created += 1;
                ids.insert(id);
            }
            Idempotent::Replayed(id) => {
                ids.insert(id);
            }
            Idempotent::Mismatch | Idempotent::Full => panic!("same request, under the cap"),
        }
    }
    assert_eq!((created, ids.len()), (1, 1));
    // Records are kept until purged (the server purges after 48 hours).
    assert_eq!(s.purge_idempotency(T0).await.unwrap(), 0);
    assert_eq!(s.purge_idempotency(T0.plus_ms(1)).await.unwrap(), 2);
    assert_eq!(s.idempotency_record(&e.id, "k1").await.unwrap(), None);
}

#[tokio::test]
async fn completing_a_challenge_is_all_or_nothing() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "commit-user", T0).await;
    let c = challenge(&e, &u, ChallengeType::Initialize);
    s.create_challenge(&c, &claim("c1", 1), 100).await.unwrap();
    let audit = vec![AuditEvent::user(
        &e.id,
        &u.internal_id,
        "pin.set",
        json!({}),
        T0,
    )];
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        now: T0.plus_ms(10),
        pin: Some(PinUpdate {
            wrap: wrap(1),
            expected_version: None,
        }),
        answers: Some(AnswersUpdate {
            wrap: wrap(2),
            questions: vec![StoredQuestion {
                question: "q?".into(),
                hint: None,
            }],
        }),
        reset_pin_guesses: true,
        rewraps: vec![],
        correlation_ids: vec!["w1".into()],
        audit,
        notification: None,
        wallets: vec![],
        outbound: None,
    };
    assert_eq!(s.complete_challenge(&commit).await.unwrap(), Ok(()));
    let got = s
        .user(&e.id, Environment::Test, "commit-user")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.pin_wrap, got.answers_wrap, got.pin_version),
        (Some(wrap(1)), Some(wrap(2)), 1)
    );
    let stored = s
        .challenge(&e.id, &u.internal_id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.status, stored.correlation_ids),
        (ChallengeStatus::Complete, vec!["w1".to_string()])
    );
    // The same challenge cannot complete twice.
    assert_eq!(
        s.complete_challenge(&commit).await.unwrap(),
        Err(CommitRefused::ChallengeNotOpen)
    );

    // A PIN change against a stale version writes nothing, not even the challenge status.
    let c2 = challenge(&e, &u, ChallengeType::ChangePin);
    s.create_challenge(&c2, &claim("c2", 1), 100).await.unwrap();
    let stale = ChallengeCommit {
        challenge_id: c2.id.clone(),
        pin: Some(PinUpdate {
            wrap: wrap(3),
            expected_version: Some(0),
        }),
        answers: None,
        audit: vec![AuditEvent::user(
            &e.id,
            &u.internal_id,
            "pin.changed",
            json!({}),
            T0,
        )],
        ..commit.clone()
    };
    assert_eq!(
        s.complete_challenge(&stale).await.unwrap(),
        Err(CommitRefused::UserChanged)
    );
    assert_eq!(
        s.challenge(&e.id, &u.internal_id, &c2.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ChallengeStatus::Pending
    );
    assert_eq!(
        s.user(&e.id, Environment::Test, "commit-user")
            .await
            .unwrap()
            .unwrap()
            .pin_wrap,
        Some(wrap(1))
    );
    let log: Vec<_> = s
        .audit_log(&e.id, Some(&u.internal_id), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        log,
        vec!["pin.set".to_string()],
        "the refused commit left no audit row"
    );
    // An expired challenge cannot complete.
    let late = ChallengeCommit {
        now: T0.plus_ms(900_000),
        pin: Some(PinUpdate {
            wrap: wrap(4),
            expected_version: Some(1),
        }),
        ..stale
    };
    assert_eq!(
        s.complete_challenge(&late).await.unwrap(),
        Err(CommitRefused::ChallengeNotOpen)
    );
}

#[tokio::test]
async fn challenge_states_fail_expire_and_list() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "state-user", T0).await;
    let a = challenge(&e, &u, ChallengeType::ChangePin);
    let b = challenge(&e, &u, ChallengeType::ChangePin);
    s.create_challenge(&a, &claim("a", 1), 100).await.unwrap();
    s.create_challenge(&b, &claim("b", 1), 100).await.unwrap();
    s.mark_challenge_in_progress(&e.id, &u.internal_id, &a.id, T0)
        .await
        .unwrap();
    let failure = ChallengeFailure {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: a.id.clone(),
        error_code: 155119,
        error_message: "locked".into(),
        now: T0,
        audit: vec![],
        notification: None,
    };
    s.fail_challenge(&failure).await.unwrap();
    let got = s
        .challenge(&e.id, &u.internal_id, &a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.status, got.error_code),
        (ChallengeStatus::Failed, Some(155119))
    );
    s.mark_challenge_in_progress(&e.id, &u.internal_id, &a.id, T0)
        .await
        .unwrap();
    assert_eq!(
        s.challenge(&e.id, &u.internal_id, &a.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ChallengeStatus::Failed,
        "terminal"
    );
    let later = T0.plus_ms(900_000);
    let pending = challenges_of(&*s, &e, &u, Some(ChallengeStatus::Pending), T0)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert!(
        challenges_of(&*s, &e, &u, Some(ChallengeStatus::Pending), later)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        challenges_of(&*s, &e, &u, Some(ChallengeStatus::Expired), later)
            .await
            .unwrap()
            .len(),
        1
    );
    s.expire_challenge(&e.id, &u.internal_id, &b.id, later)
        .await
        .unwrap();
    assert_eq!(
        s.challenge(&e.id, &u.internal_id, &b.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ChallengeStatus::Expired
    );
    assert_eq!(
        challenges_of(&*s, &e, &u, None, later).await.unwrap().len(),
        2
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

fn subscription(e: &Entity, types: &[&str]) -> SubscriptionRecord {
    SubscriptionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: e.id.clone(),
        environment: Environment::Test,
        name: String::new(),
        endpoint: "https://example.com/hook".into(),
        enabled: true,
        notification_types: types.iter().map(|t| t.to_string()).collect(),
        failing_since: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn draft(e: &Entity, t: &str) -> NotificationDraft {
    NotificationDraft {
        entity_id: e.id.clone(),
        environment: Environment::Test,
        notification_type: t.into(),
        payload: json!({ "x": 1 }),
        only_subscription: None,
    }
}

#[tokio::test]
async fn subscriptions_filter_the_outbox_and_claims_are_exclusive() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let all = subscription(&e, &[]);
    let pins = subscription(&e, &["challenges.changePin"]);
    let mut paused = subscription(&e, &["*"]);
    paused.enabled = false;
    for sub in [&all, &pins, &paused] {
        s.insert_subscription(sub).await.unwrap();
    }
    assert_eq!(
        s.list_subscriptions(&e.id, Environment::Test)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.enqueue_notification(&draft(&e, "challenges.changePin"), T0)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.enqueue_notification(&draft(&e, "challenges.setPin"), T0)
            .await
            .unwrap()
            .len(),
        1
    );
    let only = NotificationDraft {
        only_subscription: Some(pins.id.clone()),
        ..draft(&e, TEST_NOTIFICATION)
    };
    assert_eq!(s.enqueue_notification(&only, T0).await.unwrap().len(), 1);

    // 4 due rows; concurrent claimers never share one.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.claim_deliveries(T0, 60_000, 1).await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap().into_iter().map(|c| c.delivery.id));
    }
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!((n, ids.len()), (4, 4));
    assert!(
        s.claim_deliveries(T0.plus_ms(59_999), 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let reclaimed = s
        .claim_deliveries(T0.plus_ms(60_000), 60_000, 10)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 4, "a lapsed lease frees the row");

    let c = &reclaimed[0];
    let retry = AttemptOutcome::Failed {
        status_code: Some(500),
        error: "answered 500".into(),
        next_attempt_at: Some(T0.plus_ms(70_000)),
    };
    assert!(s
        .finish_delivery(c, &retry, T0.plus_ms(60_001))
        .await
        .unwrap());
    assert!(
        !s.finish_delivery(c, &retry, T0.plus_ms(60_001))
            .await
            .unwrap(),
        "the claim is spent"
    );
    let row = s
        .list_deliveries(&e.id, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == c.delivery.id)
        .unwrap();
    assert_eq!(
        (
            row.status,
            row.attempts,
            row.last_status_code,
            row.next_attempt_at
        ),
        (DeliveryStatus::Pending, 1, Some(500), T0.plus_ms(70_000))
    );
    let again = s
        .claim_deliveries(T0.plus_ms(70_000), 60_000, 10)
        .await
        .unwrap();
    let mine = again
        .iter()
        .find(|d| d.delivery.id == c.delivery.id)
        .unwrap();
    let gave_up = AttemptOutcome::Failed {
        status_code: None,
        error: "timed out".into(),
        next_attempt_at: None,
    };
    assert!(s
        .finish_delivery(mine, &gave_up, T0.plus_ms(70_001))
        .await
        .unwrap());
    let sub = s
        .subscription(&e.id, Environment::Test, &mine.delivery.subscription_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.failing_since, Some(T0.plus_ms(70_001)));
    assert!(s
        .redeliver(&e.id, &mine.delivery.id, T0.plus_ms(80_000))
        .await
        .unwrap());
    let back = s
        .claim_deliveries(T0.plus_ms(80_000), 60_000, 10)
        .await
        .unwrap();
    let back = back
        .iter()
        .find(|d| d.delivery.id == mine.delivery.id)
        .unwrap();
    assert!(s
        .finish_delivery(
            back,
            &AttemptOutcome::Delivered { status_code: 204 },
            T0.plus_ms(80_001)
        )
        .await
        .unwrap());
    let sub = s
        .subscription(&e.id, Environment::Test, &back.delivery.subscription_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.failing_since, None);

    assert!(s
        .update_subscription(
            &e.id,
            Environment::Test,
            &paused.id,
            Some("n"),
            Some(true),
            T0
        )
        .await
        .unwrap());
    assert!(
        s.subscription(&e.id, Environment::Test, &paused.id)
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
    assert!(s
        .delete_subscription(&e.id, Environment::Test, &all.id)
        .await
        .unwrap());
    assert!(!s
        .delete_subscription(&e.id, Environment::Test, &all.id)
        .await
        .unwrap());
    assert!(s
        .list_deliveries(&e.id, 100)
        .await
        .unwrap()
        .iter()
        .all(|d| d.subscription_id != all.id));
}

#[tokio::test]
async fn completing_or_failing_a_challenge_queues_its_notification_in_the_same_transaction() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    s.insert_subscription(&subscription(&e, &["challenges.*"]))
        .await
        .unwrap();
    let u = user(&*s, &e, "notify-user", T0).await;
    let c = challenge(&e, &u, ChallengeType::SetPin);
    s.create_challenge(&c, &claim("n1", 1), 100).await.unwrap();
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        now: T0,
        pin: Some(PinUpdate {
            wrap: wrap(1),
            expected_version: Some(7),
        }),
        answers: None,
        reset_pin_guesses: false,
        rewraps: vec![],
        correlation_ids: vec![],
        audit: vec![],
        notification: Some(draft(&e, "challenges.setPin")),
        wallets: vec![],
        outbound: None,
    };
    assert_eq!(
        s.complete_challenge(&commit).await.unwrap(),
        Err(CommitRefused::UserChanged)
    );
    assert!(
        s.list_deliveries(&e.id, 10).await.unwrap().is_empty(),
        "a refused commit queues nothing"
    );
    let ok = ChallengeCommit {
        pin: Some(PinUpdate {
            wrap: wrap(1),
            expected_version: None,
        }),
        ..commit
    };
    assert_eq!(s.complete_challenge(&ok).await.unwrap(), Ok(()));
    assert_eq!(s.list_deliveries(&e.id, 10).await.unwrap().len(), 1);
    let f = ChallengeFailure {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        error_code: 155119,
        error_message: "locked".into(),
        now: T0,
        audit: vec![],
        notification: Some(draft(&e, "challenges.setPin")),
    };
    s.fail_challenge(&f).await.unwrap();
    assert_eq!(
        s.list_deliveries(&e.id, 10).await.unwrap().len(),
        1,
        "a COMPLETE challenge does not fail or notify again"
    );
}

#[tokio::test]
async fn webhook_keys_rotate_and_stay_resolvable() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let key = |id: &str| WebhookKeyRecord {
        id: id.into(),
        entity_id: e.id.clone(),
        public_key_der: vec![1, 2],
        sealed_private_key: vec![3, 4],
        active: true,
        created_at: T0,
    };
    s.insert_webhook_key(&key("k1")).await.unwrap();
    s.insert_webhook_key(&key("k2")).await.unwrap();
    assert_eq!(s.active_webhook_key(&e.id).await.unwrap().unwrap().id, "k2");
    let old = s.webhook_key(&e.id, "k1").await.unwrap().unwrap();
    assert!(!old.active);
    assert_eq!(s.webhook_key("other-entity", "k1").await.unwrap(), None);
}

#[tokio::test]
async fn challenges_page_both_ways_by_creation_then_id() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "paged-user", T0).await;
    // Pairs share a creation time: the id orders them.
    let mut made = Vec::new();
    for i in 0..7 {
        let mut c = challenge(&e, &u, ChallengeType::SetPin);
        c.created_at = T0.plus_ms(i / 2);
        s.create_challenge(&c, &claim(&format!("p{i}"), 1), 100)
            .await
            .unwrap();
        made.push((c.created_at, c.id));
    }
    made.sort();
    let newest_first: Vec<String> = made.iter().rev().map(|(_, id)| id.clone()).collect();
    let q = |cursor, order| PageQuery {
        size: 3,
        cursor,
        order,
        from: None,
        to: None,
    };
    let page = |query: PageQuery| {
        let s = s.clone();
        let (e, u) = (e.id.clone(), u.internal_id.clone());
        async move { s.list_challenges(&e, &u, None, &query, T0).await.unwrap() }
    };
    let ids = |p: &Page<ChallengeRecord>| p.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let mut walked = Vec::new();
    let mut cursor = Cursor::None;
    loop {
        let p = page(q(cursor, Order::Desc)).await.unwrap();
        walked.extend(ids(&p));
        match (p.has_next, walked.last()) {
            (true, Some(last)) => cursor = Cursor::After(last.clone()),
            _ => break,
        }
    }
    assert_eq!(walked, newest_first);
    // Back from the end: the page before the oldest three is the one before them.
    let before = page(q(Cursor::Before(newest_first[4].clone()), Order::Desc))
        .await
        .unwrap();
    assert_eq!(ids(&before), newest_first[1..4].to_vec());
    assert!(before.has_prev && before.has_next);
    let asc = page(q(Cursor::None, Order::Asc)).await.unwrap();
    assert_eq!(
        ids(&asc),
        vec![
            newest_first[6].clone(),
            newest_first[5].clone(),
            newest_first[4].clone()
        ]
    );
    // A cursor that is not one of this user's challenges names no page.
    let other = user(&*s, &e, "other-user", T0).await;
    let none = s
        .list_challenges(
            &e.id,
            &other.internal_id,
            None,
            &q(Cursor::After(walked[0].clone()), Order::Desc),
            T0,
        )
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn open_challenges_are_capped_per_user_even_when_created_at_once() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "capped-user", T0).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (s, c) = (s.clone(), challenge(&e, &u, ChallengeType::SetPin));
        tasks.push(tokio::spawn(async move {
            s.create_challenge(&c, &claim(&format!("k{i}"), 1), 3)
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Idempotent::Created(_) => created += 1,
            Idempotent::Full => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 3);
    // A refused creation wrote nothing, its idempotency key included; a replay still replays.
    let open = challenges_of(&*s, &e, &u, None, T0).await.unwrap();
    assert_eq!(open.len(), 3);
    let mut c = challenge(&e, &u, ChallengeType::SetPin);
    assert_eq!(
        s.create_challenge(&c, &claim("late", 1), 3).await.unwrap(),
        Idempotent::Full
    );
    assert!(s.idempotency_record(&e.id, "late").await.unwrap().is_none());
    // Expired challenges are not open.
    c.created_at = T0.plus_ms(900_000);
    c.expires_at = c.created_at.plus_ms(900_000);
    assert!(matches!(
        s.create_challenge(&c, &claim("late", 1), 3).await.unwrap(),
        Idempotent::Created(_)
    ));
}

#[tokio::test]
async fn delivered_rows_are_pruned_after_their_retention_and_nothing_else() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    s.insert_subscription(&subscription(&e, &[])).await.unwrap();
    for _ in 0..4 {
        s.enqueue_notification(&draft(&e, "challenges.setPin"), T0)
            .await
            .unwrap();
    }
    let claims = s.claim_deliveries(T0, 60_000, 10).await.unwrap();
    assert_eq!(claims.len(), 4);
    // Two delivered (at T0+1s and T0+2s), one failed for good, one left pending.
    for (i, c) in claims.iter().take(2).enumerate() {
        let ok = AttemptOutcome::Delivered { status_code: 200 };
        let at = T0.plus_ms(1000 * (i as i64 + 1));
        assert!(s.finish_delivery(c, &ok, at).await.unwrap());
    }
    let gave_up = AttemptOutcome::Failed {
        status_code: Some(500),
        error: "answered 500".into(),
        next_attempt_at: None,
    };
    assert!(s.finish_delivery(&claims[2], &gave_up, T0).await.unwrap());
    assert_eq!(
        s.prune_delivered(T0.plus_ms(1000)).await.unwrap(),
        0,
        "strictly before"
    );
    assert_eq!(s.prune_delivered(T0.plus_ms(1001)).await.unwrap(), 1);
    assert_eq!(s.prune_delivered(T0.plus_ms(1001)).await.unwrap(), 0);
    assert_eq!(s.prune_delivered(T0.plus_ms(60_000_000)).await.unwrap(), 1);
    let left = s.list_deliveries(&e.id, 10).await.unwrap();
    let mut statuses: Vec<_> = left.iter().map(|d| d.status).collect();
    statuses.sort_by_key(|st| st.as_str());
    assert_eq!(
        statuses,
        vec![DeliveryStatus::Failed, DeliveryStatus::Pending]
    );
}
