//! ERC-4337 operations from SCA wallets (docs/plans/sca.md §3, §5): the gas an operation is
//! given, its quote (create) and estimate (`estimateFee`), and the operation itself as the
//! execution signs it.
//!
//! An SCA wallet's plan is priced like an EOA's (`price_call`: the inner call estimated from
//! the account's address, which works before deployment too, since the address simply has no
//! code), then turned into the operation's limits. The account pays no gas: latchkey's gas
//! station sponsors it, so the native balance is checked against the value only.

use super::chains::{Chain, GasStation};
use super::estimate::price_call;
use super::fees::{
    gas_limit_with_margin, EstimatedFees, FeeCap, FeeChoice, GasPricing, TransactionFee,
};
use super::plan::{OutboundCall, TokenDebit};
use super::quote::{for_create_call, Quote, ShownFee};
use super::serde_as;
use crate::error::{codes, ApiError};
use alloy_primitives::aliases::U48;
use latchkey_chains::sca::{self, Operation, PackedUserOperation, PaymasterFields, UserOperation};
use latchkey_chains::{Address, U256};
use serde::{Deserialize, Serialize};

/// `executeUserOp` through the module and the Safe's `execTransactionFromModule`, on top of
/// the inner call's own gas.
const EXECUTE_OVERHEAD_GAS: u64 = 20_000;
/// The account's validation when the operation deploys it (the proxy, `setup`, the module's
/// signature check). `tests/aa` measured 431 878 gas for a whole first bundle.
const DEPLOY_VERIFICATION_GAS: u128 = 600_000;
/// The account's validation once deployed (the module's EIP-712 check through the Safe).
const VERIFICATION_GAS: u128 = 150_000;
/// The VerifyingPaymaster's `validatePaymasterUserOp` (an ECDSA recovery).
pub const PAYMASTER_VERIFICATION_GAS: u128 = 100_000;
/// The VerifyingPaymaster has no `postOp`.
pub const PAYMASTER_POST_OP_GAS: u128 = 0;
/// `preVerificationGas` beyond the operation's calldata: the bundle's 21 000 intrinsic gas
/// (one operation per bundle) and the EntryPoint's per-operation bookkeeping.
const PRE_VERIFICATION_OVERHEAD: u128 = 21_000 + 10_000;

/// An operation's gas limits (Circle's estimate fields, plus the paymaster's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpGas {
    /// `callGasLimit`: the account's execution of the call.
    #[serde(with = "serde_as::text")]
    pub call_gas_limit: u128,
    /// `verificationGasLimit`: the account's validation (and deployment).
    #[serde(with = "serde_as::text")]
    pub verification_gas_limit: u128,
    /// `preVerificationGas`: calldata and the bundle's overhead.
    #[serde(with = "serde_as::text")]
    pub pre_verification_gas: u128,
    /// The paymaster's validation.
    #[serde(with = "serde_as::text")]
    pub paymaster_verification_gas_limit: u128,
    /// The paymaster's `postOp`.
    #[serde(with = "serde_as::text")]
    pub paymaster_post_op_gas_limit: u128,
}

impl OpGas {
    /// The most gas the operation can be charged for: the sum of its limits.
    pub fn total(&self) -> u64 {
        let sum = self.call_gas_limit
            + self.verification_gas_limit
            + self.pre_verification_gas
            + self.paymaster_verification_gas_limit
            + self.paymaster_post_op_gas_limit;
        u64::try_from(sum).unwrap_or(u64::MAX)
    }
}

/// The operation's `callData`: one call from the Safe through the module.
pub fn account_call_data(call: &OutboundCall) -> Vec<u8> {
    sca::execute_user_op_call(call.to, call.value, &call.data, Operation::Call)
}

/// The operation's fields before its gas, fees and signatures: `initCode` when the account is
/// not deployed yet.
pub fn unsigned_op(
    station: &GasStation,
    owner: Address,
    call: &OutboundCall,
    nonce: U256,
    deployed: bool,
    gas: &OpGas,
) -> UserOperation {
    UserOperation {
        sender: call.from,
        nonce,
        factory: (!deployed).then_some(station.account.proxy_factory),
        factory_data: if deployed {
            Vec::new()
        } else {
            sca::create_safe_call(owner, &station.account)
        },
        call_data: account_call_data(call),
        call_gas_limit: gas.call_gas_limit,
        verification_gas_limit: gas.verification_gas_limit,
        pre_verification_gas: U256::from(gas.pre_verification_gas),
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        paymaster: Some(PaymasterFields {
            paymaster: station.paymaster,
            verification_gas_limit: gas.paymaster_verification_gas_limit,
            post_op_gas_limit: gas.paymaster_post_op_gas_limit,
            data: Vec::new(),
        }),
        signature: Vec::new(),
    }
}

/// Gas of calldata as the chain charges it: 16 per non-zero byte, 4 per zero byte.
fn calldata_gas(bytes: &[u8]) -> u128 {
    bytes.iter().map(|&b| if b == 0 { 4u128 } else { 16 }).sum()
}

/// The limits of an operation running `call` (whose inner call the node estimated at
/// `raw_call_gas`) from `owner`'s account, deployed or not. `preVerificationGas` is priced on
/// the operation's real encoding with signatures of their final length (all bytes non-zero:
/// the most they can cost).
pub fn op_gas(owner: Address, call: &OutboundCall, raw_call_gas: u64, deployed: bool) -> OpGas {
    let call_gas = gas_limit_with_margin(raw_call_gas.saturating_add(EXECUTE_OVERHEAD_GAS));
    let mut gas = OpGas {
        call_gas_limit: u128::from(call_gas),
        verification_gas_limit: if deployed {
            VERIFICATION_GAS
        } else {
            DEPLOY_VERIFICATION_GAS
        },
        pre_verification_gas: 0,
        paymaster_verification_gas_limit: PAYMASTER_VERIFICATION_GAS,
        paymaster_post_op_gas_limit: PAYMASTER_POST_OP_GAS,
    };
    let encoded = alloy_sol_types::SolValue::abi_encode(&largest_op(owner, call, deployed, &gas));
    gas.pre_verification_gas = calldata_gas(&encoded) + PRE_VERIFICATION_OVERHEAD;
    gas
}

/// The operation [`op_gas`] prices: the real fields, and every field still unknown (nonce,
/// fees, paymaster, signatures) at its largest encoding.
fn largest_op(
    owner: Address,
    call: &OutboundCall,
    deployed: bool,
    gas: &OpGas,
) -> PackedUserOperation {
    let config = sca::SafeAccountConfig::default();
    let mut op = UserOperation {
        sender: call.from,
        nonce: U256::MAX,
        factory: (!deployed).then_some(config.proxy_factory),
        factory_data: if deployed {
            Vec::new()
        } else {
            sca::create_safe_call(owner, &config)
        },
        call_data: account_call_data(call),
        call_gas_limit: gas.call_gas_limit,
        verification_gas_limit: gas.verification_gas_limit,
        pre_verification_gas: U256::MAX,
        max_fee_per_gas: u128::MAX,
        max_priority_fee_per_gas: u128::MAX,
        paymaster: Some(PaymasterFields {
            paymaster: Address::repeat_byte(0xff),
            verification_gas_limit: gas.paymaster_verification_gas_limit,
            post_op_gas_limit: gas.paymaster_post_op_gas_limit,
            data: sca::verifying_paymaster_data(U48::MAX, U48::MAX, &[0xff; 65]),
        }),
        signature: Vec::new(),
    };
    op.signature = sca::safe_op_signature(U48::MAX, U48::MAX, &[0xff; 65]);
    op.pack()
}

/// On an OP-stack chain, the L1 data fee of a bundle carrying the operation, as gas at
/// `max_fee` per gas (rounded up), added to `preVerificationGas`: the EntryPoint then refunds
/// it to the station from the paymaster's deposit, and the operation's `networkFee` (and the
/// sponsorship policy's count) includes it. 0 elsewhere, and where the chain has no
/// GasPriceOracle (an anvil with an OP chain id).
pub(crate) async fn l1_share(
    chain: &Chain,
    owner: Address,
    call: &OutboundCall,
    deployed: bool,
    gas: &OpGas,
    pricing: &GasPricing,
) -> Result<u128, ApiError> {
    if !chain.info.blockchain.is_op_stack() {
        return Ok(0);
    }
    let beneficiary = chain
        .gas_station
        .as_ref()
        .map_or(call.from, |s| s.station.address());
    let op = largest_op(owner, call, deployed, gas);
    let bundle = OutboundCall {
        from: beneficiary,
        to: sca::ENTRY_POINT_V07,
        value: U256::ZERO,
        data: sca::handle_ops_call(&[op], beneficiary),
    };
    let fee = super::estimate::l1_fee(chain, &bundle, gas.total(), pricing)
        .await
        .map_err(|e| super::estimate::estimate_error(chain.info.blockchain, e))?;
    let max_fee = pricing.max_per_gas().max(1);
    Ok(fee.map_or(0, |wei| wei.div_ceil(max_fee)))
}

/// Whether the account has code (a node error is the estimate's error).
async fn deployed(chain: &Chain, account: Address) -> Result<bool, ApiError> {
    let code = chain
        .node
        .code(account)
        .await
        .map_err(|e| super::estimate::estimate_error(chain.info.blockchain, e))?;
    Ok(!code.is_empty())
}

/// Prices an SCA wallet's plan for its challenge at the requested level: the operation's
/// limits and the level's price, capped by `cap` (155211) as an EOA transfer is, though the
/// station pays. No native-balance check beyond the value (`price_call`'s). With the quote,
/// whether the account is deployed already (the operation is not its first).
pub async fn sca_quote(
    chain: &Chain,
    owner: Address,
    call: &OutboundCall,
    debit: &TokenDebit,
    fee: &FeeChoice,
    cap: FeeCap,
) -> Result<(Quote, bool), ApiError> {
    let FeeChoice::Level { level, .. } = *fee else {
        return Err(codes::SCA_FEE_LEVEL_ONLY);
    };
    let priced = price_call(chain, call, debit)
        .await
        .map_err(for_create_call)?;
    let deployed = deployed(chain, call.from).await?;
    let pricing = priced.levels.level(level);
    let mut gas = op_gas(owner, call, priced.raw_gas, deployed);
    gas.pre_verification_gas += l1_share(chain, owner, call, deployed, &gas, &pricing).await?;
    let gas_limit = gas.total();
    let cost = U256::from(gas_limit) * U256::from(pricing.max_per_gas());
    if cost > cap.0 {
        return Err(codes::FEE_ABOVE_MAX);
    }
    let quote = Quote {
        gas_limit,
        pricing,
        l1_fee: None,
        shown: ShownFee::evm(
            level.as_str(),
            gas_limit,
            pricing,
            cost,
            chain.info.blockchain,
            Some("latchkey's gas station".to_owned()),
        ),
        user_op: Some(gas),
    };
    Ok((quote, deployed))
}

/// `estimateFee` for an SCA wallet: the three levels over the operation's total gas, and its
/// limits (Circle's `callGasLimit`, `verificationGasLimit`, `preVerificationGas`).
pub async fn sca_estimate(
    chain: &Chain,
    owner: Address,
    call: &OutboundCall,
    debit: &TokenDebit,
) -> Result<EstimatedFees, ApiError> {
    let p = price_call(chain, call, debit).await?;
    let deployed = deployed(chain, call.from).await?;
    let mut gas = op_gas(owner, call, p.raw_gas, deployed);
    // One preVerificationGas for the three levels: the L1 share in gas at the LOW level's
    // price, the most gas any level needs for it.
    gas.pre_verification_gas += l1_share(chain, owner, call, deployed, &gas, &p.levels.low).await?;
    let total = gas.total();
    let decimals = chain.info.blockchain.native_decimals();
    let fee = |g: &GasPricing| TransactionFee::estimate(g, total, total, None, decimals);
    Ok(EstimatedFees {
        low: fee(&p.levels.low),
        medium: fee(&p.levels.medium),
        high: fee(&p.levels.high),
        user_op: Some(gas),
    })
}

/// The `UserOperationEvent` of `userOpHash` in a bundle's logs: `(success, actualGasCost)`.
pub fn user_operation_event(
    logs: &[super::node::Log],
    entry_point: Address,
    user_op_hash: latchkey_chains::B256,
) -> Option<(bool, U256)> {
    use alloy_sol_types::SolEvent as _;
    use sca::IEntryPoint::UserOperationEvent;
    logs.iter()
        .filter(|l| l.address == entry_point)
        .filter(|l| l.topics.first() == Some(&UserOperationEvent::SIGNATURE_HASH))
        .filter(|l| l.topics.get(1) == Some(&user_op_hash))
        .find_map(|l| {
            UserOperationEvent::decode_raw_log(l.topics.iter().copied(), &l.data)
                .ok()
                .map(|e| (e.success, e.actualGasCost))
        })
}

/// A stored operation back from its attempt's bytes.
pub fn decode_packed(raw: &[u8]) -> Option<PackedUserOperation> {
    <PackedUserOperation as alloy_sol_types::SolValue>::abi_decode(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_operation_gets_the_deployment_limits_and_its_calldata_priced() {
        let call = OutboundCall {
            from: Address::repeat_byte(1),
            to: Address::repeat_byte(2),
            value: U256::ZERO,
            data: vec![0xa9, 0x05, 0x9c, 0xbb],
        };
        let owner = Address::repeat_byte(3);
        let first = op_gas(owner, &call, 50_000, false);
        let later = op_gas(owner, &call, 50_000, true);
        assert_eq!(first.verification_gas_limit, DEPLOY_VERIFICATION_GAS);
        assert_eq!(later.verification_gas_limit, VERIFICATION_GAS);
        assert_eq!(first.call_gas_limit, 84_000);
        // The initCode (factory call with the Safe's setup) is priced in.
        assert!(
            first.pre_verification_gas > later.pre_verification_gas + 1_000,
            "{first:?} {later:?}"
        );
        assert!(later.pre_verification_gas > PRE_VERIFICATION_OVERHEAD);
        assert_eq!(
            u128::from(first.total()),
            first.call_gas_limit
                + first.verification_gas_limit
                + first.pre_verification_gas
                + PAYMASTER_VERIFICATION_GAS
        );
    }
}
