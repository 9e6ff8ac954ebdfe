//! Wallet setup and signing round trips shared by the wallet and signing modules.

use super::{questions, TestApp, TestUser, PIN};
use reqwest::Method;
use serde_json::{json, Value};

/// Initializes the user with `PIN` and one wallet per chain in `chains` (named `w{i}`,
/// `ref-{i}`); returns the wallets as `GET /v1/w3s/wallets/{id}` shows them.
pub async fn init_with_wallets(app: &TestApp, u: &TestUser, chains: Value) -> Vec<Value> {
    let body = json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": chains,
        "metadata": chains.as_array().unwrap().iter().enumerate().map(|(i, _)| json!({ "name": format!("w{i}"), "refId": format!("ref-{i}") })).collect::<Vec<_>>() });
    let id = app
        .start_challenge(u, "/v1/w3s/user/initialize", body)
        .await;
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
            .get(
                &format!("/v1/w3s/wallets/{}", id.as_str().unwrap()),
                Some(&u.token),
            )
            .await;
        assert_eq!(s, 200, "{w}");
        wallets.push(w["data"]["wallet"].clone());
    }
    wallets
}

/// Creates a signing challenge at `path` and approves it with `pin`; returns the result's
/// `data` (signature, or signed transaction and hash).
pub async fn sign(
    app: &TestApp,
    u: &TestUser,
    path: &str,
    body: Value,
    pin: &str,
) -> Result<Value, latchkey_client::ClientError> {
    let id = app.start_challenge(u, path, body).await;
    let out = app.executor(u).execute(&id, &json!({ "pin": pin })).await?;
    let c = app.challenge_status(u, &id).await;
    assert_eq!(c["status"], "COMPLETE");
    assert!(
        !c.to_string().contains("signature"),
        "the REST challenge never carries the signature"
    );
    Ok(out["data"]["data"].clone())
}

/// Signs `message` (text) with the EVM wallet `wallet_id` and `pin`; returns the address the
/// signature recovers to.
pub async fn evm_message_signer(
    app: &TestApp,
    u: &TestUser,
    wallet_id: &Value,
    message: &str,
    pin: &str,
) -> String {
    let sig = sign(
        app,
        u,
        "/v1/w3s/user/sign/message",
        json!({ "walletId": wallet_id, "message": message }),
        pin,
    )
    .await
    .unwrap();
    evm_recover_message(message.as_bytes(), sig["signature"].as_str().unwrap())
}

/// The EVM address that signed `message` (EIP-191 personal message).
pub fn evm_recover_message(message: &[u8], signature: &str) -> String {
    latchkey_chains::recover_evm_address(
        &latchkey_chains::personal_message_hash(message),
        signature,
    )
    .unwrap()
}

/// A user's challenge-creating POST that is refused: its `(status, code)`, with a fresh
/// idempotency key added when `with_key`.
pub async fn refused(
    app: &TestApp,
    u: &TestUser,
    path: &str,
    mut body: Value,
    with_key: bool,
) -> (u16, i64) {
    if with_key {
        body["idempotencyKey"] = json!(uuid::Uuid::new_v4().to_string());
    }
    let (s, b, _) = app
        .call(Method::POST, path, Some(&u.token), Some(body))
        .await;
    (s, b["code"].as_i64().unwrap_or(0))
}

/// An unsigned legacy Solana transaction (base64) whose required signers are `signers` (base58
/// addresses), one zeroed signature slot each, with one instruction to a dummy program.
pub fn solana_transaction(signers: &[&str]) -> String {
    use base64::Engine as _;
    let mut m = vec![signers.len() as u8, 0, 1, signers.len() as u8 + 1];
    for s in signers {
        m.extend(bs58::decode(s).into_vec().unwrap());
    }
    m.extend([9u8; 32]); // program id
    m.extend([7u8; 32]); // recent blockhash
    m.extend([1, signers.len() as u8, 1, 0, 3, 1, 2, 3]); // one instruction
    let mut tx = vec![signers.len() as u8];
    tx.extend(vec![0u8; 64 * signers.len()]);
    tx.extend(m);
    base64::engine::general_purpose::STANDARD.encode(tx)
}
