//! Nonce reservation: one nonce per challenge however often it asks, distinct nonces under
//! concurrency, the chain's pending count respected, released claims handed out first and
//! dead below the chain's latest count, and the sweeper releasing abandoned claims.

use super::transactions::wallets;
use super::*;
use latchkey_core::money::ChainNonces;

fn chain(latest: u64, pending: u64) -> ChainNonces {
    ChainNonces { latest, pending }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_challenge_keeps_its_nonce_and_the_next_one_follows() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "u", T0).await;
    let w = &wallets(&*s, &e, &u, &["MATIC-AMOY", "MATIC-AMOY"]).await;
    let (c1, c2, c3) = (new_id(), new_id(), new_id());
    assert_eq!(
        s.reserve_nonce(&w[0].id, &c1, chain(0, 0), T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.reserve_nonce(&w[0].id, &c1, chain(0, 0), T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.reserve_nonce(&w[0].id, &c2, chain(0, 0), T0)
            .await
            .unwrap(),
        1
    );
    // The node knows of nonces up to 4 (sent outside latchkey): the next claim is 5.
    assert_eq!(
        s.reserve_nonce(&w[0].id, &c3, chain(5, 5), T0)
            .await
            .unwrap(),
        5
    );
    // Another wallet counts on its own.
    assert_eq!(
        s.reserve_nonce(&w[1].id, &new_id(), chain(0, 0), T0)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn concurrent_reservations_get_distinct_nonces() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "u", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY"]).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (s, wallet) = (s.clone(), w[0].id.clone());
        tasks.push(tokio::spawn(async move {
            s.reserve_nonce(&wallet, &new_id(), chain(0, 0), T0)
                .await
                .unwrap()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (0..12).collect::<Vec<u64>>());
}

#[tokio::test]
async fn abandoned_claims_are_released_reused_first_and_dead_once_the_chain_passed_them() {
    let s = fresh_store().await;
    let e = entity(&*s).await;
    let u = user(&*s, &e, "u", T0).await;
    let w = wallets(&*s, &e, &u, &["MATIC-AMOY"]).await;
    let wallet = &w[0].id;
    let open = |_: ()| challenge(&e, &u, ChallengeType::SetPin);
    let (a, b, c) = (open(()), open(()), open(()));
    for (i, ch) in [&a, &b, &c].into_iter().enumerate() {
        s.create_challenge(ch, &claim(&ch.id, i as u8), 100)
            .await
            .unwrap();
        let n = s
            .reserve_nonce(wallet, &ch.id, chain(0, 0), T0)
            .await
            .unwrap();
        assert_eq!(n, i as u64);
    }
    // Nothing has ended: the sweeper leaves every claim alone.
    assert_eq!(s.release_abandoned_nonces(T0).await.unwrap(), 0);
    // Past their expiry all three are abandoned.
    let later = T0.plus_ms(900_000);
    assert_eq!(s.release_abandoned_nonces(later).await.unwrap(), 3);
    assert_eq!(s.release_abandoned_nonces(later).await.unwrap(), 0);
    // The lowest released claim goes first...
    assert_eq!(
        s.reserve_nonce(wallet, &new_id(), chain(0, 0), later)
            .await
            .unwrap(),
        0
    );
    // ...unless the chain used it meanwhile: 1 is dead, 2 is free.
    assert_eq!(
        s.reserve_nonce(wallet, &new_id(), chain(2, 2), later)
            .await
            .unwrap(),
        2
    );
    // Nothing released is left: a new claim after the highest.
    assert_eq!(
        s.reserve_nonce(wallet, &new_id(), chain(2, 2), later)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn gas_station_nonces_follow_the_same_rules_per_station_with_the_transaction_as_holder() {
    let s = fresh_store().await;
    let station = "MATIC-AMOY:0x00000000000000000000000000000000000000aa";
    let (t1, t2) = (new_id(), new_id());
    // The node already counts 3 of the station's transactions.
    assert_eq!(
        s.reserve_station_nonce(station, &t1, chain(3, 3), T0)
            .await
            .unwrap(),
        3
    );
    // A bundling step that crashed before storing its bundle gets the same nonce back.
    assert_eq!(
        s.reserve_station_nonce(station, &t1, chain(3, 3), T0)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.reserve_station_nonce(station, &t2, chain(3, 3), T0)
            .await
            .unwrap(),
        4
    );
    // Another station (or chain) counts on its own; wallets' nonces are untouched.
    assert_eq!(
        s.reserve_station_nonce("ETH-SEPOLIA:0xaa", &new_id(), chain(0, 0), T0)
            .await
            .unwrap(),
        0
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.reserve_station_nonce(station, &new_id(), chain(0, 0), T0)
                .await
                .unwrap()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (5..13).collect::<Vec<u64>>());
}
