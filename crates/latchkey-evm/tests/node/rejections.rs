//! What a node's refusals become: each `RejectKind` anvil can be provoked into, revert
//! reasons, and an unreachable node.

use crate::anvil::artifact;
use crate::{chain, funded_key, signed_transfer};
use alloy_primitives::hex;
use latchkey_chains::{Address, Blockchain, U256};
use latchkey_core::money::{BlockTag, CallRequest, EvmNode, NodeError, RejectKind};
use latchkey_evm::RpcOptions;
use serde_json::json;
use std::time::Duration;

fn kind(r: Result<latchkey_chains::B256, NodeError>) -> Option<RejectKind> {
    match r {
        Err(NodeError::Rejected(k, _)) => Some(k),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_transactions_are_classified() {
    let (anvil, chain) = chain(Blockchain::MaticAmoy).await;
    let node = chain.node.clone();
    let to = Address::repeat_byte(0x77);
    let (secret, sender) = funded_key(&node, U256::from(10u128.pow(18))).await;

    // Nonce 0 mined (automine), then nonce 0 again.
    let first = signed_transfer(&node, &secret, 0, to, 1, None).await;
    node.send_raw(&first).await.unwrap();
    while node.nonce(sender, BlockTag::Latest).await.unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again = signed_transfer(&node, &secret, 0, to, 2, None).await;
    assert_eq!(
        kind(node.send_raw(&again).await),
        Some(RejectKind::NonceTooLow)
    );

    // With mining paused: the same bytes twice, then a same-fee replacement.
    anvil.rpc("evm_setAutomine", json!([false])).await;
    let pending = signed_transfer(&node, &secret, 1, to, 1, Some(100_000_000_000)).await;
    node.send_raw(&pending).await.unwrap();
    let same = node.send_raw(&pending).await;
    assert!(
        matches!(
            same,
            Ok(_) | Err(NodeError::Rejected(RejectKind::AlreadyKnown, _))
        ),
        "{same:?}"
    );
    let replacement = signed_transfer(&node, &secret, 1, to, 2, Some(100_000_000_000)).await;
    assert_eq!(
        kind(node.send_raw(&replacement).await),
        Some(RejectKind::ReplacementUnderpriced)
    );
    anvil.rpc("evm_setAutomine", json!([true])).await;

    // A fee cap under the base fee.
    let cheap = signed_transfer(&node, &secret, 2, to, 1, Some(1)).await;
    assert_eq!(
        kind(node.send_raw(&cheap).await),
        Some(RejectKind::FeeTooLow)
    );

    // A sender with nothing.
    let (broke, _) = funded_key(&node, U256::ZERO).await;
    let unpaid = signed_transfer(&node, &broke, 0, to, 1, None).await;
    assert_eq!(
        kind(node.send_raw(&unpaid).await),
        Some(RejectKind::InsufficientFunds)
    );
}

#[tokio::test]
async fn reverts_carry_their_reason() {
    let (_anvil, chain) = chain(Blockchain::EthSepolia).await;
    let node = chain.node.clone();
    let from = node.accounts().await.unwrap()[0];
    let nonce = node.nonce(from, BlockTag::Latest).await.unwrap();
    let code = hex::decode(artifact("Reverter")["bytecode"].as_str().unwrap()).unwrap();
    node.send_unlocked(&CallRequest {
        from: Some(from),
        data: code,
        ..Default::default()
    })
    .await
    .unwrap();
    let reverter = from.create(nonce);
    for _ in 0..100 {
        if !node.code(reverter).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fail = CallRequest {
        from: Some(from),
        to: Some(reverter),
        data: hex::decode("a9cc4718").unwrap(),
        ..Default::default()
    };
    let reason = Some("Reverter: always fails".to_string());
    assert_eq!(
        node.call(&fail).await,
        Err(NodeError::Reverted(reason.clone()))
    );
    assert_eq!(
        node.estimate_gas(&fail).await,
        Err(NodeError::Reverted(reason))
    );
    // maybe(false): a require() message.
    let mut maybe = hex::decode("e13e4d4f").unwrap();
    maybe.extend([0u8; 32]);
    let call = CallRequest {
        to: Some(reverter),
        data: maybe,
        ..Default::default()
    };
    assert_eq!(
        node.call(&call).await,
        Err(NodeError::Reverted(Some("Reverter: asked to fail".into())))
    );
}

#[tokio::test]
async fn an_unreachable_node_is_unavailable() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = RpcOptions {
        timeout: Duration::from_secs(2),
        retries: 1,
        ..Default::default()
    };
    let node = latchkey_evm::node(&format!("http://127.0.0.1:{port}/v2/SECRET"), &options).unwrap();
    let e = node.chain_id().await.unwrap_err();
    assert!(matches!(e, NodeError::Unavailable(_)), "{e:?}");
    assert!(!e.to_string().contains("SECRET"), "{e}");
    assert!(format!("{node:?}").contains("/***") && !format!("{node:?}").contains("SECRET"));
}
