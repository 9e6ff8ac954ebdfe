//! `connect`: the start-up checks and the facts it learns.

use crate::anvil::Anvil;
use latchkey_chains::Blockchain;
use latchkey_evm::{connect, ConnectError, RpcOptions};
use std::time::Duration;

#[tokio::test]
async fn a_node_on_another_chain_is_refused_in_one_line() {
    let anvil = Anvil::start(31_337).await;
    let e = connect(Blockchain::MaticAmoy, &anvil.url, &RpcOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "--rpc MATIC-AMOY: the node at {} is chain 31337, MATIC-AMOY is chain 80002",
            anvil.url
        )
    );
    // The key in a provider URL never shows (anvil serves `/` only, so the key is in the query).
    let keyed = format!("{}/?apikey=SECRET", anvil.url);
    let e = connect(Blockchain::EthSepolia, &keyed, &RpcOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "--rpc ETH-SEPOLIA: the node at {}?*** is chain 31337, ETH-SEPOLIA is chain 11155111",
            anvil.url
        )
    );
}

#[tokio::test]
async fn chains_without_an_evm_node_and_dead_nodes_are_refused() {
    let options = RpcOptions::default();
    for (chain, start) in [
        (Blockchain::Sol, "--rpc SOL: SOL is not an EVM chain"),
        (
            Blockchain::SolDevnet,
            "--rpc SOL-DEVNET: SOL-DEVNET is not an EVM chain",
        ),
        (Blockchain::Aptos, "--rpc APTOS: APTOS is not an EVM chain"),
        (Blockchain::Evm, "--rpc EVM: latchkey moves no money on EVM"),
        (
            Blockchain::NearTestnet,
            "--rpc NEAR-TESTNET: latchkey moves no money",
        ),
        (
            Blockchain::Arc,
            "--rpc ARC: the chain id of ARC is not published",
        ),
    ] {
        let e = connect(chain, "http://127.0.0.1:1", &options)
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with(start), "{e}");
    }
    let e = connect(Blockchain::EthSepolia, "ftp://x/KEY", &options)
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::BadUrl { .. }), "{e}");
    assert!(!e.to_string().contains("KEY"), "{e}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/KEY");
    let e = connect(Blockchain::EthSepolia, &url, &options)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ConnectError::Unreachable { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "--rpc ETH-SEPOLIA: the node at http://127.0.0.1:{port}/*** cannot be reached"
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    assert!(!text.contains("KEY"));
}

#[tokio::test]
async fn what_connect_learns_and_the_overrides() {
    let anvil = Anvil::start(80_002).await;
    let chain = connect(Blockchain::MaticAmoy, &anvil.url, &RpcOptions::default())
        .await
        .unwrap();
    let info = &chain.info;
    assert_eq!(info.blockchain, Blockchain::MaticAmoy);
    assert_eq!(info.chain_id, 80_002);
    assert!(info.is_local && info.eip1559);
    assert_eq!(
        (
            info.confirmations,
            info.stuck_after_ms,
            info.min_priority_wei
        ),
        (1, 120_000, 0)
    );
    let options = RpcOptions {
        confirmations: Some(5),
        stuck_after: Some(Duration::from_secs(3)),
        ..Default::default()
    };
    let chain = connect(Blockchain::MaticAmoy, &anvil.url, &options)
        .await
        .unwrap();
    assert_eq!(
        (chain.info.confirmations, chain.info.stuck_after_ms),
        (5, 3_000)
    );
}
