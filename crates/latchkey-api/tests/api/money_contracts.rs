//! `POST /v1/w3s/user/transactions/contractExecution` (CONTRACT_EXECUTION): Circle's codes for
//! the refused calls, and calls approved with the PIN that the engine broadcasts to anvil: a
//! TestUsdc `transfer` by signature and by raw calldata, a payable call with a native amount,
//! and a call that passed its estimate but reverts once mined (FAILED `FAILED_ON_CHAIN`).

use crate::money_transfers::{
    engine_until, key, native_balance, transaction, usdc_balance, USDC_AMOY,
};
use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use serde_json::{json, Value};

const CONTRACT: &str = "/v1/w3s/user/transactions/contractExecution";
const DEST: &str = "0x2222222222222222222222222222222222222222";
const TRANSFER: &str = "transfer(address,uint256)";

/// POSTs a contract-execution body; returns (status, Circle code or 0, body).
async fn create(app: &TestApp, u: &TestUser, body: Value) -> (u16, i64, Value) {
    let (status, body, _) = app.post(CONTRACT, Some(&u.token), body).await;
    (status, body["code"].as_i64().unwrap_or(0), body)
}

/// `base` with `changes` applied: a null value removes the field.
fn with(base: &Value, changes: Value) -> Value {
    let mut body = base.clone();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

async fn open_challenges(app: &TestApp, u: &TestUser) -> usize {
    let (s, body, _) = app.get("/v1/w3s/user/challenges", Some(&u.token)).await;
    assert_eq!(s, 200, "{body}");
    body["data"]["challenges"].as_array().unwrap().len()
}

/// Creates the challenge; returns its id.
async fn challenge(app: &TestApp, u: &TestUser, body: Value) -> String {
    let (s, _, reply) = create(app, u, body).await;
    assert_eq!(s, 201, "{reply}");
    reply["data"]["challengeId"].as_str().unwrap().to_owned()
}

/// Approves `challenge` with the PIN; returns the transaction id it names.
async fn approve(app: &TestApp, u: &TestUser, challenge: &str) -> String {
    app.executor(u)
        .execute(challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(u, challenge).await;
    assert_eq!(
        (&c["status"], &c["type"]),
        (&json!("COMPLETE"), &json!("CONTRACT_EXECUTION")),
        "{c}"
    );
    let ids = c["correlationIds"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{c}");
    ids[0].as_str().unwrap().to_owned()
}

/// `transfer(to, amount)` calldata, as `0x` hex.
fn transfer_data(to: &str, amount: u64) -> String {
    format!(
        "{}{:0>64}{amount:064x}",
        selector("TestUsdc", TRANSFER),
        to.trim_start_matches("0x").to_lowercase()
    )
}

#[tokio::test]
async fn refused_requests_get_circles_codes_and_leave_no_challenge() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let before = open_challenges(&app, &u).await;
    let base = json!({
        "idempotencyKey": key(),
        "walletId": wallets[0]["id"],
        "contractAddress": USDC_AMOY,
        "abiFunctionSignature": TRANSFER,
        "abiParameters": [DEST, "1000"],
        "feeLevel": "MEDIUM",
    });
    let cases: Vec<(&str, Value, u16, i64)> = vec![
        (
            "no idempotency key",
            json!({ "idempotencyKey": null }),
            400,
            2,
        ),
        (
            "walletId and walletAddress",
            json!({ "walletAddress": address, "blockchain": "MATIC-AMOY" }),
            400,
            155244,
        ),
        (
            "callData with the ABI fields",
            json!({ "callData": transfer_data(DEST, 1) }),
            400,
            155247,
        ),
        (
            "neither callData nor a signature",
            json!({ "abiFunctionSignature": null, "abiParameters": null }),
            400,
            155230,
        ),
        ("no contract", json!({ "contractAddress": null }), 400, 2),
        (
            "a contract that is no address",
            json!({ "contractAddress": "0x1234" }),
            400,
            155219,
        ),
        (
            "callData that is not hex",
            json!({ "abiFunctionSignature": null, "abiParameters": null, "callData": "0xzz" }),
            400,
            2,
        ),
        (
            "parameters that do not pack",
            json!({ "abiParameters": ["not an address", "1"] }),
            400,
            155209,
        ),
        (
            "a signature that does not parse",
            json!({ "abiFunctionSignature": "transfer(address" }),
            400,
            155209,
        ),
        ("a negative amount", json!({ "amount": "-1" }), 400, 155245),
        (
            "more decimals than the coin has",
            json!({ "amount": "0.0000000000000000001" }),
            400,
            155245,
        ),
        (
            "a wallet of nobody",
            json!({ "walletId": "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1" }),
            404,
            156001,
        ),
        (
            "a fee level Circle does not have",
            json!({ "feeLevel": "FAST" }),
            400,
            2,
        ),
        ("a chain without a node", json!({}), 400, 156027),
    ];
    for (what, changes, status, code) in cases {
        let (s, c, reply) = create(&app, &u, with(&base, changes)).await;
        assert_eq!((s, c), (status, code), "{what}: {reply}");
    }
    assert_eq!(open_challenges(&app, &u).await, before);
}

#[tokio::test]
async fn another_users_wallet_is_not_found() {
    let app = spawn_app().await;
    let owner = app.user().await;
    let wallets = init_with_wallets(&app, &owner, json!(["MATIC-AMOY"])).await;
    let other = app.initialized_user(PIN).await;
    let body = json!({
        "idempotencyKey": key(),
        "walletId": wallets[0]["id"],
        "contractAddress": USDC_AMOY,
        "callData": transfer_data(DEST, 1),
        "feeLevel": "LOW",
    });
    let (s, c, reply) = create(&app, &other, body).await;
    assert_eq!((s, c), (404, 156001), "{reply}");
    // Nor by address.
    let body = json!({
        "idempotencyKey": key(),
        "walletAddress": wallets[0]["address"],
        "blockchain": "MATIC-AMOY",
        "contractAddress": USDC_AMOY,
        "callData": transfer_data(DEST, 1),
        "feeLevel": "LOW",
    });
    let (s, c, reply) = create(&app, &other, body).await;
    assert_eq!((s, c), (404, 156001), "{reply}");
}

/// An app on one anvil (MATIC-AMOY) whose user has one wallet funded with 1 native coin
/// and 5 TestUsdc at Circle's USDC address.
struct Funded {
    amoy: Anvil,
    app: TestApp,
    u: TestUser,
    wallet_id: String,
    address: String,
}

async fn funded() -> Funded {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    amoy.rpc(
        "anvil_setCode",
        json!([USDC_AMOY, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        address.trim_start_matches("0x").to_lowercase(),
        5_000_000u64
    );
    amoy.send(json!({ "from": acct0, "to": USDC_AMOY, "data": mint }))
        .await;
    Funded {
        wallet_id: wallets[0]["id"].as_str().unwrap().to_owned(),
        amoy,
        app,
        u,
        address,
    }
}

#[tokio::test]
async fn a_token_transfer_by_signature_and_by_call_data_completes() {
    let Funded {
        amoy,
        app,
        u,
        wallet_id,
        address,
    } = funded().await;
    let k = key();
    let by_signature = json!({
        "idempotencyKey": k,
        "walletId": wallet_id,
        "contractAddress": USDC_AMOY,
        "abiFunctionSignature": TRANSFER,
        "abiParameters": [DEST, 1_500_000],
        "feeLevel": "MEDIUM",
        "refId": "call-1",
    });
    let id = challenge(&app, &u, by_signature.clone()).await;
    let (s, _, again) = create(&app, &u, by_signature).await;
    assert_eq!((s, &again["data"]["challengeId"]), (200, &json!(id)));

    // What the user sees before the PIN.
    let d = app.executor(&u).describe(&id).await.unwrap();
    let shown = &d["signing"];
    assert_eq!(d["requires"]["pin"], true);
    assert_eq!(
        (&shown["walletId"], &shown["blockchain"]),
        (&json!(wallet_id), &json!("MATIC-AMOY")),
        "{shown}"
    );
    assert_eq!(
        shown["from"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    assert_eq!(
        (
            &shown["contractAddress"],
            &shown["abiFunctionSignature"],
            &shown["abiParameters"],
            &shown["amount"]
        ),
        (
            &json!(USDC_AMOY),
            &json!(TRANSFER),
            &json!([DEST, 1_500_000]),
            &json!("0")
        ),
        "{shown}"
    );
    assert!(shown.get("callData").is_none(), "{shown}");
    assert_eq!(shown["feeLevel"], "MEDIUM");
    assert_eq!(shown["nativeSymbol"], Blockchain::MaticAmoy.native_symbol());
    let gas: u128 = shown["gasLimit"].as_str().unwrap().parse().unwrap();
    assert!(gas > 21_000, "an ERC-20 call is estimated: {shown}");
    let max_fee = latchkey_chains::parse_gwei(shown["maxFee"].as_str().unwrap()).unwrap();
    let cap = latchkey_chains::format_units(latchkey_chains::U256::from(gas * max_fee), 18);
    assert_eq!(shown["maxNetworkFee"], json!(cap), "{shown}");

    let tx = approve(&app, &u, &id).await;
    let t = transaction(&app, &u, &tx).await;
    assert_eq!(
        (&t["state"], &t["transactionType"], &t["operation"]),
        (
            &json!("INITIATED"),
            &json!("OUTBOUND"),
            &json!("CONTRACT_EXECUTION")
        ),
        "{t}"
    );
    assert_eq!(
        (
            &t["contractAddress"],
            &t["destinationAddress"],
            &t["abiFunctionSignature"],
            &t["abiParameters"]
        ),
        (
            &json!(USDC_AMOY),
            &json!(USDC_AMOY),
            &json!(TRANSFER),
            &json!([DEST, 1_500_000])
        ),
        "{t}"
    );
    assert_eq!(
        (&t["amounts"], &t["refId"], &t["feeLevel"]),
        (&json!([]), &json!("call-1"), &json!("MEDIUM")),
        "{t}"
    );
    assert!(t.get("tokenId").is_none_or(Value::is_null), "{t}");
    let done = engine_until(&app, &u, &tx, "COMPLETE").await;
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_500_000);
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, &address).await, 3_500_000);
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(
        receipt["to"].as_str().unwrap().to_lowercase(),
        USDC_AMOY.to_lowercase()
    );

    // The same call as raw calldata, with explicit fees: the next nonce.
    let id = challenge(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletAddress": address,
            "blockchain": "MATIC-AMOY",
            "contractAddress": USDC_AMOY,
            "callData": transfer_data(DEST, 500_000),
            "gasLimit": "100000",
            "maxFee": "50",
            "priorityFee": "2",
        }),
    )
    .await;
    let d = app.executor(&u).describe(&id).await.unwrap();
    let shown = &d["signing"];
    assert_eq!(
        (&shown["callData"], &shown["feeLevel"], &shown["gasLimit"]),
        (
            &json!(transfer_data(DEST, 500_000)),
            &json!("CUSTOM"),
            &json!("100000")
        ),
        "{shown}"
    );
    assert!(shown.get("abiFunctionSignature").is_none(), "{shown}");
    let tx = approve(&app, &u, &id).await;
    let done = engine_until(&app, &u, &tx, "COMPLETE").await;
    assert!(done.get("abiFunctionSignature").is_none(), "{done}");
    assert_eq!(done["operation"], "CONTRACT_EXECUTION");
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 2_000_000);
    let sent = amoy
        .rpc("eth_getTransactionByHash", json!([done["txHash"]]))
        .await;
    assert_eq!(
        (&sent["nonce"], &sent["gas"]),
        (&json!("0x1"), &json!("0x186a0"))
    );
}

#[tokio::test]
async fn a_payable_call_sends_its_amount() {
    let Funded {
        amoy,
        app,
        u,
        wallet_id,
        ..
    } = funded().await;
    let reverter = amoy.deploy("Reverter").await;
    let id = challenge(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletId": wallet_id,
            "contractAddress": reverter,
            "abiFunctionSignature": "maybe(bool)",
            "abiParameters": [true],
            "amount": "0.001",
            "feeLevel": "HIGH",
        }),
    )
    .await;
    let d = app.executor(&u).describe(&id).await.unwrap();
    assert_eq!(d["signing"]["amount"], "0.001", "{d}");
    let tx = approve(&app, &u, &id).await;
    let done = engine_until(&app, &u, &tx, "COMPLETE").await;
    assert_eq!(done["amounts"], json!(["0.001"]), "{done}");
    assert_eq!(
        native_balance(&amoy, &reverter).await,
        1_000_000_000_000_000
    );
    let calls = amoy
        .rpc(
            "eth_call",
            json!([{ "to": reverter, "data": selector("Reverter", "calls()") }, "latest"]),
        )
        .await;
    assert_eq!(
        u128::from_str_radix(&calls.as_str().unwrap()[2..], 16).unwrap(),
        1
    );
}

#[tokio::test]
async fn a_call_that_reverts_is_refused_at_creation_or_fails_on_chain() {
    let Funded {
        amoy,
        app,
        u,
        wallet_id,
        address,
    } = funded().await;
    let reverter = amoy.deploy("Reverter").await;
    let before = open_challenges(&app, &u).await;
    let fail = json!({
        "idempotencyKey": key(),
        "walletId": wallet_id,
        "contractAddress": reverter,
        "abiFunctionSignature": "fail()",
        "abiParameters": [],
        "feeLevel": "LOW",
    });
    // The estimate at creation reverts: 155208 with the reason, before any PIN, whether the
    // fees are a level or explicit.
    let explicit = with(
        &fail,
        json!({ "idempotencyKey": key(), "feeLevel": null,
            "gasLimit": "60000", "maxFee": "50", "priorityFee": "2" }),
    );
    for body in [fail, explicit] {
        let (s, c, reply) = create(&app, &u, body).await;
        assert_eq!((s, c), (400, 155208), "{reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains("Reverter: always fails"),
            "{reply}"
        );
    }
    // A token the wallet does not hold: the token's own revert.
    let (s, c, reply) = create(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletId": wallet_id,
            "contractAddress": USDC_AMOY,
            "callData": transfer_data(DEST, 6_000_000),
            "feeLevel": "LOW",
        }),
    )
    .await;
    assert_eq!((s, c), (400, 155208), "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("exceeds balance"),
        "{reply}"
    );
    // Fee fields are checked as for a transfer.
    let (s, c, reply) = create(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletId": wallet_id,
            "contractAddress": USDC_AMOY,
            "callData": transfer_data(DEST, 1),
        }),
    )
    .await;
    assert_eq!((s, c), (400, 155231), "{reply}");
    assert_eq!(open_challenges(&app, &u).await, before);

    // Two calls that each move the whole balance both pass their estimates; the second to
    // be mined reverts on chain.
    let all = |k: String| {
        json!({
            "idempotencyKey": k,
            "walletId": wallet_id,
            "contractAddress": USDC_AMOY,
            "abiFunctionSignature": TRANSFER,
            "abiParameters": [DEST, "5000000"],
            "feeLevel": "MEDIUM",
        })
    };
    let first = challenge(&app, &u, all(key())).await;
    let second = challenge(&app, &u, all(key())).await;
    let first = approve(&app, &u, &first).await;
    let second = approve(&app, &u, &second).await;
    engine_until(&app, &u, &first, "COMPLETE").await;
    let failed = engine_until(&app, &u, &second, "FAILED").await;
    assert_eq!(failed["errorReason"], "FAILED_ON_CHAIN", "{failed}");
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([failed["txHash"]]))
        .await;
    assert_eq!(receipt["status"], "0x0", "{receipt}");
    assert!(
        failed["networkFee"].is_string(),
        "a revert still pays gas: {failed}"
    );
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 5_000_000);
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, &address).await, 0);
}
