//! The inbound follower on a real node: native and ERC-20 deposits to a wallet become
//! INBOUND transactions (CONFIRMED, then COMPLETE), notified as `transactions.inbound`, once
//! each even when a range of blocks is read again; deposits to addresses that are not
//! wallets are ignored; the history shows them to their owner only.

use crate::money_transfers::{DEST, USDC_AMOY};
use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use serde_json::{json, Value};

/// The user's INBOUND transactions, oldest first.
async fn deposits(app: &TestApp, u: &TestUser) -> Vec<Value> {
    let (s, body, _) = app
        .get(
            "/v1/w3s/transactions?txType=INBOUND&order=ASC",
            Some(&u.token),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]["transactions"].as_array().unwrap().clone()
}

/// The user's INBOUND transactions of every token (`includeAll`), newest first.
async fn every_deposit(app: &TestApp, u: &TestUser) -> Vec<Value> {
    let (s, body, _) = app
        .get(
            "/v1/w3s/transactions?txType=INBOUND&includeAll=true",
            Some(&u.token),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]["transactions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn deposits_are_recorded_once_and_completed_with_webhooks() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.inbound"])).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    amoy.rpc(
        "anvil_setCode",
        json!([USDC_AMOY, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    // The first pass starts following at the head: what came before is not history.
    app.engine.run_once().await;

    let acct0 = amoy.accounts().await[0].clone();
    let native = amoy
        .send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        address.trim_start_matches("0x").to_lowercase(),
        2_500_000u64
    );
    let usdc = amoy
        .send(json!({ "from": acct0, "to": USDC_AMOY, "data": mint }))
        .await;
    // Value to an address that is no wallet is not anyone's deposit.
    amoy.send(json!({ "from": acct0, "to": DEST, "value": "0x1" }))
        .await;

    for _ in 0..20 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
        let found = deposits(&app, &u).await;
        if found.len() == 2 && found.iter().all(|d| d["state"] == "COMPLETE") {
            break;
        }
    }
    let found = deposits(&app, &u).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let by_hash = |h: &Value| found.iter().find(|d| d["txHash"] == *h).cloned().unwrap();
    let coin = by_hash(&native["transactionHash"]);
    assert_eq!(
        (&coin["state"], &coin["amounts"], &coin["transactionType"]),
        (&json!("COMPLETE"), &json!(["1"]), &json!("INBOUND"))
    );
    assert!(coin["tokenId"].is_string(), "the native coin's id: {coin}");
    assert_eq!(
        coin["destinationAddress"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    let token = by_hash(&usdc["transactionHash"]);
    assert_eq!(
        (&token["state"], &token["amounts"], &token["tokenId"]),
        (
            &json!("COMPLETE"),
            &json!(["2.5"]),
            &json!("36b6931a-873a-56a8-8a27-b706b17104ee")
        ),
        "{token}"
    );
    assert_eq!(token["blockHash"], usdc["blockHash"]);

    // Reading the same blocks again records nothing twice.
    app.sql("UPDATE chains SET next_block = 1", &[]).await;
    for _ in 0..3 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
    }
    assert_eq!(deposits(&app, &u).await.len(), 2);

    crate::support::webhooks::drain(&app).await;
    for d in [&coin, &token] {
        let mut states: Vec<String> = hooks
            .of_type("transactions.inbound")
            .into_iter()
            .filter(|b| b["notification"]["id"] == d["id"])
            .map(|b| b["notification"]["state"].as_str().unwrap().to_owned())
            .collect();
        states.sort();
        assert_eq!(states, ["COMPLETE", "CONFIRMED"], "{d}");
    }

    // A token nobody registered is registered on first sight, and the wallet's balances read
    // it from then on.
    let other_token = amoy.deploy("TestUsdc").await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        address.trim_start_matches("0x").to_lowercase(),
        7_000_000u64
    );
    amoy.send(json!({ "from": acct0, "to": other_token, "data": mint }))
        .await;
    for _ in 0..5 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
    }
    let found = deposits(&app, &u).await;
    assert_eq!(found.len(), 3, "{found:?}");
    let (s, balances, _) = app
        .get(
            &format!(
                "/v1/w3s/wallets/{}/balances?includeAll=true",
                wallets[0]["id"].as_str().unwrap()
            ),
            Some(&u.token),
        )
        .await;
    assert_eq!(s, 200, "{balances}");
    let listed = balances["data"]["tokenBalances"].as_array().unwrap();
    assert!(
        listed.iter().any(|b| b["token"]["tokenAddress"]
            .as_str()
            .is_some_and(|a| a.eq_ignore_ascii_case(&other_token))
            && b["amount"] == "7"
            && b["token"]["decimals"] == 6),
        "{balances}"
    );

    // Another user sees none of it.
    let other = app.initialized_user(PIN).await;
    assert!(deposits(&app, &other).await.is_empty());
    let (s, _, _) = app
        .get(
            &format!("/v1/w3s/transactions/{}", token["id"].as_str().unwrap()),
            Some(&other.token),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_selected_monitored_scope_records_other_deposits_without_notifying_them() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.inbound"])).await;
    let (s, b, _) = app
        .post(
            "/v1/w3s/config/entity/monitoredTokens",
            None,
            json!({ "tokenIds": ["36b6931a-873a-56a8-8a27-b706b17104ee"] }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    amoy.rpc(
        "anvil_setCode",
        json!([USDC_AMOY, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    app.engine.run_once().await;
    let acct0 = amoy.accounts().await[0].clone();
    let native = amoy
        .send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        address.trim_start_matches("0x").to_lowercase(),
        1_000_000u64
    );
    let usdc = amoy
        .send(json!({ "from": acct0, "to": USDC_AMOY, "data": mint }))
        .await;
    for _ in 0..20 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
        let found = every_deposit(&app, &u).await;
        if found.len() == 2 && found.iter().all(|d| d["state"] == "COMPLETE") {
            break;
        }
    }
    let found = every_deposit(&app, &u).await;
    assert_eq!(found.len(), 2, "both are recorded: {found:?}");
    // Without includeAll the list shows the monitored token's deposit only.
    let shown = deposits(&app, &u).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["txHash"], usdc["transactionHash"]);

    crate::support::webhooks::drain(&app).await;
    let notified: Vec<Value> = hooks.of_type("transactions.inbound");
    let hashes: std::collections::BTreeSet<String> = notified
        .iter()
        .map(|b| b["notification"]["txHash"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        hashes.into_iter().collect::<Vec<_>>(),
        vec![usdc["transactionHash"].as_str().unwrap().to_owned()],
        "the native deposit is outside the scope: not notified"
    );
    assert_eq!(
        notified.len(),
        2,
        "CONFIRMED and COMPLETE of the USDC deposit"
    );
    assert_ne!(native["transactionHash"], usdc["transactionHash"]);
}
