//! Wallets and signing through real HTTP, each signature checked by recovering the signer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const PIN: &str = "159357";

async fn init_with_wallets(app: &TestApp, u: &TestUser, chains: Value) -> Vec<Value> {
    let body = json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": chains,
        "metadata": chains.as_array().unwrap().iter().enumerate().map(|(i, _)| json!({ "name": format!("w{i}"), "refId": format!("ref-{i}") })).collect::<Vec<_>>() });
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&u.token),
            Some(body),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["data"]["challengeId"].as_str().unwrap().to_string();
    app.executor(u)
        .execute(
            &id,
            &json!({ "newPin": PIN, "securityQuestions": questions() }),
        )
        .await
        .unwrap();
    let c = app.challenge_status(u, &id).await;
    let ids = c["correlationIds"].as_array().unwrap().clone();
    let mut wallets = Vec::new();
    for id in ids {
        let (s, w, _) = app
            .call(
                Method::GET,
                &format!("/v1/w3s/wallets/{}", id.as_str().unwrap()),
                Some(&u.token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{w}");
        wallets.push(w["data"]["wallet"].clone());
    }
    wallets
}

async fn sign(
    app: &TestApp,
    u: &TestUser,
    path: &str,
    body: Value,
    pin: &str,
) -> Result<Value, latchkey_client::ClientError> {
    let (s, b, _) = app
        .call(Method::POST, path, Some(&u.token), Some(body))
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["data"]["challengeId"].as_str().unwrap().to_string();
    let out = app.executor(u).execute(&id, &json!({ "pin": pin })).await?;
    let c = app.challenge_status(u, &id).await;
    assert_eq!(c["status"], "COMPLETE");
    assert!(
        !c.to_string().contains("signature"),
        "the REST challenge never carries the signature"
    );
    Ok(out["data"]["data"].clone())
}

fn evm_recover_message(message: &[u8], signature: &str) -> String {
    latchkey_chains::recover_evm_address(
        &latchkey_chains::personal_message_hash(message),
        signature,
    )
    .unwrap()
}

#[tokio::test]
async fn initialize_creates_wallets_and_they_sign() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA", "SOL-DEVNET"])).await;
    let (evm, sol) = (&wallets[0], &wallets[1]);
    assert_eq!(
        (
            evm["blockchain"].as_str(),
            evm["accountType"].as_str(),
            evm["custodyType"].as_str()
        ),
        (Some("ETH-SEPOLIA"), Some("EOA"), Some("ENDUSER"))
    );
    assert_eq!(
        (
            evm["state"].as_str(),
            evm["userId"].as_str(),
            evm["name"].as_str(),
            evm["refId"].as_str()
        ),
        (
            Some("LIVE"),
            Some(u.user_id.as_str()),
            Some("w0"),
            Some("ref-0")
        )
    );
    let address = evm["address"].as_str().unwrap();
    assert!(
        address.starts_with("0x") && address.len() == 42 && address != address.to_lowercase(),
        "EIP-55: {address}"
    );
    let sol_address = sol["address"].as_str().unwrap();
    assert_eq!(bs58::decode(sol_address).into_vec().unwrap().len(), 32);

    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": evm["id"], "message": "hello latchkey" }),
        PIN,
    )
    .await
    .unwrap();
    assert_eq!(
        evm_recover_message(b"hello latchkey", sig["signature"].as_str().unwrap()),
        address
    );
    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": evm["id"], "message": "0xdeadbeef", "encodedByHex": true }),
        PIN,
    )
    .await
    .unwrap();
    assert_eq!(
        evm_recover_message(
            &[0xde, 0xad, 0xbe, 0xef],
            sig["signature"].as_str().unwrap()
        ),
        address
    );

    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": sol["id"], "message": "hello solana" }),
        PIN,
    )
    .await
    .unwrap();
    let sig_bytes: [u8; 64] = bs58::decode(sig["signature"].as_str().unwrap())
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    let pk: [u8; 32] = bs58::decode(sol_address)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    vk.verify_strict(
        b"hello solana",
        &ed25519_dalek::Signature::from_bytes(&sig_bytes),
    )
    .unwrap();

    let typed = json!({
        "types": { "EIP712Domain": [{ "name": "name", "type": "string" }, { "name": "chainId", "type": "uint256" }],
                   "Mail": [{ "name": "contents", "type": "string" }] },
        "primaryType": "Mail", "domain": { "name": "latchkey", "chainId": 11155111 }, "message": { "contents": "hi" }
    })
    .to_string();
    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/typedData",
        json!({ "walletId": evm["id"], "data": typed }),
        PIN,
    )
    .await
    .unwrap();
    let hash = latchkey_chains::typed_data_hash(&typed).unwrap();
    assert_eq!(
        latchkey_chains::recover_evm_address(&hash, sig["signature"].as_str().unwrap()).unwrap(),
        address
    );

    let tx = json!({ "to": "0x000000000000000000000000000000000000dEaD", "value": "1000", "nonce": 0, "gas": 21000,
        "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000", "chainId": 11155111 });
    let out = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/transaction",
        json!({ "walletId": evm["id"], "transaction": tx.to_string() }),
        PIN,
    )
    .await
    .unwrap();
    let signed = out["signedTransaction"].as_str().unwrap();
    assert_eq!(
        latchkey_chains::recover_evm_transaction_sender(signed).unwrap(),
        address
    );
    assert!(out["txHash"].as_str().unwrap().starts_with("0x"));

    // The hosted page sees what is being signed before the PIN.
    let (_, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/sign/transaction",
            Some(&u.token),
            Some(json!({ "walletId": evm["id"], "transaction": tx })),
        )
        .await;
    let d = app
        .executor(&u)
        .describe(b["data"]["challengeId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(d["signing"]["transaction"]["value"], "1000");
    assert_eq!(d["requires"]["pin"], true);
}

#[tokio::test]
async fn wallet_requests_are_validated_as_circle() {
    let app = spawn_app().await;
    let u = app.user().await;
    let call = |path: &'static str, body: Value| {
        let (app, token) = (&app, u.token.clone());
        async move {
            let mut body = body;
            body["idempotencyKey"] = json!(uuid::Uuid::new_v4().to_string());
            let (s, b, _) = app.call(Method::POST, path, Some(&token), Some(body)).await;
            (s, b["code"].as_i64().unwrap_or(0))
        }
    };
    assert_eq!(
        call(
            "/v1/w3s/user/initialize",
            json!({ "blockchains": ["ETH-SEPOLIA"], "accountType": "SCA" })
        )
        .await,
        (400, 155507)
    );
    assert_eq!(
        call(
            "/v1/w3s/user/initialize",
            json!({ "blockchains": ["NEAR-TESTNET"] })
        )
        .await,
        (400, 155511)
    );
    assert_eq!(
        call(
            "/v1/w3s/user/initialize",
            json!({ "blockchains": ["APTOS-TESTNET"] })
        )
        .await,
        (400, 155510)
    );
    assert_eq!(
        call("/v1/w3s/user/initialize", json!({ "blockchains": ["ETH"] })).await,
        (400, 156006)
    );
    assert_eq!(
        call(
            "/v1/w3s/user/initialize",
            json!({ "blockchains": ["DOGE"] })
        )
        .await,
        (400, 2)
    );
    assert_eq!(
        call(
            "/v1/w3s/user/initialize",
            json!({ "blockchains": ["ETH-SEPOLIA"], "metadata": [{}, {}] })
        )
        .await,
        (400, 155504)
    );
    assert_eq!(
        call(
            "/v1/w3s/user/wallets",
            json!({ "blockchains": ["ETH-SEPOLIA"] })
        )
        .await,
        (400, 155110),
        "no PIN yet"
    );
    let wallets = init_with_wallets(&app, &u, json!(["BASE-SEPOLIA"])).await;
    assert_eq!(call("/v1/w3s/user/wallets", json!({})).await, (400, 2));
    let w = wallets[0]["id"].as_str().unwrap();
    let sign_code = |path: &'static str, body: Value| {
        let (app, token) = (&app, u.token.clone());
        async move {
            let (s, b, _) = app.call(Method::POST, path, Some(&token), Some(body)).await;
            (s, b["code"].as_i64().unwrap_or(0))
        }
    };
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "" })
        )
        .await,
        (400, 156025)
    );
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "xyz", "encodedByHex": true })
        )
        .await,
        (409, 156023)
    );
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/typedData",
            json!({ "walletId": w, "data": "{not json" })
        )
        .await,
        (400, 156024)
    );
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/typedData",
            json!({ "walletId": w, "data": "{\"a\":1}" })
        )
        .await,
        (400, 156026)
    );
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/transaction",
            json!({ "walletId": w, "rawTransaction": "0x1234" })
        )
        .await
        .1 / 100,
        1558
    );
    let wrong_chain = json!({ "to": "0x000000000000000000000000000000000000dEaD", "value": "1", "nonce": 0, "gas": 21000, "gasPrice": "1", "chainId": 1 });
    assert_eq!(
        sign_code(
            "/v1/w3s/user/sign/transaction",
            json!({ "walletId": w, "transaction": wrong_chain })
        )
        .await,
        (400, 155807)
    );
    // Another user's wallet does not exist for this user.
    let other = app.user().await;
    let (s, b, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/wallets/{w}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)));
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/sign/message",
            Some(&other.token),
            Some(json!({ "walletId": w, "message": "x" })),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64()),
        (400, Some(155110)),
        "no PIN: refused before the wallet is even looked at"
    );
    init_with_wallets(&app, &other, json!([])).await;
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/sign/message",
            Some(&other.token),
            Some(json!({ "walletId": w, "message": "x" })),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)));
    let (_, b, _) = app
        .call(Method::GET, "/v1/w3s/wallets", Some(&other.token), None)
        .await;
    assert_eq!(b["data"]["wallets"], json!([]));
}

#[tokio::test]
async fn the_same_wallets_sign_after_change_and_restore_and_never_while_locked() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let (w, address) = (
        wallets[0]["id"].clone(),
        wallets[0]["address"].as_str().unwrap().to_string(),
    );
    app.change_pin(&u, PIN, "246813").await.unwrap();
    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": w, "message": "after change" }),
        "246813",
    )
    .await
    .unwrap();
    assert_eq!(
        evm_recover_message(b"after change", sig["signature"].as_str().unwrap()),
        address
    );

    // Three wrong PINs on a signing challenge: locked, no signature.
    let (_, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/sign/message",
            Some(&u.token),
            Some(json!({ "walletId": w, "message": "m" })),
        )
        .await;
    let id = b["data"]["challengeId"].as_str().unwrap().to_string();
    let ex = app.executor(&u);
    for _ in 0..2 {
        assert_eq!(
            api_code(
                &ex.execute(&id, &json!({ "pin": "111112" }))
                    .await
                    .unwrap_err()
            ),
            155112
        );
    }
    assert_eq!(
        api_code(
            &ex.execute(&id, &json!({ "pin": "111112" }))
                .await
                .unwrap_err()
        ),
        155119
    );
    let (_, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/sign/message",
            Some(&u.token),
            Some(json!({ "walletId": w, "message": "m" })),
        )
        .await;
    let locked = ex
        .execute(
            b["data"]["challengeId"].as_str().unwrap(),
            &json!({ "pin": "246813" }),
        )
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&locked),
        155119,
        "even the right PIN signs nothing while locked"
    );

    let rid = app
        .challenge(&u, Method::POST, "/v1/w3s/user/pin/restore")
        .await;
    ex.execute(
        &rid,
        &json!({ "securityAnswers": ["rex", "lyon"], "newPin": "135792" }),
    )
    .await
    .unwrap();
    let sig = sign(
        &app,
        &u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": w, "message": "after restore" }),
        "135792",
    )
    .await
    .unwrap();
    assert_eq!(
        evm_recover_message(b"after restore", sig["signature"].as_str().unwrap()),
        address
    );

    // CREATE_WALLET adds wallets under the same user key.
    let id = app
        .dev
        .create_challenge(
            Method::POST,
            "/v1/w3s/user/wallets",
            &u.token,
            json!({ "blockchains": ["SOL-DEVNET", "MATIC-AMOY"] }),
        )
        .await
        .unwrap();
    ex.execute(&id, &json!({ "pin": "135792" })).await.unwrap();
    let c = app.challenge_status(&u, &id).await;
    assert_eq!(
        (
            c["type"].as_str(),
            c["correlationIds"].as_array().unwrap().len()
        ),
        (Some("CREATE_WALLET"), 2)
    );
    // Wallet keys exist only sealed: the stored row holds no plaintext key.
    let stored = app
        .lk
        .store()
        .wallet(
            &app.entity_id,
            &app.lk
                .store()
                .user(&app.entity_id, &u.user_id)
                .await
                .unwrap()
                .unwrap()
                .internal_id,
            w.as_str().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sealed_key.len(), 12 + 32 + 16);
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
    let (_, b, h) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets?pageSize=2",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(b["data"]["wallets"].as_array().unwrap().len(), 2);
    assert!(h["link"].to_str().unwrap().contains("rel=\"next\""));
    let (_, b, _) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets?blockchain=SOL-DEVNET",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(b["data"]["wallets"][0]["id"], wallets[1]["id"]);
    let addr = wallets[0]["address"].as_str().unwrap().to_lowercase();
    let (_, b, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/wallets?address={addr}"),
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(b["data"]["wallets"].as_array().unwrap().len(), 1);
    let (_, b, _) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets?refId=ref-2",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(b["data"]["wallets"][0]["id"], wallets[2]["id"]);
    let (s, b, _) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets?pageAfter=nope",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156014)));
    let id = wallets[0]["id"].as_str().unwrap();
    let (s, b, _) = app
        .call(
            Method::PUT,
            &format!("/v1/w3s/wallets/{id}"),
            Some(&u.token),
            Some(json!({ "name": "main", "refId": "r9" })),
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
