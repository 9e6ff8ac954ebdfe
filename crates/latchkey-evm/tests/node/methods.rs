//! Every `EvmNode` method, read back against what anvil did.

use crate::anvil::artifact;
use crate::{chain, funded_key, signed_transfer};
use alloy_primitives::{hex, keccak256};
use latchkey_chains::{Address, Blockchain, U256};
use latchkey_core::money::{BlockTag, CallRequest, EvmNode};
use std::sync::Arc;
use std::time::Duration;

const ETHER: u128 = 1_000_000_000_000_000_000;

fn bytecode(name: &str) -> Vec<u8> {
    hex::decode(artifact(name)["bytecode"].as_str().unwrap()).unwrap()
}

fn word(address: Address) -> Vec<u8> {
    let mut w = vec![0u8; 12];
    w.extend_from_slice(address.as_slice());
    w
}

/// Deploys `name` from the node's first unlocked account; its address.
async fn deploy(node: &Arc<dyn EvmNode>, name: &str) -> Address {
    let from = node.accounts().await.unwrap()[0];
    let nonce = node.nonce(from, BlockTag::Latest).await.unwrap();
    let hash = node
        .send_unlocked(&CallRequest {
            from: Some(from),
            data: bytecode(name),
            ..Default::default()
        })
        .await
        .unwrap();
    let receipt = mined(node, hash).await;
    assert!(receipt.success);
    from.create(nonce)
}

async fn mined(
    node: &Arc<dyn EvmNode>,
    hash: latchkey_chains::B256,
) -> latchkey_core::money::Receipt {
    for _ in 0..100 {
        if let Some(r) = node.receipt(hash).await.unwrap() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no receipt for {hash}");
}

#[tokio::test]
async fn reads_and_local_helpers() {
    let (_anvil, chain) = chain(Blockchain::MaticAmoy).await;
    let node = chain.node.clone();
    assert_eq!(node.chain_id().await.unwrap(), 80_002);
    assert!(node.client_version().await.unwrap().starts_with("anvil/"));
    let accounts = node.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    let start = node.block_number().await.unwrap();

    // A native transfer from an unlocked account, read back every way.
    let to = Address::repeat_byte(0x42);
    let hash = node
        .send_unlocked(&CallRequest {
            from: Some(accounts[0]),
            to: Some(to),
            value: Some(U256::from(ETHER)),
            ..Default::default()
        })
        .await
        .unwrap();
    let receipt = mined(&node, hash).await;
    assert!(receipt.success);
    assert_eq!((receipt.tx_hash, receipt.gas_used), (hash, 21_000));
    assert!(receipt.effective_gas_price > 0);
    assert_eq!(receipt.l1_fee, None);
    assert!(receipt.logs.is_empty());
    assert_eq!(node.block_number().await.unwrap(), start + 1);
    let tx = node.transaction(hash).await.unwrap().unwrap();
    assert_eq!(
        (tx.from, tx.to, tx.value, tx.nonce, tx.block_number),
        (accounts[0], Some(to), U256::from(ETHER), 0, Some(start + 1))
    );
    assert_eq!(node.transaction(keccak256(b"none")).await.unwrap(), None);
    assert_eq!(node.receipt(keccak256(b"none")).await.unwrap(), None);
    assert_eq!(
        node.balance(to, BlockTag::Latest).await.unwrap(),
        U256::from(ETHER)
    );
    assert_eq!(
        node.balance(to, BlockTag::Number(start)).await.unwrap(),
        U256::ZERO
    );
    assert_eq!(node.nonce(accounts[0], BlockTag::Latest).await.unwrap(), 1);
    assert_eq!(node.nonce(accounts[0], BlockTag::Pending).await.unwrap(), 1);

    // Blocks: with and without their transactions; a block beyond the head is None.
    let block = node
        .block(BlockTag::Number(start + 1), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.number, start + 1);
    assert_eq!(block.hash, receipt.block_hash);
    assert!(block.base_fee.is_some() && block.timestamp > 0);
    assert_eq!(block.transactions.len(), 1);
    assert_eq!(block.transactions[0].hash, hash);
    let header = node.block(BlockTag::Latest, false).await.unwrap().unwrap();
    assert!(header.transactions.is_empty());
    let parent = node
        .block(BlockTag::Number(start), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.parent_hash, parent.hash);
    assert_eq!(
        node.block(BlockTag::Number(start + 1000), false)
            .await
            .unwrap(),
        None
    );

    // Fees.
    assert!(node.gas_price().await.unwrap() > 0);
    let history = node.fee_history(2, &[25.0, 75.0]).await.unwrap();
    assert_eq!(history.base_fee_per_gas.len(), 3, "two blocks and the next");
    assert_eq!(history.gas_used_ratio.len(), 2);
    assert_eq!(history.reward.len(), 2);
    assert_eq!(history.reward[0].len(), 2);
    assert_eq!(history.oldest_block, start);
    let transfer = CallRequest {
        from: Some(accounts[1]),
        to: Some(to),
        value: Some(U256::from(1)),
        ..Default::default()
    };
    assert_eq!(node.estimate_gas(&transfer).await.unwrap(), 21_000);

    // Local helpers.
    node.set_balance(to, U256::from(7)).await.unwrap();
    assert_eq!(
        node.balance(to, BlockTag::Latest).await.unwrap(),
        U256::from(7)
    );
    node.set_code(to, &[0x60, 0x00]).await.unwrap();
    assert_eq!(node.code(to).await.unwrap(), vec![0x60, 0x00]);
    assert!(node
        .code(Address::repeat_byte(0x43))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn calls_logs_and_raw_transactions() {
    let (_anvil, chain) = chain(Blockchain::EthSepolia).await;
    let node = chain.node.clone();
    let usdc = deploy(&node, "TestUsdc").await;
    assert!(!node.code(usdc).await.unwrap().is_empty());
    let from = node.accounts().await.unwrap()[0];
    let holder = Address::repeat_byte(0x11);

    // mint(holder, 5) emits Transfer(0, holder, 5).
    let mut mint = hex::decode("40c10f19").unwrap();
    mint.extend(word(holder));
    mint.extend(U256::from(5).to_be_bytes::<32>());
    let hash = node
        .send_unlocked(&CallRequest {
            from: Some(from),
            to: Some(usdc),
            data: mint,
            ..Default::default()
        })
        .await
        .unwrap();
    let receipt = mined(&node, hash).await;
    let transfer_topic = keccak256("Transfer(address,address,uint256)");
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!(receipt.logs[0].topics[0], transfer_topic);

    let mut balance_of = hex::decode("70a08231").unwrap();
    balance_of.extend(word(holder));
    let call = CallRequest {
        to: Some(usdc),
        data: balance_of,
        ..Default::default()
    };
    let out = node.call(&call).await.unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(5));

    let head = node.block_number().await.unwrap();
    let logs = node.logs(0, head, &[transfer_topic]).await.unwrap();
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!((log.address, log.tx_hash), (usdc, hash));
    assert_eq!(
        (log.block_number, log.block_hash),
        (receipt.block_number, receipt.block_hash)
    );
    assert_eq!(log.topics[2].as_slice()[12..], holder.as_slice()[..]);
    assert_eq!(U256::from_be_slice(&log.data), U256::from(5));
    assert!(node
        .logs(0, head, &[keccak256("Approval(address,address,uint256)")])
        .await
        .unwrap()
        .is_empty());
    assert!(node.logs(0, head, &[]).await.unwrap().is_empty());

    // A raw transaction signed by latchkey's own signer.
    let (secret, sender) = funded_key(&node, U256::from(ETHER)).await;
    let raw = signed_transfer(&node, &secret, 0, holder, 1_000, None).await;
    let hash = node.send_raw(&raw).await.unwrap();
    assert_eq!(hash, keccak256(&raw));
    let receipt = mined(&node, hash).await;
    assert!(receipt.success);
    assert_eq!(node.nonce(sender, BlockTag::Latest).await.unwrap(), 1);
}
