//! Money on Solana, slice 2, on the local Solana node (every transaction executed by the
//! SVM): transfers as CREATE_TRANSACTION challenges (SOL; USDC with the recipient's token
//! account created when missing, and to an existing one; `refId` as a Memo) driven by the
//! engine to COMPLETE at `finalized` with `transactions.outbound` webhooks; deposits recorded
//! as INBOUND by the follower, once, with `transactions.inbound`; the planner's refusals with
//! Circle's codes; fee estimates; 155510 for accelerate and cancel; an expired blockhash
//! failing cleanly without a second signature; and a crash between the send and its write
//! sending once.

use crate::money_transfers::{approve, create, key, transaction};
use crate::solana_money::{app_on, devnet_wallet, drip, token_2022_to, USDC_DEVNET};
use crate::support::solana_node::SolanaNode;
use crate::support::wallets::init_with_wallets;
use crate::support::*;
use latchkey_chains::{token_uuid, Blockchain, Family};
use latchkey_solana::pubkey::{associated_token_address, TOKEN_2022_PROGRAM, TOKEN_PROGRAM};
use latchkey_solana::types::SignaturesQuery;
use latchkey_solana::{Commitment, Pubkey, RpcOptions, SolanaRpc};
use serde_json::{json, Value};

fn sol_devnet() -> String {
    token_uuid(Blockchain::SolDevnet, None).to_string()
}

fn rpc(node: &SolanaNode) -> SolanaRpc {
    SolanaRpc::new(&node.url, &RpcOptions::default()).unwrap()
}

async fn warp(node: &SolanaNode, slots: u64) {
    let _: u64 = rpc(node)
        .call("latchkey_warpSlots", json!([slots]))
        .await
        .unwrap();
}

/// A fresh address nobody holds.
fn fresh() -> String {
    let secret = latchkey_chains::generate(Family::Solana);
    latchkey_chains::address(Family::Solana, &secret).unwrap()
}

fn transfer(wallet: &str, to: &str, token: &str, amount: &str) -> Value {
    json!({
        "idempotencyKey": key(),
        "walletId": wallet,
        "tokenId": token,
        "destinationAddress": to,
        "amounts": [amount],
        "feeLevel": "MEDIUM",
    })
}

/// Steps the engine until the transaction is `state` (the test clock a second per pass;
/// finality hurried along by warping the node once it is CONFIRMED).
async fn solana_until(
    app: &TestApp,
    node: &SolanaNode,
    u: &TestUser,
    id: &str,
    state: &str,
) -> Value {
    let mut seen = Value::Null;
    for _ in 0..100 {
        app.engine.run_once().await;
        seen = transaction(app, u, id).await;
        if seen["state"] == state {
            return seen;
        }
        if seen["state"] == "CONFIRMED" {
            warp(node, 40).await;
        }
        app.clock.advance_ms(1_000);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the transaction never reached {state}: {seen}");
}

async fn token_balance(node: &SolanaNode, owner: &str, mint: &str) -> u64 {
    let owner: Pubkey = owner.parse().unwrap();
    let mint: Pubkey = mint.parse().unwrap();
    let account = associated_token_address(&owner, &mint, &TOKEN_PROGRAM).unwrap();
    rpc(node)
        .get_token_account_balance(&account, Commitment::Confirmed)
        .await
        .map(|b| b.amount)
        .unwrap_or(0)
}

async fn lamports(node: &SolanaNode, address: &str) -> u64 {
    rpc(node)
        .get_balance(&address.parse().unwrap(), Commitment::Confirmed)
        .await
        .unwrap()
}

/// The wallet's USDC mint on the local node (the faucet's test mint).
async fn usdc_mint(app: &TestApp) -> String {
    let (s, t, _) = app
        .get(&format!("/v1/w3s/tokens/{USDC_DEVNET}"), None)
        .await;
    assert_eq!(s, 200, "{t}");
    t["data"]["token"]["tokenAddress"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn history(app: &TestApp, u: &TestUser, wallet: &str, kind: &str) -> Vec<Value> {
    let (s, b, _) = app
        .get(
            &format!("/v1/w3s/transactions?walletIds={wallet}&txType={kind}"),
            Some(&u.token),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["data"]["transactions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn sol_and_usdc_transfers_complete_with_a_memo_webhooks_and_deposits() {
    let (node, app, u, wallet, address) = devnet_wallet().await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, None).await;
    let body =
        json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true, "usdc": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let mint = usdc_mint(&app).await;

    // The drip's two transactions are deposits: the follower records them once.
    app.engine.run_once().await;
    app.engine.run_once().await;
    let mut inbound: Vec<(String, String)> = history(&app, &u, &wallet, "INBOUND")
        .await
        .iter()
        .map(|t| {
            (
                t["tokenId"].as_str().unwrap().to_owned(),
                t["amounts"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    inbound.sort();
    let mut want = vec![
        (sol_devnet(), "0.01".to_owned()),
        (USDC_DEVNET.to_owned(), "20".to_owned()),
    ];
    want.sort();
    assert_eq!(inbound, want);

    // SOL to a fresh address, with a refId: a Memo on chain.
    let to = fresh();
    let mut body = transfer(&wallet, &to, &sol_devnet(), "0.002");
    body["refId"] = json!("order-42");
    let id = approve(&app, &u, body).await;
    let done = solana_until(&app, &node, &u, &id, "COMPLETE").await;
    assert_eq!(lamports(&node, &to).await, 2_000_000);
    let signature = done["txHash"].as_str().unwrap().to_owned();
    let fee = done["networkFee"].as_str().unwrap();
    assert!(fee.starts_with("0.00000"), "{done}");
    assert_eq!(done["refId"], "order-42");
    let listed = rpc(&node)
        .get_signatures_for_address(
            &to.parse().unwrap(),
            &SignaturesQuery {
                commitment: Some(Commitment::Confirmed),
                ..SignaturesQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].signature, signature);
    assert!(
        listed[0].memo.as_deref().unwrap_or("").contains("order-42"),
        "{listed:?}"
    );

    // USDC to a fresh address: its token account is created (the sender pays the rent), as
    // the challenge says before the PIN.
    let to = fresh();
    let (s, _, reply) = create(&app, &u, transfer(&wallet, &to, USDC_DEVNET, "1.5")).await;
    assert_eq!(s, 201, "{reply}");
    let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let shown = app.executor(&u).describe(&challenge).await.unwrap();
    let signing = &shown["signing"];
    let note = signing["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("creates the recipient's USDC account (rent 0.00203928 SOL)"),
        "{shown}"
    );
    assert_eq!(signing["feeLevel"], "MEDIUM", "{shown}");
    assert_eq!(signing["nativeSymbol"], "SOL", "{shown}");
    let cap: f64 = signing["maxNetworkFee"].as_str().unwrap().parse().unwrap();
    assert!(cap > 0.00203928, "{shown}");
    app.executor(&u)
        .execute(&challenge, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(&u, &challenge).await;
    let id = c["correlationIds"][0].as_str().unwrap().to_owned();
    solana_until(&app, &node, &u, &id, "COMPLETE").await;
    assert_eq!(token_balance(&node, &to, &mint).await, 1_500_000);
    // Again, to the account that exists now: nothing to create.
    let (s, _, reply) = create(&app, &u, transfer(&wallet, &to, USDC_DEVNET, "0.5")).await;
    assert_eq!(s, 201, "{reply}");
    let challenge = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let shown = app.executor(&u).describe(&challenge).await.unwrap();
    assert!(shown["signing"].get("note").is_none(), "{shown}");
    let id2 = approve(&app, &u, transfer(&wallet, &to, USDC_DEVNET, "0.5")).await;
    solana_until(&app, &node, &u, &id2, "COMPLETE").await;
    assert_eq!(token_balance(&node, &to, &mint).await, 2_000_000);
    let (_, b, _) = app
        .get(
            &format!("/v1/w3s/wallets/{wallet}/balances"),
            Some(&u.token),
        )
        .await;
    assert_eq!(b["data"]["tokenBalances"][1]["amount"], "18", "{b}");

    // Webhooks: each state once for the transfer, QUEUED to COMPLETE.
    app.clock.advance_ms(60_000);
    crate::support::webhooks::drain(&app).await;
    let states = hooks.states_of("transactions.outbound", &id);
    assert_eq!(states, ["COMPLETE", "CONFIRMED", "QUEUED", "SENT"]);
    assert!(hooks.of_type("transactions.inbound").len() >= 2);

    // Another of the server's wallets receiving SOL: a deposit there, none here (it paid).
    let other = app.user().await;
    let w = init_with_wallets(&app, &other, json!(["SOL-DEVNET"])).await;
    let other_wallet = w[0]["id"].as_str().unwrap().to_owned();
    let other_address = w[0]["address"].as_str().unwrap().to_owned();
    let id = approve(
        &app,
        &u,
        transfer(&wallet, &other_address, &sol_devnet(), "0.001"),
    )
    .await;
    solana_until(&app, &node, &u, &id, "COMPLETE").await;
    let mut got = Vec::new();
    for _ in 0..20 {
        app.engine.run_once().await;
        got = history(&app, &other, &other_wallet, "INBOUND").await;
        if got.first().is_some_and(|t| t["state"] == "COMPLETE") {
            break;
        }
        warp(&node, 40).await;
        app.clock.advance_ms(1_000);
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["amounts"][0], "0.001");
    assert_eq!(got[0]["state"], "COMPLETE");
    assert_eq!(got[0]["sourceAddress"], json!(address));
    assert_eq!(history(&app, &u, &wallet, "INBOUND").await.len(), 2);
    // A restart reads from the cursors: nothing recorded twice.
    let again = app.second_instance().await;
    again.engine.run_once().await;
    assert_eq!(
        history(&app, &other, &other_wallet, "INBOUND").await.len(),
        1
    );
    assert_eq!(history(&app, &u, &wallet, "INBOUND").await.len(), 2);
}

#[tokio::test]
async fn refusals_estimates_and_no_replacement_on_solana() {
    let (_node, app, u, wallet, address) = devnet_wallet().await;
    let body = json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&app, body).await.0, 204);
    // The local USDC mint exists once the faucet made it (for someone else here).
    let to = fresh();
    let body = json!({ "address": to, "blockchain": "SOL-DEVNET", "usdc": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let cases: Vec<(&str, Value, u16, i64)> = vec![
        (
            "below the rent-exempt minimum to a new account",
            transfer(&wallet, &to, &sol_devnet(), "0.0001"),
            400,
            155257,
        ),
        (
            "more SOL than held",
            transfer(&wallet, &to, &sol_devnet(), "1"),
            400,
            155201,
        ),
        (
            "no USDC account",
            transfer(&wallet, &to, USDC_DEVNET, "1"),
            400,
            155262,
        ),
        (
            "an EVM destination",
            transfer(
                &wallet,
                "0x2222222222222222222222222222222222222222",
                &sol_devnet(),
                "0.002",
            ),
            400,
            155219,
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, c, b) = create(&app, &u, body).await;
        assert_eq!((s, c), (status, code), "{what}: {b}");
    }
    let mut body = transfer(&wallet, &to, &sol_devnet(), "0.002");
    body["gasLimit"] = json!("300000");
    let (s, c, b) = create(&app, &u, body).await;
    assert_eq!((s, c), (400, 2), "{b}");
    assert!(b["message"].as_str().unwrap().contains("gasLimit"), "{b}");
    // USDC held, but less than asked: 155258.
    let body = json!({ "address": address, "blockchain": "SOL-DEVNET", "usdc": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let (s, c, b) = create(&app, &u, transfer(&wallet, &to, USDC_DEVNET, "21")).await;
    assert_eq!((s, c), (400, 155258), "{b}");

    // Estimates: three levels, the new account's rent counted for USDC to a fresh address.
    let to = fresh();
    let (s, b, _) = app
        .post(
            "/v1/w3s/transactions/transfer/estimateFee",
            Some(&u.token),
            json!({ "walletId": wallet, "destinationAddress": to, "amounts": ["1"],
                    "tokenId": USDC_DEVNET }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for level in ["low", "medium", "high"] {
        let f = &b["data"][level];
        let fee: f64 = f["networkFee"].as_str().unwrap().parse().unwrap();
        assert!(fee > 0.002 && fee < 0.0021, "{level}: {b}");
        assert_eq!(f["baseFee"], "0.000005", "{b}");
        assert!(f["gasLimit"].as_str().unwrap().parse::<u64>().unwrap() > 0);
    }

    // No accelerate, no cancel on Solana: 155510.
    let id = approve(&app, &u, transfer(&wallet, &to, &sol_devnet(), "0.002")).await;
    for action in ["accelerate", "cancel"] {
        let (s, b, _) = app
            .post(
                &format!("/v1/w3s/user/transactions/{id}/{action}"),
                Some(&u.token),
                json!({ "idempotencyKey": key() }),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_i64()),
            (400, Some(155510)),
            "{action}: {b}"
        );
    }
}

#[tokio::test]
async fn an_expired_blockhash_fails_the_transfer_and_nothing_is_sent() {
    let (node, app, u, wallet, address) = devnet_wallet().await;
    let body = json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let before = lamports(&node, &address).await;
    let to = fresh();
    // Before the faucet made the local USDC mint, Circle's USDC id names a mint this node
    // does not have: the planner's 155210, not a 500.
    let (s, c, b) = create(&app, &u, transfer(&wallet, &to, USDC_DEVNET, "1")).await;
    assert_eq!((s, c), (400, 155210), "{b}");
    // A refId too long to fit in one transaction as a memo: 2, naming refId.
    let mut long = transfer(&wallet, &to, &sol_devnet(), "0.002");
    long["refId"] = json!("r".repeat(1_100));
    let (s, c, b) = create(&app, &u, long).await;
    assert_eq!((s, c), (400, 2), "{b}");
    assert!(b["message"].as_str().unwrap().contains("refId"), "{b}");
    let id = approve(&app, &u, transfer(&wallet, &to, &sol_devnet(), "0.002")).await;
    // The server was down for longer than the blockhash lives, and finality passed it too.
    warp(&node, 151 + 40).await;
    let done = solana_until(&app, &node, &u, &id, "FAILED").await;
    assert_eq!(done["errorReason"], "TRANSACTION_UNDER_PRICE", "{done}");
    assert_eq!(lamports(&node, &address).await, before);
    assert_eq!(lamports(&node, &to).await, 0);
    // Never signed again: the one attempt of the PIN.
    assert_eq!(app.lk.store().attempts(&id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_crash_between_the_send_and_its_write_sends_once() {
    let node = SolanaNode::start(&[]);
    let app = app_on(&node, test_settings()).await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["SOL-DEVNET"])).await;
    let wallet = w[0]["id"].as_str().unwrap().to_owned();
    let address = w[0]["address"].as_str().unwrap().to_owned();
    let body = json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let to = fresh();
    let id = approve(&app, &u, transfer(&wallet, &to, &sol_devnet(), "0.002")).await;
    // The stored bytes reach the node, then the instance dies before writing SENT.
    let attempts = app.lk.store().attempts(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.encode(&attempts[0].raw);
    let r = rpc(&node);
    let sig = r
        .send_transaction(&raw, &latchkey_solana::SendOptions::default())
        .await
        .unwrap();
    assert_eq!(sig, attempts[0].tx_hash);
    assert_eq!(transaction(&app, &u, &id).await["state"], "INITIATED");
    let restarted = app.second_instance().await;
    let done = solana_until(&restarted, &node, &u, &id, "COMPLETE").await;
    assert_eq!(done["txHash"], json!(sig));
    assert_eq!(lamports(&node, &to).await, 2_000_000, "sent once");
}

#[tokio::test]
async fn a_token_2022_deposit_is_recorded_and_sent_on() {
    let (node, app, u, wallet, address) = devnet_wallet().await;
    let body = json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&app, body).await.0, 204);
    // Someone else's Token-2022 mint, 123.45 of it minted to the wallet's token account.
    let mint = token_2022_to(&node, &address, 2, 12_345).await;
    let token = token_uuid(Blockchain::SolDevnet, Some(&mint)).to_string();
    let mut deposits = Vec::new();
    for _ in 0..10 {
        app.engine.run_once().await;
        deposits = history(&app, &u, &wallet, "INBOUND").await;
        if deposits.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got = deposits.iter().find(|t| t["tokenId"] == json!(token));
    let got = got.unwrap_or_else(|| panic!("{deposits:?}"));
    assert_eq!(got["amounts"][0], "123.45", "{got}");
    assert_eq!(got["contractAddress"], json!(mint), "{got}");

    // Sent on with the Token-2022 program, the recipient's account created.
    let to = fresh();
    let id = approve(&app, &u, transfer(&wallet, &to, &token, "100.05")).await;
    solana_until(&app, &node, &u, &id, "COMPLETE").await;
    let owner: Pubkey = to.parse().unwrap();
    let account =
        associated_token_address(&owner, &mint.parse().unwrap(), &TOKEN_2022_PROGRAM).unwrap();
    let held = rpc(&node)
        .get_token_account_balance(&account, Commitment::Confirmed)
        .await
        .unwrap();
    assert_eq!(held.amount, 10_005);
    // The transfer out is no deposit.
    app.engine.run_once().await;
    assert_eq!(history(&app, &u, &wallet, "INBOUND").await.len(), 2);
}
