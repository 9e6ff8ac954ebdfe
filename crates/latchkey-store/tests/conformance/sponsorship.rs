//! The gas station's sponsorship policies (per entity and chain, upserted, wei amounts beyond
//! 64 bits kept exactly) and the day's sponsored operations they are checked against: only
//! the entity's SCA transactions on that chain since the given time.

use super::transactions::{outbound, wallets};
use super::*;
use latchkey_chains::{Blockchain, U256};
use latchkey_core::money::*;

fn policy(blockchain: Blockchain) -> PaymasterPolicy {
    PaymasterPolicy {
        blockchain,
        active: true,
        // 2^70 wei: past what an INTEGER column holds.
        max_native_daily: Some(U256::from(1u128 << 70)),
        max_native_per_tx: None,
        max_ops_daily: Some(25),
        updated_at: None,
    }
}

#[tokio::test]
async fn policies_are_per_entity_and_chain_and_replaced_whole() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let other = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "other".into(),
        created_at: T0,
    };
    s.insert_entity(&other).await.unwrap();

    assert_eq!(
        s.paymaster_policy(&e.id, Blockchain::Matic).await.unwrap(),
        None
    );
    s.set_paymaster_policy(&e.id, &policy(Blockchain::Matic), T0)
        .await
        .unwrap();
    s.set_paymaster_policy(&e.id, &policy(Blockchain::Eth), T0)
        .await
        .unwrap();
    let got = s
        .paymaster_policy(&e.id, Blockchain::Matic)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        PaymasterPolicy {
            updated_at: Some(T0),
            ..policy(Blockchain::Matic)
        }
    );
    // Replaced whole: a limit left out is gone.
    let replaced = PaymasterPolicy {
        active: false,
        max_native_daily: None,
        max_native_per_tx: Some(U256::from(7u64)),
        max_ops_daily: None,
        ..policy(Blockchain::Matic)
    };
    s.set_paymaster_policy(&e.id, &replaced, T0.plus_ms(5))
        .await
        .unwrap();
    let got = s
        .paymaster_policy(&e.id, Blockchain::Matic)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        PaymasterPolicy {
            updated_at: Some(T0.plus_ms(5)),
            ..replaced
        }
    );
    let all = s.paymaster_policies(&e.id).await.unwrap();
    let chains: Vec<_> = all.iter().map(|p| p.blockchain).collect();
    assert_eq!(chains, [Blockchain::Eth, Blockchain::Matic]);

    // The other entity sees none of them, and removing is per entity.
    assert!(s.paymaster_policies(&other.id).await.unwrap().is_empty());
    assert_eq!(
        s.paymaster_policy(&other.id, Blockchain::Eth)
            .await
            .unwrap(),
        None
    );
    assert!(!s
        .delete_paymaster_policy(&other.id, Blockchain::Eth)
        .await
        .unwrap());
    assert!(s
        .delete_paymaster_policy(&e.id, Blockchain::Eth)
        .await
        .unwrap());
    assert!(!s
        .delete_paymaster_policy(&e.id, Blockchain::Eth)
        .await
        .unwrap());
    assert_eq!(s.paymaster_policies(&e.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sponsored_operations_are_the_entitys_sca_transactions_on_the_chain_since() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "sponsored-user", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let estimate = |worst: &str| TransactionFee {
        network_fee: Some(worst.to_owned()),
        ..TransactionFee::default()
    };
    let sca = |w: &WalletRecord, at: i64, state: TxState, fee: Option<&str>| TransactionRecord {
        state,
        user_op_hash: Some(format!("0x{:064x}", at)),
        estimated_fee: Some(estimate("0.5")),
        network_fee: fee.map(str::to_owned),
        ..outbound(w, at)
    };
    let rows = [
        // Before the day: not read.
        sca(&w[0], -1, TxState::Complete, Some("0.1")),
        sca(&w[0], 0, TxState::Complete, Some("0.2")),
        sca(&w[0], 10, TxState::Queued, None),
        // An EOA transaction (no userOpHash) and another chain's operation: not read.
        TransactionRecord {
            estimated_fee: Some(estimate("9")),
            ..outbound(&w[0], 20)
        },
        sca(&w[1], 30, TxState::Complete, Some("9")),
    ];
    for t in &rows {
        s.insert_transaction(t).await.unwrap();
    }
    let mut got = s
        .sponsored_operations(&e.id, Blockchain::MaticAmoy, T0)
        .await
        .unwrap();
    got.sort_by_key(|o| o.state.as_str());
    assert_eq!(
        got,
        [
            SponsoredOperation {
                state: TxState::Complete,
                network_fee: Some("0.2".into()),
                worst_case: Some("0.5".into()),
            },
            SponsoredOperation {
                state: TxState::Queued,
                network_fee: None,
                worst_case: Some("0.5".into()),
            },
        ]
    );
    // Another entity's day is empty.
    assert!(s
        .sponsored_operations("no-such-entity", Blockchain::MaticAmoy, T0)
        .await
        .unwrap()
        .is_empty());
}
