//! Money from SCA wallets: transfers and contract executions become ERC-4337 UserOperations
//! that latchkey's gas station bundles and its paymaster sponsors, on anvil with the real
//! contracts (EntryPoint v0.7, Safe 1.4.1 + Safe4337Module, the VerifyingPaymaster). An SCA
//! with no native coin sends USDC; its first operation deploys the Safe; Circle's 155232 and
//! 155505; a second operation; the estimate's ERC-4337 fields; the webhooks carry userOpHash;
//! a stuck bundle accelerated, and an operation cancelled by a no-op at its account nonce.

use crate::money_engine::{approve_replacement, replace};
use crate::money_transfers::{create, engine_until, native_balance, transaction, usdc_balance};
use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::*;
use latchkey_chains::{sca, Blockchain, U256};
use latchkey_core::money::{
    AttemptKind, AttemptRecord, CallRequest, ChainSet, GasStation, NodeError, OperatorKey,
};
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

/// The account's EntryPoint nonce (key 0).
async fn account_nonce(amoy: &Anvil, account: &str) -> U256 {
    let account: latchkey_chains::Address = account.parse().unwrap();
    let data = hex(&sca::get_nonce_call(account, Default::default()));
    let ret = amoy
        .rpc(
            "eth_call",
            json!([{ "to": format!("{:#x}", sca::ENTRY_POINT_V07), "data": data }, "latest"]),
        )
        .await;
    ret.as_str().unwrap().parse().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

/// The EntryPoint's reason for refusing `handleOps([op])` sent by anvil's first account (any
/// key may bundle a signed operation).
async fn resubmitted(amoy: &Anvil, op: &sca::PackedUserOperation) -> String {
    let acct0: latchkey_chains::Address = amoy.accounts().await[0].parse().unwrap();
    let chain = latchkey_evm::connect(
        Blockchain::MaticAmoy,
        &amoy.url,
        &latchkey_evm::RpcOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let call = CallRequest {
        from: Some(acct0),
        to: Some(sca::ENTRY_POINT_V07),
        data: sca::handle_ops_call(std::slice::from_ref(op), acct0),
        ..CallRequest::default()
    };
    match chain.node.call(&call).await {
        Err(NodeError::Reverted(Some(reason))) => reason,
        other => panic!("the original operation was accepted again: {other:?}"),
    }
}

/// The attempt of `kind` of transaction `id` (the operation and its first bundle may share a
/// millisecond, so their order is not the kinds').
async fn attempt(app: &TestApp, id: &str, kind: AttemptKind) -> AttemptRecord {
    let attempts = app.lk.store().attempts(id).await.unwrap();
    attempts
        .into_iter()
        .find(|a| a.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} attempt"))
}

/// The signed operation of SCA transaction `id` (its USER_OPERATION attempt).
async fn signed_op(app: &TestApp, id: &str) -> sca::PackedUserOperation {
    let a = attempt(app, id, AttemptKind::UserOperation).await;
    latchkey_core::money::user_op::decode_packed(&a.raw).unwrap()
}

#[tokio::test]
async fn a_stuck_bundle_accelerated_lands_at_the_higher_fee_and_a_cancelled_one_never_runs() {
    let amoy = Anvil::start(80_002).await;
    let (app, station) = app_with_station(&amoy).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, None).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 5_000_000).await;
    let transfer = |amount: &str| {
        json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST, "amounts": [amount], "feeLevel": "MEDIUM" })
    };
    let path = "/v1/w3s/user/transactions/transfer";
    // Bundles wait in anvil's pool until a block is asked for.
    amoy.rpc("evm_setAutomine", json!([false])).await;

    // Accelerate: the same bundle, the station's nonce, a higher fee.
    let first = approve_on(&app, &u, path, transfer("1")).await;
    // Not bundled yet: nothing a node holds to replace (155229), as an unsent EOA transfer.
    let (s, c, b) = replace(&app, &u, &first, "accelerate").await;
    assert_eq!((s, c), (400, 155229), "{b}");
    let sent = engine_until(&app, &u, &first, "SENT").await;
    app.clock.advance_ms(121_000);
    engine_until(&app, &u, &first, "STUCK").await;
    let shown = approve_replacement(&app, &u, &first, "accelerate").await;
    assert_eq!(shown["action"], "ACCELERATE");
    assert_eq!(shown["gasPaidBy"], "latchkey's gas station", "{shown}");
    assert_eq!(app.lk.store().attempts(&first).await.unwrap().len(), 3);
    let bundle = &attempt(&app, &first, AttemptKind::Bundle).await;
    let faster = &attempt(&app, &first, AttemptKind::Accelerate).await;
    assert_eq!(faster.nonce, bundle.nonce, "the same station nonce");
    assert_eq!(faster.gas_limit, bundle.gas_limit);
    assert!(faster.max_fee.unwrap() * 8 >= bundle.max_fee.unwrap() * 9);
    let calldata = |raw: &[u8]| latchkey_chains::decode_evm_tx(raw).unwrap().data;
    assert_eq!(
        calldata(&faster.raw),
        calldata(&bundle.raw),
        "the same operation, its signatures unchanged"
    );
    let resent = engine_until(&app, &u, &first, "SENT").await;
    assert_ne!(resent["txHash"], sent["txHash"]);
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &first, "COMPLETE").await;
    assert_eq!(done["txHash"], json!(faster.tx_hash), "{done}");
    let mined = amoy
        .rpc("eth_getTransactionByHash", json!([done["txHash"]]))
        .await;
    assert_eq!(
        mined["maxFeePerGas"],
        json!(format!("{:#x}", faster.max_fee.unwrap())),
        "the higher-fee bundle was mined"
    );
    assert_eq!(
        mined["from"].as_str().unwrap().to_lowercase(),
        format!("{station:#x}")
    );
    let original = amoy
        .rpc("eth_getTransactionReceipt", json!([bundle.tx_hash]))
        .await;
    assert!(original.is_null(), "{original}");
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);
    let (s, c, b) = replace(&app, &u, &first, "cancel").await;
    assert_eq!((s, c), (400, 155229), "a complete operation: {b}");

    // Cancel: the account's nonce spent by a no-op operation at the same station nonce.
    let second = approve_on(&app, &u, path, transfer("2")).await;
    engine_until(&app, &u, &second, "SENT").await;
    let nonce = account_nonce(&amoy, &safe).await;
    assert_eq!(nonce, U256::from(1));
    let shown = approve_replacement(&app, &u, &second, "cancel").await;
    assert_eq!(shown["action"], "CANCEL");
    app.engine.run_once().await;
    assert_eq!(app.lk.store().attempts(&second).await.unwrap().len(), 3);
    let bundle = &attempt(&app, &second, AttemptKind::Bundle).await;
    let cancel = &attempt(&app, &second, AttemptKind::Cancel).await;
    assert_eq!(cancel.nonce, bundle.nonce, "the same station nonce");
    assert_eq!(cancel.broadcasts, 1, "{cancel:?}");
    assert_eq!(
        shown["gasLimit"],
        json!(cancel.gas_limit.to_string()),
        "{shown}"
    );
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &second, "CANCELLED").await;
    assert_eq!(done["txHash"], json!(cancel.tx_hash), "{done}");
    let fee: f64 = done["networkFee"].as_str().unwrap().parse().unwrap();
    assert!(fee > 0.0, "{done}");
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    assert_eq!(receipt["status"], "0x1");
    eprintln!(
        "cancel bundle gas (deployed account): {} used of {} (limit)",
        receipt["gasUsed"], cancel.gas_limit
    );
    assert_eq!(account_nonce(&amoy, &safe).await, nonce + U256::from(1));
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, &safe).await, 4_000_000);
    // The original signed operation, bundled by anyone now: the EntryPoint refuses it.
    let reason = resubmitted(&amoy, &signed_op(&app, &second).await).await;
    assert!(reason.starts_with("AA25"), "{reason}");
    let (s, c, b) = replace(&app, &u, &second, "cancel").await;
    assert_eq!((s, c), (400, 155229), "a cancelled operation: {b}");

    // Webhooks: the EOA path's, CANCELLED included.
    crate::support::webhooks::drain(&app).await;
    let states: Vec<String> = hooks
        .of_type("transactions.outbound")
        .into_iter()
        .filter(|b| b["notification"]["id"] == json!(second))
        .map(|b| b["notification"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert!(states.contains(&"CANCELLED".to_owned()), "{states:?}");
    assert_eq!(hooks.of_type("challenges.cancelTransaction").len(), 1);
    assert_eq!(hooks.of_type("challenges.accelerateTransaction").len(), 1);
}

#[tokio::test]
async fn a_cancelled_first_operation_deploys_the_account_and_a_lost_race_completes() {
    let amoy = Anvil::start(80_002).await;
    let (app, _) = app_with_station(&amoy).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 5_000_000).await;
    let transfer = |amount: &str| {
        json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST, "amounts": [amount], "feeLevel": "MEDIUM" })
    };
    let path = "/v1/w3s/user/transactions/transfer";
    amoy.rpc("evm_setAutomine", json!([false])).await;

    // The first operation carries initCode: so does its cancel, which deploys the Safe.
    let first = approve_on(&app, &u, path, transfer("1")).await;
    engine_until(&app, &u, &first, "SENT").await;
    let shown = approve_replacement(&app, &u, &first, "cancel").await;
    let gas: u64 = shown["gasLimit"].as_str().unwrap().parse().unwrap();
    assert!(
        gas > 600_000,
        "the deployment's verification limit: {shown}"
    );
    app.engine.run_once().await;
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &first, "CANCELLED").await;
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    eprintln!(
        "cancel bundle gas (deploys the account): {} used of {gas} (limit)",
        receipt["gasUsed"]
    );
    assert_ne!(amoy.rpc("eth_getCode", json!([safe, "latest"])).await, "0x");
    assert_eq!(account_nonce(&amoy, &safe).await, U256::from(1));
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 0);
    let user = app.user_row(&u).await;
    let wallet = app
        .lk
        .store()
        .wallet(&user.entity_id, &user.internal_id, &wid)
        .await
        .unwrap()
        .unwrap();
    assert!(wallet.deployed_at.is_some(), "the cancel deployed it");
    // The original (with its initCode) can never run: the Safe exists, its nonce is spent.
    let reason = resubmitted(&amoy, &signed_op(&app, &first).await).await;
    assert!(
        reason.starts_with("AA10") || reason.starts_with("AA25"),
        "{reason}"
    );

    // A lost race: the original's bundle is mined before the cancel is sent.
    let second = approve_on(&app, &u, path, transfer("1")).await;
    engine_until(&app, &u, &second, "SENT").await;
    approve_replacement(&app, &u, &second, "cancel").await;
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &second, "COMPLETE").await;
    let bundle = attempt(&app, &second, AttemptKind::Bundle).await;
    assert_eq!(done["txHash"], json!(bundle.tx_hash), "the original bundle");
    let cancel = attempt(&app, &second, AttemptKind::Cancel).await;
    assert_eq!(cancel.broadcasts, 0, "{cancel:?}");
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);
    assert_eq!(account_nonce(&amoy, &safe).await, U256::from(2));
}

/// Sends `handleOps([op])` from anvil's first account with a tip that puts it before the
/// station's bundles in the next block (another bundler that picked the public operation);
/// its hash.
async fn front_run(amoy: &Anvil, op: &sca::PackedUserOperation) -> String {
    let acct0 = amoy.accounts().await[0].clone();
    let beneficiary: latchkey_chains::Address = acct0.parse().unwrap();
    let data = sca::handle_ops_call(std::slice::from_ref(op), beneficiary);
    let hash = amoy
        .rpc(
            "eth_sendTransaction",
            json!([{ "from": acct0, "to": format!("{:#x}", sca::ENTRY_POINT_V07),
                "data": hex(&data), "gas": "0x1e8480",
                "maxFeePerGas": "0x2e90edd000", "maxPriorityFeePerGas": "0x174876e800" }]),
        )
        .await;
    hash.as_str().unwrap().to_owned()
}

/// The operation in a signed bundle.
fn op_in(raw: &[u8]) -> sca::PackedUserOperation {
    let tx = latchkey_chains::decode_evm_tx(raw).unwrap();
    sca::decode_handle_ops(&tx.data).unwrap().remove(0)
}

#[tokio::test]
async fn an_operation_another_bundler_ran_first_is_judged_by_that_bundle() {
    let amoy = Anvil::start(80_002).await;
    let (app, _) = app_with_station(&amoy).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 5_000_000).await;
    let transfer = |amount: &str| {
        json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
            "destinationAddress": DEST, "amounts": [amount], "feeLevel": "MEDIUM" })
    };
    let path = "/v1/w3s/user/transactions/transfer";
    amoy.rpc("evm_setAutomine", json!([false])).await;

    // The operation, public in our pending bundle, bundled by someone else first: ours
    // reverts (AA25 or AA10), the transfer ran there, so the transaction completes with the
    // other bundle's hash.
    let first = approve_on(&app, &u, path, transfer("1")).await;
    engine_until(&app, &u, &first, "SENT").await;
    let other = front_run(&amoy, &signed_op(&app, &first).await).await;
    amoy.rpc("anvil_mine", json!([1])).await;
    let ours = attempt(&app, &first, AttemptKind::Bundle).await;
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([ours.tx_hash]))
        .await;
    assert_eq!(receipt["status"], "0x0", "ours was refused: {receipt}");
    let done = engine_until(&app, &u, &first, "COMPLETE").await;
    assert_eq!(done["txHash"], json!(other), "{done}");
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);

    // A cancel's no-op, bundled by someone else before our cancel's bundle: CANCELLED.
    let second = approve_on(&app, &u, path, transfer("1")).await;
    engine_until(&app, &u, &second, "SENT").await;
    approve_replacement(&app, &u, &second, "cancel").await;
    let cancel = attempt(&app, &second, AttemptKind::Cancel).await;
    let other = front_run(&amoy, &op_in(&cancel.raw)).await;
    app.engine.run_once().await;
    assert_eq!(
        attempt(&app, &second, AttemptKind::Cancel).await.broadcasts,
        1
    );
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &second, "CANCELLED").await;
    assert_eq!(done["txHash"], json!(other), "{done}");
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);
    assert_eq!(account_nonce(&amoy, &safe).await, U256::from(2));
}

#[tokio::test]
async fn a_bundle_of_another_station_key_is_not_replaced() {
    let amoy = Anvil::start(80_002).await;
    let (app, _) = app_with_station(&amoy).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 1_000_000).await;
    amoy.rpc("evm_setAutomine", json!([false])).await;
    let body = json!({ "idempotencyKey": key(), "walletId": wid, "tokenId": USDC_AMOY_ID,
        "destinationAddress": DEST, "amounts": ["1"], "feeLevel": "MEDIUM" });
    let id = approve_on(&app, &u, "/v1/w3s/user/transactions/transfer", body).await;
    engine_until(&app, &u, &id, "SENT").await;
    // As if the station key had been changed since: the pending bundle is another key's (the
    // same transaction, signed by anvil's first account).
    let bundle = attempt(&app, &id, AttemptKind::Bundle).await;
    let tx = latchkey_chains::decode_evm_tx(&bundle.raw).unwrap();
    let latchkey_chains::EvmFee::Eip1559 {
        max_fee,
        max_priority,
    } = tx.fee
    else {
        panic!("{tx:?}")
    };
    let acct0 = amoy.accounts().await[0].clone();
    let signed = amoy
        .rpc(
            "eth_signTransaction",
            json!([{ "from": acct0, "to": format!("{:#x}", tx.to), "data": hex(&tx.data),
                "value": "0x0", "nonce": format!("{:#x}", tx.nonce),
                "gas": format!("{:#x}", tx.gas_limit), "chainId": format!("{:#x}", tx.chain_id),
                "maxFeePerGas": format!("{max_fee:#x}"),
                "maxPriorityFeePerGas": format!("{max_priority:#x}") }]),
        )
        .await;
    let raw = signed.as_str().unwrap().trim_start_matches("0x").to_owned();
    assert!(raw.chars().all(|c| c.is_ascii_hexdigit()));
    let set = if app.database_url.starts_with("sqlite") {
        format!("UPDATE tx_attempts SET raw = X'{raw}' WHERE id = $1")
    } else {
        format!("UPDATE tx_attempts SET raw = decode('{raw}', 'hex') WHERE id = $1")
    };
    assert_eq!(app.sql(&set, &[&bundle.id]).await, 1);
    for action in ["accelerate", "cancel"] {
        let (s, _, reply) = replace(&app, &u, &id, action).await;
        assert_eq!(s, 201, "{reply}");
        let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
        let refused = app
            .executor(&u)
            .execute(&challenge, &json!({ "pin": PIN }))
            .await
            .unwrap_err();
        assert!(format!("{refused:?}").contains("155229"), "{refused:?}");
    }
    assert_eq!(app.lk.store().attempts(&id).await.unwrap().len(), 2);
}
