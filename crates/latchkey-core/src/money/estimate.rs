//! Fee estimates: a plan priced on its chain at the three levels (`POST
//! /transactions/transfer/estimateFee` and `/contractExecution/estimateFee`).
//!
//! The steps, each one node call or two: the fee levels (`eth_feeHistory`, or `eth_gasPrice`
//! on a legacy chain); what the wallet holds (native balance, and the token balance or NFT
//! owner a transfer needs, so that a shortfall gets its own code rather than a bare revert);
//! the gas (21000 for a native transfer to an address without code, else `eth_estimateGas` ×
//! 1.2); on OP-stack chains the L1 data fee from the GasPriceOracle predeploy.

use super::chains::Chain;
use super::fees::{
    gas_limit_with_margin, EstimatedFees, FeeLevels, GasPricing, TransactionFee,
    FEE_HISTORY_BLOCKS, FEE_HISTORY_PERCENTILES, NATIVE_TRANSFER_GAS,
};
use super::node::{BlockTag, CallRequest, EvmNode, NodeError, RejectKind};
use super::plan::{
    EstimateContractExecutionFeeRequest, EstimateTransferFeeRequest, OutboundCall, PlannedTransfer,
    TokenDebit,
};
use super::user_op::sca_estimate;
use crate::error::{codes, ApiError};
use crate::service::{Latchkey, UserSession};
use latchkey_chains::{erc, Address, Blockchain, UnsignedEvmTx, U256};

/// The OP-stack GasPriceOracle predeploy, whose `getL1Fee(bytes)` prices a transaction's L1
/// data.
pub const GAS_PRICE_ORACLE: Address = Address::new([
    0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f,
]);

impl Latchkey {
    /// `POST /v1/w3s/transactions/transfer/estimateFee`: the LOW/MEDIUM/HIGH fees of a
    /// transfer from one of the session user's wallets.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id))]
    pub async fn estimate_transfer_fee(
        &self,
        session: &UserSession,
        request: &EstimateTransferFeeRequest,
    ) -> Result<EstimatedFees, ApiError> {
        match request.plan(self.store.as_ref(), session.into()).await? {
            PlannedTransfer::Evm(plan) => {
                let chain = self.chains.require(plan.blockchain)?;
                match plan.sca_owner {
                    Some(owner) => sca_estimate(chain, owner, &plan.call, &plan.debit).await,
                    None => estimate_call(chain, &plan.call, &plan.debit).await,
                }
            }
            PlannedTransfer::Solana(plan) => {
                let chain = self.chains.require_solana(plan.blockchain)?;
                super::solana_plan::estimate(chain, &plan).await
            }
        }
    }

    /// `POST /v1/w3s/transactions/contractExecution/estimateFee`: the LOW/MEDIUM/HIGH fees of
    /// a contract call from one of the session user's wallets.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id))]
    pub async fn estimate_contract_execution_fee(
        &self,
        session: &UserSession,
        request: &EstimateContractExecutionFeeRequest,
    ) -> Result<EstimatedFees, ApiError> {
        let plan = request.plan(self.store.as_ref(), session.into()).await?;
        let chain = self.chains.require(plan.blockchain)?;
        match plan.sca_owner {
            Some(owner) => sca_estimate(chain, owner, &plan.call, &TokenDebit::None).await,
            None => estimate_call(chain, &plan.call, &TokenDebit::None).await,
        }
    }
}

/// The chain's fee levels now.
pub async fn fee_levels(chain: &Chain) -> Result<FeeLevels, ApiError> {
    let blockchain = chain.info.blockchain;
    if chain.info.eip1559 {
        let history = chain
            .node
            .fee_history(FEE_HISTORY_BLOCKS, &FEE_HISTORY_PERCENTILES)
            .await
            .map_err(|e| estimate_error(blockchain, e))?;
        FeeLevels::from_history(&history, &chain.info)
    } else {
        let price = chain
            .node
            .gas_price()
            .await
            .map_err(|e| estimate_error(blockchain, e))?;
        Ok(FeeLevels::from_gas_price(price))
    }
}

/// What pricing a call read from its chain: the fee levels, the wallet's native balance, the
/// gas (the node's figure and the gasLimit to sign with) and the OP-stack L1 fee in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    /// The LOW/MEDIUM/HIGH levels now.
    pub levels: FeeLevels,
    /// The sender's native balance at `latest`, in wei.
    pub balance: U256,
    /// `eth_estimateGas`'s figure (21000 for a plain transfer).
    pub raw_gas: u64,
    /// The gasLimit to sign with (the estimate and its margin).
    pub gas_limit: u64,
    /// The L1 data fee on an OP-stack chain, in wei.
    pub l1_fee: Option<u128>,
}

/// Prices `call` on `chain` at the three levels, after checking that the wallet holds what
/// it sends: 155204 when the native balance is below the value plus the LOW level's most
/// expensive gas, 155205 / 155206 for a token shortfall, then the node's verdict on the call
/// itself (see [`estimate_error`]).
pub async fn estimate_call(
    chain: &Chain,
    call: &OutboundCall,
    debit: &TokenDebit,
) -> Result<EstimatedFees, ApiError> {
    let p = price_call(chain, call, debit).await?;
    let cheapest = U256::from(p.gas_limit) * U256::from(p.levels.low.max_per_gas())
        + U256::from(p.l1_fee.unwrap_or(0));
    if p.balance < call.value.saturating_add(cheapest) {
        return Err(codes::ESTIMATE_COST_ABOVE_BALANCE);
    }
    let decimals = chain.info.blockchain.native_decimals();
    let fee =
        |g: &GasPricing| TransactionFee::estimate(g, p.gas_limit, p.raw_gas, p.l1_fee, decimals);
    Ok(EstimatedFees {
        low: fee(&p.levels.low),
        medium: fee(&p.levels.medium),
        high: fee(&p.levels.high),
        user_op: None,
    })
}

/// The reads behind an estimate, with its checks except the final cost one (which depends on
/// the level or the explicit fee the caller prices with): 155204 when the balance is below the
/// value alone, 155205 / 155206 for a token shortfall, the node's verdict on the call.
pub async fn price_call(
    chain: &Chain,
    call: &OutboundCall,
    debit: &TokenDebit,
) -> Result<Priced, ApiError> {
    let blockchain = chain.info.blockchain;
    let node = chain.node.as_ref();
    let failed = |e| estimate_error(blockchain, e);
    let levels = fee_levels(chain).await?;
    let balance = node
        .balance(call.from, BlockTag::Latest)
        .await
        .map_err(failed)?;
    if balance < call.value {
        return Err(codes::ESTIMATE_COST_ABOVE_BALANCE);
    }
    check_debit(node, call, debit)
        .await
        .map_err(|e| e.for_chain(blockchain))?;
    let (raw_gas, gas_limit) = gas(node, call).await.map_err(failed)?;
    let l1_fee = l1_fee(chain, call, gas_limit, &levels.high)
        .await
        .map_err(failed)?;
    Ok(Priced {
        levels,
        balance,
        raw_gas,
        gas_limit,
        l1_fee,
    })
}

/// The node's gas figure and the gasLimit to sign with: 21000 for a plain transfer to an
/// account without code (a fixed cost, no margin needed), else the estimate and its margin.
async fn gas(node: &dyn EvmNode, call: &OutboundCall) -> Result<(u64, u64), NodeError> {
    if call.data.is_empty() && node.code(call.to).await?.is_empty() {
        return Ok((NATIVE_TRANSFER_GAS, NATIVE_TRANSFER_GAS));
    }
    let raw = node.estimate_gas(&request(call)).await?;
    Ok((raw, gas_limit_with_margin(raw)))
}

/// The L1 data fee on an OP-stack chain, in wei: `getL1Fee(unsigned_rlp(tx))`, priced at the
/// HIGH level (the longest encoding of the three). `None` off the OP stack, and where the
/// predeploy has no code (a local node impersonating an OP chain).
pub(super) async fn l1_fee(
    chain: &Chain,
    call: &OutboundCall,
    gas_limit: u64,
    pricing: &GasPricing,
) -> Result<Option<u128>, NodeError> {
    if !chain.info.blockchain.is_op_stack() || chain.node.code(GAS_PRICE_ORACLE).await?.is_empty() {
        return Ok(None);
    }
    let nonce = chain.node.nonce(call.from, BlockTag::Pending).await?;
    let tx = UnsignedEvmTx {
        chain_id: chain.info.chain_id,
        nonce,
        to: call.to,
        value: call.value,
        data: call.data.clone(),
        gas_limit,
        fee: pricing.evm_fee(),
    };
    let malformed = |what: &str| NodeError::Other(format!("getL1Fee: {what}"));
    let rlp = latchkey_chains::unsigned_rlp(&tx).map_err(|e| malformed(&e.message))?;
    let data = latchkey_chains::encode_call(
        "getL1Fee(bytes)",
        &[serde_json::Value::String(format!("0x{}", hex::encode(rlp)))],
    )
    .map_err(|e| malformed(&e.message))?;
    let ret = chain
        .node
        .call(&CallRequest {
            to: Some(GAS_PRICE_ORACLE),
            data,
            ..CallRequest::default()
        })
        .await?;
    let fee = erc::decode_uint(&ret)
        .and_then(|v| u128::try_from(v).ok())
        .ok_or_else(|| malformed("not a uint256"))?;
    Ok(Some(fee))
}

/// Why a token transfer cannot happen, found by reading the token before estimating.
enum DebitError {
    Short(ApiError),
    Node(NodeError),
}

impl DebitError {
    fn for_chain(self, chain: Blockchain) -> ApiError {
        match self {
            DebitError::Short(e) => e,
            DebitError::Node(e) => estimate_error(chain, e),
        }
    }
}

impl From<NodeError> for DebitError {
    fn from(e: NodeError) -> Self {
        DebitError::Node(e)
    }
}

/// The wallet holds the tokens it sends: the ERC-20 or ERC-1155 balance (155205), the ERC-721
/// owner (155206; a token that does not exist makes `ownerOf` revert, which is the same
/// answer).
async fn check_debit(
    node: &dyn EvmNode,
    call: &OutboundCall,
    debit: &TokenDebit,
) -> Result<(), DebitError> {
    let read = |data: Vec<u8>| CallRequest {
        to: Some(call.to),
        data,
        ..CallRequest::default()
    };
    let unreadable = || NodeError::Other("the token contract's answer is not ABI-encoded".into());
    match debit {
        TokenDebit::None => Ok(()),
        TokenDebit::Erc20 { amount } => {
            let ret = node.call(&read(erc::erc20_balance_of(call.from))).await?;
            let balance = erc::decode_uint(&ret).ok_or_else(unreadable)?;
            if balance < *amount {
                return Err(DebitError::Short(codes::ESTIMATE_INSUFFICIENT_TOKEN));
            }
            Ok(())
        }
        TokenDebit::Erc721 { id } => {
            let owner = match node.call(&read(erc::erc721_owner_of(*id))).await {
                Ok(ret) => erc::decode_address(&ret),
                Err(NodeError::Reverted(_)) => None,
                Err(e) => return Err(e.into()),
            };
            if owner != Some(call.from) {
                return Err(DebitError::Short(codes::ESTIMATE_NOT_OWNER));
            }
            Ok(())
        }
        TokenDebit::Erc1155 { ids, amounts } => {
            for (id, amount) in ids.iter().zip(amounts) {
                let ret = node
                    .call(&read(erc::erc1155_balance_of(call.from, *id)))
                    .await?;
                let balance = erc::decode_uint(&ret).ok_or_else(unreadable)?;
                if balance < *amount {
                    return Err(DebitError::Short(codes::ESTIMATE_INSUFFICIENT_TOKEN));
                }
            }
            Ok(())
        }
    }
}

fn request(call: &OutboundCall) -> CallRequest {
    CallRequest {
        from: Some(call.from),
        to: Some(call.to),
        value: Some(call.value),
        data: call.data.clone(),
        gas: None,
    }
}

/// A node failure during an estimate as Circle's code:
/// - a revert → 155208, with its reason;
/// - more gas than a block allows → 155207;
/// - the node says the sender cannot pay → 155204;
/// - the node unreachable → 503 (code -1): nothing is known, and the same call can be retried;
/// - anything else → 155210 (the node's text goes to the log, not to the caller).
pub fn estimate_error(chain: Blockchain, e: NodeError) -> ApiError {
    match e {
        NodeError::Reverted(reason) => {
            let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
            codes::ESTIMATE_REVERTED
                .with_message(format!("Estimate fee execution reverted{reason}."))
        }
        NodeError::GasExceedsAllowance => codes::ESTIMATE_GAS_EXCEEDS_ALLOWANCE,
        NodeError::Rejected(RejectKind::InsufficientFunds, _) => codes::ESTIMATE_COST_ABOVE_BALANCE,
        NodeError::Unavailable(why) => {
            tracing::warn!(%chain, %why, "node unavailable during a fee estimate");
            node_unavailable(chain)
        }
        NodeError::Rejected(_, why) | NodeError::Other(why) => {
            tracing::warn!(%chain, %why, "fee estimate failed");
            codes::ESTIMATE_FAILED
        }
    }
}

/// HTTP 503 in Circle's shape when a chain's node cannot be reached: nothing was done.
pub fn node_unavailable(chain: Blockchain) -> ApiError {
    ApiError::new(-1, 503, "The node is unavailable; try again.")
        .with_message(format!("The {chain} node is unavailable; try again."))
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
