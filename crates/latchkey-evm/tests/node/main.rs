//! `AlloyNode` and `connect` against a real anvil: every `EvmNode` method, the rejections a
//! node can be provoked into, revert reasons, and the start-up checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../latchkey-api/tests/api/support/anvil.rs"]
#[allow(dead_code)]
mod anvil;

mod connect;
mod methods;
mod rejections;

use alloy_primitives::hex;
use anvil::Anvil;
use latchkey_chains::{Address, Blockchain, EvmFee, Family, UnsignedEvmTx, U256};
use latchkey_core::money::{BlockTag, Chain, EvmNode};
use latchkey_evm::RpcOptions;
use std::sync::Arc;

/// anvil on `blockchain`'s chain id, connected the way `latchkey serve` connects it.
pub async fn chain(blockchain: Blockchain) -> (Anvil, Chain) {
    let anvil = Anvil::start(blockchain.chain_id().unwrap()).await;
    let chain = latchkey_evm::connect(blockchain, &anvil.url, &RpcOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (anvil, chain)
}

/// A fresh key holding `wei` on the node, and its address.
pub async fn funded_key(node: &Arc<dyn EvmNode>, wei: U256) -> (Vec<u8>, Address) {
    let secret = latchkey_chains::generate(Family::Evm).to_vec();
    let address: Address = latchkey_chains::address(Family::Evm, &secret)
        .unwrap()
        .parse()
        .unwrap();
    if wei > U256::ZERO {
        node.set_balance(address, wei).await.unwrap();
    }
    (secret, address)
}

/// A signed EIP-1559 transfer of `value` wei to `to`, as raw bytes, priced at twice the
/// latest base fee plus 1 gwei unless `max_fee` is given.
pub async fn signed_transfer(
    node: &Arc<dyn EvmNode>,
    secret: &[u8],
    nonce: u64,
    to: Address,
    value: u64,
    max_fee: Option<u128>,
) -> Vec<u8> {
    let base = node
        .block(BlockTag::Latest, false)
        .await
        .unwrap()
        .unwrap()
        .base_fee
        .unwrap();
    let priority = 1_000_000_000;
    let max_fee = max_fee.unwrap_or(base * 2 + priority);
    let tx = UnsignedEvmTx {
        chain_id: node.chain_id().await.unwrap(),
        nonce,
        to,
        value: U256::from(value),
        data: vec![],
        gas_limit: 21_000,
        fee: EvmFee::Eip1559 {
            max_fee,
            max_priority: priority.min(max_fee),
        },
    };
    let signed = latchkey_chains::sign_evm_tx(secret, &tx).unwrap();
    hex::decode(&signed.signed_transaction).unwrap()
}
