//! The gas station's sponsorship policy: what latchkey, as the paymaster, agrees to pay for an
//! entity's SCA operations on one chain (docs/sca.md#sponsorship-policy).
//!
//! A policy is per entity and chain: active or not, and up to three limits that reset at
//! 00:00 UTC: native coin per day, native coin per operation (not applied to an account's
//! first operation, which deploys it, as Circle does not), operations per day. Testnets
//! without a policy of their own get an active one without limits (Circle's automatic
//! testnet policy); a mainnet needs one set by the operator (`latchkey admin
//! paymaster-policy`), or its SCA wallets can be neither created (155509) nor send (177018).
//!
//! What a day has used is computed from the entity's SCA transactions of the day on that
//! chain, never kept as a counter that could drift: a settled operation counts its
//! `networkFee` (what the paymaster's deposit paid), one in flight the most it can cost
//! (gas limit × max fee); an operation that failed before any bundle was sent costs nothing
//! and does not count. The check runs when the challenge is created (a synchronous 177018 –
//! 177022) and again, after the PIN, right before the paymaster signs (a FAILED transaction
//! with Circle's `PAYMASTER_POLICY_*` reason). Two executions of the same entity at the same
//! instant can both pass the second check: a day may overshoot by the operations committed in
//! that instant, at most one per account (155505).

use super::transactions::TxState;
use crate::clock::Timestamp;
use crate::error::{codes, ApiError};
use crate::service::{store_failed, Latchkey};
use crate::store::StoreResult;
use async_trait::async_trait;
use latchkey_chains::{format_units, parse_units, Blockchain, U256};

/// One day in milliseconds: the limits reset at 00:00 UTC.
const DAY_MS: i64 = 86_400_000;

/// Most operations a day a policy may allow (a bound on what the day's usage reads).
pub const MAX_OPS_DAILY: u32 = 1_000_000;

/// An entity's policy on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymasterPolicy {
    /// The chain.
    pub blockchain: Blockchain,
    /// Whether the paymaster sponsors anything on it.
    pub active: bool,
    /// Most native coin (wei) the day's operations may cost together.
    pub max_native_daily: Option<U256>,
    /// Most native coin (wei) one operation may cost (not applied to an account's first).
    pub max_native_per_tx: Option<U256>,
    /// Most operations a day.
    pub max_ops_daily: Option<u32>,
    /// When the operator last set it; `None` for the default policy.
    pub updated_at: Option<Timestamp>,
}

impl PaymasterPolicy {
    /// The policy of a chain the operator set none for: testnets are sponsored without limits,
    /// mainnets not at all.
    pub fn default_for(blockchain: Blockchain) -> Self {
        Self {
            blockchain,
            active: blockchain.is_testnet(),
            max_native_daily: None,
            max_native_per_tx: None,
            max_ops_daily: None,
            updated_at: None,
        }
    }

    /// A limit in whole native units, for people ("0.5 ETH"); "none" when unset.
    pub fn show(&self, limit: Option<U256>) -> String {
        match limit {
            Some(wei) => format!(
                "{} {}",
                format_units(wei, self.blockchain.native_decimals()),
                self.blockchain.native_symbol()
            ),
            None => "none".to_owned(),
        }
    }
}

/// One SCA operation of the day, as the policy counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SponsoredOperation {
    /// Its transaction's state.
    pub state: TxState,
    /// Settled: what it cost (native units, decimal text).
    pub network_fee: Option<String>,
    /// The most it can cost (native units, decimal text): the estimate's `networkFee`.
    pub worst_case: Option<String>,
}

/// The policies and the day's operations.
#[async_trait]
pub trait SponsorshipStore: Send + Sync {
    /// The policy the operator set for `blockchain`, if any.
    async fn paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> StoreResult<Option<PaymasterPolicy>>;
    /// Every policy the operator set, by chain.
    async fn paymaster_policies(&self, entity_id: &str) -> StoreResult<Vec<PaymasterPolicy>>;
    /// Sets (inserts or replaces) the policy of `policy.blockchain`.
    async fn set_paymaster_policy(
        &self,
        entity_id: &str,
        policy: &PaymasterPolicy,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Removes the operator's policy (the chain's default applies again); whether one existed.
    async fn delete_paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> StoreResult<bool>;
    /// The entity's SCA operations on `blockchain` created at or after `since`.
    async fn sponsored_operations(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
        since: Timestamp,
    ) -> StoreResult<Vec<SponsoredOperation>>;
}

/// Why the policy refuses an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRefusal {
    /// No active policy on the chain.
    NotActivated,
    /// The day's operations reached `max_ops_daily`.
    MaxDailyOperations,
    /// The operation may cost more than `max_native_per_tx`.
    MaxPerOperation,
    /// The day's cost with this operation may pass `max_native_daily`.
    MaxNativeDaily,
}

impl PolicyRefusal {
    /// Circle's synchronous error.
    pub fn error(self) -> ApiError {
        match self {
            Self::NotActivated => codes::POLICY_NOT_ACTIVATED,
            Self::MaxDailyOperations => codes::POLICY_MAX_DAILY_TRANSACTIONS,
            Self::MaxPerOperation => codes::POLICY_MAX_PER_TRANSACTION,
            Self::MaxNativeDaily => codes::POLICY_MAX_NATIVE_DAILY,
        }
    }

    /// Circle's `errorReason` of a transaction the policy refused after the PIN.
    /// `MaxPerOperation` takes Circle's per-transaction reason, which Circle words in USD:
    /// latchkey's limits are in native coin (it has no prices), and `errorDetails` says so.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotActivated => "PAYMASTER_POLICY_NOT_ACTIVATED",
            Self::MaxDailyOperations => "PAYMASTER_POLICY_EXCEED_MAX_DAILY_TRANSACTIONS",
            Self::MaxPerOperation => "PAYMASTER_POLICY_EXCEED_MAX_SPEND_USD_PER_TX",
            Self::MaxNativeDaily => "PAYMASTER_POLICY_EXCEED_MAX_NATIVE_TOKEN_DAILY",
        }
    }
}

/// A refusal with what the developer needs to understand it (the limit, the day's use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Which limit.
    pub refusal: PolicyRefusal,
    /// Why, in words (the limit, the day's use); never a secret.
    pub details: String,
}

impl Refused {
    /// The synchronous error, its message extended with the details.
    pub fn error(&self) -> ApiError {
        let e = self.refusal.error();
        let message = format!("{} {}", e.message, self.details);
        e.with_message(message)
    }
}

/// What the entity's operations on one chain have used since 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayUsage {
    /// Operations that count.
    pub operations: u64,
    /// Their cost (settled) or worst case (in flight), in wei.
    pub native: U256,
}

/// The start of `now`'s UTC day.
pub fn day_start(now: Timestamp) -> Timestamp {
    Timestamp(now.0 - now.0.rem_euclid(DAY_MS))
}

/// Sums the day's operations (module doc: what counts).
pub fn usage(operations: &[SponsoredOperation], decimals: u8) -> DayUsage {
    let wei = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| parse_units(s, decimals).ok())
            .unwrap_or(U256::ZERO)
    };
    let mut day = DayUsage::default();
    for op in operations {
        let in_flight = matches!(
            op.state,
            TxState::Initiated | TxState::Queued | TxState::Sent | TxState::Stuck
        );
        let cost = wei(if in_flight {
            &op.worst_case
        } else {
            &op.network_fee
        });
        if in_flight || !cost.is_zero() {
            day.operations += 1;
            day.native = day.native.saturating_add(cost);
        }
    }
    day
}

/// Checks one operation that may cost `worst_case` wei against `policy` and the day's
/// `used`; `first`: the operation deploys its account (no per-operation limit).
pub fn check(
    policy: &PaymasterPolicy,
    used: DayUsage,
    worst_case: U256,
    first: bool,
) -> Result<(), Refused> {
    let name = policy.blockchain.as_str();
    if !policy.active {
        return Err(Refused {
            refusal: PolicyRefusal::NotActivated,
            details: format!(
                "No active sponsorship policy for {name} on this server: its operator sets one \
                 with `latchkey admin paymaster-policy set --blockchain {name}`."
            ),
        });
    }
    if let Some(max) = policy.max_ops_daily {
        if used.operations >= u64::from(max) {
            return Err(Refused {
                refusal: PolicyRefusal::MaxDailyOperations,
                details: format!(
                    "{name} allows {max} sponsored operations a day (UTC); {} today.",
                    used.operations
                ),
            });
        }
    }
    if let Some(max) = policy.max_native_per_tx.filter(|_| !first) {
        if worst_case > max {
            return Err(Refused {
                refusal: PolicyRefusal::MaxPerOperation,
                details: format!(
                    "The operation may cost up to {}; {name} sponsors at most {} per operation \
                     (latchkey's limits are in the native coin).",
                    policy.show(Some(worst_case)),
                    policy.show(Some(max))
                ),
            });
        }
    }
    if let Some(max) = policy.max_native_daily {
        if used.native.saturating_add(worst_case) > max {
            return Err(Refused {
                refusal: PolicyRefusal::MaxNativeDaily,
                details: format!(
                    "{name} sponsors at most {} a day (UTC); today's operations may cost {} and \
                     this one up to {}.",
                    policy.show(Some(max)),
                    policy.show(Some(used.native)),
                    policy.show(Some(worst_case))
                ),
            });
        }
    }
    Ok(())
}

impl Latchkey {
    /// The policy in force for `entity_id` on `blockchain`: the operator's, or the default.
    pub async fn paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> Result<PaymasterPolicy, ApiError> {
        Ok(self
            .store
            .paymaster_policy(entity_id, blockchain)
            .await
            .map_err(store_failed)?
            .unwrap_or_else(|| PaymasterPolicy::default_for(blockchain)))
    }

    /// Every chain's policy the operator set, with each one's use today.
    pub async fn paymaster_policies(
        &self,
        entity_id: &str,
    ) -> Result<Vec<(PaymasterPolicy, DayUsage)>, ApiError> {
        let policies = self
            .store
            .paymaster_policies(entity_id)
            .await
            .map_err(store_failed)?;
        let mut out = Vec::with_capacity(policies.len());
        for p in policies {
            let used = self.sponsored_today(entity_id, p.blockchain).await?;
            out.push((p, used));
        }
        Ok(out)
    }

    /// Sets the policy of `policy.blockchain` (an SCA chain; 155507 otherwise).
    #[tracing::instrument(skip_all, fields(entity = %entity_id, blockchain = %policy.blockchain))]
    pub async fn set_paymaster_policy(
        &self,
        entity_id: &str,
        policy: &PaymasterPolicy,
    ) -> Result<(), ApiError> {
        if !policy.blockchain.supports_sca() {
            return Err(codes::SCA_NOT_SUPPORTED);
        }
        if policy.max_ops_daily.is_some_and(|n| n > MAX_OPS_DAILY) {
            return Err(ApiError::invalid_field(
                "maxOpsDaily",
                "max",
                format!("max operations a day must be at most {MAX_OPS_DAILY}"),
            ));
        }
        self.store
            .set_paymaster_policy(entity_id, policy, self.now())
            .await
            .map_err(store_failed)
    }

    /// Removes the operator's policy of `blockchain`; whether there was one.
    pub async fn reset_paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> Result<bool, ApiError> {
        self.store
            .delete_paymaster_policy(entity_id, blockchain)
            .await
            .map_err(store_failed)
    }

    /// What the entity's operations on `blockchain` have used since 00:00 UTC.
    pub async fn sponsored_today(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> Result<DayUsage, ApiError> {
        let ops = self
            .store
            .sponsored_operations(entity_id, blockchain, day_start(self.now()))
            .await
            .map_err(store_failed)?;
        Ok(usage(&ops, blockchain.native_decimals()))
    }

    /// 155509 when an SCA wallet on `blockchain` could never be sponsored: no active policy.
    pub(crate) async fn ensure_sca_eligible(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> Result<(), ApiError> {
        if self.paymaster_policy(entity_id, blockchain).await?.active {
            return Ok(());
        }
        let name = blockchain.as_str();
        Err(codes::SCA_NOT_ELIGIBLE.with_message(format!(
            "Entity is not eligible for SCA account creation. Please check paymaster policy \
             setup: {name} has no active sponsorship policy on this server (its operator sets \
             one with `latchkey admin paymaster-policy set --blockchain {name}`)."
        )))
    }

    /// The policy's verdict on one operation of `entity_id` on `blockchain` that may cost
    /// `worst_case` wei; `first`: it deploys its account.
    pub(crate) async fn sponsorship(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
        worst_case: U256,
        first: bool,
    ) -> Result<Result<(), Refused>, ApiError> {
        let policy = self.paymaster_policy(entity_id, blockchain).await?;
        if !policy.active {
            return Ok(check(&policy, DayUsage::default(), worst_case, first));
        }
        let used = self.sponsored_today(entity_id, blockchain).await?;
        Ok(check(&policy, used, worst_case, first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(state: TxState, fee: Option<&str>, worst: Option<&str>) -> SponsoredOperation {
        SponsoredOperation {
            state,
            network_fee: fee.map(str::to_owned),
            worst_case: worst.map(str::to_owned),
        }
    }

    fn policy() -> PaymasterPolicy {
        PaymasterPolicy {
            max_native_daily: Some(U256::from(1_000u64)),
            max_native_per_tx: Some(U256::from(300u64)),
            max_ops_daily: Some(3),
            ..PaymasterPolicy::default_for(Blockchain::MaticAmoy)
        }
    }

    #[test]
    fn usage_counts_settled_costs_and_in_flight_worst_cases() {
        let ops = [
            op(TxState::Complete, Some("0.000000000000000100"), Some("1")),
            op(TxState::Queued, None, Some("0.000000000000000250")),
            // Failed before any bundle: nothing paid, not counted.
            op(TxState::Failed, None, Some("1")),
            // Reverted on chain: the gas was paid.
            op(TxState::Failed, Some("0.00000000000000005"), None),
        ];
        let day = usage(&ops, 18);
        assert_eq!(day.operations, 3);
        assert_eq!(day.native, U256::from(400u64));
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let p = policy();
        let used = |operations, native: u64| DayUsage {
            operations,
            native: U256::from(native),
        };
        assert_eq!(check(&p, used(2, 500), U256::from(300u64), false), Ok(()));
        let refusal = |r: Result<(), Refused>| r.map_err(|e| e.refusal);
        assert_eq!(
            refusal(check(&p, used(3, 0), U256::from(1u64), false)),
            Err(PolicyRefusal::MaxDailyOperations)
        );
        assert_eq!(
            refusal(check(&p, used(0, 0), U256::from(301u64), false)),
            Err(PolicyRefusal::MaxPerOperation)
        );
        // The first operation (deploying the account) is exempt from the per-operation cap,
        // not from the daily one.
        assert_eq!(check(&p, used(0, 0), U256::from(900u64), true), Ok(()));
        assert_eq!(
            refusal(check(&p, used(0, 200), U256::from(900u64), true)),
            Err(PolicyRefusal::MaxNativeDaily)
        );
        let off = PaymasterPolicy {
            active: false,
            ..policy()
        };
        assert_eq!(
            refusal(check(&off, used(0, 0), U256::from(1u64), false)),
            Err(PolicyRefusal::NotActivated)
        );
    }

    #[test]
    fn testnets_are_sponsored_by_default_and_mainnets_are_not() {
        assert!(PaymasterPolicy::default_for(Blockchain::MaticAmoy).active);
        assert!(!PaymasterPolicy::default_for(Blockchain::Matic).active);
        assert_eq!(day_start(Timestamp(DAY_MS * 3 + 5)), Timestamp(DAY_MS * 3));
    }

    #[test]
    fn a_refusal_carries_circles_code_and_reason() {
        assert_eq!(PolicyRefusal::NotActivated.error().code, 177018);
        assert_eq!(PolicyRefusal::MaxDailyOperations.error().code, 177019);
        assert_eq!(PolicyRefusal::MaxPerOperation.error().code, 177020);
        assert_eq!(PolicyRefusal::MaxNativeDaily.error().code, 177022);
        assert_eq!(
            PolicyRefusal::MaxNativeDaily.reason(),
            "PAYMASTER_POLICY_EXCEED_MAX_NATIVE_TOKEN_DAILY"
        );
    }
}
