//! The outbound engine's guarantees on a real node: a crash at any point between the PIN and
//! the receipt neither loses the transaction nor sends it twice; two instances on one
//! database send each transaction once and notify each state once; a reorg sends it again;
//! a transaction the chain does not mine becomes STUCK.

use crate::money_transfers::{approve, engine_until, key, native_balance, transaction, DEST};
use crate::support::anvil::Anvil;
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use latchkey_evm::RpcOptions;
use serde_json::{json, Value};

const CENT: u128 = 10_000_000_000_000_000;

/// A user with a MATIC-AMOY wallet holding 1 POL; returns the user, wallet id and address.
async fn funded(app: &TestApp, amoy: &Anvil) -> (TestUser, String, String) {
    let u = app.user().await;
    let wallets = init_with_wallets(app, &u, json!(["MATIC-AMOY"])).await;
    let id = wallets[0]["id"].as_str().unwrap().to_owned();
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    (u, id, address)
}

fn transfer(wallet_id: &str, amount: &str) -> Value {
    json!({
        "idempotencyKey": key(),
        "walletId": wallet_id,
        "tokenAddress": "",
        "blockchain": "MATIC-AMOY",
        "destinationAddress": DEST,
        "amounts": [amount],
        "feeLevel": "MEDIUM",
    })
}

/// How many transactions `address` has sent on chain.
async fn sent_count(amoy: &Anvil, address: &str) -> u64 {
    let n = amoy
        .rpc("eth_getTransactionCount", json!([address, "latest"]))
        .await;
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test]
async fn a_crash_between_the_broadcast_and_its_write_sends_once() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let before = native_balance(&amoy, DEST).await;
    let id = approve(&app, &u, transfer(&wallet, "0.01")).await;
    // The stored bytes reach the node, then the instance dies before writing SENT: what a
    // kill -9 right after eth_sendRawTransaction leaves.
    let attempts = app.lk.store().attempts(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let raw: String = attempts[0].raw.iter().map(|b| format!("{b:02x}")).collect();
    let raw = format!("0x{raw}");
    amoy.rpc("eth_sendRawTransaction", json!([raw])).await;
    assert_eq!(transaction(&app, &u, &id).await["state"], "INITIATED");

    let restarted = app.second_instance().await;
    let done = engine_until(&restarted, &u, &id, "COMPLETE").await;
    assert_eq!(done["txHash"], json!(attempts[0].tx_hash));
    assert_eq!(
        sent_count(&amoy, &address).await,
        1,
        "one transaction on chain"
    );
    assert_eq!(native_balance(&amoy, DEST).await, before + CENT);
}

#[tokio::test]
async fn a_restart_after_the_approval_sends_the_stored_transaction() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let id = approve(&app, &u, transfer(&wallet, "0.02")).await;
    // The approving instance never ran its engine; another one picks the work up.
    let restarted = app.second_instance().await;
    engine_until(&restarted, &u, &id, "COMPLETE").await;
    assert_eq!(sent_count(&amoy, &address).await, 1);
}

#[tokio::test]
async fn two_instances_send_each_transaction_once_and_notify_each_state_once() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.outbound"])).await;
    let other = app.second_instance().await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let before = native_balance(&amoy, DEST).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(approve(&app, &u, transfer(&wallet, "0.01")).await);
    }
    for _ in 0..30 {
        tokio::join!(app.engine.run_once(), other.engine.run_once());
        let mut done = 0;
        for id in &ids {
            if transaction(&app, &u, id).await["state"] == "COMPLETE" {
                done += 1;
            }
        }
        if done == ids.len() {
            break;
        }
        app.clock.advance_ms(1_000);
    }
    for id in &ids {
        assert_eq!(transaction(&app, &u, id).await["state"], "COMPLETE");
    }
    assert_eq!(sent_count(&amoy, &address).await, 4);
    assert_eq!(native_balance(&amoy, DEST).await, before + 4 * CENT);
    // The other instance has a clock of its own, which may be ahead of this one's: its
    // notifications are due at its time.
    app.clock.advance_ms(60_000);
    crate::support::webhooks::drain(&app).await;
    for id in &ids {
        let states = hooks.states_of("transactions.outbound", id);
        assert_eq!(states, ["COMPLETE", "CONFIRMED", "QUEUED", "SENT"], "{id}");
    }
}

#[tokio::test]
async fn a_reorg_that_drops_the_block_sends_the_transaction_again() {
    let amoy = Anvil::start(80_002).await;
    let options = RpcOptions {
        confirmations: Some(3),
        ..RpcOptions::default()
    };
    let app =
        spawn_app_with_chain_options(test_settings(), &[(Blockchain::MaticAmoy, &amoy)], options)
            .await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let before = native_balance(&amoy, DEST).await;
    let id = approve(&app, &u, transfer(&wallet, "0.03")).await;
    let confirmed = engine_until(&app, &u, &id, "CONFIRMED").await;
    // Replace the block holding it with an empty one.
    amoy.rpc("anvil_reorg", json!([1, []])).await;
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([confirmed["txHash"]]))
        .await;
    assert!(
        receipt.is_null() || receipt["blockHash"] != confirmed["blockHash"],
        "the reorg moved the transaction: {receipt}"
    );
    // The engine notices, sends the same bytes again (if the node dropped them) and follows
    // the new block to the depth.
    for _ in 0..10 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
        amoy.rpc("anvil_mine", json!([1])).await;
    }
    let done = engine_until(&app, &u, &id, "COMPLETE").await;
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    assert_eq!(done["blockHash"], receipt["blockHash"], "{done}");
    assert_eq!(done["txHash"], confirmed["txHash"], "the same signed bytes");
    assert_eq!(sent_count(&amoy, &address).await, 1);
    assert_eq!(native_balance(&amoy, DEST).await, before + 3 * CENT);
}

#[tokio::test]
async fn a_transaction_the_chain_does_not_mine_becomes_stuck_then_completes() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, _) = funded(&app, &amoy).await;
    amoy.rpc("evm_setAutomine", json!([false])).await;
    let id = approve(&app, &u, transfer(&wallet, "0.01")).await;
    engine_until(&app, &u, &id, "SENT").await;
    // Past the chain's stuck_after (120 s on a local node) with no block.
    app.clock.advance_ms(121_000);
    let stuck = engine_until(&app, &u, &id, "STUCK").await;
    assert!(stuck["txHash"].is_string());
    amoy.rpc("anvil_mine", json!([1])).await;
    engine_until(&app, &u, &id, "COMPLETE").await;
}

/// Creates an accelerate or cancel challenge for `id` (`action` is the path's last segment);
/// returns (status, code, body).
pub(crate) async fn replace(
    app: &TestApp,
    u: &TestUser,
    id: &str,
    action: &str,
) -> (u16, i64, Value) {
    let (s, body, _) = app
        .post(
            &format!("/v1/w3s/user/transactions/{id}/{action}"),
            Some(&u.token),
            json!({ "idempotencyKey": key() }),
        )
        .await;
    (s, body["code"].as_i64().unwrap_or(0), body)
}

/// Approves a replacement challenge with the PIN; returns what the page showed.
pub(crate) async fn approve_replacement(
    app: &TestApp,
    u: &TestUser,
    id: &str,
    action: &str,
) -> Value {
    let (s, _, reply) = replace(app, u, id, action).await;
    assert_eq!(s, 201, "{reply}");
    let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let shown = app.executor(u).describe(&challenge).await.unwrap()["signing"].clone();
    app.executor(u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(u, &challenge).await;
    assert_eq!(c["status"], "COMPLETE", "{c}");
    assert_eq!(
        c["correlationIds"],
        json!([id]),
        "the original transaction's id"
    );
    shown
}

#[tokio::test]
async fn a_stuck_transfer_accelerated_is_mined_once_at_the_higher_fee() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let before = native_balance(&amoy, DEST).await;
    amoy.rpc("evm_setAutomine", json!([false])).await;
    let id = approve(&app, &u, transfer(&wallet, "0.01")).await;
    // Accelerating needs a transaction a node accepted.
    let (s, c, reply) = replace(&app, &u, &id, "accelerate").await;
    assert_eq!((s, c), (400, 155229), "{reply}");
    let sent = engine_until(&app, &u, &id, "SENT").await;
    app.clock.advance_ms(121_000);
    engine_until(&app, &u, &id, "STUCK").await;
    // The developer's view of it: the lowest pending nonce, and what accelerating costs.
    let (s, lowest, _) = app
        .get(
            &format!("/v1/w3s/transactions/lowestNonceTransaction?walletId={wallet}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{lowest}");
    assert_eq!(lowest["data"]["transaction"]["id"], json!(id));
    let fee_info = lowest["data"]["feeInfo"].clone();

    let shown = approve_replacement(&app, &u, &id, "accelerate").await;
    assert_eq!(shown["action"], "ACCELERATE");
    assert_eq!(shown["transactionId"], json!(id));
    let attempts = app.lk.store().attempts(&id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].nonce, attempts[0].nonce, "the same nonce");
    assert!(attempts[1].max_fee.unwrap() * 8 >= attempts[0].max_fee.unwrap() * 9);
    // feeInfo priced the acceleration the user then approved (no block came in between).
    let new_fee = &fee_info["newHighEstimatedFee"];
    assert_eq!(new_fee["maxFee"], shown["maxFee"], "{fee_info}");
    assert_eq!(
        new_fee["gasLimit"],
        json!(attempts[0].gas_limit.to_string())
    );
    assert_eq!(new_fee["networkFee"], shown["maxNetworkFee"], "{fee_info}");
    let gas = u128::from(attempts[0].gas_limit);
    let more = gas * (attempts[1].max_fee.unwrap() - attempts[0].max_fee.unwrap());
    assert_eq!(
        fee_info["feeDifferenceAmount"],
        json!(latchkey_chains::format_units(
            latchkey_chains::U256::from(more),
            18
        )),
        "{fee_info}"
    );
    let resent = engine_until(&app, &u, &id, "SENT").await;
    assert_ne!(
        resent["txHash"], sent["txHash"],
        "the replacement is what the node holds"
    );
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &id, "COMPLETE").await;
    assert_eq!(done["txHash"], json!(attempts[1].tx_hash));
    assert_eq!(sent_count(&amoy, &address).await, 1);
    assert_eq!(native_balance(&amoy, DEST).await, before + CENT);
    // A completed transaction can no longer be replaced.
    let (s, c, reply) = replace(&app, &u, &id, "cancel").await;
    assert_eq!((s, c), (400, 155229), "{reply}");
}

#[tokio::test]
async fn a_cancelled_transfer_moves_nothing() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, address) = funded(&app, &amoy).await;
    let before = native_balance(&amoy, DEST).await;
    amoy.rpc("evm_setAutomine", json!([false])).await;
    let id = approve(&app, &u, transfer(&wallet, "0.05")).await;
    engine_until(&app, &u, &id, "SENT").await;
    let shown = approve_replacement(&app, &u, &id, "cancel").await;
    assert_eq!(
        (&shown["action"], &shown["gasLimit"]),
        (&json!("CANCEL"), &json!("21000"))
    );
    // The approval made the transaction due: the next pass sends the cancel, which replaces
    // the original in the node's pool.
    app.engine.run_once().await;
    let attempts = app.lk.store().attempts(&id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].broadcasts, 1, "{attempts:?}");
    assert_eq!(
        transaction(&app, &u, &id).await["txHash"],
        json!(attempts[1].tx_hash)
    );
    amoy.rpc("anvil_mine", json!([1])).await;
    let done = engine_until(&app, &u, &id, "CANCELLED").await;
    let receipt = amoy
        .rpc("eth_getTransactionReceipt", json!([done["txHash"]]))
        .await;
    assert_eq!(
        receipt["to"].as_str().unwrap().to_lowercase(),
        address.to_lowercase(),
        "the cancel is a send to the wallet itself"
    );
    assert_eq!(
        native_balance(&amoy, DEST).await,
        before,
        "nothing reached the recipient"
    );
    assert_eq!(sent_count(&amoy, &address).await, 1);
}

#[tokio::test]
async fn only_the_owner_replaces_a_transaction() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (u, wallet, _) = funded(&app, &amoy).await;
    amoy.rpc("evm_setAutomine", json!([false])).await;
    let id = approve(&app, &u, transfer(&wallet, "0.01")).await;
    engine_until(&app, &u, &id, "SENT").await;
    let other = app.initialized_user(PIN).await;
    for action in ["accelerate", "cancel"] {
        let (s, c, reply) = replace(&app, &other, &id, action).await;
        assert_eq!((s, c), (404, 156003), "{action}: {reply}");
        let nobody = "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1";
        let (s, c, reply) = replace(&app, &u, nobody, action).await;
        assert_eq!((s, c), (404, 156003), "{action}: {reply}");
    }
    assert_eq!(app.lk.store().attempts(&id).await.unwrap().len(), 1);
}
