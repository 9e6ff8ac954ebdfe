//! Money from SCA wallets: transfers and contract executions become ERC-4337 UserOperations
//! that latchkey's gas station bundles and its paymaster sponsors, on anvil with the real
//! contracts (EntryPoint v0.7, Safe 1.4.1 + Safe4337Module, the VerifyingPaymaster). An SCA
//! with no native coin sends USDC; its first operation deploys the Safe; Circle's 155232 and
//! 155505; a second operation; the estimate's ERC-4337 fields; the webhooks carry userOpHash.

use crate::money_transfers::{create, engine_until, native_balance, transaction, usdc_balance};
use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::*;
use latchkey_chains::{sca, Blockchain, U256};
use latchkey_core::money::{ChainSet, GasStation, OperatorKey};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

const USDC_AMOY_ID: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
const USDC_AMOY: &str = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";
const DEST: &str = "0x3333333333333333333333333333333333333333";
const ETHER: u128 = 1_000_000_000_000_000_000;

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A server on anvil (Amoy's chain id) whose MATIC-AMOY has a gas station: the AA contracts
/// deployed as `--dev` does, a fresh station key (funded) that also signs for the paymaster,
/// the paymaster's deposit funded. Returns the station's address too.
pub(crate) async fn app_with_station(amoy: &Anvil) -> (TestApp, latchkey_chains::Address) {
    let (app, station, _) = app_with_station_deposit(amoy, 10 * ETHER).await;
    (app, station)
}

/// [`app_with_station`] with this paymaster deposit (none when 0): (app, station, paymaster).
async fn app_with_station_deposit(
    amoy: &Anvil,
    deposit: u128,
) -> (TestApp, latchkey_chains::Address, latchkey_chains::Address) {
    let mut chain = latchkey_evm::connect(
        Blockchain::MaticAmoy,
        &amoy.url,
        &latchkey_evm::RpcOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let node = chain.node.clone();
    let operator = node.accounts().await.unwrap()[0];
    let (station, _) = OperatorKey::generate();
    let station = Arc::new(station);
    let aa =
        latchkey_evm::aa_deploy::deploy_aa_contracts(node.as_ref(), operator, station.address())
            .await
            .unwrap();
    if deposit > 0 {
        latchkey_evm::aa_deploy::fund_paymaster(
            node.as_ref(),
            operator,
            aa.entry_point,
            aa.paymaster,
            U256::from(deposit),
        )
        .await
        .unwrap();
    }
    node.set_balance(station.address(), U256::from(100 * ETHER))
        .await
        .unwrap();
    let address = station.address();
    chain.gas_station = Some(Arc::new(GasStation {
        station: station.clone(),
        paymaster_signer: station,
        paymaster: aa.paymaster,
        entry_point: aa.entry_point,
        account: aa.account,
    }));
    let mut set = ChainSet::new();
    set.insert(chain);
    let app = spawn_app_with_chain_set(test_settings(), set).await;
    (app, address, aa.paymaster)
}

/// INITIALIZE with one SCA wallet on MATIC-AMOY: (id, address).
pub(crate) async fn sca_wallet(app: &TestApp, u: &TestUser) -> (String, String) {
    let body =
        json!({ "idempotencyKey": key(), "blockchains": ["MATIC-AMOY"], "accountType": "SCA" });
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
    let wid = c["correlationIds"][0].as_str().unwrap().to_owned();
    let (_, w, _) = app
        .get(&format!("/v1/w3s/wallets/{wid}"), Some(&u.token))
        .await;
    let address = w["data"]["wallet"]["address"].as_str().unwrap().to_owned();
    (wid, address)
}

/// Puts TestUsdc at Circle's MATIC-AMOY USDC address and mints `amount` to `to`.
pub(crate) async fn mint_usdc(amoy: &Anvil, to: &str, amount: u64) {
    let acct0 = amoy.accounts().await[0].clone();
    amoy.rpc(
        "anvil_setCode",
        json!([USDC_AMOY, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        to.trim_start_matches("0x").to_lowercase(),
        amount
    );
    amoy.send(json!({ "from": acct0, "to": USDC_AMOY, "data": mint }))
        .await;
}

/// Creates a challenge on `path`, approves it with the PIN: the transaction id.
pub(crate) async fn approve_on(app: &TestApp, u: &TestUser, path: &str, body: Value) -> String {
    let (s, b, _) = app
        .call(Method::POST, path, Some(&u.token), Some(body))
        .await;
    assert_eq!(s, 201, "{b}");
    let challenge = b["data"]["challengeId"].as_str().unwrap().to_owned();
    app.executor(u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(u, &challenge).await;
    assert_eq!(c["status"], "COMPLETE", "{c}");
    c["correlationIds"][0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_sca_without_native_coin_sends_usdc_by_sponsored_user_operations() {
    let amoy = Anvil::start(80_002).await;
    let (app, station) = app_with_station(&amoy).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.outbound"])).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 5_000_000).await;
    assert_eq!(native_balance(&amoy, &safe).await, 0);
    let code = |a: String| {
        let amoy = &amoy;
        async move { amoy.rpc("eth_getCode", json!([a, "latest"])).await }
    };
    assert_eq!(code(safe.clone()).await, "0x");

    let transfer = |amount: &str| {
        json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST, "amounts": [amount], "feeLevel": "MEDIUM" })
    };

    // feeLevel only (155232): explicit fees, a gasLimit, or no feeLevel at all.
    for (field, value) in [
        ("gasLimit", json!("300000")),
        ("maxFee", json!("50")),
        ("priorityFee", json!("2")),
    ] {
        let mut body = transfer("1");
        body[field] = value;
        let (s, c, b) = create(&app, &u, body).await;
        assert_eq!((s, c), (400, 155232), "{field}: {b}");
    }
    let mut body = transfer("1");
    body.as_object_mut().unwrap().remove("feeLevel");
    body["maxFee"] = json!("50");
    body["priorityFee"] = json!("2");
    body["gasLimit"] = json!("300000");
    assert_eq!(create(&app, &u, body).await.1, 155232);

    // The estimate: Circle's ERC-4337 fields, the deployment's verification limit.
    let (s, est, _) = app
        .call(
            Method::POST,
            "/v1/w3s/transactions/transfer/estimateFee",
            Some(&u.token),
            Some(transfer("1")),
        )
        .await;
    assert_eq!(s, 200, "{est}");
    let d = &est["data"];
    assert_eq!(d["verificationGasLimit"], "600000", "{est}");
    let gas = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
    assert!(gas(&d["callGasLimit"]) > 40_000, "{est}");
    assert!(gas(&d["preVerificationGas"]) > 31_000, "{est}");
    let sum = gas(&d["callGasLimit"]) + 600_000 + gas(&d["preVerificationGas"]) + 100_000;
    assert_eq!(gas(&d["medium"]["gasLimit"]), sum, "{est}");

    // The first operation: approved with the PIN, stored, not sent.
    let (s, _, challenge) = create(&app, &u, transfer("1.5")).await;
    assert_eq!(s, 201, "{challenge}");
    let shown = &challenge["data"];
    let cid = shown["challengeId"].as_str().unwrap().to_owned();
    app.executor(&u)
        .execute(&cid, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let first = app.challenge_status(&u, &cid).await["correlationIds"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let t = transaction(&app, &u, &first).await;
    assert_eq!(t["state"], "INITIATED", "{t}");
    let user_op_hash = t["userOpHash"].as_str().unwrap().to_owned();
    assert_eq!(user_op_hash.len(), 66, "{t}");
    assert!(t["txHash"].is_null(), "{t}");

    // One operation in flight per account (155505), for transfers and contract calls alike.
    let (s, c, b) = create(&app, &u, transfer("1")).await;
    assert_eq!((s, c), (400, 155505), "{b}");
    let call = json!({ "idempotencyKey": key(), "walletId": wid, "contractAddress": USDC_AMOY,
        "abiFunctionSignature": "transfer(address,uint256)", "abiParameters": [DEST, "1000000"],
        "feeLevel": "LOW" });
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/transactions/contractExecution",
            Some(&u.token),
            Some(call.clone()),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(155505)), "{b}");

    // The engine bundles it with the station's key; the Safe deploys and pays, with no gas.
    let done = engine_until(&app, &u, &first, "COMPLETE").await;
    assert_eq!(done["userOpHash"], json!(user_op_hash));
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_500_000);
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, &safe).await, 3_500_000);
    assert_eq!(native_balance(&amoy, &safe).await, 0);
    assert_ne!(code(safe.clone()).await, "0x");
    let hash = done["txHash"].as_str().unwrap();
    let receipt = amoy.rpc("eth_getTransactionReceipt", json!([hash])).await;
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(
        receipt["from"].as_str().unwrap().to_lowercase(),
        format!("{station:#x}")
    );
    assert_eq!(
        receipt["to"].as_str().unwrap().to_lowercase(),
        format!("{:#x}", sca::ENTRY_POINT_V07)
    );
    let fee: f64 = done["networkFee"].as_str().unwrap().parse().unwrap();
    assert!(fee > 0.0, "{done}");
    let first_gas = receipt["gasUsed"].clone();
    let user = app.user_row(&u).await;
    let wallet = app
        .lk
        .store()
        .wallet(&user.entity_id, &user.internal_id, &wid)
        .await
        .unwrap()
        .unwrap();
    assert!(wallet.deployed_at.is_some());

    // A second operation (a contract call, no initCode now) after the first settled.
    let (s, est, _) = app
        .call(
            Method::POST,
            "/v1/w3s/transactions/contractExecution/estimateFee",
            Some(&u.token),
            Some(call.clone()),
        )
        .await;
    assert_eq!(s, 200, "{est}");
    assert_eq!(est["data"]["verificationGasLimit"], "150000", "{est}");
    let second = approve_on(
        &app,
        &u,
        "/v1/w3s/user/transactions/contractExecution",
        call,
    )
    .await;
    let done = engine_until(&app, &u, &second, "COMPLETE").await;
    assert_eq!(done["operation"], "CONTRACT_EXECUTION");
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    // The figures docs/sca.md quotes (run with --nocapture).
    eprintln!(
        "bundle gas: first operation (deploys the Safe) {first_gas}, second {}",
        receipt["gasUsed"]
    );
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 2_500_000);
    assert_ne!(done["userOpHash"], json!(user_op_hash));

    // A call that reverts inside the account: the bundle is mined, the operation FAILED.
    let call = json!({ "idempotencyKey": key(), "walletId": wid, "contractAddress": USDC_AMOY,
        "abiFunctionSignature": "transfer(address,uint256)", "abiParameters": [DEST, "1"],
        "feeLevel": "LOW" });
    let third = approve_on(
        &app,
        &u,
        "/v1/w3s/user/transactions/contractExecution",
        call,
    )
    .await;
    // The token starts reverting before the bundle runs: the account's call fails on chain,
    // inside a bundle that is mined.
    amoy.rpc("anvil_setCode", json!([USDC_AMOY, "0x60006000fd"]))
        .await;
    let failed = engine_until(&app, &u, &third, "FAILED").await;
    assert_eq!(failed["errorReason"], "FAILED_ON_CHAIN", "{failed}");
    assert!(failed["txHash"].is_string(), "{failed}");

    // Webhooks: each state once, carrying the userOpHash.
    crate::support::webhooks::drain(&app).await;
    let mut states: Vec<String> = hooks
        .of_type("transactions.outbound")
        .into_iter()
        .filter(|b| b["notification"]["id"] == json!(first))
        .map(|b| {
            assert_eq!(b["notification"]["userOpHash"], json!(user_op_hash), "{b}");
            b["notification"]["state"].as_str().unwrap().to_owned()
        })
        .collect();
    states.sort();
    assert_eq!(states, ["COMPLETE", "CONFIRMED", "QUEUED", "SENT"]);
}

#[tokio::test]
async fn an_sca_chain_without_a_gas_station_refuses_sends_naming_the_setting() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 5_000_000).await;
    let body = json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
        "destinationAddress": DEST, "amounts": ["1"], "feeLevel": "MEDIUM" });
    let (s, c, b) = create(&app, &u, body).await;
    assert_eq!((s, c), (400, 155509), "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("--gas-station-key MATIC-AMOY=FILE"),
        "{b}"
    );
}

#[tokio::test]
async fn operations_of_two_accounts_take_consecutive_station_nonces_in_one_pass() {
    let amoy = Anvil::start(80_002).await;
    let (app, station) = app_with_station(&amoy).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let u = app.user().await;
        let (wid, safe) = sca_wallet(&app, &u).await;
        mint_usdc(&amoy, &safe, 1_000_000).await;
        let body = json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST, "amounts": ["1"], "feeLevel": "HIGH" });
        let id = approve_on(&app, &u, "/v1/w3s/user/transactions/transfer", body).await;
        ids.push((u, id));
    }
    // One pass bundles both (each stored before it is sent), at the station's nonces 0 and 1.
    app.engine.run_once().await;
    let mut nonces = Vec::new();
    for (u, id) in &ids {
        let done = engine_until(&app, u, id, "COMPLETE").await;
        let tx = amoy
            .rpc("eth_getTransactionByHash", json!([done["txHash"]]))
            .await;
        assert_eq!(
            tx["from"].as_str().unwrap().to_lowercase(),
            format!("{station:#x}")
        );
        nonces.push(tx["nonce"].as_str().unwrap().to_owned());
    }
    nonces.sort();
    assert_eq!(nonces, ["0x0", "0x1"]);
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 2_000_000);
    let used = app
        .sql(
            // A no-op update counts the rows (what `sql` answers).
            "UPDATE station_nonce_claims SET state = state \
             WHERE state = 'USED' AND transaction_id IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(used, 2);
}

#[tokio::test]
async fn an_operation_waits_for_the_paymasters_deposit_rather_than_fail() {
    let amoy = Anvil::start(80_002).await;
    let (app, _, paymaster) = app_with_station_deposit(&amoy, 0).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 1_000_000).await;
    let body = json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
        "destinationAddress": DEST, "amounts": ["1"], "feeLevel": "MEDIUM" });
    let id = approve_on(&app, &u, "/v1/w3s/user/transactions/transfer", body).await;
    // The EntryPoint refuses to sponsor from an empty deposit (AA31): nothing is bundled.
    for _ in 0..3 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
    }
    let t = transaction(&app, &u, &id).await;
    assert_eq!(t["state"], "QUEUED", "{t}");
    assert!(t["txHash"].is_null(), "{t}");
    // The operator funds the deposit: the operation goes through.
    let acct0 = amoy.accounts().await[0].clone();
    let data: String = sca::deposit_to_call(paymaster)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    amoy.send(
        json!({ "from": acct0, "to": format!("{:#x}", sca::ENTRY_POINT_V07),
        "value": "0x8ac7230489e80000", "data": format!("0x{data}") }),
    )
    .await;
    engine_until(&app, &u, &id, "COMPLETE").await;
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);
}
