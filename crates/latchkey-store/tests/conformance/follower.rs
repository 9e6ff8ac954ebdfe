//! The follower's storage: one instance leases a chain at a time (the holder renews, another
//! waits for the expiry), the cursor moves only under the lease, and wallets are found by
//! address whatever the case of its hex.

use super::transactions::wallets;
use super::*;
use latchkey_chains::Blockchain;

const LEASE: i64 = 30_000;

#[tokio::test]
async fn one_instance_follows_a_chain_and_only_it_moves_the_cursor() {
    let s = fresh_store().await;
    let amoy = Blockchain::MaticAmoy;
    assert_eq!(
        s.lease_chain(amoy, "a", T0, LEASE).await.unwrap(),
        Some(None)
    );
    assert_eq!(s.lease_chain(amoy, "b", T0, LEASE).await.unwrap(), None);
    assert!(s.advance_chain(amoy, "a", 42, T0).await.unwrap());
    assert!(!s.advance_chain(amoy, "b", 7, T0).await.unwrap());
    // The holder renews; another instance takes over only once the lease expired.
    assert_eq!(
        s.lease_chain(amoy, "a", T0, LEASE).await.unwrap(),
        Some(Some(42))
    );
    let later = latchkey_core::clock::Timestamp(T0.0 + LEASE + 1);
    assert_eq!(
        s.lease_chain(amoy, "b", later, LEASE).await.unwrap(),
        Some(Some(42))
    );
    assert!(!s.advance_chain(amoy, "a", 50, later).await.unwrap());
    // Chains are independent.
    assert_eq!(
        s.lease_chain(Blockchain::EthSepolia, "a", later, LEASE)
            .await
            .unwrap(),
        Some(None)
    );
}

#[tokio::test]
async fn wallets_are_found_by_address_in_any_case() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "u", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY", "ETH-SEPOLIA"]).await;
    let upper = w[0].address.to_uppercase().replacen("0X", "0x", 1);
    let found = s
        .wallets_at(Blockchain::MaticAmoy, &[upper, w[1].address.clone()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "only the MATIC-AMOY wallet");
    assert_eq!(found[0].id, w[0].id);
    assert!(s
        .wallets_at(Blockchain::MaticAmoy, &[])
        .await
        .unwrap()
        .is_empty());
}
