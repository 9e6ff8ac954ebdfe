//! Signing, each signature checked by recovering the signer: messages, typed data, transactions,
//! after PIN change and restore, never while locked.

use crate::support::wallets::*;
use crate::support::*;
use reqwest::Method;
use serde_json::json;

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

    assert_eq!(
        evm_message_signer(&app, &u, &evm["id"], "hello latchkey", PIN).await,
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
        .post(
            "/v1/w3s/user/sign/transaction",
            Some(&u.token),
            json!({ "walletId": evm["id"], "transaction": tx }),
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
async fn the_same_wallets_sign_after_change_and_restore_and_never_while_locked() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let (w, address) = (
        wallets[0]["id"].clone(),
        wallets[0]["address"].as_str().unwrap().to_string(),
    );
    app.change_pin(&u, PIN, NEW_PIN).await.unwrap();
    assert_eq!(
        evm_message_signer(&app, &u, &w, "after change", NEW_PIN).await,
        address
    );

    // Three wrong PINs on a signing challenge: locked, no signature.
    let id = app
        .start_challenge(
            &u,
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "m" }),
        )
        .await;
    let ex = app.executor(&u);
    for _ in 0..2 {
        assert_eq!(
            api_code(
                &ex.execute(&id, &json!({ "pin": WRONG_PIN }))
                    .await
                    .unwrap_err()
            ),
            155112
        );
    }
    assert_eq!(
        api_code(
            &ex.execute(&id, &json!({ "pin": WRONG_PIN }))
                .await
                .unwrap_err()
        ),
        155119
    );
    let id = app
        .start_challenge(
            &u,
            "/v1/w3s/user/sign/message",
            json!({ "walletId": w, "message": "m" }),
        )
        .await;
    let locked = ex
        .execute(&id, &json!({ "pin": NEW_PIN }))
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&locked),
        155119,
        "even the right PIN signs nothing while locked"
    );

    app.restore_pin(&u, ["rex", "lyon"], "135792")
        .await
        .unwrap();
    assert_eq!(
        evm_message_signer(&app, &u, &w, "after restore", "135792").await,
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
                .user(
                    &app.entity_id,
                    latchkey_core::model::Environment::Test,
                    &u.user_id,
                )
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
async fn what_cannot_be_signed_is_refused_at_creation_never_after_the_pin() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["SOL-DEVNET", "ETH-SEPOLIA"])).await;
    let (sol, evm) = (&wallets[0], &wallets[1]);
    let sol_address = sol["address"].as_str().unwrap();
    let stranger = bs58::encode([5u8; 32]).into_string();
    let tx = "/v1/w3s/user/sign/transaction";
    let other_from = json!({ "to": "0x000000000000000000000000000000000000dEaD", "nonce": 0,
        "gas": 21000, "gasPrice": "1", "chainId": 11155111,
        "from": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
    for (body, expected) in [
        // The probe's case: valid base64, not a Solana transaction.
        (
            json!({ "walletId": sol["id"], "rawTransaction": "AAAA" }),
            (400, 155805),
        ),
        (
            json!({ "walletId": sol["id"], "rawTransaction": solana_transaction(&[&stranger]) }),
            (400, 155803),
        ),
        (
            json!({ "walletId": evm["id"], "transaction": other_from }),
            (400, 155801),
        ),
        (
            json!({ "walletId": evm["id"], "rawTransaction": "0xzz" }),
            (400, 155805),
        ),
    ] {
        assert_eq!(
            refused(&app, &u, tx, body.clone(), false).await,
            expected,
            "{body}"
        );
    }
    let listed = app.get("/v1/w3s/user/challenges", Some(&u.token)).await.1;
    let signing = listed["data"]["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "SIGN_TRANSACTION")
        .count();
    assert_eq!(signing, 0, "no challenge reached the PIN screen");

    // What passes the check signs with the wallet's key.
    let raw = solana_transaction(&[&stranger, sol_address]);
    let out = sign(
        &app,
        &u,
        tx,
        json!({ "walletId": sol["id"], "rawTransaction": raw }),
        PIN,
    )
    .await
    .unwrap();
    let signature: [u8; 64] = bs58::decode(out["signature"].as_str().unwrap())
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    let public: [u8; 32] = bs58::decode(sol_address)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap();
    use base64::Engine as _;
    let message = base64::engine::general_purpose::STANDARD
        .decode(&raw)
        .unwrap()
        .split_off(1 + 2 * 64);
    ed25519_dalek::VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&signature))
        .unwrap();
    assert_eq!(app.user_status(&u).await["pinDetails"]["failedAttempts"], 0);
}
