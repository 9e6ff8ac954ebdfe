//! Webhooks: subscriptions filter the outbox, claims are exclusive, a challenge's notification
//! is queued in the same transaction as its effect, signing keys rotate, delivered rows are
//! pruned after their retention.

use super::*;

pub(super) fn subscription(e: &Entity, types: &[&str]) -> SubscriptionRecord {
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

pub(super) fn draft(e: &Entity, t: &str) -> NotificationDraft {
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
