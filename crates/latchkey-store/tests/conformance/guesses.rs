//! Guesses: counted before they are checked and never beyond the limit, given back one by one
//! when right, a lock lifted only by the guess that set it, and weak wraps made again.

use super::*;

const POLICY: LockPolicy = LockPolicy {
    max_attempts: 3,
    lock_ms: 60_000,
};

async fn reserve(s: &dyn Store, u: &UserRecord, guess: &str) -> Reservation {
    s.reserve_guess(
        &u.entity_id,
        &u.internal_id,
        SecretKind::Pin,
        POLICY,
        T0,
        guess,
    )
    .await
    .unwrap()
}

async fn release(s: &dyn Store, u: &UserRecord, guess: &str) {
    s.release_guess(&u.entity_id, &u.internal_id, SecretKind::Pin, guess)
        .await
        .unwrap();
}

async fn pin_guesses(s: &dyn Store, u: &UserRecord) -> GuessState {
    s.user(&u.entity_id, u.environment, &u.user_id)
        .await
        .unwrap()
        .unwrap()
        .pin_guesses
}

#[tokio::test]
async fn guesses_are_counted_before_checking_and_never_exceed_the_limit() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "guess-user", T0).await;
    let policy = LockPolicy {
        max_attempts: 3,
        lock_ms: 60_000,
    };
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (s, e, u) = (s.clone(), e.id.clone(), u.internal_id.clone());
        tasks.push(tokio::spawn(async move {
            let guess = uuid::Uuid::new_v4().to_string();
            s.reserve_guess(&e, &u, SecretKind::Pin, policy, T0, &guess)
                .await
                .unwrap()
        }));
    }
    let mut counted = Vec::new();
    for t in tasks {
        if let Reservation::Counted { attempt } = t.await.unwrap() {
            counted.push(attempt);
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, vec![1, 2, 3]);
    let got = s
        .user(&e.id, Environment::Test, "guess-user")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.pin_guesses.locked_expiry, Some(T0.plus_ms(60_000)));
    assert_eq!(
        got.answer_guesses.failed_attempts, 0,
        "answers count separately"
    );
    assert_eq!(
        s.reserve_guess(
            &e.id,
            &u.internal_id,
            SecretKind::Pin,
            policy,
            T0.plus_ms(59_999),
            "late"
        )
        .await
        .unwrap(),
        Reservation::Locked {
            until: T0.plus_ms(60_000)
        }
    );
    // After the lock runs out a new run starts at 1.
    assert_eq!(
        s.reserve_guess(
            &e.id,
            &u.internal_id,
            SecretKind::Pin,
            policy,
            T0.plus_ms(60_000),
            "after"
        )
        .await
        .unwrap(),
        Reservation::Counted { attempt: 1 }
    );
    let got = s
        .user(&e.id, Environment::Test, "guess-user")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.pin_guesses.locked_date, got.pin_guesses.locked_expiry),
        (None, None)
    );
}

#[tokio::test]
async fn a_right_guess_gives_back_its_own_count_only() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "give-back", T0).await;
    assert_eq!(
        reserve(&*s, &u, "right").await,
        Reservation::Counted { attempt: 1 }
    );
    assert_eq!(
        reserve(&*s, &u, "wrong").await,
        Reservation::Counted { attempt: 2 }
    );
    release(&*s, &u, "right").await;
    // The wrong guess made meanwhile stays counted: a success is no reset.
    assert_eq!(pin_guesses(&*s, &u).await.failed_attempts, 1);
    assert_eq!(
        reserve(&*s, &u, "next").await,
        Reservation::Counted { attempt: 2 }
    );
    release(&*s, &u, "next").await;
    release(&*s, &u, "stray").await;
    release(&*s, &u, "stray").await;
    assert_eq!(
        pin_guesses(&*s, &u).await.failed_attempts,
        0,
        "never below zero"
    );
    let other = user(&*s, &e, "untouched", T0).await;
    assert_eq!(pin_guesses(&*s, &other).await.failed_attempts, 0);
    let answers = s
        .user(&e.id, Environment::Test, "give-back")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answers.answer_guesses.failed_attempts, 0);
}

#[tokio::test]
async fn a_lock_is_lifted_only_by_the_right_guess_that_set_it() {
    let s = fresh_store().await;
    let e = entity(&*s).await;

    // A right guess reaches the limit: its provisional lock refuses others until it is
    // given back, then lifts.
    let u = user(&*s, &e, "provisional", T0).await;
    reserve(&*s, &u, "w1").await;
    reserve(&*s, &u, "w2").await;
    assert_eq!(
        reserve(&*s, &u, "right").await,
        Reservation::Counted { attempt: 3 }
    );
    let until = T0.plus_ms(60_000);
    assert_eq!(
        reserve(&*s, &u, "refused").await,
        Reservation::Locked { until }
    );
    release(&*s, &u, "right").await;
    let g = pin_guesses(&*s, &u).await;
    assert_eq!(
        (g.failed_attempts, g.locked_date, g.locked_expiry),
        (2, None, None)
    );
    // The next wrong guess locks for good.
    assert_eq!(
        reserve(&*s, &u, "w3").await,
        Reservation::Counted { attempt: 3 }
    );
    release(&*s, &u, "right").await;
    let g = pin_guesses(&*s, &u).await;
    assert_eq!((g.failed_attempts, g.locked_expiry), (2, Some(until)));
    assert_eq!(reserve(&*s, &u, "w4").await, Reservation::Locked { until });

    // A wrong guess reaches the limit while a right one is being checked: the right one
    // gives back its count but not the lock.
    let v = user(&*s, &e, "attacked", T0).await;
    reserve(&*s, &v, "w1").await;
    reserve(&*s, &v, "right").await;
    assert_eq!(
        reserve(&*s, &v, "w2").await,
        Reservation::Counted { attempt: 3 }
    );
    release(&*s, &v, "right").await;
    let g = pin_guesses(&*s, &v).await;
    assert_eq!((g.failed_attempts, g.locked_expiry), (2, Some(until)));

    // The operator's unlock forgets the owner: a late give-back lifts nothing it did not set.
    let ev = AuditEvent::user(&e.id, &v.internal_id, "pin.unlocked", json!({}), T0);
    s.lift_lock(&e.id, &v.internal_id, SecretKind::Pin, T0, &ev)
        .await
        .unwrap();
    reserve(&*s, &v, "a").await;
    reserve(&*s, &v, "b").await;
    reserve(&*s, &v, "c").await;
    release(&*s, &v, "w2").await;
    assert_eq!(pin_guesses(&*s, &v).await.locked_expiry, Some(until));
}

/// A user whose PIN and answers wraps are `wrap(1)` and `wrap(2)`.
async fn user_with_wraps(s: &dyn Store, e: &Entity, user_id: &str) -> UserRecord {
    let u = user(s, e, user_id, T0).await;
    let c = challenge(e, &u, ChallengeType::SetPin);
    s.create_challenge(&c, &claim(user_id, 1), 100)
        .await
        .unwrap();
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        now: T0,
        pin: Some(PinUpdate {
            wrap: wrap(1),
            expected_version: None,
        }),
        answers: Some(AnswersUpdate {
            wrap: wrap(2),
            questions: vec![],
        }),
        reset_pin_guesses: false,
        rewraps: vec![],
        correlation_ids: vec![],
        audit: vec![],
        notification: None,
        wallets: vec![],
        outbound: None,
    };
    assert_eq!(s.complete_challenge(&commit).await.unwrap(), Ok(()));
    s.user(&e.id, Environment::Test, user_id)
        .await
        .unwrap()
        .unwrap()
}

const STRONG: KdfParams = KdfParams {
    m_kib: 1024,
    t: 2,
    p: 1,
};

fn rewrap(u: &UserRecord, kind: SecretKind, replaces: u8, tag: u8) -> Rewrap {
    let action = match kind {
        SecretKind::Pin => "pin.rewrapped",
        SecretKind::Answers => "answers.rewrapped",
    };
    Rewrap {
        kind,
        replaces_salt: vec![replaces; 16],
        wrap: WrappedKey {
            params: STRONG,
            ..wrap(tag)
        },
        audit: AuditEvent::user(&u.entity_id, &u.internal_id, action, json!({}), T0),
    }
}

async fn actions(s: &dyn Store, u: &UserRecord) -> Vec<String> {
    s.audit_log(&u.entity_id, Some(&u.internal_id), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[tokio::test]
async fn a_rewrap_replaces_only_the_wrap_it_was_made_from() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user_with_wraps(&*s, &e, "rewrap-user").await;
    let (id, internal) = (&e.id, &u.internal_id);
    assert!(s
        .rewrap_key(id, internal, &rewrap(&u, SecretKind::Pin, 1, 3))
        .await
        .unwrap());
    assert!(s
        .rewrap_key(id, internal, &rewrap(&u, SecretKind::Answers, 2, 4))
        .await
        .unwrap());
    let got = s
        .user(id, Environment::Test, "rewrap-user")
        .await
        .unwrap()
        .unwrap();
    let strong = |tag| WrappedKey {
        params: STRONG,
        ..wrap(tag)
    };
    assert_eq!(
        (got.pin_wrap, got.answers_wrap, got.pin_version),
        (Some(strong(3)), Some(strong(4)), u.pin_version),
        "same PIN, same version"
    );
    // Made from a wrap no longer stored (rewrapped or changed meanwhile): nothing written.
    assert!(!s
        .rewrap_key(id, internal, &rewrap(&u, SecretKind::Pin, 1, 5))
        .await
        .unwrap());
    assert_eq!(
        s.user(id, Environment::Test, "rewrap-user")
            .await
            .unwrap()
            .unwrap()
            .pin_wrap,
        Some(strong(3))
    );
    assert_eq!(
        actions(&*s, &u).await,
        vec!["pin.rewrapped", "answers.rewrapped"]
    );
}

#[tokio::test]
async fn a_completion_writes_its_rewraps_or_nothing() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user_with_wraps(&*s, &e, "commit-rewrap").await;
    let c = challenge(&e, &u, ChallengeType::ChangePin);
    s.create_challenge(&c, &claim("cr", 1), 100).await.unwrap();
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        now: T0,
        pin: Some(PinUpdate {
            wrap: wrap(6),
            expected_version: Some(u.pin_version + 1),
        }),
        answers: None,
        reset_pin_guesses: false,
        rewraps: vec![rewrap(&u, SecretKind::Answers, 2, 7)],
        correlation_ids: vec![],
        audit: vec![],
        notification: None,
        wallets: vec![],
        outbound: None,
    };
    assert_eq!(
        s.complete_challenge(&commit).await.unwrap(),
        Err(CommitRefused::UserChanged)
    );
    let got = s
        .user(&e.id, Environment::Test, "commit-rewrap")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.answers_wrap,
        Some(wrap(2)),
        "a refused commit rewraps nothing"
    );
    assert!(actions(&*s, &u).await.is_empty());
    let ok = ChallengeCommit {
        pin: None,
        ..commit
    };
    assert_eq!(s.complete_challenge(&ok).await.unwrap(), Ok(()));
    let got = s
        .user(&e.id, Environment::Test, "commit-rewrap")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.answers_wrap.map(|w| w.params), Some(STRONG));
    assert_eq!(actions(&*s, &u).await, vec!["answers.rewrapped"]);
}
