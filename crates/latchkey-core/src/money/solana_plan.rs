//! Transfers on Solana before the PIN: the request's rules on the resolved wallet and token
//! ([`transfer`], pure), the fee fields (only `feeLevel`: Solana has no gas price), and the
//! chain's checks with Circle's codes, by `latchkey_solana::transfer::plan_transfer` behind
//! [`SolanaNode::plan_transfer`] ([`quote`], [`estimate`]).

use super::estimate::node_unavailable;
use super::fees::{EstimatedFees, FeeLevel, FeeRequest, TransactionFee};
use super::plan::PlannedToken;
use super::plan_rules::{amount_units, TransferInput};
use super::quote::ShownFee;
use super::serde_as;
use super::solana::{SolanaChain, SolanaPlanError, SolanaQuote, SolanaTransfer};
use super::tokens::{TokenRecord, TokenStandard};
use super::NodeError;
use crate::error::{codes, ApiError};
use crate::model::WalletRecord;
use latchkey_chains::{format_units, validate_address, Blockchain, U256};
use serde::{Deserialize, Serialize};

/// A validated Solana transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolanaTransferPlan {
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    #[serde(with = "serde_as::blockchain")]
    pub blockchain: Blockchain,
    /// The token.
    pub token: PlannedToken,
    /// The recipient, as given.
    pub destination_address: String,
    /// The amounts, as given.
    pub amounts: Vec<String>,
    /// The developer's reference (sent as a Memo).
    pub ref_id: Option<String>,
    /// The transfer the planner takes.
    pub transfer: SolanaTransfer,
}

/// A transfer of `token` from the Solana `wallet`, or the first rule it breaks: the token on
/// another chain → 155220; not SOL or an SPL token → 155240; no destination → 2; not a
/// base58 address → 155219; NFT ids → 155218; one amount, as on EVM (155224 / 155221), that
/// fits in a u64 of base units.
pub(crate) fn transfer(
    wallet: &WalletRecord,
    chain: Blockchain,
    token: &TokenRecord,
    input: TransferInput<'_>,
) -> Result<SolanaTransferPlan, ApiError> {
    if token.blockchain != chain {
        return Err(codes::WALLET_TOKEN_CHAIN_MISMATCH.with_message(format!(
            "Wallet and token's blockchain mismatch: the wallet is on {chain}, the token on {}.",
            token.blockchain
        )));
    }
    let mint = if token.is_native {
        None
    } else {
        match token.standard {
            Some(TokenStandard::Fungible) => {}
            _ => return Err(codes::INVALID_TOKEN_STANDARD),
        }
        let mint = token
            .token_address
            .as_deref()
            .filter(|a| validate_address(chain, a))
            .ok_or(codes::INVALID_TOKEN_ADDRESS)?;
        Some(mint.to_owned())
    };
    let destination = input
        .destination
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field("destinationAddress"))?;
    if !validate_address(chain, destination) {
        return Err(codes::INVALID_DESTINATION_ADDRESS.with_message(format!(
            "Invalid destination address: {destination:?} is not a {chain} address."
        )));
    }
    if !input.nft_token_ids.is_empty() {
        return Err(codes::INVALID_NFT_COUNT.with_message(
            "Invalid number of nft in transaction request: nftTokenIds are not supported on \
             Solana.",
        ));
    }
    let [amount] = input.amounts else {
        return Err(codes::INVALID_AMOUNTS.with_message(
            "Invalid amounts in transfer request: a fungible token takes exactly one amount.",
        ));
    };
    let decimals = if token.is_native {
        chain.native_decimals()
    } else {
        token.decimals.ok_or(codes::INVALID_TOKEN_DECIMALS)?
    };
    let units = amount_units(amount, decimals)?;
    let units = u64::try_from(units).map_err(|_| {
        codes::INVALID_AMOUNTS.with_message(format!(
            "Invalid amounts in transfer request: {amount:?} is more than a Solana amount holds."
        ))
    })?;
    Ok(SolanaTransferPlan {
        wallet_id: wallet.id.clone(),
        blockchain: chain,
        token: PlannedToken {
            id: token.id.clone(),
            standard: token.standard.map(|s| s.as_str().to_owned()),
            symbol: token.symbol.clone(),
            decimals: Some(decimals),
            address: token.token_address.clone(),
        },
        destination_address: destination.to_owned(),
        amounts: input.amounts.to_vec(),
        ref_id: input.ref_id.map(str::to_owned),
        transfer: SolanaTransfer {
            from: wallet.address.clone(),
            to: destination.to_owned(),
            mint,
            amount: units,
            memo: input.ref_id.filter(|r| !r.is_empty()).map(str::to_owned),
        },
    })
}

/// The fee fields on Solana: `feeLevel` only. A compute-unit price is what a level sets, and
/// Circle documents no explicit fee for Solana, so `gasLimit`, `gasPrice`, `maxFee` and
/// `priorityFee` are refused (code 2, naming the field) rather than read as EVM units.
pub fn fee_level(fee: &FeeRequest) -> Result<FeeLevel, ApiError> {
    let given = [
        ("gasLimit", &fee.gas_limit),
        ("gasPrice", &fee.gas_price),
        ("maxFee", &fee.max_fee),
        ("priorityFee", &fee.priority_fee),
    ];
    if let Some((name, _)) = given
        .iter()
        .find(|(_, v)| v.as_deref().is_some_and(|s| !s.is_empty()))
    {
        return Err(ApiError::invalid_field(
            name,
            "invalid",
            format!(
                "{name} is not supported on Solana: give feeLevel (LOW, MEDIUM or HIGH), which \
                 sets the compute-unit price"
            ),
        ));
    }
    fee.fee_level.ok_or_else(|| {
        ApiError::invalid_field(
            "feeLevel",
            "required",
            "feeLevel is required on Solana (LOW, MEDIUM or HIGH)",
        )
    })
}

/// A planner refusal as the API answers it (a create call's codes).
pub fn refusal(blockchain: Blockchain, e: SolanaPlanError) -> ApiError {
    match e {
        SolanaPlanError::Node(NodeError::Unavailable(_)) => node_unavailable(blockchain),
        SolanaPlanError::Node(e) => codes::ESTIMATE_FAILED
            .with_message(format!("Fails to perform transaction estimation: {e}.")),
        SolanaPlanError::Refused(code, why) => {
            let base = match code {
                155201 => codes::INSUFFICIENT_FUNDS,
                155257 => codes::SOLANA_RENT_EXEMPTION,
                155258 => codes::INSUFFICIENT_ASSET,
                155262 => codes::SOLANA_ACCOUNT_NOT_FOUND,
                2 => {
                    return ApiError::invalid_field(
                        "refId",
                        "invalid",
                        format!("refId does not fit in one Solana transaction as a memo ({why})"),
                    )
                }
                _ => codes::ESTIMATE_FAILED,
            };
            let message = format!("{} ({why})", base.message.trim_end_matches('.'));
            base.with_message(message)
        }
    }
}

/// Plans `plan` on `chain` at `level`: the quote the user approves.
pub async fn quote(
    chain: &SolanaChain,
    plan: &SolanaTransferPlan,
    level: FeeLevel,
) -> Result<SolanaQuote, ApiError> {
    chain
        .node
        .plan_transfer(&plan.transfer, level)
        .await
        .map_err(|e| refusal(chain.info.blockchain, e))
}

fn sol(lamports: u64) -> String {
    format_units(U256::from(lamports), 9)
}

/// The fee fields shown before the PIN: `gasLimit` is the compute-unit limit,
/// `priorityFee` the compute-unit price in micro-lamports, `maxNetworkFee` the fee plus the
/// rent of the recipient's new token account, in SOL.
pub fn shown(level: FeeLevel, quote: &SolanaQuote) -> ShownFee {
    ShownFee {
        fee_level: level.as_str().to_owned(),
        gas_limit: quote.unit_limit.to_string(),
        max_fee: None,
        priority_fee: Some(quote.unit_price.to_string()),
        gas_price: None,
        max_network_fee: sol(quote.fee_lamports.saturating_add(quote.rent_lamports)),
        native_symbol: "SOL".into(),
        gas_paid_by: None,
    }
}

/// The network fee of a quote as a transaction shows it (`estimatedFee`).
pub fn transaction_fee(quote: &SolanaQuote) -> TransactionFee {
    level_fee(quote, quote.unit_price)
}

/// One level of an estimate: `gasLimit` = compute-unit limit, `priorityFee` = its price in
/// micro-lamports, `baseFee` = 0.000005 SOL per signature, `networkFee` = base + priority +
/// the new token account's rent, `networkFeeRaw` the same at the units the simulation used.
fn level_fee(quote: &SolanaQuote, price: u64) -> TransactionFee {
    let base = 5_000u64.saturating_mul(quote.signatures);
    let priority = |units: u64| {
        let micro = u128::from(units) * u128::from(price);
        u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
    };
    let total = |units: u64| {
        base.saturating_add(priority(units))
            .saturating_add(quote.rent_lamports)
    };
    TransactionFee {
        gas_limit: Some(quote.unit_limit.to_string()),
        priority_fee: Some(price.to_string()),
        base_fee: Some(sol(5_000)),
        network_fee: Some(sol(total(u64::from(quote.unit_limit)))),
        network_fee_raw: Some(sol(total(quote.units_consumed))),
        ..TransactionFee::default()
    }
}

/// `estimateFee` of a Solana transfer: planned once (at LOW, the least the wallet must
/// hold), each level priced from the same plan; the balance codes are the estimate's (155204
/// for SOL, 155205 for the token).
pub async fn estimate(
    chain: &SolanaChain,
    plan: &SolanaTransferPlan,
) -> Result<EstimatedFees, ApiError> {
    let quote = chain
        .node
        .plan_transfer(&plan.transfer, FeeLevel::Low)
        .await
        .map_err(|e| refusal(chain.info.blockchain, e))
        .map_err(|e| {
            if e.code == codes::INSUFFICIENT_FUNDS.code {
                codes::ESTIMATE_COST_ABOVE_BALANCE.with_message(e.message)
            } else if e.code == codes::INSUFFICIENT_ASSET.code {
                codes::ESTIMATE_INSUFFICIENT_TOKEN.with_message(e.message)
            } else {
                e
            }
        })?;
    let [low, medium, high] = quote.levels;
    Ok(EstimatedFees {
        low: level_fee(&quote, low),
        medium: level_fee(&quote, medium),
        high: level_fee(&quote, high),
        user_op: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_fees_are_refused_naming_the_field() {
        let fee = FeeRequest {
            fee_level: Some(FeeLevel::Low),
            max_fee: Some("1".into()),
            ..FeeRequest::default()
        };
        let e = fee_level(&fee).err();
        assert_eq!(
            e.map(|e| (e.code, e.errors[0].location.clone())),
            Some((2, "maxFee".to_owned()))
        );
        let e = fee_level(&FeeRequest::default()).err();
        assert_eq!(e.map(|e| e.code), Some(2));
        let ok = FeeRequest {
            fee_level: Some(FeeLevel::High),
            gas_limit: Some(String::new()),
            ..FeeRequest::default()
        };
        assert_eq!(fee_level(&ok).ok(), Some(FeeLevel::High));
    }

    #[test]
    fn a_level_fee_counts_the_rent() {
        let quote = SolanaQuote {
            token_program: None,
            decimals: 6,
            creates_recipient_account: true,
            rent_lamports: 2_039_280,
            unit_limit: 30_000,
            units_consumed: 25_000,
            unit_price: 1_000,
            signatures: 1,
            fee_lamports: 5_030,
            levels: [0, 1_000, 2_000],
        };
        let fee = level_fee(&quote, 1_000);
        assert_eq!(fee.network_fee.as_deref(), Some("0.00204431"));
        assert_eq!(fee.network_fee_raw.as_deref(), Some("0.002044305"));
        assert_eq!(
            shown(FeeLevel::Medium, &quote).max_network_fee,
            "0.00204431"
        );
    }
}
