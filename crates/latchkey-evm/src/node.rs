//! [`AlloyNode`]: core's [`EvmNode`] over alloy's HTTP provider.

use crate::errors::classify;
use crate::wire;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256, U64};
use alloy_provider::network::Ethereum;
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag, TransactionInput, TransactionRequest};
use async_trait::async_trait;
use latchkey_core::money::{
    Block, BlockTag, CallRequest, ChainTx, EvmNode, FeeHistory, Log, NodeError, Receipt,
};
use serde_json::json;
use std::borrow::Cow;

/// One JSON-RPC node. Cheap to clone (the provider is reference-counted).
#[derive(Clone)]
pub struct AlloyNode {
    provider: RootProvider<Ethereum>,
    /// The redacted URL, for `Debug` and logs.
    shown_url: String,
}

impl std::fmt::Debug for AlloyNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlloyNode")
            .field("url", &self.shown_url)
            .finish()
    }
}

impl AlloyNode {
    /// A node over an already built provider; `shown_url` is what logs may print of its URL.
    pub fn new(provider: RootProvider<Ethereum>, shown_url: String) -> Self {
        Self {
            provider,
            shown_url,
        }
    }

    /// The node's URL as it may be printed (redacted).
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    async fn raw<P, R>(&self, method: &'static str, params: P) -> Result<R, NodeError>
    where
        // alloy's RpcSend / RpcRecv, spelled out (alloy-json-rpc is not a direct dependency).
        P: serde::Serialize + Clone + std::fmt::Debug + Send + Sync + Unpin,
        R: serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + Unpin + 'static,
    {
        self.provider
            .raw_request(Cow::Borrowed(method), params)
            .await
            .map_err(classify)
    }
}

fn block_id(tag: BlockTag) -> BlockId {
    BlockId::Number(number_or_tag(tag))
}

fn number_or_tag(tag: BlockTag) -> BlockNumberOrTag {
    match tag {
        BlockTag::Latest => BlockNumberOrTag::Latest,
        BlockTag::Pending => BlockNumberOrTag::Pending,
        BlockTag::Number(n) => BlockNumberOrTag::Number(n),
    }
}

fn request(call: &CallRequest) -> TransactionRequest {
    TransactionRequest {
        from: call.from,
        to: Some(call.to.map_or(TxKind::Create, TxKind::Call)),
        value: call.value,
        gas: call.gas,
        input: TransactionInput::new(Bytes::copy_from_slice(&call.data)),
        ..Default::default()
    }
}

#[async_trait]
impl EvmNode for AlloyNode {
    async fn chain_id(&self) -> Result<u64, NodeError> {
        self.provider.get_chain_id().await.map_err(classify)
    }

    async fn client_version(&self) -> Result<String, NodeError> {
        self.raw("web3_clientVersion", ()).await
    }

    async fn block_number(&self) -> Result<u64, NodeError> {
        self.provider.get_block_number().await.map_err(classify)
    }

    async fn block(&self, tag: BlockTag, full: bool) -> Result<Option<Block>, NodeError> {
        let block: Option<wire::Block> = self
            .raw("eth_getBlockByNumber", (number_or_tag(tag), full))
            .await?;
        Ok(block.map(Into::into))
    }

    async fn fee_history(&self, count: u64, percentiles: &[f64]) -> Result<FeeHistory, NodeError> {
        let h = self
            .provider
            .get_fee_history(count, BlockNumberOrTag::Latest, percentiles)
            .await
            .map_err(classify)?;
        Ok(FeeHistory {
            oldest_block: h.oldest_block,
            base_fee_per_gas: h.base_fee_per_gas,
            gas_used_ratio: h.gas_used_ratio,
            reward: h.reward.unwrap_or_default(),
        })
    }

    async fn gas_price(&self) -> Result<u128, NodeError> {
        self.provider.get_gas_price().await.map_err(classify)
    }

    async fn estimate_gas(&self, call: &CallRequest) -> Result<u64, NodeError> {
        self.provider
            .estimate_gas(request(call))
            .await
            .map_err(classify)
    }

    async fn call(&self, call: &CallRequest) -> Result<Vec<u8>, NodeError> {
        // At `latest` explicitly: without a block a node may answer from its pending state
        // (anvil does), where a transaction in its pool has already run; a cancel's
        // simulation must see the account's nonce as the chain has it.
        let out = self
            .provider
            .call(request(call))
            .block(BlockId::latest())
            .await
            .map_err(classify)?;
        Ok(out.to_vec())
    }

    async fn balance(&self, address: Address, tag: BlockTag) -> Result<U256, NodeError> {
        self.provider
            .get_balance(address)
            .block_id(block_id(tag))
            .await
            .map_err(classify)
    }

    async fn nonce(&self, address: Address, tag: BlockTag) -> Result<u64, NodeError> {
        self.provider
            .get_transaction_count(address)
            .block_id(block_id(tag))
            .await
            .map_err(classify)
    }

    async fn code(&self, address: Address) -> Result<Vec<u8>, NodeError> {
        let code = self.provider.get_code_at(address).await.map_err(classify)?;
        Ok(code.to_vec())
    }

    async fn send_raw(&self, raw: &[u8]) -> Result<B256, NodeError> {
        let pending = self
            .provider
            .send_raw_transaction(raw)
            .await
            .map_err(classify)?;
        Ok(*pending.tx_hash())
    }

    async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, NodeError> {
        let receipt: Option<wire::Receipt> = self.raw("eth_getTransactionReceipt", (hash,)).await?;
        Ok(receipt.map(Into::into))
    }

    async fn transaction(&self, hash: B256) -> Result<Option<ChainTx>, NodeError> {
        let tx: Option<wire::Transaction> = self.raw("eth_getTransactionByHash", (hash,)).await?;
        Ok(tx.map(Into::into))
    }

    async fn logs(&self, from: u64, to: u64, topic0: &[B256]) -> Result<Vec<Log>, NodeError> {
        // To a node an empty topic list is a wildcard; to the caller it is "no event wanted".
        if topic0.is_empty() {
            return Ok(Vec::new());
        }
        let filter = json!({
            "fromBlock": U64::from(from),
            "toBlock": U64::from(to),
            "topics": [topic0],
        });
        let logs: Vec<wire::Log> = self.raw("eth_getLogs", (filter,)).await?;
        Ok(logs.into_iter().map(Into::into).collect())
    }

    async fn accounts(&self) -> Result<Vec<Address>, NodeError> {
        self.provider.get_accounts().await.map_err(classify)
    }

    async fn send_unlocked(&self, call: &CallRequest) -> Result<B256, NodeError> {
        self.raw("eth_sendTransaction", (request(call),)).await
    }

    async fn set_code(&self, address: Address, code: &[u8]) -> Result<(), NodeError> {
        let _: serde_json::Value = self
            .raw("anvil_setCode", (address, Bytes::copy_from_slice(code)))
            .await?;
        Ok(())
    }

    async fn set_balance(&self, address: Address, wei: U256) -> Result<(), NodeError> {
        let _: serde_json::Value = self.raw("anvil_setBalance", (address, wei)).await?;
        Ok(())
    }
}
