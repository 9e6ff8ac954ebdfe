//! Challenges: idempotent creation, all-or-nothing completion, failure and expiry, paging,
//! and the per-user cap on open challenges.

use super::*;

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
