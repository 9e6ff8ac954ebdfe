#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::money::chains::ChainInfo;
use crate::money::fake_node::{word, FakeNode};
use crate::money::fees::FeeLevel;
use latchkey_chains::{erc, Address, Blockchain};
use std::sync::Arc;

const GWEI: u128 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;
const FROM: Address = Address::new([0x11; 20]);
const TO: Address = Address::new([0x22; 20]);
const TOKEN: Address = Address::new([0x33; 20]);

fn chain(eip1559: bool, balance: u128) -> Chain {
    let node = FakeNode {
        balance: U256::from(balance),
        base_fee: eip1559.then_some(GWEI),
        tip: GWEI / 10,
        gas_price: 2 * GWEI,
        ..FakeNode::default()
    };
    Chain {
        node: Arc::new(node),
        info: ChainInfo {
            blockchain: Blockchain::MaticAmoy,
            chain_id: 80_002,
            eip1559,
            is_local: true,
            confirmations: 1,
            stuck_after_ms: 1_000,
            min_priority_wei: 0,
        },
        faucet_key: None,
        gas_station: None,
    }
}

fn native(value: u128) -> OutboundCall {
    OutboundCall {
        from: FROM,
        to: TO,
        value: U256::from(value),
        data: Vec::new(),
    }
}

fn level(level: FeeLevel) -> FeeChoice {
    FeeChoice::Level {
        level,
        gas_limit: None,
    }
}

fn one() -> FeeCap {
    FeeCap::one_token(18)
}

#[tokio::test]
async fn a_level_shows_its_fees_and_the_cap_they_make() {
    let q = quote(
        &chain(true, ETH),
        &native(ETH / 100),
        &TokenDebit::None,
        &level(FeeLevel::Medium),
        one(),
    )
    .await
    .unwrap();
    assert_eq!(q.gas_limit, 21_000);
    assert_eq!(q.pricing.max_per_gas(), 2 * GWEI + GWEI / 5);
    let s = &q.shown;
    assert_eq!(s.fee_level, "MEDIUM");
    assert_eq!(s.gas_limit, "21000");
    assert_eq!(s.max_fee.as_deref(), Some("2.2"));
    assert_eq!(s.priority_fee.as_deref(), Some("0.2"));
    assert_eq!(s.gas_price, None);
    // 21000 × 2.2 gwei.
    assert_eq!(s.max_network_fee, "0.0000462");
    assert_eq!(s.native_symbol, Blockchain::MaticAmoy.native_symbol());
}

#[tokio::test]
async fn explicit_fees_are_custom_and_legacy_shows_the_gas_price() {
    let explicit = FeeChoice::Eip1559 {
        gas_limit: 30_000,
        max_fee: 3 * GWEI,
        priority_fee: GWEI,
    };
    let q = quote(
        &chain(true, ETH),
        &native(1),
        &TokenDebit::None,
        &explicit,
        one(),
    )
    .await
    .unwrap();
    assert_eq!(
        (q.gas_limit, q.shown.fee_level.as_str()),
        (30_000, "CUSTOM")
    );
    assert_eq!(q.shown.max_network_fee, "0.00009");
    let legacy = quote(
        &chain(false, ETH),
        &native(1),
        &TokenDebit::None,
        &level(FeeLevel::Low),
        one(),
    )
    .await
    .unwrap();
    assert_eq!(legacy.shown.gas_price.as_deref(), Some("2"));
    assert_eq!(legacy.shown.max_fee, None);
}

#[tokio::test]
async fn create_calls_get_the_create_codes_for_shortfalls() {
    // The value alone is above the balance.
    let e = quote(
        &chain(true, 1_000),
        &native(1_001),
        &TokenDebit::None,
        &level(FeeLevel::Low),
        one(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, 155201);
    // The value fits, the value plus the gas cap does not.
    let e = quote(
        &chain(true, ETH / 100),
        &native(ETH / 100),
        &TokenDebit::None,
        &level(FeeLevel::Low),
        one(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, 155201);
    // A token shortfall.
    let mut node = FakeNode {
        balance: U256::from(ETH),
        base_fee: Some(GWEI),
        ..FakeNode::default()
    };
    let sel: [u8; 4] = erc::erc20_balance_of(FROM)[..4].try_into().unwrap();
    node.calls.insert(sel, Ok(word(4)));
    let mut c = chain(true, ETH);
    c.node = Arc::new(node);
    let call = OutboundCall {
        from: FROM,
        to: TOKEN,
        value: U256::ZERO,
        data: erc::erc20_transfer(TO, U256::from(5u8)),
    };
    let debit = TokenDebit::Erc20 {
        amount: U256::from(5u8),
    };
    let e = quote(&c, &call, &debit, &level(FeeLevel::Low), one())
        .await
        .unwrap_err();
    assert_eq!(e.code, 155258);
}

#[tokio::test]
async fn a_level_above_the_cap_and_a_short_override_are_refused() {
    let tiny = FeeCap(U256::from(21_000u128 * GWEI));
    let e = quote(
        &chain(true, ETH),
        &native(1),
        &TokenDebit::None,
        &level(FeeLevel::High),
        tiny,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, 155211);
    let mut c = chain(true, ETH);
    c.node = Arc::new(FakeNode {
        balance: U256::from(ETH),
        base_fee: Some(GWEI),
        code: [(TO, vec![0x60])].into_iter().collect(),
        ..FakeNode::default()
    });
    let low_override = FeeChoice::Level {
        level: FeeLevel::Low,
        gas_limit: Some(21_000),
    };
    // A contract recipient is estimated (50000 × 1.2): 21000 is too low.
    let e = quote(&c, &native(1), &TokenDebit::None, &low_override, one())
        .await
        .unwrap_err();
    assert_eq!(e.code, 155233);
}
