//! Chain access: `validateAddress` (a format check, no node needed) and the chain test
//! harness (`spawn_app_with_chains`) itself.

use crate::support::anvil::Anvil;
use crate::support::{spawn_app, spawn_app_with_chains, test_settings};
use latchkey_chains::Blockchain;
use reqwest::Method;
use serde_json::json;

const PATH: &str = "/v1/w3s/transactions/validateAddress";

#[tokio::test]
async fn validate_address_checks_the_format_on_each_family() {
    let app = spawn_app().await;
    for (blockchain, address, valid) in [
        // EIP-55: mixed case must carry the right checksum; one case throughout is accepted.
        ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true),
        (
            "MATIC-AMOY",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            true,
        ),
        (
            "ETH-SEPOLIA",
            "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
            true,
        ),
        ("ETH", "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", false),
        ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", false),
        ("ETH", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", false),
        ("BASE", "0xzzAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", false),
        // The generic EVM values are Circle enum values too.
        (
            "EVM-TESTNET",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            true,
        ),
        // Solana: base58 of 32 bytes.
        ("SOL", "So11111111111111111111111111111111111111112", true),
        ("SOL-DEVNET", "11111111111111111111111111111111", true),
        ("SOL", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", false),
        ("SOL", "So1111111111111111111111111111111111111111O", false),
        ("SOL", "1111", false),
        ("APTOS", "0x1", true),
        ("NEAR", "alice.near", true),
        ("NEAR", "Alice.near", false),
        ("ETH", "", false),
    ] {
        let (s, b, _) = app
            .post(
                PATH,
                None,
                json!({"address": address, "blockchain": blockchain}),
            )
            .await;
        assert_eq!(s, 200, "{blockchain} {address}: {b}");
        assert_eq!(
            b,
            json!({"data": {"isValid": valid}}),
            "{blockchain} {address}"
        );
    }
}

#[tokio::test]
async fn validate_address_refuses_what_is_not_a_question() {
    let app = spawn_app().await;
    let evm = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    for (body, field) in [
        (json!({"address": evm}), "blockchain"),
        (json!({"address": evm, "blockchain": null}), "blockchain"),
        (
            json!({"address": evm, "blockchain": "ETH-GOERLI"}),
            "blockchain",
        ),
        (json!({"address": evm, "blockchain": "eth"}), "blockchain"),
        (json!({"blockchain": "ETH"}), "address"),
        (json!({"address": 5, "blockchain": "ETH"}), "address"),
        (json!({}), "address"),
    ] {
        let (s, b, _) = app.post(PATH, None, body.clone()).await;
        assert_eq!((s, b["code"].as_i64()), (400, Some(2)), "{body}: {b}");
        assert_eq!(b["errors"][0]["location"], field, "{body}: {b}");
    }
    // API key only.
    let r = app
        .bare(Method::POST, PATH)
        .json(&json!({"address": evm, "blockchain": "ETH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_harness_connects_anvils_as_the_server_does() {
    let amoy = Anvil::start(80_002).await;
    let sepolia = Anvil::start(11_155_111).await;
    let app = spawn_app_with_chains(
        test_settings(),
        &[
            (Blockchain::MaticAmoy, &amoy),
            (Blockchain::EthSepolia, &sepolia),
        ],
    )
    .await;
    let chains = app.lk.chains();
    let info = &chains.require(Blockchain::MaticAmoy).unwrap().info;
    assert_eq!(info.chain_id, 80_002);
    assert!(info.is_local && info.eip1559);
    assert_eq!(info.confirmations, 1);
    assert_eq!(
        info.min_priority_wei, 0,
        "no Polygon tip floor on a local node"
    );
    assert_eq!(info.stuck_after_ms, 120_000);
    let node = &chains.require(Blockchain::EthSepolia).unwrap().node;
    assert_eq!(node.chain_id().await.unwrap(), 11_155_111);
    // A chain without a node keeps answering 156027 naming the setting.
    let e = chains.require(Blockchain::BaseSepolia).unwrap_err();
    assert_eq!(e.code, 156_027);
    // A second instance shares the chains.
    let second = app.second_instance().await;
    assert!(second.lk.chains().get(Blockchain::MaticAmoy).is_some());
}
