#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use latchkey_chains::Blockchain;

const GWEI: u128 = 1_000_000_000;

fn info(min_priority_wei: u128) -> ChainInfo {
    ChainInfo {
        blockchain: Blockchain::MaticAmoy,
        chain_id: 80_002,
        eip1559: true,
        is_local: false,
        confirmations: 1,
        stuck_after_ms: 120_000,
        min_priority_wei,
    }
}

fn history(base: u128, rows: &[(f64, [u128; 3])]) -> FeeHistory {
    FeeHistory {
        oldest_block: 100,
        base_fee_per_gas: rows.iter().map(|_| base / 2).chain([base]).collect(),
        gas_used_ratio: rows.iter().map(|(r, _)| *r).collect(),
        reward: rows.iter().map(|(_, r)| r.to_vec()).collect(),
    }
}

#[test]
fn circles_example_arithmetic() {
    // Circle's published estimate: baseFee 2.456220277, priorityFee 1.022783914, maxFee
    // 5.935224468 = 2 × 2.456220277 + 1.022783914.
    let tip = 1_022_783_914;
    let h = history(2_456_220_277, &[(0.5, [tip, tip, tip])]);
    let levels = FeeLevels::from_history(&h, &info(0)).unwrap();
    let fee = TransactionFee::estimate(&levels.low, 21_000, 21_000, None, 18);
    assert_eq!(fee.base_fee.as_deref(), Some("2.456220277"));
    assert_eq!(fee.priority_fee.as_deref(), Some("1.022783914"));
    assert_eq!(fee.max_fee.as_deref(), Some("5.935224468"));
    assert_eq!(fee.gas_limit.as_deref(), Some("21000"));
    // 21000 × 5.935224468 gwei and 21000 × (2.456220277 + 1.022783914) gwei, exactly.
    assert_eq!(fee.network_fee.as_deref(), Some("0.000124639713828"));
    assert_eq!(fee.network_fee_raw.as_deref(), Some("0.000073059088011"));
    assert_eq!(fee.gas_price, None);
    assert_eq!(fee.l1_fee, None);
}

#[test]
fn levels_are_medians_of_percentiles_over_blocks_that_used_gas() {
    let h = history(
        10 * GWEI,
        &[
            (0.5, [1, 10, 100]),
            (0.0, [999, 999, 999]), // idle: ignored
            (0.9, [3, 30, 300]),
            (0.1, [2, 20, 200]),
        ],
    );
    let levels = FeeLevels::from_history(&h, &info(0)).unwrap();
    let tip = |p: GasPricing| match p {
        GasPricing::Eip1559 {
            base_fee,
            priority_fee,
            max_fee,
        } => {
            assert_eq!(max_fee, 2 * base_fee + priority_fee);
            priority_fee
        }
        GasPricing::Legacy { .. } => panic!("legacy"),
    };
    assert_eq!(
        (tip(levels.low), tip(levels.medium), tip(levels.high)),
        (2, 20, 200)
    );
    assert_eq!(levels.level(FeeLevel::High), levels.high);
    // The pending block's base fee (the history's last entry), not an older one.
    assert!(matches!(levels.low, GasPricing::Eip1559 { base_fee, .. } if base_fee == 10 * GWEI));

    // Even count: the lower middle, a value that was observed.
    let h = history(GWEI, &[(0.5, [1, 1, 1]), (0.5, [4, 4, 4])]);
    assert_eq!(tip(FeeLevels::from_history(&h, &info(0)).unwrap().low), 1);
}

#[test]
fn an_idle_chain_gets_the_floor() {
    // anvil reports zero rewards and zero gas used; Polygon's floor is 25 gwei.
    let h = history(GWEI, &[(0.0, [0, 0, 0]); 20]);
    let levels = FeeLevels::from_history(&h, &info(25 * GWEI)).unwrap();
    assert_eq!(
        levels.medium,
        GasPricing::Eip1559 {
            base_fee: GWEI,
            priority_fee: 25 * GWEI,
            max_fee: 27 * GWEI
        }
    );
    let levels = FeeLevels::from_history(&h, &info(0)).unwrap();
    assert_eq!(levels.high.max_per_gas(), 2 * GWEI);
}

#[test]
fn a_history_without_base_fees_is_an_estimation_failure() {
    let e = FeeLevels::from_history(&FeeHistory::default(), &info(0)).unwrap_err();
    assert_eq!(e.code, 155210);
}

#[test]
fn legacy_levels_scale_the_gas_price_rounding_up() {
    let levels = FeeLevels::from_gas_price(3);
    assert_eq!(
        [levels.low, levels.medium, levels.high].map(|p| p.max_per_gas()),
        [3, 4, 4]
    );
    let levels = FeeLevels::from_gas_price(20 * GWEI);
    assert_eq!(
        [levels.low, levels.medium, levels.high].map(|p| p.max_per_gas()),
        [20 * GWEI, 22 * GWEI, 25 * GWEI]
    );
    let fee = TransactionFee::estimate(&levels.high, 60_000, 50_000, Some(7), 18);
    assert_eq!(fee.gas_price.as_deref(), Some("25"));
    assert_eq!(
        (fee.max_fee, fee.base_fee, fee.priority_fee),
        (None, None, None)
    );
    assert_eq!(fee.network_fee.as_deref(), Some("0.001500000000000007"));
    assert_eq!(fee.network_fee_raw.as_deref(), Some("0.001250000000000007"));
    assert_eq!(fee.l1_fee.as_deref(), Some("0.000000000000000007"));
}

#[test]
fn gas_margin_is_a_fifth_rounded_up() {
    assert_eq!(gas_limit_with_margin(50_000), 60_000);
    assert_eq!(gas_limit_with_margin(21_001), 25_202); // 25201.2 → 25202
    assert_eq!(gas_limit_with_margin(u64::MAX), u64::MAX);
}

#[test]
fn the_wire_object_leaves_absent_fields_out() {
    let fee = TransactionFee::estimate(
        &FeeLevels::from_gas_price(GWEI).low,
        21_000,
        21_000,
        None,
        18,
    );
    let v = serde_json::to_value(&fee).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "gasLimit": "21000", "gasPrice": "1",
            "networkFee": "0.000021", "networkFeeRaw": "0.000021"
        })
    );
}

fn req(
    level: Option<&str>,
    limit: Option<&str>,
    price: Option<&str>,
    max: Option<&str>,
    tip: Option<&str>,
) -> FeeRequest {
    FeeRequest {
        fee_level: level.and_then(FeeLevel::parse),
        gas_limit: limit.map(str::to_owned),
        gas_price: price.map(str::to_owned),
        max_fee: max.map(str::to_owned),
        priority_fee: tip.map(str::to_owned),
    }
}

/// (eip1559, feeLevel, gasLimit, gasPrice, maxFee, priorityFee, expected code; 0 = accepted)
type FeeRow<'a> = (
    bool,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    i64,
);

#[test]
fn every_fee_rule_in_a_table() {
    let cap = FeeCap::one_token(18);
    let n = None;
    let table: &[FeeRow] = &[
        (true, Some("MEDIUM"), n, n, n, n, 0),
        (true, Some("HIGH"), Some("90000"), n, n, n, 0),
        (true, n, Some("21000"), n, Some("30"), Some("2"), 0),
        (false, n, Some("21000"), Some("30.5"), n, n, 0),
        (true, Some("LOW"), n, Some("1"), n, n, 155234),
        (true, Some("LOW"), n, n, Some("1"), n, 155234),
        (true, Some("LOW"), Some("21000"), n, n, Some("1"), 155234),
        (true, n, n, n, n, n, 155231),
        (true, n, n, n, Some("30"), Some("2"), 155231),
        (true, n, Some(""), n, Some("30"), Some("2"), 155231),
        (true, n, Some("20999"), n, Some("30"), Some("2"), 155233),
        (true, Some("LOW"), Some("100"), n, n, n, 155233),
        (true, n, Some("21000"), n, Some("30"), n, 155235),
        (true, n, Some("21000"), n, n, Some("2"), 155235),
        (true, n, Some("21000"), Some("30"), n, n, 155235),
        (true, n, Some("21000"), Some("1"), Some("30"), Some("2"), 2),
        (true, n, Some("abc"), n, Some("30"), Some("2"), 155236),
        (true, n, Some("21000.5"), n, Some("30"), Some("2"), 155236),
        (true, n, Some("-21000"), n, Some("30"), Some("2"), 155236),
        (true, Some("LOW"), Some("1e5"), n, n, n, 155236),
        (true, n, Some("21000"), n, Some("thirty"), Some("2"), 155236),
        (
            true,
            n,
            Some("21000"),
            n,
            Some("30"),
            Some("0.0000000001"),
            155236,
        ),
        (false, n, Some("21000"), Some("-1"), n, n, 155236),
        (
            true,
            n,
            Some("21000"),
            n,
            Some("2"),
            Some("2.000000001"),
            155237,
        ),
        (true, n, Some("21000"), n, Some("2"), Some("2"), 0),
        (false, n, Some("21000"), n, n, n, 155238),
        (false, n, Some("21000"), n, Some("30"), Some("2"), 155254),
        (false, n, Some("21000"), Some("3"), Some("30"), n, 155254),
        (false, n, Some("21000"), Some("3"), n, Some("2"), 155254),
        // 1 ETH cap: 50 000 000 gas × 20 gwei = 1 ETH exactly (allowed), a wei more is not.
        (true, n, Some("50000000"), n, Some("20"), Some("1"), 0),
        (
            true,
            n,
            Some("50000000"),
            n,
            Some("20.000000001"),
            Some("1"),
            155211,
        ),
        (false, n, Some("21000"), Some("100000000"), n, n, 155211),
    ];
    for (i, &(eip1559, level, limit, price, max, tip, code)) in table.iter().enumerate() {
        let got = req(level, limit, price, max, tip).validate(eip1559, cap);
        let got_code = got.as_ref().map_or_else(|e| e.code, |_| 0);
        assert_eq!(got_code, code, "row {i}: {got:?}");
    }
}

#[test]
fn accepted_requests_say_how_to_pay() {
    let cap = FeeCap::one_token(18);
    assert_eq!(
        req(Some("HIGH"), Some("90000"), None, None, None)
            .validate(true, cap)
            .unwrap(),
        FeeChoice::Level {
            level: FeeLevel::High,
            gas_limit: Some(90_000)
        }
    );
    let explicit = req(None, Some("21000"), None, Some("30"), Some("1.5"))
        .validate(true, cap)
        .unwrap();
    assert_eq!(
        explicit,
        FeeChoice::Eip1559 {
            gas_limit: 21_000,
            max_fee: 30 * GWEI,
            priority_fee: 1_500_000_000
        }
    );
    assert_eq!(
        explicit.explicit(),
        Some((
            21_000,
            EvmFee::Eip1559 {
                max_fee: 30 * GWEI,
                max_priority: 1_500_000_000
            }
        ))
    );
    // A choice survives the challenge payload's JSON with wei as strings.
    let json = serde_json::to_value(explicit).unwrap();
    assert_eq!(json["maxFee"], "30000000000");
    assert_eq!(serde_json::from_value::<FeeChoice>(json).unwrap(), explicit);

    // A smaller configured cap.
    let half = FeeCap::native("0.0001", 18).unwrap();
    let r = req(None, Some("21000"), None, Some("5"), Some("1")); // 0.000105 ETH
    assert_eq!(r.validate(true, half).unwrap_err().code, 155211);
    assert!(FeeCap::native("abc", 18).is_none());
}

#[test]
fn a_gas_limit_override_must_cover_the_estimate() {
    let level = FeeChoice::Level {
        level: FeeLevel::Low,
        gas_limit: Some(50_000),
    };
    assert!(level.check_gas_limit(50_000).is_ok());
    assert_eq!(level.check_gas_limit(50_001).unwrap_err().code, 155233);
    let no_override = FeeChoice::Level {
        level: FeeLevel::Low,
        gas_limit: None,
    };
    assert!(no_override.check_gas_limit(1_000_000).is_ok());
    let explicit = FeeChoice::Legacy {
        gas_limit: 21_000,
        gas_price: 1,
    };
    assert!(explicit.check_gas_limit(1_000_000).is_ok());
}

#[test]
fn fee_levels_parse_only_circles_spelling() {
    assert_eq!(FeeLevel::parse("MEDIUM"), Some(FeeLevel::Medium));
    assert_eq!(FeeLevel::parse("medium"), None);
    assert_eq!(
        serde_json::from_str::<FeeLevel>("\"HIGH\"").unwrap(),
        FeeLevel::High
    );
    assert_eq!(FeeLevel::Low.as_str(), "LOW");
}
