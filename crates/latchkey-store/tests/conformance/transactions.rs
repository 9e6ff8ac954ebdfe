//! Transactions (read side): insert and read back every column, the user's list with each of
//! Circle's filters, paging both ways, the lowest pending nonce, and the schema's partial
//! unique indexes (one live outbound per wallet nonce, one inbound per transfer on chain).

use super::*;
use latchkey_chains::Blockchain;
use latchkey_core::money::*;

/// Wallets for `u`, one per chain, written the way a completed challenge writes them.
pub(super) async fn wallets(
    s: &dyn Store,
    e: &Entity,
    u: &UserRecord,
    chains: &[&str],
) -> Vec<WalletRecord> {
    let c = challenge(e, u, ChallengeType::Initialize);
    s.create_challenge(&c, &claim(&c.id, 1), 100).await.unwrap();
    let ws: Vec<WalletRecord> = chains
        .iter()
        .enumerate()
        .map(|(i, chain)| WalletRecord {
            id: uuid::Uuid::new_v4().to_string(),
            entity_id: e.id.clone(),
            user_internal_id: u.internal_id.clone(),
            user_id: u.user_id.clone(),
            wallet_set_id: uuid::Uuid::new_v4().to_string(),
            blockchain: chain.to_string(),
            account_type: "EOA".into(),
            address: format!("0xAbC{}{i:05x}", uuid::Uuid::new_v4().simple()),
            state: "LIVE".into(),
            name: None,
            ref_id: None,
            sealed_key: vec![1; 48],
            sca_core: None,
            owner_address: None,
            deployed_at: None,
            created_at: T0,
            updated_at: T0,
        })
        .collect();
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: u.internal_id.clone(),
        challenge_id: c.id.clone(),
        now: T0,
        pin: None,
        answers: None,
        reset_pin_guesses: false,
        rewraps: vec![],
        correlation_ids: ws.iter().map(|w| w.id.clone()).collect(),
        audit: vec![],
        notification: None,
        wallets: ws.clone(),
        outbound: None,
    };
    assert_eq!(s.complete_challenge(&commit).await.unwrap(), Ok(()));
    ws
}

/// An OUTBOUND native transfer of `w`, created at `T0 + at` ms.
pub(super) fn outbound(w: &WalletRecord, at: i64) -> TransactionRecord {
    TransactionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: w.entity_id.clone(),
        user_internal_id: w.user_internal_id.clone(),
        user_id: String::new(),
        wallet_id: w.id.clone(),
        blockchain: Blockchain::parse(&w.blockchain).unwrap(),
        tx_type: TxType::Outbound,
        operation: TxOperation::Transfer,
        state: TxState::Initiated,
        token_id: Some("token-native".into()),
        amounts: vec!["0.01".into()],
        nft_token_ids: None,
        source_address: Some(w.address.clone()),
        destination_address: Some("0x00000000000000000000000000000000000000d1".into()),
        contract_address: None,
        abi_function_signature: None,
        abi_parameters: None,
        call_data: None,
        ref_id: None,
        fee_level: None,
        estimated_fee: None,
        nonce: None,
        tx_hash: None,
        user_op_hash: None,
        block_hash: None,
        block_height: None,
        first_confirm_date: None,
        network_fee: None,
        error_reason: None,
        error_details: None,
        challenge_id: None,
        log_index: None,
        sent_at: None,
        next_check_at: T0.plus_ms(at),
        lease_until: None,
        lease_token: None,
        created_at: T0.plus_ms(at),
        updated_at: T0.plus_ms(at),
    }
}

/// An INBOUND deposit to `w`: `hash`, `log_index`.
fn inbound(w: &WalletRecord, at: i64, hash: &str, log_index: i64) -> TransactionRecord {
    TransactionRecord {
        tx_type: TxType::Inbound,
        state: TxState::Confirmed,
        source_address: Some("0x00000000000000000000000000000000000000a5".into()),
        destination_address: Some(w.address.clone()),
        tx_hash: Some(hash.into()),
        log_index: Some(log_index),
        ..outbound(w, at)
    }
}

fn page(size: u32, cursor: Cursor, order: Order) -> PageQuery {
    PageQuery {
        size,
        cursor,
        order,
        from: None,
        to: None,
    }
}

async fn ids(
    s: &dyn Store,
    u: &UserRecord,
    filter: &TransactionFilter,
    q: &PageQuery,
) -> Option<Vec<String>> {
    s.list_transactions(&u.entity_id, &u.internal_id, filter, q)
        .await
        .unwrap()
        .map(|p| p.items.into_iter().map(|t| t.id).collect())
}

#[tokio::test]
async fn a_transaction_reads_back_every_column_only_for_its_user() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "tx-owner", T0).await;
    let other = user(&*s, &e, "tx-other", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY"]).await.remove(0);
    let t = TransactionRecord {
        operation: TxOperation::ContractExecution,
        state: TxState::Complete,
        nft_token_ids: Some(vec!["7".into(), "8".into()]),
        contract_address: Some("0x00000000000000000000000000000000000000c0".into()),
        abi_function_signature: Some("mint(address,uint256[])".into()),
        abi_parameters: Some(vec![json!("0xabc"), json!(["1", 2]), json!(true)]),
        call_data: Some("0x1234".into()),
        ref_id: Some("ref".into()),
        fee_level: Some(FeeLevel::High),
        estimated_fee: Some(TransactionFee {
            gas_limit: Some("21000".into()),
            max_fee: Some("5.935224468".into()),
            priority_fee: Some("1.022783914".into()),
            base_fee: Some("2.456220277".into()),
            network_fee: Some("0.000124639713828".into()),
            ..TransactionFee::default()
        }),
        nonce: Some(4),
        tx_hash: Some("0xfeed".into()),
        block_hash: Some("0xb10c".into()),
        block_height: Some(41_100_000),
        first_confirm_date: Some(T0.plus_ms(5)),
        network_fee: Some("0.0703".into()),
        error_reason: Some("NONE".into()),
        error_details: Some("details".into()),
        challenge_id: Some(uuid::Uuid::new_v4().to_string()),
        log_index: Some(-1),
        sent_at: Some(T0.plus_ms(2)),
        lease_until: Some(T0.plus_ms(9)),
        lease_token: Some("lease".into()),
        updated_at: T0.plus_ms(6),
        ..outbound(&w, 1)
    };
    s.insert_transaction(&t).await.unwrap();
    let got = s
        .transaction(&e.id, &u.internal_id, &t.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        TransactionRecord {
            user_id: u.user_id.clone(),
            ..t.clone()
        }
    );
    // Same id again: a conflict, not a second row.
    assert!(matches!(
        s.insert_transaction(&t).await,
        Err(StoreError::Conflict)
    ));
    // Another user of the entity, or another entity, reads nothing.
    assert!(s
        .transaction(&e.id, &other.internal_id, &t.id)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .transaction("nope", &u.internal_id, &t.id)
        .await
        .unwrap()
        .is_none());
    let all = page(50, Cursor::None, Order::Desc);
    let f = TransactionFilter::default();
    assert_eq!(ids(&*s, &other, &f, &all).await, Some(vec![]));
}

#[tokio::test]
async fn lists_filter_by_each_of_circles_filters() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "tx-filters", T0).await;
    let ws = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA", "SOL-DEVNET"]).await;
    let a = outbound(&ws[0], 1);
    let b = TransactionRecord {
        state: TxState::Complete,
        operation: TxOperation::ContractExecution,
        token_id: None,
        tx_hash: Some("0xAbCdEf".into()),
        destination_address: Some("0x00000000000000000000000000000000000000C0".into()),
        ..outbound(&ws[1], 2)
    };
    let c = TransactionRecord {
        token_id: Some("token-usdc".into()),
        destination_address: Some("So1anaCaseSensitive".into()),
        ..inbound(&ws[2], 3, "5xSolSig", 0)
    };
    for t in [&a, &b, &c] {
        s.insert_transaction(t).await.unwrap();
    }
    let all = page(50, Cursor::None, Order::Asc);
    let list = |f: TransactionFilter| {
        let s = s.clone();
        let u = u.clone();
        let all = all.clone();
        async move { ids(&*s, &u, &f, &all).await.unwrap() }
    };
    let d = TransactionFilter::default;
    assert_eq!(list(d()).await, [a.id.clone(), b.id.clone(), c.id.clone()]);
    let cases: Vec<(TransactionFilter, Vec<&String>)> = vec![
        (
            TransactionFilter {
                blockchain: Some(Blockchain::EthSepolia),
                ..d()
            },
            vec![&b.id],
        ),
        (
            TransactionFilter {
                blockchain: Some(Blockchain::Eth),
                ..d()
            },
            vec![],
        ),
        (
            TransactionFilter {
                operation: Some(TxOperation::ContractExecution),
                ..d()
            },
            vec![&b.id],
        ),
        (
            TransactionFilter {
                state: Some(TxState::Initiated),
                ..d()
            },
            vec![&a.id],
        ),
        (
            TransactionFilter {
                tx_type: Some(TxType::Inbound),
                ..d()
            },
            vec![&c.id],
        ),
        (
            TransactionFilter {
                tx_type: Some(TxType::Outbound),
                ..d()
            },
            vec![&a.id, &b.id],
        ),
        // EVM hex compares case-insensitively; base58 exactly.
        (
            TransactionFilter {
                tx_hash: Some("0xabcdef".into()),
                ..d()
            },
            vec![&b.id],
        ),
        (
            TransactionFilter {
                tx_hash: Some("5xSolSig".into()),
                ..d()
            },
            vec![&c.id],
        ),
        (
            TransactionFilter {
                tx_hash: Some("5xsolsig".into()),
                ..d()
            },
            vec![],
        ),
        (
            TransactionFilter {
                destination_address: Some("0x00000000000000000000000000000000000000c0".into()),
                ..d()
            },
            vec![&b.id],
        ),
        (
            TransactionFilter {
                destination_address: Some("so1anacasesensitive".into()),
                ..d()
            },
            vec![],
        ),
        (
            TransactionFilter {
                wallet_ids: Some(vec![ws[0].id.clone(), ws[2].id.clone()]),
                ..d()
            },
            vec![&a.id, &c.id],
        ),
        (
            TransactionFilter {
                wallet_ids: Some(vec![]),
                ..d()
            },
            vec![],
        ),
        // The monitored-token seam: listed tokens plus transactions without a token.
        (
            TransactionFilter {
                visible_token_ids: Some(vec!["token-usdc".into()]),
                ..d()
            },
            vec![&b.id, &c.id],
        ),
        (
            TransactionFilter {
                visible_token_ids: Some(vec![]),
                ..d()
            },
            vec![&b.id],
        ),
        (
            TransactionFilter {
                blockchain: Some(Blockchain::MaticAmoy),
                state: Some(TxState::Complete),
                ..d()
            },
            vec![],
        ),
    ];
    for (f, want) in cases {
        let label = format!("{f:?}");
        assert_eq!(list(f).await.iter().collect::<Vec<_>>(), want, "{label}");
    }
    // from / to bound the creation time, both inclusive.
    let window = PageQuery {
        from: Some(T0.plus_ms(2)),
        to: Some(T0.plus_ms(2)),
        ..all.clone()
    };
    assert_eq!(
        ids(&*s, &u, &d(), &window).await.unwrap(),
        vec![b.id.clone()]
    );
}

#[tokio::test]
async fn lists_page_both_ways_in_either_order() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "tx-pages", T0).await;
    let other = user(&*s, &e, "tx-pages-other", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY"]).await.remove(0);
    let mut all = Vec::new();
    for i in 0..5 {
        let t = outbound(&w, i);
        s.insert_transaction(&t).await.unwrap();
        all.push(t.id);
    }
    let f = TransactionFilter::default();
    let newest: Vec<String> = all.iter().rev().cloned().collect();
    let first = s
        .list_transactions(
            &e.id,
            &u.internal_id,
            &f,
            &page(2, Cursor::None, Order::Desc),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&newest[0], &newest[1]]
    );
    assert!(first.has_next && !first.has_prev);
    let next = s
        .list_transactions(
            &e.id,
            &u.internal_id,
            &f,
            &page(2, Cursor::After(newest[1].clone()), Order::Desc),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        next.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&newest[2], &newest[3]]
    );
    assert!(next.has_next && next.has_prev);
    let back = s
        .list_transactions(
            &e.id,
            &u.internal_id,
            &f,
            &page(2, Cursor::Before(newest[2].clone()), Order::Desc),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        back.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&newest[0], &newest[1]]
    );
    assert!(back.has_next && !back.has_prev);
    let asc = ids(
        &*s,
        &u,
        &f,
        &page(3, Cursor::After(all[0].clone()), Order::Asc),
    )
    .await;
    assert_eq!(asc, Some(all[1..4].to_vec()));
    // A cursor that is not one of the user's transactions names no page.
    assert_eq!(
        ids(
            &*s,
            &other,
            &f,
            &page(2, Cursor::After(all[0].clone()), Order::Desc)
        )
        .await,
        None
    );
    let unknown = Cursor::Before(uuid::Uuid::new_v4().to_string());
    assert_eq!(ids(&*s, &u, &f, &page(2, unknown, Order::Desc)).await, None);
}

#[tokio::test]
async fn lowest_nonce_is_the_pending_outbound_of_one_wallet_of_the_environment() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "tx-nonce", T0).await;
    let live = user_in(&*s, &e, Environment::Live, "tx-nonce", T0).await;
    let ws = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let (w, w2) = (&ws[0], &ws[1]);
    let with = |w: &WalletRecord, at: i64, nonce: i64, state: TxState| TransactionRecord {
        nonce: Some(nonce),
        state,
        ..outbound(w, at)
    };
    let sel = |w: &WalletRecord| WalletSelector::Id {
        wallet_id: w.id.clone(),
        blockchain: None,
    };
    let lowest = |sel: WalletSelector, env: Environment| {
        let s = s.clone();
        let e = e.id.clone();
        async move {
            s.lowest_nonce_transaction(&e, env, &sel)
                .await
                .unwrap()
                .map(|t| t.id)
        }
    };
    assert_eq!(lowest(sel(w), Environment::Test).await, None);
    // Not pending (INITIATED, COMPLETE, FAILED), inbound, or another wallet's: never lowest.
    for t in [
        with(w, 1, 0, TxState::Complete),
        with(w, 2, 1, TxState::Failed),
        with(w, 3, 1, TxState::Initiated),
        with(w2, 4, 0, TxState::Sent),
        TransactionRecord {
            nonce: Some(0),
            ..inbound(w, 5, "0xin", 0)
        },
    ] {
        s.insert_transaction(&t).await.unwrap();
    }
    assert_eq!(lowest(sel(w), Environment::Test).await, None);
    let stuck = with(w, 6, 3, TxState::Stuck);
    let sent = with(w, 7, 2, TxState::Sent);
    let queued = with(w, 8, 4, TxState::Queued);
    for t in [&stuck, &sent, &queued] {
        s.insert_transaction(t).await.unwrap();
    }
    assert_eq!(
        lowest(sel(w), Environment::Test).await,
        Some(sent.id.clone())
    );
    // By address (EVM compared case-insensitively) and chain; the chain must be the wallet's.
    let by_address = WalletSelector::Address {
        address: w.address.to_lowercase(),
        blockchain: Blockchain::MaticAmoy,
    };
    assert_eq!(
        lowest(by_address, Environment::Test).await,
        Some(sent.id.clone())
    );
    let wrong_chain = WalletSelector::Address {
        address: w.address.clone(),
        blockchain: Blockchain::EthSepolia,
    };
    assert_eq!(lowest(wrong_chain, Environment::Test).await, None);
    let id_and_chain = |b| WalletSelector::Id {
        wallet_id: w.id.clone(),
        blockchain: Some(b),
    };
    assert_eq!(
        lowest(id_and_chain(Blockchain::MaticAmoy), Environment::Test).await,
        Some(sent.id.clone())
    );
    assert_eq!(
        lowest(id_and_chain(Blockchain::EthSepolia), Environment::Test).await,
        None
    );
    // Another environment of the entity, or another entity, sees none of it.
    assert_eq!(lowest(sel(w), Environment::Live).await, None);
    assert!(s
        .lowest_nonce_transaction("other-entity", Environment::Test, &sel(w))
        .await
        .unwrap()
        .is_none());
    let _ = live;
}

#[tokio::test]
async fn one_live_outbound_per_wallet_nonce_and_one_inbound_per_transfer() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "tx-unique", T0).await;
    let ws = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let (w, w2) = (&ws[0], &ws[1]);
    let at_nonce = |w: &WalletRecord, n: i64, state: TxState| TransactionRecord {
        nonce: Some(n),
        state,
        ..outbound(w, 1)
    };
    s.insert_transaction(&at_nonce(w, 0, TxState::Sent))
        .await
        .unwrap();
    assert!(matches!(
        s.insert_transaction(&at_nonce(w, 0, TxState::Queued)).await,
        Err(StoreError::Conflict)
    ));
    // FAILED ones gave the nonce back: any number of them, and a live one beside them.
    s.insert_transaction(&at_nonce(w, 1, TxState::Failed))
        .await
        .unwrap();
    s.insert_transaction(&at_nonce(w, 1, TxState::Failed))
        .await
        .unwrap();
    s.insert_transaction(&at_nonce(w, 1, TxState::Initiated))
        .await
        .unwrap();
    // Another wallet's nonce 0, and outbound rows without a nonce, are independent.
    s.insert_transaction(&at_nonce(w2, 0, TxState::Sent))
        .await
        .unwrap();
    s.insert_transaction(&outbound(w, 2)).await.unwrap();
    s.insert_transaction(&outbound(w, 2)).await.unwrap();

    s.insert_transaction(&inbound(w, 3, "0xdep", 0))
        .await
        .unwrap();
    assert!(matches!(
        s.insert_transaction(&inbound(w, 4, "0xdep", 0)).await,
        Err(StoreError::Conflict)
    ));
    // Another log of the same hash, native value (-1), or another wallet: other transfers.
    s.insert_transaction(&inbound(w, 5, "0xdep", 1))
        .await
        .unwrap();
    s.insert_transaction(&inbound(w, 6, "0xdep", -1))
        .await
        .unwrap();
    s.insert_transaction(&inbound(w2, 7, "0xdep", 0))
        .await
        .unwrap();
    // An inbound row never takes an outbound nonce slot.
    s.insert_transaction(&TransactionRecord {
        nonce: Some(0),
        ..inbound(w, 8, "0xdep2", 0)
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_wallets_nft_transfers_are_read_oldest_first_for_its_user_only() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "u", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let nft = |t: TransactionRecord, token: &str, ids: &[&str]| TransactionRecord {
        token_id: Some(token.into()),
        nft_token_ids: Some(ids.iter().map(|i| i.to_string()).collect()),
        amounts: ids.iter().map(|_| "1".to_string()).collect(),
        ..t
    };
    s.insert_transaction(&nft(inbound(&w[0], 1, "0xa1", 3), "c721", &["7"]))
        .await
        .unwrap();
    // A coin transfer and the other wallet's NFT are not this wallet's NFTs.
    s.insert_transaction(&outbound(&w[0], 2)).await.unwrap();
    s.insert_transaction(&nft(inbound(&w[1], 3, "0xa2", 0), "c721", &["9"]))
        .await
        .unwrap();
    s.insert_transaction(&nft(outbound(&w[0], 4), "c1155", &["1", "2"]))
        .await
        .unwrap();
    let read = |limit| {
        let s = &s;
        let (u, w) = (&u, &w);
        async move {
            s.wallet_nft_transfers(&u.entity_id, &u.internal_id, &w[0].id, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|t| (t.token_id, t.nft_token_ids))
                .collect::<Vec<_>>()
        }
    };
    let v = |ids: &[&str]| ids.iter().map(|i| i.to_string()).collect::<Vec<_>>();
    assert_eq!(
        read(10).await,
        vec![
            ("c721".to_string(), v(&["7"])),
            ("c1155".to_string(), v(&["1", "2"]))
        ]
    );
    assert_eq!(read(1).await, vec![("c721".to_string(), v(&["7"]))]);
    // Another user of the entity reads nothing of it.
    let other = user(&*s, &e, "o", T0).await;
    assert!(s
        .wallet_nft_transfers(&e.id, &other.internal_id, &w[0].id, 10)
        .await
        .unwrap()
        .is_empty());
}
