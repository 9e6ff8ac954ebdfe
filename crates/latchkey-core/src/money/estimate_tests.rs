#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::money::chains::ChainInfo;
use crate::money::fake_node::{address_word, word, FakeNode};
use std::sync::Arc;

const GWEI: u128 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

const FROM: Address = Address::new([0x11; 20]);
const TO: Address = Address::new([0x22; 20]);
const TOKEN: Address = Address::new([0x33; 20]);

fn chain(blockchain: Blockchain, eip1559: bool, node: FakeNode) -> (Chain, Arc<FakeNode>) {
    let node = Arc::new(node);
    let chain = Chain {
        node: node.clone(),
        info: ChainInfo {
            blockchain,
            chain_id: blockchain.chain_id().unwrap_or(1),
            eip1559,
            is_local: true,
            confirmations: 1,
            stuck_after_ms: 1_000,
            min_priority_wei: 0,
        },
        faucet_key: None,
        gas_station: None,
    };
    (chain, node)
}

fn funded() -> FakeNode {
    FakeNode {
        balance: U256::from(ETH),
        base_fee: Some(GWEI),
        tip: GWEI / 10,
        gas_price: 2 * GWEI,
        ..FakeNode::default()
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

fn token_call(data: Vec<u8>) -> OutboundCall {
    OutboundCall {
        from: FROM,
        to: TOKEN,
        value: U256::ZERO,
        data,
    }
}

fn selector(data: &[u8]) -> [u8; 4] {
    data[..4].try_into().unwrap()
}

#[tokio::test]
async fn native_to_an_account_without_code_is_21000_exactly() {
    let (c, node) = chain(Blockchain::MaticAmoy, true, funded());
    let fees = estimate_call(&c, &native(ETH / 100), &TokenDebit::None)
        .await
        .unwrap();
    for f in [&fees.low, &fees.medium, &fees.high] {
        assert_eq!(f.gas_limit.as_deref(), Some("21000"));
        assert_eq!(f.base_fee.as_deref(), Some("1"));
    }
    assert_eq!(fees.low.priority_fee.as_deref(), Some("0.1"));
    assert_eq!(fees.high.priority_fee.as_deref(), Some("0.3"));
    assert_eq!(fees.medium.max_fee.as_deref(), Some("2.2"));
    // 21000 × 2.2 gwei and 21000 × 1.2 gwei.
    assert_eq!(fees.medium.network_fee.as_deref(), Some("0.0000462"));
    assert_eq!(fees.medium.network_fee_raw.as_deref(), Some("0.0000252"));
    assert!(!node
        .seen
        .lock()
        .unwrap()
        .contains(&"estimate_gas".to_owned()));
}

#[tokio::test]
async fn native_to_a_contract_and_calls_are_estimated_with_a_margin() {
    let mut n = funded();
    n.code.insert(TO, vec![0x60]);
    n.estimate = Some(Ok(21_055));
    let (c, _) = chain(Blockchain::EthSepolia, true, n);
    let fees = estimate_call(&c, &native(1), &TokenDebit::None)
        .await
        .unwrap();
    assert_eq!(fees.low.gas_limit.as_deref(), Some("25266")); // 21055 × 1.2 = 25266
                                                              // networkFeeRaw prices the node's own figure.
    assert_eq!(fees.low.network_fee_raw.as_deref(), Some("0.0000231605"));
}

#[tokio::test]
async fn legacy_chains_price_from_the_gas_price() {
    let (c, node) = chain(Blockchain::AvaxFuji, false, funded());
    let fees = estimate_call(&c, &native(1), &TokenDebit::None)
        .await
        .unwrap();
    assert_eq!(fees.low.gas_price.as_deref(), Some("2"));
    assert_eq!(fees.medium.gas_price.as_deref(), Some("2.2"));
    assert_eq!(fees.high.gas_price.as_deref(), Some("2.5"));
    assert_eq!(fees.high.max_fee, None);
    assert_eq!(node.seen.lock().unwrap()[0], "gas_price");
}

#[tokio::test]
async fn erc20_balance_is_checked_before_the_estimate() {
    let data = erc::erc20_transfer(TO, U256::from(5_000_000u64));
    let mut n = funded();
    n.calls
        .insert(selector(&erc::erc20_balance_of(FROM)), Ok(word(4_999_999)));
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let debit = TokenDebit::Erc20 {
        amount: U256::from(5_000_000u64),
    };
    let e = estimate_call(&c, &token_call(data.clone()), &debit)
        .await
        .unwrap_err();
    assert_eq!(e.code, 155205);

    let mut n = funded();
    n.calls
        .insert(selector(&erc::erc20_balance_of(FROM)), Ok(word(5_000_000)));
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let fees = estimate_call(&c, &token_call(data), &debit).await.unwrap();
    assert_eq!(fees.high.gas_limit.as_deref(), Some("60000"));
}

#[tokio::test]
async fn nft_owner_and_1155_balances_are_checked() {
    let id = U256::from(9u8);
    let mut n = funded();
    n.calls
        .insert(selector(&erc::erc721_owner_of(id)), Ok(address_word(TO)));
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let call = token_call(erc::erc721_safe_transfer_from(FROM, TO, id));
    let e = estimate_call(&c, &call, &TokenDebit::Erc721 { id })
        .await
        .unwrap_err();
    assert_eq!(e.code, 155206);

    // A token that does not exist: ownerOf reverts.
    let (c, _) = chain(Blockchain::MaticAmoy, true, funded());
    let e = estimate_call(&c, &call, &TokenDebit::Erc721 { id })
        .await
        .unwrap_err();
    assert_eq!(e.code, 155206);

    let mut n = funded();
    n.calls
        .insert(selector(&erc::erc721_owner_of(id)), Ok(address_word(FROM)));
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    assert!(estimate_call(&c, &call, &TokenDebit::Erc721 { id })
        .await
        .is_ok());

    let mut n = funded();
    n.calls
        .insert(selector(&erc::erc1155_balance_of(FROM, id)), Ok(word(2)));
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let debit = |amount: u64| TokenDebit::Erc1155 {
        ids: vec![id],
        amounts: vec![U256::from(amount)],
    };
    let call = token_call(erc::erc1155_safe_transfer_from(
        FROM,
        TO,
        id,
        U256::from(3u8),
        &[],
    ));
    assert_eq!(
        estimate_call(&c, &call, &debit(3)).await.unwrap_err().code,
        155205
    );
    assert!(estimate_call(&c, &call, &debit(2)).await.is_ok());
}

#[tokio::test]
async fn native_shortfalls_are_155204() {
    // The value alone is more than the balance.
    let mut n = funded();
    n.balance = U256::from(1000u64);
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let e = estimate_call(&c, &native(1001), &TokenDebit::None)
        .await
        .unwrap_err();
    assert_eq!(e.code, 155204);
    // The value fits, the cheapest gas does not: 21000 × 2.1 gwei.
    let mut n = funded();
    n.balance = U256::from(1000 + 21_000 * 2_100_000_000u128 - 1);
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    let e = estimate_call(&c, &native(1000), &TokenDebit::None)
        .await
        .unwrap_err();
    assert_eq!(e.code, 155204);
    let mut n = funded();
    n.balance = U256::from(1000 + 21_000 * 2_100_000_000u128);
    let (c, _) = chain(Blockchain::MaticAmoy, true, n);
    assert!(estimate_call(&c, &native(1000), &TokenDebit::None)
        .await
        .is_ok());
}

#[tokio::test]
async fn node_failures_map_to_circles_codes() {
    let cases = [
        (
            NodeError::Reverted(Some("Ownable: caller is not the owner".into())),
            155208,
            400,
        ),
        (NodeError::Reverted(None), 155208, 400),
        (NodeError::GasExceedsAllowance, 155207, 400),
        (
            NodeError::Rejected(RejectKind::InsufficientFunds, "insufficient funds".into()),
            155204,
            400,
        ),
        (NodeError::Other("boom".into()), 155210, 400),
        (
            NodeError::Rejected(RejectKind::Permanent, "x".into()),
            155210,
            400,
        ),
        (NodeError::Unavailable("connection refused".into()), -1, 503),
    ];
    for (err, code, status) in cases {
        let mut n = funded();
        n.estimate = Some(Err(err.clone()));
        let (c, _) = chain(Blockchain::MaticAmoy, true, n);
        let e = estimate_call(&c, &token_call(vec![1, 2, 3, 4]), &TokenDebit::None)
            .await
            .unwrap_err();
        assert_eq!((e.code, e.status), (code, status), "{err:?}");
    }
    let e = estimate_error(
        Blockchain::MaticAmoy,
        NodeError::Reverted(Some("no".into())),
    );
    assert_eq!(e.message, "Estimate fee execution reverted: no.");
    let e = estimate_error(Blockchain::MaticAmoy, NodeError::Unavailable("x".into()));
    assert_eq!(e.message, "The MATIC-AMOY node is unavailable; try again.");
}

#[tokio::test]
async fn op_stack_chains_add_the_l1_fee_when_the_oracle_exists() {
    let get_l1_fee = [0x49, 0x94, 0x8e, 0x0e]; // keccak("getL1Fee(bytes)")[..4]
    let mut n = funded();
    n.code.insert(GAS_PRICE_ORACLE, vec![0x60]);
    n.calls.insert(get_l1_fee, Ok(word(1_000_000_000_000)));
    let (c, node) = chain(Blockchain::BaseSepolia, true, n);
    let fees = estimate_call(&c, &native(1), &TokenDebit::None)
        .await
        .unwrap();
    assert_eq!(fees.low.l1_fee.as_deref(), Some("0.000001"));
    // 21000 × 2.1 gwei + 0.000001 and 21000 × 1.1 gwei + 0.000001.
    assert_eq!(fees.low.network_fee.as_deref(), Some("0.0000451"));
    assert_eq!(fees.low.network_fee_raw.as_deref(), Some("0.0000241"));
    assert!(node
        .seen
        .lock()
        .unwrap()
        .contains(&"call 49948e0e".to_owned()));

    // No predeploy (anvil with an OP chain id): no call, no l1Fee.
    let (c, node) = chain(Blockchain::BaseSepolia, true, funded());
    let fees = estimate_call(&c, &native(1), &TokenDebit::None)
        .await
        .unwrap();
    assert_eq!(fees.low.l1_fee, None);
    assert!(!node
        .seen
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.starts_with("call")));

    // Not an OP-stack chain: the predeploy is never asked.
    let mut n = funded();
    n.code.insert(GAS_PRICE_ORACLE, vec![0x60]);
    let (c, _) = chain(Blockchain::EthSepolia, true, n);
    let fees = estimate_call(&c, &native(1), &TokenDebit::None)
        .await
        .unwrap();
    assert_eq!(fees.low.l1_fee, None);
}

#[test]
fn the_oracle_address_is_the_predeploy() {
    assert_eq!(
        GAS_PRICE_ORACLE.to_string().to_lowercase(),
        "0x420000000000000000000000000000000000000f"
    );
    assert_eq!(
        latchkey_chains::encode_call("getL1Fee(bytes)", &[serde_json::json!("0x")]).unwrap()[..4],
        [0x49, 0x94, 0x8e, 0x0e]
    );
}

#[tokio::test]
async fn an_sca_operation_on_the_op_stack_carries_its_l1_fee_in_pre_verification_gas() {
    let owner = Address::repeat_byte(0x44);
    let estimate = |with_oracle: bool, blockchain: Blockchain| async move {
        let mut n = funded();
        if with_oracle {
            n.code.insert(GAS_PRICE_ORACLE, vec![0x60]);
            n.calls
                .insert([0x49, 0x94, 0x8e, 0x0e], Ok(word(1_000_000_000_000)));
        }
        let (c, _) = chain(blockchain, true, n);
        super::super::user_op::sca_estimate(&c, owner, &native(1), &TokenDebit::None)
            .await
            .unwrap()
    };
    let plain = estimate(false, Blockchain::BaseSepolia).await;
    let with_l1 = estimate(true, Blockchain::BaseSepolia).await;
    let pvg = |f: &EstimatedFees| f.user_op.unwrap().pre_verification_gas;
    // 0.000001 of L1 fee at the LOW level's max fee per gas, rounded up.
    let low_max = latchkey_chains::parse_units(with_l1.low.max_fee.as_deref().unwrap(), 9)
        .unwrap()
        .to::<u128>();
    assert_eq!(
        pvg(&with_l1) - pvg(&plain),
        1_000_000_000_000u128.div_ceil(low_max)
    );
    // Each level's gasLimit is the operation's total, so it includes the share.
    let limit = |f: &EstimatedFees| f.low.gas_limit.clone().unwrap().parse::<u128>().unwrap();
    assert_eq!(limit(&with_l1) - limit(&plain), pvg(&with_l1) - pvg(&plain));
    // Not an OP-stack chain: the oracle is not asked, nothing added.
    let eth = estimate(true, Blockchain::EthSepolia).await;
    assert_eq!(pvg(&eth), pvg(&plain));
}
