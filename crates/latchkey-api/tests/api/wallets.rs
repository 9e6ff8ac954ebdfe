//! Wallets: request validation as Circle, list filters, pages and updates.

use crate::support::wallets::*;
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn wallet_requests_are_validated_as_circle() {
    let app = spawn_app().await;
    let u = app.user().await;
    for (body, expected) in [
        (
            json!({ "blockchains": ["SOL-DEVNET"], "accountType": "SCA" }),
            (400, 155507),
        ),
        (json!({ "blockchains": ["NEAR-TESTNET"] }), (400, 155511)),
        (json!({ "blockchains": ["APTOS-TESTNET"] }), (400, 155510)),
        (json!({ "blockchains": ["ETH"] }), (400, 156006)),
        (json!({ "blockchains": ["DOGE"] }), (400, 2)),
        (
            json!({ "blockchains": ["ETH-SEPOLIA"], "metadata": [{}, {}] }),
            (400, 155504),
        ),
        // PostgreSQL text holds no NUL: refused here, never at the wallets' insert.
        (
            json!({ "blockchains": ["ETH-SEPOLIA"], "metadata": [{ "name": "x\u{0}y" }] }),
            (400, 2),
        ),
    ] {
        let got = refused(&app, &u, "/v1/w3s/user/initialize", body.clone(), true).await;
        assert_eq!(got, expected, "{body}");
    }
    assert_eq!(
        refused(
            &app,
            &u,
            "/v1/w3s/user/wallets",
            json!({ "blockchains": ["ETH-SEPOLIA"] }),
            true
        )
        .await,
        (400, 155110),
        "no PIN yet"
    );
    let wallets = init_with_wallets(&app, &u, json!(["BASE-SEPOLIA"])).await;
    assert_eq!(
        refused(&app, &u, "/v1/w3s/user/wallets", json!({}), true).await,
        (400, 2)
    );
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/wallets",
            Some(&u.token),
            json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(),
                    "blockchains": ["ETH-SEPOLIA"], "metadata": [{ "refId": "\u{0}" }] }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64(), b["errors"][0]["location"].as_str()),
        (400, Some(2), Some("metadata[0].refId")),
        "{b}"
    );
    let w = wallets[0]["id"].as_str().unwrap();
    let wrong_chain = json!({ "to": "0x000000000000000000000000000000000000dEaD", "value": "1", "nonce": 0, "gas": 21000, "gasPrice": "1", "chainId": 1 });
    for (path, body, expected) in [
        (
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "" }),
            (400, 156025),
        ),
        (
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "xyz", "encodedByHex": true }),
            (409, 156023),
        ),
        (
            "/v1/w3s/user/sign/typedData",
            json!({ "walletId": w, "data": "{not json" }),
            (400, 156024),
        ),
        (
            "/v1/w3s/user/sign/typedData",
            json!({ "walletId": w, "data": "{\"a\":1}" }),
            (400, 156026),
        ),
        (
            "/v1/w3s/user/sign/transaction",
            json!({ "walletId": w, "transaction": wrong_chain }),
            (400, 155807),
        ),
    ] {
        let got = refused(&app, &u, path, body.clone(), false).await;
        assert_eq!(got, expected, "{path} {body}");
    }
    assert_eq!(
        refused(
            &app,
            &u,
            "/v1/w3s/user/sign/transaction",
            json!({ "walletId": w, "rawTransaction": "0x1234" }),
            false
        )
        .await
        .1 / 100,
        1558
    );
    // Another user's wallet does not exist for this user.
    let other = app.user().await;
    let (s, b, _) = app
        .get(&format!("/v1/w3s/wallets/{w}"), Some(&other.token))
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)));
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/sign/message",
            Some(&other.token),
            json!({ "walletId": w, "message": "x" }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64()),
        (400, Some(155110)),
        "no PIN: refused before the wallet is even looked at"
    );
    init_with_wallets(&app, &other, json!([])).await;
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/sign/message",
            Some(&other.token),
            json!({ "walletId": w, "message": "x" }),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)));
    let (_, b, _) = app.get("/v1/w3s/wallets", Some(&other.token)).await;
    assert_eq!(b["data"]["wallets"], json!([]));
}

#[tokio::test]
async fn wallets_list_filter_page_and_update() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(
        &app,
        &u,
        json!(["ETH-SEPOLIA", "SOL-DEVNET", "ARB-SEPOLIA"]),
    )
    .await;
    let (_, b, h) = app.get("/v1/w3s/wallets?pageSize=2", Some(&u.token)).await;
    assert_eq!(b["data"]["wallets"].as_array().unwrap().len(), 2);
    assert!(h["link"].to_str().unwrap().contains("rel=\"next\""));
    let (_, b, _) = app
        .get("/v1/w3s/wallets?blockchain=SOL-DEVNET", Some(&u.token))
        .await;
    assert_eq!(b["data"]["wallets"][0]["id"], wallets[1]["id"]);
    let addr = wallets[0]["address"].as_str().unwrap().to_lowercase();
    let (_, b, _) = app
        .get(&format!("/v1/w3s/wallets?address={addr}"), Some(&u.token))
        .await;
    assert_eq!(b["data"]["wallets"].as_array().unwrap().len(), 1);
    let (_, b, _) = app.get("/v1/w3s/wallets?refId=ref-2", Some(&u.token)).await;
    assert_eq!(b["data"]["wallets"][0]["id"], wallets[2]["id"]);
    let (s, b, _) = app
        .get("/v1/w3s/wallets?pageAfter=nope", Some(&u.token))
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156014)));
    let id = wallets[0]["id"].as_str().unwrap();
    let (s, b, _) = app
        .put(
            &format!("/v1/w3s/wallets/{id}"),
            Some(&u.token),
            json!({ "name": "main", "refId": "r9" }),
        )
        .await;
    assert_eq!(
        (
            s,
            b["data"]["wallet"]["name"].as_str(),
            b["data"]["wallet"]["refId"].as_str()
        ),
        (200, Some("main"), Some("r9"))
    );
}
