//! Fees on Solana: a base fee of 5,000 lamports per signature, plus a priority fee of
//! compute-unit price (micro-lamports) × compute-unit limit / 10⁶, rounded up.
//!
//! Fee levels (Circle's LOW / MEDIUM / HIGH) are compute-unit prices read from
//! `getRecentPrioritizationFees` for the accounts the transaction writes: over the node's last
//! 150 slots (zeros included: a quiet cluster's levels are 0), the 25th, 50th and 75th
//! percentiles (nearest rank), the percentiles Helius' and Triton's priority-fee estimates use
//! for their low / medium / high. A level never exceeds the next one.

use crate::types::PrioritizationFee;

/// The base fee per signature, in lamports (fixed by the runtime).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// The most compute units a transaction may ask for.
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;

/// Compute-unit prices of the three levels, in micro-lamports per compute unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeLevels {
    /// 25th percentile.
    pub low: u64,
    /// 50th percentile.
    pub medium: u64,
    /// 75th percentile.
    pub high: u64,
}

/// The levels of a `getRecentPrioritizationFees` answer (all zero when it is empty).
pub fn fee_levels(recent: &[PrioritizationFee]) -> FeeLevels {
    let mut prices: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
    prices.sort_unstable();
    let low = percentile(&prices, 25);
    let medium = percentile(&prices, 50).max(low);
    let high = percentile(&prices, 75).max(medium);
    FeeLevels { low, medium, high }
}

/// Nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// The priority fee in lamports: ⌈price × limit / 10⁶⌉.
pub fn priority_fee_lamports(unit_limit: u32, micro_lamports_per_unit: u64) -> u64 {
    let micro = u128::from(unit_limit) * u128::from(micro_lamports_per_unit);
    u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// The whole fee in lamports of a transaction with `signatures` signatures.
pub fn network_fee_lamports(signatures: u64, unit_limit: u32, micro_lamports_per_unit: u64) -> u64 {
    LAMPORTS_PER_SIGNATURE
        .saturating_mul(signatures)
        .saturating_add(priority_fee_lamports(unit_limit, micro_lamports_per_unit))
}

/// The compute-unit limit to ask for, from a simulation's units consumed: 20 % more (as
/// latchkey's EVM gas limits are `eth_estimateGas` × 1.2), at least 1,000 more, at most the
/// runtime's maximum.
pub fn compute_unit_limit(units_consumed: u64) -> u32 {
    let with_margin = units_consumed
        .saturating_mul(6)
        .div_ceil(5)
        .max(units_consumed.saturating_add(1_000));
    u32::try_from(with_margin)
        .unwrap_or(MAX_COMPUTE_UNIT_LIMIT)
        .min(MAX_COMPUTE_UNIT_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees(values: &[u64]) -> Vec<PrioritizationFee> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| PrioritizationFee {
                slot: i as u64,
                prioritization_fee: v,
            })
            .collect()
    }

    #[test]
    fn levels_are_percentiles() {
        assert_eq!(fee_levels(&[]), FeeLevels::default());
        assert_eq!(fee_levels(&fees(&[0; 150])), FeeLevels::default());
        let one_to_hundred: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(
            fee_levels(&fees(&one_to_hundred)),
            FeeLevels {
                low: 25,
                medium: 50,
                high: 75
            }
        );
        assert_eq!(
            fee_levels(&fees(&[7])),
            FeeLevels {
                low: 7,
                medium: 7,
                high: 7
            }
        );
    }

    #[test]
    fn fee_arithmetic() {
        assert_eq!(priority_fee_lamports(200_000, 0), 0);
        assert_eq!(priority_fee_lamports(200_000, 1), 1);
        assert_eq!(priority_fee_lamports(200_000, 10_000), 2_000);
        assert_eq!(priority_fee_lamports(u32::MAX, u64::MAX), u64::MAX);
        assert_eq!(network_fee_lamports(1, 300, 1_000_000), 5_300);
        assert_eq!(compute_unit_limit(150), 1_150);
        assert_eq!(compute_unit_limit(30_000), 36_000);
        assert_eq!(compute_unit_limit(u64::MAX), MAX_COMPUTE_UNIT_LIMIT);
    }
}
