//! The gas station's sponsorship policy: per entity and chain, whether latchkey's paymaster
//! pays for SCA operations and within which daily limits. Refused synchronously (Circle's
//! 177018–177022) when a challenge is created, and after the PIN (the transaction FAILED with
//! Circle's `PAYMASTER_POLICY_*` reason, nothing signed or sent) when the day changed in
//! between; a mainnet without an active policy gets no SCA wallets (155509). On anvil with the
//! real contracts, on both databases.

use crate::money_transfers::{create, engine_until, transaction, usdc_balance};
use crate::sca_operations::{app_with_station, approve_on, mint_usdc, sca_wallet};
use crate::support::anvil::Anvil;
use crate::support::*;
use latchkey_chains::{parse_units, Blockchain, U256};
use latchkey_core::model::Environment;
use latchkey_core::money::PaymasterPolicy;
use reqwest::Method;
use serde_json::{json, Value};

const USDC_AMOY_ID: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
const USDC_AMOY: &str = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";
const DEST: &str = "0x4444444444444444444444444444444444444444";

fn amoy_policy() -> PaymasterPolicy {
    PaymasterPolicy::default_for(Blockchain::MaticAmoy)
}

async fn set(app: &TestApp, policy: PaymasterPolicy) {
    app.lk
        .set_paymaster_policy(&app.entity_id, &policy)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_policy_caps_operations_and_native_coin_per_day_and_per_operation() {
    let amoy = Anvil::start(80_002).await;
    let (app, _) = app_with_station(&amoy).await;
    let u = app.user().await;
    let (wid, safe) = sca_wallet(&app, &u).await;
    mint_usdc(&amoy, &safe, 10_000_000).await;
    let transfer = |amount: &str| {
        json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "walletId": wid,
            "tokenId": USDC_AMOY_ID, "destinationAddress": DEST, "amounts": [amount],
            "feeLevel": "MEDIUM" })
    };
    let refused = |r: (u16, i64, Value)| (r.0, r.1);

    // A per-operation cap of 1 wei does not apply to the account's first operation, which
    // deploys it (Circle's rule).
    set(
        &app,
        PaymasterPolicy {
            max_native_per_tx: Some(U256::from(1u64)),
            ..amoy_policy()
        },
    )
    .await;
    let first = approve_on(
        &app,
        &u,
        "/v1/w3s/user/transactions/transfer",
        transfer("1"),
    )
    .await;
    let done = engine_until(&app, &u, &first, "COMPLETE").await;
    let spent = parse_units(done["networkFee"].as_str().unwrap(), 18).unwrap();
    assert!(spent > U256::ZERO, "{done}");
    let used = app
        .lk
        .sponsored_today(&app.entity_id, Blockchain::MaticAmoy)
        .await
        .unwrap();
    assert_eq!((used.operations, used.native), (1, spent));

    // Deployed now: the same cap refuses the next one (177020), naming the cap.
    let r = create(&app, &u, transfer("1")).await;
    assert_eq!(refused(r.clone()), (400, 177020), "{}", r.2);
    assert!(
        r.2["message"].as_str().unwrap().contains("per operation"),
        "{}",
        r.2
    );

    // A daily native cap that today's operation nearly used up (177022).
    set(
        &app,
        PaymasterPolicy {
            max_native_daily: Some(spent + U256::from(1u64)),
            ..amoy_policy()
        },
    )
    .await;
    let r = create(&app, &u, transfer("1")).await;
    assert_eq!(refused(r.clone()), (400, 177022), "{}", r.2);

    // One operation a day, used (177019); an inactive policy (177018).
    set(
        &app,
        PaymasterPolicy {
            max_ops_daily: Some(1),
            ..amoy_policy()
        },
    )
    .await;
    let r = create(&app, &u, transfer("1")).await;
    assert_eq!(refused(r.clone()), (400, 177019), "{}", r.2);
    set(
        &app,
        PaymasterPolicy {
            active: false,
            ..amoy_policy()
        },
    )
    .await;
    let r = create(&app, &u, transfer("1")).await;
    assert_eq!(refused(r.clone()), (400, 177018), "{}", r.2);
    // Contract executions are operations too.
    let call = json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "walletId": wid,
        "contractAddress": USDC_AMOY, "abiFunctionSignature": "transfer(address,uint256)",
        "abiParameters": [DEST, "1"], "feeLevel": "LOW" });
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/transactions/contractExecution",
            Some(&u.token),
            Some(call),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(177018)), "{b}");

    // Back to the testnet's default (active, no limits): the challenge is created. Then the
    // operator lowers the daily count before the user approves: the PIN completes the
    // challenge, the transaction FAILED with Circle's reason, nothing signed or sent.
    assert!(app
        .lk
        .reset_paymaster_policy(&app.entity_id, Blockchain::MaticAmoy)
        .await
        .unwrap());
    let (s, _, challenge) = create(&app, &u, transfer("2")).await;
    assert_eq!(s, 201, "{challenge}");
    let cid = challenge["data"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    set(
        &app,
        PaymasterPolicy {
            max_ops_daily: Some(1),
            ..amoy_policy()
        },
    )
    .await;
    app.executor(&u)
        .execute(&cid, &json!({ "pin": PIN }))
        .await
        .unwrap();
    let c = app.challenge_status(&u, &cid).await;
    assert_eq!(c["status"], "COMPLETE", "{c}");
    let id = c["correlationIds"][0].as_str().unwrap().to_owned();
    let t = transaction(&app, &u, &id).await;
    assert_eq!(t["state"], "FAILED", "{t}");
    assert_eq!(
        t["errorReason"], "PAYMASTER_POLICY_EXCEED_MAX_DAILY_TRANSACTIONS",
        "{t}"
    );
    assert!(t["userOpHash"].is_null() && t["txHash"].is_null(), "{t}");
    app.engine.run_once().await;
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 1_000_000);

    // What was refused does not count: a second operation a day is allowed again.
    set(
        &app,
        PaymasterPolicy {
            max_ops_daily: Some(2),
            ..amoy_policy()
        },
    )
    .await;
    let second = approve_on(
        &app,
        &u,
        "/v1/w3s/user/transactions/transfer",
        transfer("2"),
    )
    .await;
    engine_until(&app, &u, &second, "COMPLETE").await;
    assert_eq!(usdc_balance(&amoy, USDC_AMOY, DEST).await, 3_000_000);
    let r = create(&app, &u, transfer("1")).await;
    assert_eq!(refused(r.clone()), (400, 177019), "{}", r.2);
}

#[tokio::test]
async fn sca_wallets_on_a_mainnet_need_an_active_policy() {
    let app = spawn_app().await;
    let live = app.with_key_of(Environment::Live).await;
    let u = live.user().await;
    let initialize = |chain: &str| {
        json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": [chain],
            "accountType": "SCA" })
    };
    let start = |body: Value| {
        let (live, u) = (&live, &u);
        async move {
            let (s, b, _) = live
                .call(
                    Method::POST,
                    "/v1/w3s/user/initialize",
                    Some(&u.token),
                    Some(body),
                )
                .await;
            (s, b["code"].as_i64(), b)
        }
    };

    // No policy on ETH: no SCA wallet there (155509, naming the command that sets one).
    let (s, code, b) = start(initialize("ETH")).await;
    assert_eq!((s, code), (400, Some(155509)), "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("paymaster-policy"),
        "{b}"
    );
    // An EOA wallet on ETH needs none.
    let (s, _, b) = start(json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        "blockchains": ["ETH"] }))
    .await;
    assert_eq!(s, 201, "{b}");
    // The operator activates one: the SCA challenge is created.
    let eth = PaymasterPolicy {
        active: true,
        ..PaymasterPolicy::default_for(Blockchain::Eth)
    };
    set(&live, eth.clone()).await;
    let (s, _, b) = start(initialize("ETH")).await;
    assert_eq!(s, 201, "{b}");
    // Deactivated again: refused again. Another entity's policy is not this one's.
    set(
        &live,
        PaymasterPolicy {
            active: false,
            ..eth
        },
    )
    .await;
    let (s, code, b) = start(initialize("ETH")).await;
    assert_eq!((s, code), (400, Some(155509)), "{b}");
    let policies = live.lk.paymaster_policies(&live.entity_id).await.unwrap();
    assert_eq!(policies.len(), 1);
    assert!(!policies[0].0.active);
    let other = app.lk.paymaster_policies("no-such-entity").await.unwrap();
    assert!(other.is_empty());

    // A policy only exists for a chain with SCA wallets.
    let e = app
        .lk
        .set_paymaster_policy(
            &app.entity_id,
            &PaymasterPolicy::default_for(Blockchain::Sol),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 155507);
}
