//! The stored token registry and the monitored-token configuration: seen tokens fill their
//! gaps and never flap, lists are per entity and environment, writes report whether they
//! changed anything, and listing filters stored and static tokens alike and pages by token id.

use super::*;
use latchkey_chains::Blockchain;
use latchkey_core::money::*;

const USDC_AMOY: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
const USDC_SEPOLIA: &str = "5797fbd6-3795-519d-84ca-ec4c5f80c3b1";

fn seen(id: &str, address: &str, symbol: Option<&str>) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        blockchain: Blockchain::MaticAmoy,
        token_address: Some(address.into()),
        standard: Some(TokenStandard::Erc20),
        name: None,
        symbol: symbol.map(Into::into),
        decimals: None,
        is_native: false,
        origin: TokenOrigin::Seen,
        created_at: T0,
        updated_at: T0,
    }
}

fn first_page(size: u32) -> PageQuery {
    PageQuery {
        size,
        cursor: Cursor::None,
        order: Order::Desc,
        from: None,
        to: None,
    }
}

async fn listed(
    s: &dyn Store,
    e: &Entity,
    env: Environment,
    filter: &MonitoredFilter,
    page: &PageQuery,
) -> Vec<String> {
    s.list_monitored_tokens(&e.id, env, filter, page)
        .await
        .unwrap()
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.token_id)
        .collect()
}

#[tokio::test]
async fn seen_tokens_fill_their_gaps_and_never_flap() {
    let s = fresh_store().await;
    let id = uuid::Uuid::new_v4().to_string();
    let address = "0x00000000000000000000000000000000000000aa";
    let first = s
        .upsert_seen_token(&seen(&id, address, None))
        .await
        .unwrap();
    assert_eq!((first.symbol.as_deref(), first.updated_at), (None, T0));
    // A later read fills the symbol; a third one with another symbol changes nothing.
    let mut later = seen(&id, address, Some("TKN"));
    later.decimals = Some(18);
    later.updated_at = T0.plus_ms(10);
    let filled = s.upsert_seen_token(&later).await.unwrap();
    assert_eq!(
        (filled.symbol.as_deref(), filled.decimals, filled.updated_at),
        (Some("TKN"), Some(18), T0.plus_ms(10))
    );
    let mut other = seen(&id, address, Some("OTHER"));
    other.updated_at = T0.plus_ms(20);
    let kept = s.upsert_seen_token(&other).await.unwrap();
    assert_eq!(kept, filled);
    assert_eq!(s.token(&id).await.unwrap(), Some(filled.clone()));
    assert_eq!(
        s.token_by_address(Blockchain::MaticAmoy, Some(address))
            .await
            .unwrap(),
        Some(filled)
    );
    assert_eq!(
        s.token_by_address(Blockchain::EthSepolia, Some(address))
            .await
            .unwrap(),
        None
    );
    // One row per (chain, address): another id at the same address conflicts.
    let twin = seen(&uuid::Uuid::new_v4().to_string(), address, None);
    assert!(matches!(
        s.upsert_seen_token(&twin).await,
        Err(StoreError::Conflict)
    ));
    // A native coin is stored with no address.
    let mut native = seen(&uuid::Uuid::new_v4().to_string(), "", Some("X"));
    native.token_address = None;
    native.is_native = true;
    native.standard = None;
    let stored = s.upsert_seen_token(&native).await.unwrap();
    assert_eq!(stored, native);
    assert_eq!(
        s.token_by_address(Blockchain::MaticAmoy, None)
            .await
            .unwrap(),
        Some(native)
    );
}

#[tokio::test]
async fn monitored_lists_belong_to_one_entity_and_environment() {
    let s = fresh_store().await;
    let a = entity(&*s).await;
    let b = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "b".into(),
        created_at: T0,
    };
    s.insert_entity(&b).await.unwrap();
    let (test, live) = (Environment::Test, Environment::Live);
    assert_eq!(s.monitored_config(&a.id, test).await.unwrap(), None);

    let ids = vec![USDC_AMOY.to_string()];
    assert!(s.add_monitored_tokens(&a.id, test, &ids, T0).await.unwrap());
    assert!(
        !s.add_monitored_tokens(&a.id, test, &ids, T0.plus_ms(1))
            .await
            .unwrap(),
        "nothing changed"
    );
    let config = s.monitored_config(&a.id, test).await.unwrap().unwrap();
    assert_eq!(
        (config.scope, config.updated_at),
        (MonitorScope::Selected, T0)
    );
    assert_eq!(s.monitored_token_ids(&a.id, test).await.unwrap(), ids);
    // The other environment and the other entity have nothing.
    for (e, env) in [(&a, live), (&b, test)] {
        assert_eq!(s.monitored_config(&e.id, env).await.unwrap(), None);
        assert!(s.monitored_token_ids(&e.id, env).await.unwrap().is_empty());
        assert_eq!(
            s.remove_monitored_tokens(&e.id, env, &ids, T0)
                .await
                .unwrap(),
            0
        );
    }
    assert_eq!(s.monitored_token_ids(&a.id, test).await.unwrap(), ids);

    // MONITOR_ALL keeps the list; adding again is a change (back to SELECTED).
    s.set_monitor_scope(&a.id, test, MonitorScope::MonitorAll, T0.plus_ms(2))
        .await
        .unwrap();
    let config = s.monitored_config(&a.id, test).await.unwrap().unwrap();
    assert_eq!(
        (config.scope, config.updated_at),
        (MonitorScope::MonitorAll, T0.plus_ms(2))
    );
    assert_eq!(s.monitored_token_ids(&a.id, test).await.unwrap(), ids);
    assert!(s
        .add_monitored_tokens(&a.id, test, &ids, T0.plus_ms(3))
        .await
        .unwrap());
    assert_eq!(
        s.monitored_config(&a.id, test)
            .await
            .unwrap()
            .unwrap()
            .scope,
        MonitorScope::Selected
    );

    // Replace keeps what stays (in its place), drops the rest, adds the new.
    let both = vec![USDC_SEPOLIA.to_string(), USDC_AMOY.to_string()];
    assert!(s
        .replace_monitored_tokens(&a.id, test, &both, T0.plus_ms(4))
        .await
        .unwrap());
    assert_eq!(
        s.monitored_token_ids(&a.id, test).await.unwrap(),
        vec![USDC_AMOY.to_string(), USDC_SEPOLIA.to_string()]
    );
    assert!(!s
        .replace_monitored_tokens(&a.id, test, &both, T0.plus_ms(5))
        .await
        .unwrap());
    let only = vec![USDC_SEPOLIA.to_string()];
    assert!(s
        .replace_monitored_tokens(&a.id, test, &only, T0.plus_ms(6))
        .await
        .unwrap());
    assert_eq!(s.monitored_token_ids(&a.id, test).await.unwrap(), only);
    assert_eq!(
        s.remove_monitored_tokens(&a.id, test, &both, T0.plus_ms(7))
            .await
            .unwrap(),
        1
    );
    assert!(s.monitored_token_ids(&a.id, test).await.unwrap().is_empty());
    // The scope of an environment never configured can be set on its own.
    s.set_monitor_scope(&b.id, live, MonitorScope::Selected, T0)
        .await
        .unwrap();
    assert_eq!(
        s.monitored_config(&b.id, live)
            .await
            .unwrap()
            .unwrap()
            .scope,
        MonitorScope::Selected
    );
    assert!(s
        .replace_monitored_tokens(&b.id, live, &[], T0)
        .await
        .is_ok());
}

#[tokio::test]
async fn monitored_lists_filter_stored_and_static_tokens_and_page_by_token_id() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let env = Environment::Test;
    let stored_id = uuid::Uuid::new_v4().to_string();
    let address = "0x00000000000000000000000000000000000000bb";
    s.upsert_seen_token(&seen(&stored_id, address, Some("TKN")))
        .await
        .unwrap();
    for (i, id) in [USDC_AMOY, USDC_SEPOLIA, stored_id.as_str()]
        .iter()
        .enumerate()
    {
        let at = T0.plus_ms(i as i64 * 1000);
        s.add_monitored_tokens(&e.id, env, &[id.to_string()], at)
            .await
            .unwrap();
    }
    let all = MonitoredFilter::default();
    let page = s
        .list_monitored_tokens(&e.id, env, &all, &first_page(10))
        .await
        .unwrap()
        .unwrap();
    let got: Vec<(&str, bool)> = page
        .items
        .iter()
        .map(|m| (m.token_id.as_str(), m.stored.is_some()))
        .collect();
    assert_eq!(
        got,
        [
            (stored_id.as_str(), true),
            (USDC_SEPOLIA, false),
            (USDC_AMOY, false)
        ]
    );
    assert_eq!(page.items[0].created_at, T0.plus_ms(2000));
    assert_eq!(
        page.items[0].stored.as_ref().map(|t| t.symbol.clone()),
        Some(Some("TKN".into()))
    );

    // A stored token matches on its columns; a static one by the caller's list.
    let amoy = MonitoredFilter {
        blockchain: Some(Blockchain::MaticAmoy),
        outside_matches: vec![USDC_AMOY.into()],
        ..Default::default()
    };
    let page10 = first_page(10);
    assert_eq!(
        listed(&*s, &e, env, &amoy, &page10).await,
        [stored_id.clone(), USDC_AMOY.to_string()]
    );
    let by_symbol = MonitoredFilter {
        symbol: Some("TKN".into()),
        ..Default::default()
    };
    assert_eq!(
        listed(&*s, &e, env, &by_symbol, &page10).await,
        std::slice::from_ref(&stored_id)
    );
    let by_address = MonitoredFilter {
        token_address: Some(address.into()),
        ..Default::default()
    };
    assert_eq!(
        listed(&*s, &e, env, &by_address, &page10).await,
        std::slice::from_ref(&stored_id)
    );
    let nothing = MonitoredFilter {
        symbol: Some("NONE".into()),
        ..Default::default()
    };
    assert!(listed(&*s, &e, env, &nothing, &page10).await.is_empty());

    // Pages of one, forwards and back, cursors are token ids; an unknown cursor is None.
    let p1 = s
        .list_monitored_tokens(&e.id, env, &all, &first_page(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p1.has_next, p1.has_prev), (true, false));
    let after = |id: &str| PageQuery {
        cursor: Cursor::After(id.into()),
        ..first_page(1)
    };
    let p2 = s
        .list_monitored_tokens(&e.id, env, &all, &after(&p1.items[0].token_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p2.items[0].token_id, USDC_SEPOLIA);
    assert_eq!((p2.has_next, p2.has_prev), (true, true));
    let back = PageQuery {
        cursor: Cursor::Before(USDC_SEPOLIA.into()),
        ..first_page(1)
    };
    let p0 = s
        .list_monitored_tokens(&e.id, env, &all, &back)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p0.items[0].token_id, stored_id);
    let unknown = after(&uuid::Uuid::new_v4().to_string());
    assert!(s
        .list_monitored_tokens(&e.id, env, &all, &unknown)
        .await
        .unwrap()
        .is_none());
    // Another environment's list does not know this one's cursors.
    assert!(s
        .list_monitored_tokens(&e.id, Environment::Live, &all, &after(USDC_AMOY))
        .await
        .unwrap()
        .is_none());
    // from / to bound the time a token was added.
    let window = PageQuery {
        from: Some(T0.plus_ms(500)),
        to: Some(T0.plus_ms(1500)),
        ..first_page(10)
    };
    assert_eq!(listed(&*s, &e, env, &all, &window).await, [USDC_SEPOLIA]);
}

#[tokio::test]
async fn wallet_tokens_keep_their_first_sighting_per_wallet() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "holder", T0).await;
    let ws = super::transactions::wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let (a, b) = (&ws[0].id, &ws[1].id);
    assert!(s.wallet_token_ids(a, 10).await.unwrap().is_empty());
    let t = |ms: i64| Timestamp(T0.0 + ms);
    assert!(s.add_wallet_token(a, "t-late", t(30)).await.unwrap());
    assert!(s.add_wallet_token(a, "t-early", t(10)).await.unwrap());
    assert!(s.add_wallet_token(a, "t-tie-b", t(20)).await.unwrap());
    assert!(s.add_wallet_token(a, "t-tie-a", t(20)).await.unwrap());
    // Seen again later: nothing changes, the first sighting keeps its place.
    assert!(!s.add_wallet_token(a, "t-early", t(99)).await.unwrap());
    assert!(s.add_wallet_token(b, "t-late", t(1)).await.unwrap());
    assert_eq!(
        s.wallet_token_ids(a, 10).await.unwrap(),
        ["t-early", "t-tie-a", "t-tie-b", "t-late"]
    );
    assert_eq!(
        s.wallet_token_ids(a, 2).await.unwrap(),
        ["t-early", "t-tie-a"]
    );
    assert_eq!(s.wallet_token_ids(b, 10).await.unwrap(), ["t-late"]);
}
