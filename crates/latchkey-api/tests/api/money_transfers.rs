//! `POST /v1/w3s/user/transactions/transfer` (CREATE_TRANSACTION): the checks a create call
//! runs before any user sees a PIN prompt, each with Circle's code, and no challenge left
//! behind by a refused call.

use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use serde_json::{json, Value};

const TRANSFER: &str = "/v1/w3s/user/transactions/transfer";
pub(crate) const DEST: &str = "0x2222222222222222222222222222222222222222";
/// Circle's USDC on MATIC-AMOY: its token id and contract address.
const USDC_AMOY_ID: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
pub(crate) const USDC_AMOY: &str = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";

pub(crate) fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// POSTs a transfer body; returns (status, Circle code or 0).
pub(crate) async fn create(app: &TestApp, u: &TestUser, body: Value) -> (u16, i64, Value) {
    let (status, body, _) = app.post(TRANSFER, Some(&u.token), body).await;
    (status, body["code"].as_i64().unwrap_or(0), body)
}

async fn open_challenges(app: &TestApp, u: &TestUser) -> usize {
    let (s, body, _) = app.get("/v1/w3s/user/challenges", Some(&u.token)).await;
    assert_eq!(s, 200, "{body}");
    body["data"]["challenges"].as_array().unwrap().len()
}

#[tokio::test]
async fn refused_requests_get_circles_codes_and_leave_no_challenge() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let wallet_id = wallets[0]["id"].as_str().unwrap().to_owned();
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let before = open_challenges(&app, &u).await;
    let native = |extra: Value| {
        let mut body = json!({
            "idempotencyKey": key(),
            "walletId": wallet_id,
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": ["0.01"],
            "feeLevel": "MEDIUM",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases: Vec<(&str, Value, u16, i64)> = vec![
        (
            "no idempotency key",
            native(json!({ "idempotencyKey": null })),
            400,
            2,
        ),
        (
            "walletId and walletAddress",
            native(json!({ "walletAddress": address })),
            400,
            155244,
        ),
        (
            "a wallet of nobody",
            native(json!({ "walletId": "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1" })),
            404,
            156001,
        ),
        (
            "a token id nobody knows",
            native(json!({ "tokenAddress": null, "blockchain": null,
                "tokenId": "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1" })),
            404,
            156002,
        ),
        ("a chain without a node", native(json!({})), 400, 156027),
        (
            "a fee level Circle does not have",
            native(json!({ "feeLevel": "FAST" })),
            400,
            2,
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, c, reply) = create(&app, &u, body).await;
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
        "tokenAddress": "",
        "blockchain": "MATIC-AMOY",
        "destinationAddress": DEST,
        "amounts": ["0.01"],
        "feeLevel": "LOW",
    });
    let (s, c, reply) = create(&app, &other, body).await;
    assert_eq!((s, c), (404, 156001), "{reply}");
}

#[tokio::test]
async fn a_funded_wallet_gets_a_challenge_showing_what_it_will_sign() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let body = |k: &str| {
        json!({
            "idempotencyKey": k,
            "walletId": wallets[0]["id"],
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": ["0.01"],
            "feeLevel": "MEDIUM",
        })
    };
    // Empty wallet: value + gas cannot be paid.
    let (s, c, reply) = create(&app, &u, body(&key())).await;
    assert_eq!((s, c), (400, 155201), "{reply}");
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    let k = key();
    let (s, _, reply) = create(&app, &u, body(&k)).await;
    assert_eq!(s, 201, "{reply}");
    let id = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let (s, _, again) = create(&app, &u, body(&k)).await;
    assert_eq!((s, &again["data"]["challengeId"]), (200, &json!(id)));
    let d = app.executor(&u).describe(&id).await.unwrap();
    let shown = &d["signing"];
    assert_eq!(d["requires"]["pin"], true);
    assert_eq!(shown["walletId"], wallets[0]["id"]);
    assert_eq!(
        shown["from"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    assert_eq!(
        (&shown["to"], &shown["amounts"]),
        (&json!(DEST), &json!(["0.01"]))
    );
    assert_eq!(shown["token"]["decimals"], 18);
    assert_eq!(
        (&shown["feeLevel"], &shown["gasLimit"]),
        (&json!("MEDIUM"), &json!("21000"))
    );
    assert_eq!(shown["nativeSymbol"], Blockchain::MaticAmoy.native_symbol());
    // maxNetworkFee = gasLimit x maxFee, in native units.
    let max_fee = latchkey_chains::parse_gwei(shown["maxFee"].as_str().unwrap()).unwrap();
    let cap = latchkey_chains::format_units(latchkey_chains::U256::from(21_000u128 * max_fee), 18);
    assert_eq!(shown["maxNetworkFee"], json!(cap), "{shown}");
    // Explicit fees above the one-token cap are refused before any PIN.
    let mut pricey = body(&key());
    pricey.as_object_mut().unwrap().remove("feeLevel");
    for (k, v) in [
        ("gasLimit", "21000"),
        ("maxFee", "100000000"),
        ("priorityFee", "1"),
    ] {
        pricey[k] = json!(v);
    }
    let (s, c, reply) = create(&app, &u, pricey).await;
    assert_eq!((s, c), (400, 155211), "{reply}");
}

/// `eth_getBalance` of `address` in wei.
pub(crate) async fn native_balance(node: &Anvil, address: &str) -> u128 {
    let hex = node.rpc("eth_getBalance", json!([address, "latest"])).await;
    u128::from_str_radix(hex.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// TestUsdc's `balanceOf(address)` in base units.
pub(crate) async fn usdc_balance(node: &Anvil, token: &str, address: &str) -> u128 {
    let data = format!(
        "{}{:0>64}",
        selector("TestUsdc", "balanceOf(address)"),
        address.trim_start_matches("0x")
    );
    let out = node
        .rpc("eth_call", json!([{ "to": token, "data": data }, "latest"]))
        .await;
    u128::from_str_radix(out.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The transaction as the user's `GET /transactions/{id}` shows it.
pub(crate) async fn transaction(app: &TestApp, u: &TestUser, id: &str) -> Value {
    let (s, body, _) = app
        .get(&format!("/v1/w3s/transactions/{id}"), Some(&u.token))
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]["transaction"].clone()
}

/// Steps the engine (the clock moving a second per pass) until the transaction is `state`.
pub(crate) async fn engine_until(app: &TestApp, u: &TestUser, id: &str, state: &str) -> Value {
    let mut seen = Value::Null;
    for _ in 0..60 {
        app.engine.run_once().await;
        seen = transaction(app, u, id).await;
        if seen["state"] == state {
            return seen;
        }
        app.clock.advance_ms(1_000);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the transaction never reached {state}: {seen}");
}

/// Creates a transfer challenge with `body`, approves it with the PIN, and returns the
/// transaction id it names.
pub(crate) async fn approve(app: &TestApp, u: &TestUser, body: Value) -> String {
    let (s, _, reply) = create(app, u, body).await;
    assert_eq!(s, 201, "{reply}");
    let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    app.executor(u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(u, &challenge).await;
    assert_eq!(c["status"], "COMPLETE", "{c}");
    let ids = c["correlationIds"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{c}");
    ids[0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_native_and_a_usdc_transfer_reach_the_chain_and_complete_with_webhooks() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.outbound"])).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    // USDC where Circle's registry says it is on MATIC-AMOY (as the local faucet puts it).
    let usdc = USDC_AMOY.to_owned();
    amoy.rpc(
        "anvil_setCode",
        json!([usdc, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        address.trim_start_matches("0x").to_lowercase(),
        5_000_000u64
    );
    amoy.send(json!({ "from": acct0, "to": usdc, "data": mint }))
        .await;
    let before = native_balance(&amoy, DEST).await;

    let native = approve(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletId": wallets[0]["id"],
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": ["0.01"],
            "feeLevel": "MEDIUM",
            "refId": "order-7",
        }),
    )
    .await;
    let t = transaction(&app, &u, &native).await;
    assert_eq!(
        (&t["state"], &t["transactionType"], &t["operation"]),
        (&json!("INITIATED"), &json!("OUTBOUND"), &json!("TRANSFER")),
        "{t}"
    );
    assert_eq!(
        (&t["amounts"], &t["refId"]),
        (&json!(["0.01"]), &json!("order-7"))
    );
    assert!(
        t["txHash"].is_null(),
        "no hash before a node accepted it: {t}"
    );
    // Nothing moves before the engine runs: the challenge only stored the signed bytes.
    assert_eq!(native_balance(&amoy, DEST).await, before);

    let done = engine_until(&app, &u, &native, "COMPLETE").await;
    assert_eq!(
        native_balance(&amoy, DEST).await,
        before + 10_000_000_000_000_000
    );
    let hash = done["txHash"].as_str().unwrap();
    let receipt = amoy.rpc("eth_getTransactionReceipt", json!([hash])).await;
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(
        receipt["from"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    assert_eq!(done["blockHash"], receipt["blockHash"]);
    assert!(
        done["networkFee"].as_str().unwrap().starts_with("0.0"),
        "{done}"
    );
    assert!(done["firstConfirmDate"].is_string(), "{done}");

    // The USDC transfer signs the wallet's next nonce.
    let token = approve(
        &app,
        &u,
        json!({
            "idempotencyKey": key(),
            "walletId": wallets[0]["id"],
            "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST,
            "amounts": ["1.5"],
            "feeLevel": "LOW",
        }),
    )
    .await;
    let done = engine_until(&app, &u, &token, "COMPLETE").await;
    assert_eq!(usdc_balance(&amoy, &usdc, DEST).await, 1_500_000);
    assert_eq!(usdc_balance(&amoy, &usdc, &address).await, 3_500_000);
    let hash = done["txHash"].as_str().unwrap();
    let tx = amoy.rpc("eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(tx["nonce"], "0x1");

    // Each state was notified once (deliveries run in parallel: like Circle's, they are
    // unordered), and the last carries what GET shows.
    crate::support::webhooks::drain(&app).await;
    for id in [&native, &token] {
        let states = hooks.states_of("transactions.outbound", id);
        assert_eq!(states, ["COMPLETE", "CONFIRMED", "QUEUED", "SENT"]);
    }
    let last = hooks
        .of_type("transactions.outbound")
        .into_iter()
        .find(|b| {
            b["notification"]["id"] == json!(token) && b["notification"]["state"] == "COMPLETE"
        })
        .unwrap();
    assert_eq!(last["notification"], transaction(&app, &u, &token).await);
}

#[tokio::test]
async fn a_wrong_pin_writes_nothing_and_a_second_execution_is_refused() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    let body = json!({
        "idempotencyKey": key(),
        "walletId": wallets[0]["id"],
        "tokenAddress": "",
        "blockchain": "MATIC-AMOY",
        "destinationAddress": DEST,
        "amounts": ["0.01"],
        "feeLevel": "HIGH",
    });
    let (s, _, reply) = create(&app, &u, body).await;
    assert_eq!(s, 201, "{reply}");
    let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let wrong = app
        .executor(&u)
        .execute(&challenge, &json!({ "pin": "999999" }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&wrong), 155112);
    let (s, list, _) = app.get("/v1/w3s/transactions", Some(&u.token)).await;
    assert_eq!(s, 200);
    assert_eq!(
        list["data"]["transactions"],
        json!([]),
        "a wrong PIN writes no transaction"
    );
    app.executor(&u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let again = app
        .executor(&u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap_err();
    assert_eq!(api_code(&again), 155122, "{}", api_body(&again));
    let (_, list, _) = app.get("/v1/w3s/transactions", Some(&u.token)).await;
    assert_eq!(list["data"]["transactions"].as_array().unwrap().len(), 1);
    // Another user sees none of it.
    let other = app.initialized_user(PIN).await;
    let id = list["data"]["transactions"][0]["id"].as_str().unwrap();
    let (s, _, _) = app
        .get(&format!("/v1/w3s/transactions/{id}"), Some(&other.token))
        .await;
    assert_eq!(s, 404);
}
