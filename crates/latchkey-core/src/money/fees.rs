//! Fees: the LOW/MEDIUM/HIGH levels read from a chain, Circle's `TransactionFee` object, and
//! the synchronous rules for the fee fields of a transfer or contract-execution request.
//!
//! Everything here is exact integer arithmetic on wei: gwei strings are parsed and printed by
//! `latchkey_chains::{parse_gwei, gwei}`, native amounts by `format_units`. Nothing is a float,
//! so the figures a user approves are the figures that are signed.

use super::chains::ChainInfo;
use super::node::FeeHistory;
use crate::error::{codes, ApiError};
use latchkey_chains::{format_units, gwei, parse_gwei, parse_units, EvmFee, U256};
use serde::{Deserialize, Serialize};

/// Blocks of `eth_feeHistory` the levels are computed over.
pub const FEE_HISTORY_BLOCKS: u64 = 20;
/// Reward percentiles asked of `eth_feeHistory`, one per level (LOW, MEDIUM, HIGH).
pub const FEE_HISTORY_PERCENTILES: [f64; 3] = [10.0, 50.0, 90.0];
/// Gas of a plain native transfer to an address without code.
pub const NATIVE_TRANSFER_GAS: u64 = 21_000;
/// The default fee cap, in native units: a transaction whose maxFee (or gasPrice) × gasLimit
/// exceeds it is refused with 155211 (Circle's "default is 1 native token").
pub const DEFAULT_MAX_FEE_NATIVE: &str = "1";

/// Circle's `feeLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum FeeLevel {
    /// The 10th percentile of recent tips.
    Low,
    /// The median of recent tips.
    Medium,
    /// The 90th percentile of recent tips.
    High,
}

impl FeeLevel {
    /// `LOW` / `MEDIUM` / `HIGH`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeeLevel::Low => "LOW",
            FeeLevel::Medium => "MEDIUM",
            FeeLevel::High => "HIGH",
        }
    }

    /// Parses the wire name (exact spelling only, as Circle's enum).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LOW" => Some(FeeLevel::Low),
            "MEDIUM" => Some(FeeLevel::Medium),
            "HIGH" => Some(FeeLevel::High),
            _ => None,
        }
    }
}

/// The price of one unit of gas at one level, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum GasPricing {
    /// An EIP-1559 chain.
    #[serde(rename_all = "camelCase")]
    Eip1559 {
        /// The next block's base fee.
        #[serde(with = "super::serde_as::text")]
        base_fee: u128,
        /// The tip.
        #[serde(with = "super::serde_as::text")]
        priority_fee: u128,
        /// `2 × baseFee + priorityFee`: room for the base fee to double before inclusion.
        #[serde(with = "super::serde_as::text")]
        max_fee: u128,
    },
    /// A chain without EIP-1559.
    #[serde(rename_all = "camelCase")]
    Legacy {
        /// The gas price.
        #[serde(with = "super::serde_as::text")]
        gas_price: u128,
    },
}

impl GasPricing {
    /// The most one unit of gas can cost: maxFee, or the gas price.
    pub fn max_per_gas(&self) -> u128 {
        match *self {
            GasPricing::Eip1559 { max_fee, .. } => max_fee,
            GasPricing::Legacy { gas_price } => gas_price,
        }
    }

    /// A UserOperation's `(maxFeePerGas, maxPriorityFeePerGas)` at this price: a legacy
    /// chain's gas price is both; the tip never above the cap.
    pub fn user_op_fees(&self) -> (u128, u128) {
        match *self {
            GasPricing::Eip1559 {
                priority_fee,
                max_fee,
                ..
            } => (max_fee, priority_fee.min(max_fee)),
            GasPricing::Legacy { gas_price } => (gas_price, gas_price),
        }
    }

    /// What one unit of gas is expected to cost now: baseFee + priorityFee, or the gas price.
    pub fn expected_per_gas(&self) -> u128 {
        match *self {
            GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee,
            } => base_fee.saturating_add(priority_fee).min(max_fee),
            GasPricing::Legacy { gas_price } => gas_price,
        }
    }

    /// The fee fields of a transaction signed at this price.
    pub fn evm_fee(&self) -> EvmFee {
        match *self {
            GasPricing::Eip1559 {
                priority_fee,
                max_fee,
                ..
            } => EvmFee::Eip1559 {
                max_fee,
                max_priority: priority_fee,
            },
            GasPricing::Legacy { gas_price } => EvmFee::Legacy { gas_price },
        }
    }
}

/// The three fee levels of a chain at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLevels {
    /// LOW.
    pub low: GasPricing,
    /// MEDIUM.
    pub medium: GasPricing,
    /// HIGH.
    pub high: GasPricing,
}

impl FeeLevels {
    /// The levels of an EIP-1559 chain from `eth_feeHistory(20, latest, [10, 50, 90])`:
    /// - baseFee is the last `baseFeePerGas` entry (the pending block);
    /// - each level's tip is the median, over the blocks that used gas, of its percentile's
    ///   reward (an idle block's zero rewards say nothing about the market), floored at the
    ///   chain's `min_priority_wei`;
    /// - maxFee is `2 × baseFee + priorityFee`.
    ///
    /// A history without base fees (a legacy chain) is 155210: use [`FeeLevels::from_gas_price`].
    pub fn from_history(history: &FeeHistory, info: &ChainInfo) -> Result<Self, ApiError> {
        let base_fee = *history.base_fee_per_gas.last().ok_or_else(|| {
            codes::ESTIMATE_FAILED.with_message(format!(
                "Fails to perform transaction estimation: the {} node reports no base fee.",
                info.blockchain
            ))
        })?;
        let level = |i: usize| {
            let mut tips: Vec<u128> = history
                .reward
                .iter()
                .zip(&history.gas_used_ratio)
                .filter(|(_, &used)| used > 0.0)
                .filter_map(|(rewards, _)| rewards.get(i).copied())
                .collect();
            let priority_fee = median(&mut tips).max(info.min_priority_wei);
            GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee: base_fee.saturating_mul(2).saturating_add(priority_fee),
            }
        };
        Ok(Self {
            low: level(0),
            medium: level(1),
            high: level(2),
        })
    }

    /// The levels of a chain without EIP-1559 from `eth_gasPrice`: × 1.0, × 1.1 and × 1.25,
    /// rounded up so that no level is below the node's price.
    pub fn from_gas_price(gas_price: u128) -> Self {
        let scaled = |num: u128, den: u128| GasPricing::Legacy {
            gas_price: gas_price.saturating_mul(num).div_ceil(den),
        };
        Self {
            low: scaled(1, 1),
            medium: scaled(11, 10),
            high: scaled(5, 4),
        }
    }

    /// One level.
    pub fn level(&self, level: FeeLevel) -> GasPricing {
        match level {
            FeeLevel::Low => self.low,
            FeeLevel::Medium => self.medium,
            FeeLevel::High => self.high,
        }
    }
}

/// The median of `values` (the lower middle of an even count, so that it is one of the values
/// observed); 0 when there are none.
fn median(values: &mut [u128]) -> u128 {
    values.sort_unstable();
    match values.len() {
        0 => 0,
        n => values[(n - 1) / 2],
    }
}

/// `gasLimit` for an estimated call: `eth_estimateGas` × 1.2, rounded up (a margin for state
/// that changes between the estimate and inclusion).
pub fn gas_limit_with_margin(estimate: u64) -> u64 {
    u64::try_from(u128::from(estimate).saturating_mul(6).div_ceil(5)).unwrap_or(u64::MAX)
}

/// Circle's `TransactionFee`: gas in units, prices in gwei, fees in native units, all strings
/// (absent fields are left out, as Circle does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionFee {
    /// Gas units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_limit: Option<String>,
    /// Legacy chains: gwei per gas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<String>,
    /// EIP-1559: the most paid per gas, in gwei.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<String>,
    /// EIP-1559: the tip per gas, in gwei.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_fee: Option<String>,
    /// EIP-1559: the next block's base fee per gas, in gwei.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_fee: Option<String>,
    /// The most the transaction can cost: gasLimit × maxFee (or × gasPrice) + l1Fee, in native
    /// units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_fee: Option<String>,
    /// What it is expected to cost: the raw estimate × (baseFee + priorityFee) + l1Fee, in
    /// native units (estimates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_fee_raw: Option<String>,
    /// OP-stack chains: the L1 data fee, in native units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_fee: Option<String>,
}

impl TransactionFee {
    /// The estimate of one level: `gas_limit` (with its margin) and `raw_gas` (the node's
    /// figure) at `pricing`, plus the L1 fee in wei where the chain charges one. `decimals`
    /// are the native coin's.
    pub fn estimate(
        pricing: &GasPricing,
        gas_limit: u64,
        raw_gas: u64,
        l1_fee: Option<u128>,
        decimals: u8,
    ) -> Self {
        let l1 = U256::from(l1_fee.unwrap_or(0));
        let network_fee = U256::from(gas_limit) * U256::from(pricing.max_per_gas()) + l1;
        let network_fee_raw = U256::from(raw_gas) * U256::from(pricing.expected_per_gas()) + l1;
        let mut fee = Self {
            gas_limit: Some(gas_limit.to_string()),
            network_fee: Some(format_units(network_fee, decimals)),
            network_fee_raw: Some(format_units(network_fee_raw, decimals)),
            l1_fee: l1_fee.map(|wei| format_units(U256::from(wei), decimals)),
            ..Self::default()
        };
        match *pricing {
            GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee,
            } => {
                fee.base_fee = Some(gwei(base_fee));
                fee.priority_fee = Some(gwei(priority_fee));
                fee.max_fee = Some(gwei(max_fee));
            }
            GasPricing::Legacy { gas_price } => fee.gas_price = Some(gwei(gas_price)),
        }
        fee
    }
}

/// `data` of Circle's `EstimateTransactionFee`: the three levels, and for an SCA wallet the
/// UserOperation's limits (Circle's ERC-4337 fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimatedFees {
    /// LOW.
    pub low: TransactionFee,
    /// MEDIUM.
    pub medium: TransactionFee,
    /// HIGH.
    pub high: TransactionFee,
    /// SCA wallets: the UserOperation's gas (Circle's `callGasLimit`, `verificationGasLimit`,
    /// `preVerificationGas`); `None` for EOA.
    pub user_op: Option<super::user_op::OpGas>,
}

/// The most a transaction may cost in fees (maxFee or gasPrice × gasLimit), in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeCap(pub U256);

impl FeeCap {
    /// A cap of `amount` native units (`"1"`, `"0.5"`) of a coin with `decimals`; `None` when
    /// the amount is not a decimal number the coin can represent.
    pub fn native(amount: &str, decimals: u8) -> Option<Self> {
        parse_units(amount, decimals).ok().map(FeeCap)
    }

    /// Circle's default: one native token.
    pub fn one_token(decimals: u8) -> Self {
        FeeCap(U256::from(10u8).pow(U256::from(decimals)))
    }
}

/// The fee fields of a transfer or contract-execution request, as sent (gwei strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeRequest {
    /// `LOW` / `MEDIUM` / `HIGH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_level: Option<FeeLevel>,
    /// Gas units (decimal integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_limit: Option<String>,
    /// Legacy chains: gwei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<String>,
    /// EIP-1559 chains: gwei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee: Option<String>,
    /// EIP-1559 chains: gwei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_fee: Option<String>,
}

/// How a valid request pays for gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum FeeChoice {
    /// At a level's fresh fees; `gas_limit` overrides the estimate (it must not be below it).
    #[serde(rename_all = "camelCase")]
    Level {
        /// The level.
        level: FeeLevel,
        /// The developer's gasLimit override.
        gas_limit: Option<u64>,
    },
    /// The developer's own EIP-1559 fees (wei per gas).
    #[serde(rename_all = "camelCase")]
    Eip1559 {
        /// Gas units.
        gas_limit: u64,
        /// maxFeePerGas.
        #[serde(with = "super::serde_as::text")]
        max_fee: u128,
        /// maxPriorityFeePerGas.
        #[serde(with = "super::serde_as::text")]
        priority_fee: u128,
    },
    /// The developer's own gas price (wei per gas), on a chain without EIP-1559.
    #[serde(rename_all = "camelCase")]
    Legacy {
        /// Gas units.
        gas_limit: u64,
        /// gasPrice.
        #[serde(with = "super::serde_as::text")]
        gas_price: u128,
    },
}

impl FeeChoice {
    /// The gasLimit override against the chain's estimate (with its margin): an override
    /// below it would run out of gas (155233). Explicit fees are the developer's choice and
    /// are not second-guessed.
    pub fn check_gas_limit(&self, estimated: u64) -> Result<(), ApiError> {
        match *self {
            FeeChoice::Level {
                gas_limit: Some(given),
                ..
            } if given < estimated => Err(codes::GAS_LIMIT_TOO_LOW.with_message(format!(
                "Provided gasLimit is too low to complete the requested transaction: {given} is \
                 below the estimate of {estimated}."
            ))),
            _ => Ok(()),
        }
    }

    /// Explicit mode: the gas limit and the fee fields to sign with; `None` under a level.
    pub fn explicit(&self) -> Option<(u64, EvmFee)> {
        match *self {
            FeeChoice::Level { .. } => None,
            FeeChoice::Eip1559 {
                gas_limit,
                max_fee,
                priority_fee,
            } => Some((
                gas_limit,
                EvmFee::Eip1559 {
                    max_fee,
                    max_priority: priority_fee,
                },
            )),
            FeeChoice::Legacy {
                gas_limit,
                gas_price,
            } => Some((gas_limit, EvmFee::Legacy { gas_price })),
        }
    }
}

impl FeeRequest {
    /// An SCA wallet's fee: `feeLevel` and nothing else (Circle's 155232). The gas of a
    /// UserOperation is latchkey's to set (its limits are the bundle's and the paymaster's
    /// exposure), so neither a gasLimit nor explicit prices are taken.
    pub fn validate_sca(&self) -> Result<FeeChoice, ApiError> {
        let given = |f: &Option<String>| f.as_deref().is_some_and(|s| !s.is_empty());
        let explicit = given(&self.gas_limit)
            || given(&self.gas_price)
            || given(&self.max_fee)
            || given(&self.priority_fee);
        match self.fee_level {
            Some(level) if !explicit => Ok(FeeChoice::Level {
                level,
                gas_limit: None,
            }),
            _ => Err(codes::SCA_FEE_LEVEL_ONLY),
        }
    }

    /// Every fee rule that needs no chain read, in this order:
    /// - feeLevel with gasPrice, maxFee or priorityFee → 155234;
    /// - neither feeLevel nor gasLimit → 155231;
    /// - a gasLimit that is not a whole number, or a fee that is not a gwei amount → 155236;
    /// - a gasLimit below 21000, the least any transaction costs → 155233;
    /// - EIP-1559 chain: maxFee and priorityFee both required (155235), and not with
    ///   gasPrice (code 2); priorityFee > maxFee → 155237;
    /// - legacy chain: maxFee/priorityFee → 155254, no gasPrice → 155238;
    /// - maxFee (or gasPrice) × gasLimit above `cap` → 155211.
    ///
    /// An empty string counts as absent. Prices are not held to any dynamic minimum: the node
    /// is the judge, and an under-priced transaction can be accelerated.
    pub fn validate(&self, eip1559: bool, cap: FeeCap) -> Result<FeeChoice, ApiError> {
        fn given(f: &Option<String>) -> Option<&str> {
            f.as_deref().filter(|s| !s.is_empty())
        }
        let (gas_price, max_fee, priority_fee) = (
            given(&self.gas_price),
            given(&self.max_fee),
            given(&self.priority_fee),
        );
        let gas_limit = given(&self.gas_limit);
        let any_price = gas_price.is_some() || max_fee.is_some() || priority_fee.is_some();
        if self.fee_level.is_some() && any_price {
            return Err(codes::FEE_LEVEL_AND_FEES);
        }
        let gas_limit = gas_limit.map(parse_gas_limit).transpose()?;
        let [gas_price, max_fee, priority_fee] = [
            ("gasPrice", gas_price),
            ("maxFee", max_fee),
            ("priorityFee", priority_fee),
        ]
        .map(|(name, v)| v.map(|v| parse_fee(name, v)).transpose());
        let (gas_price, max_fee, priority_fee) = (gas_price?, max_fee?, priority_fee?);
        if let Some(level) = self.fee_level {
            return Ok(FeeChoice::Level { level, gas_limit });
        }
        let gas_limit = gas_limit.ok_or(codes::FEE_LEVEL_OR_GAS_LIMIT)?;
        let (choice, per_gas) = if eip1559 {
            let (Some(max_fee), Some(priority_fee)) = (max_fee, priority_fee) else {
                return Err(codes::EIP1559_FEES_REQUIRED);
            };
            if gas_price.is_some() {
                return Err(ApiError::invalid_field(
                    "gasPrice",
                    "invalid",
                    "gasPrice cannot be used with maxFee and priorityFee",
                ));
            }
            if priority_fee > max_fee {
                return Err(codes::PRIORITY_ABOVE_MAX_FEE);
            }
            let choice = FeeChoice::Eip1559 {
                gas_limit,
                max_fee,
                priority_fee,
            };
            (choice, max_fee)
        } else {
            if max_fee.is_some() || priority_fee.is_some() {
                return Err(codes::LEGACY_CHAIN_EIP1559_FEES);
            }
            let gas_price = gas_price.ok_or(codes::GAS_PRICE_REQUIRED)?;
            let choice = FeeChoice::Legacy {
                gas_limit,
                gas_price,
            };
            (choice, gas_price)
        };
        if U256::from(gas_limit) * U256::from(per_gas) > cap.0 {
            return Err(codes::FEE_ABOVE_MAX);
        }
        Ok(choice)
    }
}

/// A gasLimit: a decimal whole number of gas units (155236), at least 21000 (155233).
fn parse_gas_limit(s: &str) -> Result<u64, ApiError> {
    let limit = parse_units(s, 0)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| {
            codes::UNPARSABLE_FEE.with_message(format!(
                "Failed to parse the provided fee in request to decimals: gasLimit must be a \
                 whole number of gas units, not {}.",
                echo(s)
            ))
        })?;
    if limit < NATIVE_TRANSFER_GAS {
        return Err(codes::GAS_LIMIT_TOO_LOW.with_message(format!(
            "Provided gasLimit is too low to complete the requested transaction: every \
             transaction needs at least {NATIVE_TRANSFER_GAS} gas."
        )));
    }
    Ok(limit)
}

/// A fee field in gwei (at most 9 decimals) as wei (155236).
fn parse_fee(name: &str, s: &str) -> Result<u128, ApiError> {
    parse_gwei(s).map_err(|e| {
        codes::UNPARSABLE_FEE.with_message(format!(
            "Failed to parse the provided fee in request to decimals: {name} {}: {e}.",
            echo(s)
        ))
    })
}

/// A request value quoted in a message, cut short.
fn echo(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    format!("{cut:?}")
}

/// The level's fresh price, never above what the user approved: if fees rose since, the
/// transaction is signed at the approved cap (it may wait, it never costs more).
pub(crate) fn capped(fresh: GasPricing, cap: GasPricing) -> GasPricing {
    match (fresh, cap) {
        (
            GasPricing::Eip1559 {
                base_fee,
                priority_fee,
                max_fee,
            },
            GasPricing::Eip1559 {
                priority_fee: cap_priority,
                max_fee: cap_max,
                ..
            },
        ) => {
            let max_fee = max_fee.min(cap_max);
            GasPricing::Eip1559 {
                base_fee,
                priority_fee: priority_fee.min(cap_priority).min(max_fee),
                max_fee,
            }
        }
        (
            GasPricing::Legacy { gas_price },
            GasPricing::Legacy {
                gas_price: cap_price,
            },
        ) => GasPricing::Legacy {
            gas_price: gas_price.min(cap_price),
        },
        // The chain's fee model cannot change under a challenge; keep what was approved.
        _ => cap,
    }
}

#[cfg(test)]
#[path = "fees_tests.rs"]
mod tests;
