//! TEST and LIVE are separate worlds inside one entity: a key or userToken of one environment
//! sees the other environment's users, wallets, challenges and subscriptions exactly as it
//! sees another entity's (404 for what it names, 403 155105 for the other's tokens), the same
//! userId is two users, and notifications go only to subscriptions of their user's
//! environment. Every case runs in both directions.

use crate::support::wallets::init_with_wallets;
use crate::support::webhooks::{drain, subscribe, Receiver};
use crate::support::*;
use latchkey_core::model::Environment;
use reqwest::Method;
use serde_json::{json, Value};

/// The app seen through its TEST key and through a new LIVE key of the same entity.
async fn both_worlds() -> (TestApp, TestApp) {
    let test = spawn_app().await;
    let live = test.with_key_of(Environment::Live).await;
    (test, live)
}

/// `(status, code)` of a reply.
fn status_code(r: &Reply) -> (u16, Option<i64>) {
    (r.0, r.1["code"].as_i64())
}

/// The userIds of `GET /v1/w3s/users` (first page of 50).
async fn listed_user_ids(app: &TestApp) -> Vec<String> {
    let (s, b, _) = app.get("/v1/w3s/users?pageSize=50", None).await;
    assert_eq!(s, 200, "{b}");
    b["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn users_of_one_environment_do_not_exist_for_the_other() {
    let (test, live) = both_worlds().await;
    for (mine, other) in [(&test, &live), (&live, &test)] {
        let u = mine.user().await;
        let path = format!("/v1/w3s/users/{}", u.user_id);
        assert_eq!(mine.get(&path, None).await.0, 200);
        assert_eq!(
            status_code(&other.get(&path, None).await),
            (404, Some(155102))
        );
        assert!(listed_user_ids(mine).await.contains(&u.user_id));
        assert!(!listed_user_ids(other).await.contains(&u.user_id));
        // No token for it, and its own token is refused with the other environment's key.
        let r = other
            .post("/v1/w3s/users/token", None, json!({ "userId": u.user_id }))
            .await;
        assert_eq!(status_code(&r), (404, Some(155102)));
        let r = other.get("/v1/w3s/user", Some(&u.token)).await;
        assert_eq!(status_code(&r), (403, Some(155105)));
        assert_eq!(mine.get("/v1/w3s/user", Some(&u.token)).await.0, 200);
    }
}

/// The requests a developer backend makes with a user's token, over `wallet`, its `chain`
/// and the user's `challenge`.
fn token_requests(wallet: &str, chain: &str, challenge: &str) -> Vec<(Method, String, Value)> {
    let chain_id = if chain == "ETH" { 1 } else { 11_155_111 };
    let tx = json!({ "to": "0x000000000000000000000000000000000000dEaD", "value": "1", "nonce": 0,
        "gas": 21000, "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000",
        "chainId": chain_id });
    let key = || uuid::Uuid::new_v4().to_string();
    vec![
        (Method::GET, "/v1/w3s/user".into(), Value::Null),
        (Method::GET, "/v1/w3s/wallets".into(), Value::Null),
        (
            Method::GET,
            format!("/v1/w3s/wallets/{wallet}"),
            Value::Null,
        ),
        (
            Method::PUT,
            format!("/v1/w3s/wallets/{wallet}"),
            json!({ "name": "renamed" }),
        ),
        (Method::GET, "/v1/w3s/user/challenges".into(), Value::Null),
        (
            Method::GET,
            format!("/v1/w3s/user/challenges/{challenge}"),
            Value::Null,
        ),
        (
            Method::POST,
            "/v1/w3s/user/sign/transaction".into(),
            json!({ "walletId": wallet, "transaction": tx.to_string() }),
        ),
        (
            Method::POST,
            "/v1/w3s/user/sign/message".into(),
            json!({ "walletId": wallet, "message": "hello" }),
        ),
        (
            Method::POST,
            "/v1/w3s/user/wallets".into(),
            json!({ "idempotencyKey": key(), "blockchains": [chain] }),
        ),
        (
            Method::PUT,
            "/v1/w3s/user/pin".into(),
            json!({ "idempotencyKey": key() }),
        ),
    ]
}

#[tokio::test]
async fn wallets_and_challenges_are_reached_only_with_a_key_of_their_environment() {
    let (test, live) = both_worlds().await;
    for (mine, other, chain) in [(&test, &live, "ETH-SEPOLIA"), (&live, &test, "ETH")] {
        let u = mine.user().await;
        let wallets = init_with_wallets(mine, &u, json!([chain])).await;
        let wallet = wallets[0]["id"].as_str().unwrap().to_string();
        let (_, list, _) = mine.get("/v1/w3s/user/challenges", Some(&u.token)).await;
        let challenge = list["data"]["challenges"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        for (method, path, body) in token_requests(&wallet, chain, &challenge) {
            let body = (!body.is_null()).then_some(body);
            let r = other
                .call(method.clone(), &path, Some(&u.token), body.clone())
                .await;
            assert_eq!(
                status_code(&r),
                (403, Some(155105)),
                "{method} {path} with the other environment's key: {}",
                r.1
            );
            // The same request with the user's own environment's key is served.
            let r = mine.call(method.clone(), &path, Some(&u.token), body).await;
            assert!(
                r.0 < 300,
                "{method} {path} with its own key: {} {}",
                r.0,
                r.1
            );
        }
        // Nothing of the user leaked into the other environment's lists.
        let o = other.user().await;
        let (_, w, _) = other.get("/v1/w3s/wallets", Some(&o.token)).await;
        assert_eq!(w["data"]["wallets"], json!([]));
        let r = other
            .get(&format!("/v1/w3s/wallets/{wallet}"), Some(&o.token))
            .await;
        assert_eq!(status_code(&r), (404, Some(156001)));
        let r = other
            .get(
                &format!("/v1/w3s/user/challenges/{challenge}"),
                Some(&o.token),
            )
            .await;
        assert_eq!(status_code(&r), (404, Some(155116)));
    }
}

#[tokio::test]
async fn the_hosted_page_serves_each_token_in_its_own_environment() {
    // The App ID is the entity's in both environments: the token decides, so a LIVE user
    // approves LIVE challenges on the same page as a TEST user.
    let (test, live) = both_worlds().await;
    for (app, chain) in [(&test, "ETH-SEPOLIA"), (&live, "ETH")] {
        let u = app.user().await;
        let wallets = init_with_wallets(app, &u, json!([chain])).await;
        assert_eq!(wallets[0]["blockchain"], chain);
        let (_, me, _) = app.get("/v1/w3s/user", Some(&u.token)).await;
        assert_eq!(me["data"]["pinStatus"], "ENABLED", "{me}");
    }
}

#[tokio::test]
async fn the_same_user_id_is_a_different_user_in_each_environment() {
    let (test, live) = both_worlds().await;
    let id = "same-user-in-both";
    test.dev.create_user(id).await.unwrap();
    live.dev.create_user(id).await.unwrap();
    let again = test
        .post("/v1/w3s/users", None, json!({ "userId": id }))
        .await;
    assert_eq!(again.0, 409, "{}", again.1);
    let (t, l) = (test.token_for(id).await, live.token_for(id).await);
    test.initialize(&t, PIN).await;
    let (_, tu, _) = test.get(&format!("/v1/w3s/users/{id}"), None).await;
    let (_, lu, _) = live.get(&format!("/v1/w3s/users/{id}"), None).await;
    assert_eq!(tu["data"]["user"]["pinStatus"], "ENABLED");
    assert_eq!(lu["data"]["user"]["pinStatus"], "UNSET");
    let (_, me, _) = live.get("/v1/w3s/user", Some(&l.token)).await;
    assert_eq!(me["data"]["pinStatus"], "UNSET");
    let (_, c, _) = live.get("/v1/w3s/user/challenges", Some(&l.token)).await;
    assert_eq!(c["data"]["challenges"], json!([]));
    // The operator disables the LIVE one only.
    live.lk
        .set_user_disabled(&live.entity_id, Environment::Live, id, true)
        .await
        .unwrap();
    let r = live.get("/v1/w3s/user", Some(&l.token)).await;
    assert_eq!(status_code(&r), (409, Some(155109)));
    assert_eq!(test.get("/v1/w3s/user", Some(&t.token)).await.0, 200);
}

#[tokio::test]
async fn subscriptions_and_notifications_stay_in_their_environment() {
    let (test, live) = both_worlds().await;
    let (test_rx, test_url) = Receiver::start().await;
    let (live_rx, live_url) = Receiver::start().await;
    let test_sub = subscribe(&test, &test_url, None).await;
    let live_sub = subscribe(&live, &live_url, None).await;
    for (mine, other, sub, other_sub) in [
        (&test, &live, &test_sub, &live_sub),
        (&live, &test, &live_sub, &test_sub),
    ] {
        let (_, list, _) = mine.get("/v2/notifications/subscriptions", None).await;
        assert_eq!(list["data"], json!([sub]), "only its own environment's");
        let path = format!(
            "/v2/notifications/subscriptions/{}",
            other_sub["id"].as_str().unwrap()
        );
        assert_eq!(mine.get(&path, None).await.0, 404);
        let r = mine.patch(&path, None, json!({ "name": "taken" })).await;
        assert_eq!(r.0, 404, "{}", r.1);
        assert_eq!(mine.delete(&path, None).await.0, 404);
        let (s, still, _) = other.get(&path, None).await;
        assert_eq!((s, &still["data"]["name"]), (200, &other_sub["name"]));
    }
    drain(&test).await;
    // Each endpoint got its own webhooks.test only.
    assert_eq!(test_rx.of_type("webhooks.test").len(), 1);
    assert_eq!(live_rx.of_type("webhooks.test").len(), 1);

    let t = test.initialized_user(PIN).await;
    let l = live.initialized_user(PIN).await;
    drain(&test).await;
    let users = |rx: &Receiver| -> Vec<Value> {
        rx.of_type("challenges.initialize")
            .iter()
            .map(|b| b["notification"]["userId"].clone())
            .collect()
    };
    assert_eq!(users(&test_rx), vec![json!(t.user_id)]);
    assert_eq!(users(&live_rx), vec![json!(l.user_id)]);
}
