//! Wallets read back with their owner's developer userId (read in the same statement), by id
//! and in the list, and never across users.

use super::transactions::wallets;
use super::*;
use latchkey_core::store::{Cursor, Order, PageQuery, WalletFilter};

#[tokio::test]
async fn wallets_carry_their_owners_user_id_and_stay_with_their_owner() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let alice = user(&*s, &e, "alice-wallets", T0).await;
    let bob = user(&*s, &e, "bob-wallets", T0).await;
    let alice_wallets = wallets(&*s, &e, &alice, &["ETH-SEPOLIA", "MATIC-AMOY"]).await;
    let bob_wallets = wallets(&*s, &e, &bob, &["ETH-SEPOLIA"]).await;
    let page = PageQuery {
        size: 10,
        cursor: Cursor::None,
        order: Order::Desc,
        from: None,
        to: None,
    };

    let listed = s
        .list_wallets(&e.id, &alice.internal_id, &WalletFilter::default(), &page)
        .await
        .unwrap()
        .unwrap();
    let mut ids: Vec<_> = listed.items.iter().map(|w| w.id.clone()).collect();
    ids.sort();
    let mut expected: Vec<_> = alice_wallets.iter().map(|w| w.id.clone()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(listed.items.iter().all(|w| w.user_id == "alice-wallets"));

    let one = s
        .wallet(&e.id, &alice.internal_id, &alice_wallets[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.user_id, "alice-wallets");
    assert_eq!(one.address, alice_wallets[0].address);
    let bobs = s
        .wallet(&e.id, &bob.internal_id, &bob_wallets[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bobs.user_id, "bob-wallets");

    // Bob's wallet is not Alice's, by id or in her list.
    assert!(s
        .wallet(&e.id, &alice.internal_id, &bob_wallets[0].id)
        .await
        .unwrap()
        .is_none());
    assert!(!ids.contains(&bob_wallets[0].id));
}
