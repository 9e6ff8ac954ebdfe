//! The local-node harness itself: anvil starts with Circle's chain id, the committed test
//! USDC deploys and works over plain JSON-RPC, its runtime code works when placed at Circle's
//! USDC address with `anvil_setCode` (the local faucet's plan), and dropping the handle
//! stops the node.

use crate::support::anvil::{artifact, selector, Anvil};
use serde_json::json;

/// `0x` + 32-byte big-endian word of an address or a number, for hand-built calldata.
fn word_address(a: &str) -> String {
    format!("{:0>64}", a.trim_start_matches("0x"))
}

fn word_u64(n: u64) -> String {
    format!("{n:064x}")
}

async fn mint_and_read(node: &Anvil, token: &str, to: &str, amount: u64) {
    let from = node.accounts().await.remove(0);
    let mint = format!(
        "{}{}{}",
        selector("TestUsdc", "mint(address,uint256)"),
        word_address(to),
        word_u64(amount)
    );
    let receipt = node
        .send(json!({"from": from, "to": token, "data": mint}))
        .await;
    // One Transfer(0x0, to, amount) log: what the chain follower will index as a deposit.
    let logs = receipt["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{receipt}");
    assert_eq!(logs[0]["topics"][1], format!("0x{}", word_u64(0)));
    assert_eq!(logs[0]["topics"][2], format!("0x{}", word_address(to)));
    assert_eq!(logs[0]["data"], format!("0x{}", word_u64(amount)));

    let balance_of = format!(
        "{}{}",
        selector("TestUsdc", "balanceOf(address)"),
        word_address(to)
    );
    let balance = node
        .rpc(
            "eth_call",
            json!([{"to": token, "data": balance_of}, "latest"]),
        )
        .await;
    assert_eq!(balance, format!("0x{}", word_u64(amount)));
    let decimals = node
        .rpc(
            "eth_call",
            json!([{"to": token, "data": selector("TestUsdc", "decimals()")}, "latest"]),
        )
        .await;
    assert_eq!(decimals, format!("0x{}", word_u64(6)));
}

#[tokio::test]
async fn anvil_runs_the_test_usdc_under_circles_chain_id() {
    let node = Anvil::start(80_002).await;
    assert_eq!(node.chain_id, 80_002);
    assert_eq!(node.rpc("eth_chainId", json!([])).await, "0x13882");
    let accounts = node.accounts().await;
    assert_eq!(accounts.len(), 2);

    let usdc = node.deploy("TestUsdc").await;
    let code = node.rpc("eth_getCode", json!([usdc, "latest"])).await;
    assert_eq!(code, artifact("TestUsdc")["deployedBytecode"]);
    mint_and_read(&node, &usdc, &accounts[1], 1_234_567).await;
}

#[tokio::test]
async fn test_usdc_runtime_code_works_at_circles_usdc_address() {
    let node = Anvil::start(80_002).await;
    // Circle's MATIC-AMOY USDC contract address.
    let usdc = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";
    let runtime = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../contracts/out/TestUsdc.runtime.hex"),
    )
    .unwrap();
    node.rpc("anvil_setCode", json!([usdc, runtime.trim()]))
        .await;
    let holder = node.accounts().await.remove(1);
    mint_and_read(&node, usdc, &holder, 20_000_000).await;
}

#[tokio::test]
async fn dropping_the_handle_stops_anvil() {
    let node = Anvil::start(11_155_111).await;
    assert_eq!(node.rpc("eth_chainId", json!([])).await, "0xaa36a7");
    let url = node.url.clone();
    drop(node);
    let reply = reqwest::Client::new()
        .post(&url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
        .send()
        .await;
    assert!(reply.is_err(), "anvil still answers at {url}");
}
