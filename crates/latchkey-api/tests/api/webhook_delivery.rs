//! Webhook delivery: filters, the retry schedule on the injected clock, restarts, two instances
//! sharing one outbox.

use crate::support::webhooks::*;
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn challenge_notifications_follow_the_filters() {
    let app = spawn_app().await;
    let (all, all_url) = Receiver::start().await;
    let (restore_only, restore_url) = Receiver::start().await;
    subscribe(&app, &all_url, Some(vec!["challenges.*"])).await;
    let sub = subscribe(&app, &restore_url, Some(vec!["challenges.restorePin"])).await;
    assert_eq!(sub["restricted"], true);
    let u = app.user().await;
    let init = app.initialize(&u, PIN).await;
    app.lock_pin(&u, WRONG_PIN).await;
    app.restore_pin(&u, ["rex", "lyon"], NEW_PIN).await.unwrap();
    drain(&app).await;

    let inits = all.of_type("challenges.initialize");
    assert_eq!(inits.len(), 1);
    assert_eq!(
        inits[0]["notification"],
        json!({ "id": init, "userId": u.user_id, "type": "INITIALIZE", "status": "COMPLETE", "correlationIds": [], "errorCode": 0, "errorMessage": "" })
    );
    let changes = all.of_type("challenges.changePin");
    assert_eq!(
        changes.len(),
        1,
        "only the challenge that failed notifies: {changes:?}"
    );
    assert_eq!(
        (
            changes[0]["notification"]["status"].as_str(),
            changes[0]["notification"]["errorCode"].as_i64()
        ),
        (Some("FAILED"), Some(155119))
    );
    assert_eq!(all.of_type("challenges.restorePin").len(), 1);
    assert_eq!(restore_only.of_type("challenges.restorePin").len(), 1);
    assert_eq!(
        restore_only.bodies().len(),
        2,
        "the test and the restorePin only"
    );
    let received = all.got.lock().unwrap().clone();
    for (headers, body) in received {
        verify(&app, &headers, &body).await;
    }
}

#[tokio::test]
async fn retries_follow_the_schedule_keep_the_id_and_honour_retry_after() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    subscribe(
        &app,
        &url,
        Some(
            vec!["webhooks.test", "challenges.*"]
                .into_iter()
                .filter(|t| *t != "webhooks.test")
                .collect(),
        ),
    )
    .await;
    drain(&app).await;
    rx.got.lock().unwrap().clear();
    rx.answer_with(503);
    let draft = latchkey_core::webhooks::NotificationDraft {
        entity_id: app.entity_id.clone(),
        environment: latchkey_core::model::Environment::Test,
        notification_type: "challenges.setPin".into(),
        payload: json!({ "id": "c1" }),
        only_subscription: None,
    };
    app.lk
        .store()
        .enqueue_notification(&draft, app.lk.now())
        .await
        .unwrap();
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 1);
    app.clock.advance_ms(4_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 1, "not before 5 s");
    app.clock.advance_ms(1_000);
    *rx.retry_after.lock().unwrap() = Some("600".into());
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 2);
    app.clock.advance_ms(5 * 60_000);
    drain(&app).await;
    assert_eq!(
        rx.bodies().len(),
        2,
        "Retry-After: 600 beats the 5 min step"
    );
    app.clock.advance_ms(5 * 60_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 3);
    *rx.retry_after.lock().unwrap() = None;
    for step in [
        30 * 60_000,
        2 * 3_600_000,
        5 * 3_600_000,
        10 * 3_600_000,
        10 * 3_600_000,
    ] {
        app.clock.advance_ms(step);
        drain(&app).await;
    }
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 8, "eight attempts in all");
    assert!(
        bodies
            .iter()
            .all(|b| b["notificationId"] == bodies[0]["notificationId"]),
        "same notificationId every time"
    );
    // The test notification shares the (hand-moved) clock's instant: pick ours by type.
    let deliveries: Vec<_> = app
        .lk
        .store()
        .list_deliveries(&app.entity_id, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.notification_type == "challenges.setPin")
        .collect();
    assert_eq!(
        deliveries[0].status,
        latchkey_core::webhooks::DeliveryStatus::Failed
    );
    let sub = first_subscription(&app).await;
    assert!(sub.failing_since.is_some(), "marked failing");
    app.clock.advance_ms(100 * 3_600_000);
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 8, "nothing after the schedule");

    // The operator redelivers once the receiver is back.
    rx.answer_with(200);
    assert!(app
        .lk
        .store()
        .redeliver(&app.entity_id, &deliveries[0].id, app.lk.now())
        .await
        .unwrap());
    drain(&app).await;
    assert_eq!(rx.bodies().len(), 9);
    let sub = first_subscription(&app).await;
    assert!(sub.failing_since.is_none());
}

#[tokio::test]
async fn a_restart_mid_schedule_and_a_lapsed_claim_lose_nothing() {
    let app = spawn_app().await;
    let (rx, url) = Receiver::start().await;
    subscribe(&app, &url, None).await;
    rx.answer_with(500);
    drain(&app).await;
    // "Restart": a new instance (new process state) on the same database and master key.
    let restarted = app.second_instance().await;
    restarted.clock.advance_ms(5_000);
    rx.answer_with(200);
    drain(&restarted).await;
    let bodies = rx.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["notificationId"], bodies[1]["notificationId"]);
    let second = rx.got.lock().unwrap()[1].clone();
    verify(&restarted, &second.0, &second.1).await;

    // A worker that claimed a row and died: after the lease lapses another one delivers it.
    app.initialized_user(PIN).await;
    let now = restarted.lk.now();
    let claimed = app
        .lk
        .store()
        .claim_deliveries(now, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        restarted.webhooks.run_once().await,
        0,
        "held by the dead worker's lease"
    );
    restarted.clock.advance_ms(60_001);
    drain(&restarted).await;
    assert_eq!(rx.of_type("challenges.initialize").len(), 1);
    // The dead worker cannot record anything on a row it no longer holds.
    let outcome = latchkey_core::webhooks::AttemptOutcome::Delivered { status_code: 200 };
    assert!(!app
        .lk
        .store()
        .finish_delivery(&claimed[0], &outcome, now)
        .await
        .unwrap());
}

#[tokio::test]
async fn two_instances_deliver_a_thousand_notifications_once_each() {
    let first = spawn_app().await;
    let second = first.second_instance().await;
    let (rx, url) = Receiver::start().await;
    subscribe(&first, &url, Some(vec!["challenges.*"])).await;
    let now = first.lk.now();
    for i in 0..1000 {
        let draft = latchkey_core::webhooks::NotificationDraft {
            entity_id: first.entity_id.clone(),
            environment: latchkey_core::model::Environment::Test,
            notification_type: "challenges.setPin".into(),
            payload: json!({ "n": i }),
            only_subscription: None,
        };
        first
            .lk
            .store()
            .enqueue_notification(&draft, now)
            .await
            .unwrap();
    }
    let run = |app: &TestApp| {
        let w = app.webhooks.clone();
        tokio::spawn(async move {
            let mut idle = 0;
            while idle < 3 {
                if w.run_once().await == 0 {
                    idle += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                } else {
                    idle = 0;
                }
            }
        })
    };
    let (a, b) = (run(&first), run(&second));
    a.await.unwrap();
    b.await.unwrap();
    let bodies = rx.of_type("challenges.setPin");
    let ids: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| b["notificationId"].as_str().unwrap().to_string())
        .collect();
    let ns: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| b["notification"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        (bodies.len(), ids.len(), ns.len()),
        (1000, 1000, 1000),
        "none lost, none twice"
    );
}
