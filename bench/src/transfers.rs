//! Issue 11's figure: native transfers completed per second end to end (create the
//! CREATE_TRANSACTION challenge → execute it with the PIN → the server's engine broadcasts it
//! to anvil, automining → the transaction is COMPLETE), against the KDF-bound ceiling (one
//! Argon2id per transfer: the PIN check).

use crate::{fail, initialized_user, raw_rate, Args, PINS};
use latchkey_client::{ChallengeExecutor, DeveloperClient};
use latchkey_core::crypto::KdfParams;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEST: &str = "0x2222222222222222222222222222222222222222";

async fn rpc(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let reply: Value = match http.post(url).json(&body).send().await {
        Ok(r) => r.json().await.unwrap_or_else(|e| fail(e)),
        Err(e) => fail(e),
    };
    if !reply["error"].is_null() {
        fail(format!("{method}: {}", reply["error"]));
    }
    reply["result"].clone()
}

/// A user with a MATIC-AMOY wallet funded from anvil's first account.
async fn funded_user(
    args: &Args,
    dev: &DeveloperClient,
    app_id: &str,
    anvil: &str,
    user_id: String,
) -> (String, ChallengeExecutor, String) {
    let http = reqwest::Client::new();
    let (token, exec, wallet_id) =
        initialized_user(args, dev, app_id, &user_id, "MATIC-AMOY").await;
    let wallet = dev
        .get(&format!("/v1/w3s/wallets/{wallet_id}"), Some(&token))
        .await
        .unwrap_or_else(|e| fail(e));
    let address = wallet["data"]["wallet"]["address"]
        .as_str()
        .unwrap_or_else(|| fail("no wallet address"));
    let accounts = rpc(&http, anvil, "eth_accounts", json!([])).await;
    rpc(
        &http,
        anvil,
        "eth_sendTransaction",
        json!([{ "from": accounts[0], "to": address, "value": "0x56bc75e2d63100000" }]),
    )
    .await;
    (token, exec, wallet_id)
}

/// One transfer: create, execute, then poll until COMPLETE.
async fn transfer(dev: &DeveloperClient, exec: &ChallengeExecutor, token: &str, wallet: &str) {
    let id = dev
        .create_challenge(
            reqwest::Method::POST,
            "/v1/w3s/user/transactions/transfer",
            token,
            json!({
                "walletId": wallet,
                "tokenAddress": "",
                "blockchain": "MATIC-AMOY",
                "destinationAddress": DEST,
                "amounts": ["0.0001"],
                "feeLevel": "MEDIUM",
            }),
        )
        .await
        .unwrap_or_else(|e| fail(e));
    exec.execute(&id, &json!({ "pin": PINS[0] }))
        .await
        .unwrap_or_else(|e| fail(e));
    let challenge = dev
        .get_challenge(token, &id)
        .await
        .unwrap_or_else(|e| fail(e));
    let tx = challenge["correlationIds"][0]
        .as_str()
        .unwrap_or_else(|| fail("no transaction id"))
        .to_owned();
    for _ in 0..600 {
        let t = dev
            .get(&format!("/v1/w3s/transactions/{tx}"), Some(token))
            .await
            .unwrap_or_else(|e| fail(e));
        match t["data"]["transaction"]["state"].as_str() {
            Some("COMPLETE") => return,
            Some("FAILED") => fail(format!("transfer failed: {t}")),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    fail(format!("transfer {tx} did not complete"));
}

/// The transfers phase (see the module doc).
pub async fn phase(
    args: &Args,
    dev: &DeveloperClient,
    app_id: &str,
    params: KdfParams,
    anvil: &str,
) {
    println!();
    println!(
        "transfers: {} users with a funded MATIC-AMOY wallet each (anvil, automine)...",
        args.concurrency
    );
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut users = Vec::new();
    for i in 0..args.concurrency {
        let user_id = format!("pay-{}-{i}", &run[..8]);
        users.push(funded_user(args, dev, app_id, anvil, user_id).await);
    }
    // One transfer alone: its latency, and the share of it that is the Argon2id check.
    let (token, exec, wallet) = &users[0];
    let mut lat = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        transfer(dev, exec, token, wallet).await;
        lat.push(t.elapsed().as_secs_f64());
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let median = lat[lat.len() / 2];
    let (lag_token, lag_wallet) = (token.clone(), wallet.clone());
    let raw = raw_rate(params, args.kdf_workers, args.seconds.min(10));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (token, exec, wallet) in users {
        let (dev, stop, done) = (dev.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                transfer(&dev, &exec, &token, &wallet).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!(
        "transfers completed/s (create -> PIN -> broadcast -> COMPLETE, {} concurrent): {rate:.2}",
        args.concurrency
    );
    println!("KDF-bound ceiling (one Argon2id per transfer, raw rate): {raw:.2}/s");
    println!("ratio to the ceiling: {:.2}", rate / raw);
    println!(
        "one transfer alone: {:.0} ms to COMPLETE, of which Argon2id ~{:.0} ms ({:.0}%)",
        median * 1000.0,
        1000.0 / raw,
        100.0 / raw / median
    );
    follower_lag(dev, anvil, &lag_token, &lag_wallet).await;
}

/// The follower's lag: a stream of deposits to one wallet (one block each, automine), and for
/// each the time from its receipt to its INBOUND transaction in `GET /transactions`.
async fn follower_lag(dev: &DeveloperClient, anvil: &str, token: &str, wallet: &str) {
    const DEPOSITS: usize = 100;
    let http = reqwest::Client::new();
    let w = dev
        .get(&format!("/v1/w3s/wallets/{wallet}"), Some(token))
        .await
        .unwrap_or_else(|e| fail(e));
    let address = w["data"]["wallet"]["address"]
        .as_str()
        .unwrap_or_else(|| fail("no wallet address"))
        .to_owned();
    let accounts = rpc(&http, anvil, "eth_accounts", json!([])).await;
    let mut sent = Vec::new();
    let started = Instant::now();
    for _ in 0..DEPOSITS {
        let hash = rpc(
            &http,
            anvil,
            "eth_sendTransaction",
            json!([{ "from": accounts[0], "to": address, "value": "0x1" }]),
        )
        .await;
        sent.push((hash.as_str().unwrap_or_default().to_owned(), Instant::now()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // In order: deposits are recorded in block order, so each is looked up once the ones
    // before it are in (a lookup by hash takes about a millisecond).
    let mut lags = Vec::new();
    for (hash, at) in sent {
        loop {
            let found = dev
                .get(
                    &format!("/v1/w3s/transactions?txType=INBOUND&txHash={hash}"),
                    Some(token),
                )
                .await
                .unwrap_or_else(|e| fail(e));
            if found["data"]["transactions"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                lags.push(at.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                fail(format!("deposit {hash} never appeared"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    lags.sort_by(|a, b| a.total_cmp(b));
    println!(
        "follower lag ({DEPOSITS} deposits, one block each, every 20 ms): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (the engine passes every 100 ms on a local node, at once while it finds work)",
        lags[lags.len() / 2],
        crate::p99(lags.clone()),
        lags.last().copied().unwrap_or_default()
    );
}
