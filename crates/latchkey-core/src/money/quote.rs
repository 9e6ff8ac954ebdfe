//! The price a user approves: when a transfer (or contract-execution) challenge is created,
//! its plan is priced on the chain at the requested level (or with the developer's explicit
//! fees), and the result is kept in the challenge twice: as the fee fields the hosted page
//! and the terminal executor show before the PIN ([`ShownFee`]), and as the cap the
//! transaction signed after the PIN must stay under ([`Quote::gas_limit`] ×
//! [`Quote::pricing`]). A PIN approves a number; the signed transaction never costs more.
//!
//! The checks are the estimate's, with the codes Circle gives a create call: the native
//! balance below value + the most the gas can cost is 155201, a token shortfall (ERC-20 or
//! ERC-1155 balance, ERC-721 owner) is 155258.

use super::chains::Chain;
use super::estimate::price_call;
use super::fees::{FeeCap, FeeChoice, GasPricing};
use super::plan::{OutboundCall, TokenDebit};
use crate::error::{codes, ApiError};
use latchkey_chains::{format_units, gwei, Blockchain, U256};
use serde::{Deserialize, Serialize};

/// The fee fields shown before the PIN: gas in units, prices in gwei, the cap in native units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownFee {
    /// `LOW` / `MEDIUM` / `HIGH`, or `CUSTOM` for the developer's explicit fees.
    pub fee_level: String,
    /// Gas units the transaction is signed with.
    pub gas_limit: String,
    /// EIP-1559: the most paid per gas (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<String>,
    /// EIP-1559: the tip per gas (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_fee: Option<String>,
    /// Legacy chains: the gas price (gwei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<String>,
    /// The most the transaction can cost in fees: gasLimit × maxFee (or × gasPrice) + l1Fee,
    /// in native units. A cap, not an estimate.
    pub max_network_fee: String,
    /// The unit of `maxNetworkFee`.
    pub native_symbol: String,
    /// SCA wallets: who pays the gas ("latchkey's gas station"): the user pays none of
    /// `maxNetworkFee`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_paid_by: Option<String>,
}

impl ShownFee {
    /// An EVM quote's fields: `pricing` in gwei, `max_network_fee` (wei) in the native coin.
    pub(crate) fn evm(
        fee_level: &str,
        gas_limit: u64,
        pricing: GasPricing,
        max_network_fee: U256,
        blockchain: Blockchain,
        gas_paid_by: Option<String>,
    ) -> Self {
        let (max_fee, priority_fee, gas_price) = match pricing {
            GasPricing::Eip1559 {
                priority_fee,
                max_fee,
                ..
            } => (Some(gwei(max_fee)), Some(gwei(priority_fee)), None),
            GasPricing::Legacy { gas_price } => (None, None, Some(gwei(gas_price))),
        };
        ShownFee {
            fee_level: fee_level.to_owned(),
            gas_limit: gas_limit.to_string(),
            max_fee,
            priority_fee,
            gas_price,
            max_network_fee: format_units(max_network_fee, blockchain.native_decimals()),
            native_symbol: blockchain.native_symbol().to_owned(),
            gas_paid_by,
        }
    }
}

/// A plan priced for a challenge: what is shown, and the cap the signature keeps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Gas units to sign with.
    pub gas_limit: u64,
    /// The highest price per gas the signed transaction may carry.
    pub pricing: GasPricing,
    /// The OP-stack L1 data fee priced in, in wei (decimal text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_fee: Option<String>,
    /// What the user is shown.
    pub shown: ShownFee,
    /// SCA wallets: the UserOperation's gas limits (`gas_limit` is their sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_op: Option<super::user_op::OpGas>,
}

/// Prices `call` on `chain` with `fee`: the chain's checks (see the module doc), 155233 for a
/// gasLimit override below the estimate, 155211 when the priced fee is above `cap` (a level
/// can be pricier than the cap allows; explicit fees were checked against it already), then
/// 155201 when the wallet cannot pay value + the fee.
pub async fn quote(
    chain: &Chain,
    call: &OutboundCall,
    debit: &TokenDebit,
    fee: &FeeChoice,
    cap: FeeCap,
) -> Result<Quote, ApiError> {
    let priced = price_call(chain, call, debit)
        .await
        .map_err(for_create_call)?;
    fee.check_gas_limit(priced.gas_limit)?;
    let (gas_limit, pricing, label) = match *fee {
        FeeChoice::Level { level, gas_limit } => (
            gas_limit.unwrap_or(priced.gas_limit),
            priced.levels.level(level),
            level.as_str(),
        ),
        FeeChoice::Eip1559 {
            gas_limit,
            max_fee,
            priority_fee,
        } => {
            let base_fee = match priced.levels.medium {
                GasPricing::Eip1559 { base_fee, .. } => base_fee,
                GasPricing::Legacy { .. } => 0,
            };
            let pricing = GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee,
            };
            (gas_limit, pricing, "CUSTOM")
        }
        FeeChoice::Legacy {
            gas_limit,
            gas_price,
        } => (gas_limit, GasPricing::Legacy { gas_price }, "CUSTOM"),
    };
    let gas_cost = U256::from(gas_limit) * U256::from(pricing.max_per_gas());
    if gas_cost > cap.0 {
        return Err(codes::FEE_ABOVE_MAX);
    }
    let l1 = U256::from(priced.l1_fee.unwrap_or(0));
    let max_network_fee = gas_cost + l1;
    if priced.balance < call.value.saturating_add(max_network_fee) {
        return Err(codes::INSUFFICIENT_FUNDS);
    }
    Ok(Quote {
        gas_limit,
        pricing,
        l1_fee: priced.l1_fee.map(|wei| wei.to_string()),
        shown: ShownFee::evm(
            label,
            gas_limit,
            pricing,
            max_network_fee,
            chain.info.blockchain,
            None,
        ),
        user_op: None,
    })
}

/// The estimate's balance codes as a create call's: 155201 for native, 155258 for tokens.
pub(crate) fn for_create_call(e: ApiError) -> ApiError {
    if e.code == codes::ESTIMATE_COST_ABOVE_BALANCE.code {
        codes::INSUFFICIENT_FUNDS
    } else if e.code == codes::ESTIMATE_INSUFFICIENT_TOKEN.code
        || e.code == codes::ESTIMATE_NOT_OWNER.code
    {
        codes::INSUFFICIENT_ASSET
    } else {
        e
    }
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;
