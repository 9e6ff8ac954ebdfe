//! An in-memory [`EvmNode`] for the unit tests of the money services: code per address, one
//! native balance, canned call answers by selector and a fixed `eth_estimateGas` answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::node::{
    Block, BlockTag, CallRequest, ChainTx, EvmNode, FeeHistory, Log, NodeError, Receipt,
};
use async_trait::async_trait;
use latchkey_chains::{Address, B256, U256};
use std::collections::HashMap;
use std::sync::Mutex;

/// An in-memory node: code per address, one native balance, canned call answers by selector,
/// and a fixed `eth_estimateGas` answer. Records the calls made to it.
#[derive(Debug, Default)]
pub(crate) struct FakeNode {
    pub(crate) code: HashMap<Address, Vec<u8>>,
    pub(crate) balance: U256,
    pub(crate) base_fee: Option<u128>,
    pub(crate) tip: u128,
    pub(crate) gas_price: u128,
    pub(crate) estimate: Option<Result<u64, NodeError>>,
    pub(crate) calls: HashMap<[u8; 4], Result<Vec<u8>, NodeError>>,
    pub(crate) seen: Mutex<Vec<String>>,
}

impl FakeNode {
    fn log(&self, what: &str) {
        self.seen.lock().unwrap().push(what.to_owned());
    }
}

pub(crate) fn word(v: u128) -> Vec<u8> {
    U256::from(v).to_be_bytes::<32>().to_vec()
}

pub(crate) fn address_word(a: Address) -> Vec<u8> {
    let mut w = vec![0u8; 12];
    w.extend_from_slice(a.as_slice());
    w
}

#[async_trait]
impl EvmNode for FakeNode {
    async fn chain_id(&self) -> Result<u64, NodeError> {
        Ok(80_002)
    }
    async fn client_version(&self) -> Result<String, NodeError> {
        Ok("fake/1".into())
    }
    async fn block_number(&self) -> Result<u64, NodeError> {
        Ok(1)
    }
    async fn block(&self, _: BlockTag, _: bool) -> Result<Option<Block>, NodeError> {
        Ok(None)
    }
    async fn fee_history(&self, count: u64, p: &[f64]) -> Result<FeeHistory, NodeError> {
        self.log("fee_history");
        assert_eq!((count, p), (20, &[10.0, 50.0, 90.0][..]));
        let base = self
            .base_fee
            .ok_or(NodeError::Other("no base fee".into()))?;
        Ok(FeeHistory {
            oldest_block: 0,
            base_fee_per_gas: vec![base; 21],
            gas_used_ratio: vec![0.5; 20],
            reward: vec![vec![self.tip, 2 * self.tip, 3 * self.tip]; 20],
        })
    }
    async fn gas_price(&self) -> Result<u128, NodeError> {
        self.log("gas_price");
        Ok(self.gas_price)
    }
    async fn estimate_gas(&self, call: &CallRequest) -> Result<u64, NodeError> {
        self.log("estimate_gas");
        assert!(call.from.is_some() && call.to.is_some());
        self.estimate.clone().unwrap_or(Ok(50_000))
    }
    async fn call(&self, call: &CallRequest) -> Result<Vec<u8>, NodeError> {
        let selector: [u8; 4] = call.data[..4].try_into().unwrap();
        self.log(&format!("call {}", hex::encode(selector)));
        self.calls
            .get(&selector)
            .cloned()
            .unwrap_or(Err(NodeError::Reverted(None)))
    }
    async fn balance(&self, _: Address, tag: BlockTag) -> Result<U256, NodeError> {
        assert_eq!(tag, BlockTag::Latest);
        Ok(self.balance)
    }
    async fn nonce(&self, _: Address, _: BlockTag) -> Result<u64, NodeError> {
        Ok(7)
    }
    async fn code(&self, address: Address) -> Result<Vec<u8>, NodeError> {
        Ok(self.code.get(&address).cloned().unwrap_or_default())
    }
    async fn send_raw(&self, _: &[u8]) -> Result<B256, NodeError> {
        unreachable!()
    }
    async fn receipt(&self, _: B256) -> Result<Option<Receipt>, NodeError> {
        unreachable!()
    }
    async fn transaction(&self, _: B256) -> Result<Option<ChainTx>, NodeError> {
        unreachable!()
    }
    async fn logs(&self, _: u64, _: u64, _: &[B256]) -> Result<Vec<Log>, NodeError> {
        unreachable!()
    }
    async fn accounts(&self) -> Result<Vec<Address>, NodeError> {
        unreachable!()
    }
    async fn send_unlocked(&self, _: &CallRequest) -> Result<B256, NodeError> {
        unreachable!()
    }
    async fn set_code(&self, _: Address, _: &[u8]) -> Result<(), NodeError> {
        unreachable!()
    }
    async fn set_balance(&self, _: Address, _: U256) -> Result<(), NodeError> {
        unreachable!()
    }
}
