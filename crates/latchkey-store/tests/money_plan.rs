//! The money plans against a real database (SQLite by default, PostgreSQL when
//! `LATCHKEY_TEST_DATABASE_URL` names one): a request may use only the caller's own wallets
//! (by id or by address and blockchain), and a token the registry does not know is 156002.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::challenge::ChallengePayload;
use latchkey_core::clock::Timestamp;
use latchkey_core::error::ApiError;
use latchkey_core::model::*;
use latchkey_core::money::{
    CreateContractExecutionRequest, CreateTransferRequest, EstimateContractExecutionFeeRequest,
    EstimateTransferFeeRequest, PlannedTransfer, WalletOwner,
};
use latchkey_core::store::*;
use std::sync::Arc;

#[path = "support/fresh_database.rs"]
mod fresh_database;

const T0: Timestamp = Timestamp(1_800_000_000_000);
const ADDRESS: &str = "0x52908400098527886E0F7030069857D2E4169EE7";
const DEST: &str = "0x2222222222222222222222222222222222222222";
const CONTRACT: &str = "0x3333333333333333333333333333333333333333";

struct World {
    store: Arc<dyn Store>,
    entity: String,
    alice: UserRecord,
    bob: UserRecord,
}

impl World {
    fn owner<'a>(&'a self, u: &'a UserRecord) -> WalletOwner<'a> {
        WalletOwner {
            entity_id: &self.entity,
            user_internal_id: &u.internal_id,
        }
    }
}

async fn user(store: &dyn Store, entity: &str, user_id: &str) -> UserRecord {
    store
        .insert_user(&NewUser {
            entity_id: entity.into(),
            environment: Environment::Test,
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.into(),
            created_at: T0,
        })
        .await
        .unwrap()
}

/// A store with two users; alice has one MATIC-AMOY wallet (`w-alice`) at [`ADDRESS`].
async fn world() -> World {
    let (url, _) = fresh_database::fresh_database_url().await;
    let store = latchkey_store::open(&url, 4).await.unwrap();
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "e".into(),
        created_at: T0,
    };
    let (e, _) = store.ensure_default_entity(&e).await.unwrap();
    let alice = user(&*store, &e.id, "alice-user").await;
    let bob = user(&*store, &e.id, "bob-user").await;
    let challenge = ChallengeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: e.id.clone(),
        user_internal_id: alice.internal_id.clone(),
        kind: ChallengeType::Initialize,
        status: ChallengeStatus::Pending,
        correlation_ids: vec![],
        error_code: None,
        error_message: None,
        payload: ChallengePayload::decode(ChallengeType::Initialize, "{}").unwrap(),
        created_at: T0,
        expires_at: T0.plus_ms(900_000),
        updated_at: T0,
    };
    let claim = IdempotencyClaim {
        key: "k".into(),
        request_hash: vec![1; 32],
    };
    store
        .create_challenge(&challenge, &claim, 100)
        .await
        .unwrap();
    let wallet = WalletRecord {
        id: "w-alice".into(),
        entity_id: e.id.clone(),
        user_internal_id: alice.internal_id.clone(),
        user_id: alice.user_id.clone(),
        wallet_set_id: "set".into(),
        blockchain: "MATIC-AMOY".into(),
        account_type: "EOA".into(),
        address: ADDRESS.into(),
        state: "LIVE".into(),
        name: None,
        ref_id: None,
        sealed_key: vec![7; 60],
        sca_core: None,
        owner_address: None,
        deployed_at: None,
        created_at: T0,
        updated_at: T0,
    };
    let commit = ChallengeCommit {
        entity_id: e.id.clone(),
        user_internal_id: alice.internal_id.clone(),
        challenge_id: challenge.id.clone(),
        now: T0.plus_ms(1),
        pin: None,
        answers: None,
        reset_pin_guesses: false,
        rewraps: vec![],
        correlation_ids: vec![wallet.id.clone()],
        audit: vec![],
        notification: None,
        wallets: vec![wallet],
        outbound: None,
    };
    assert_eq!(store.complete_challenge(&commit).await.unwrap(), Ok(()));
    World {
        store,
        entity: e.id,
        alice,
        bob,
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> i64 {
    r.map_or_else(|e| e.code, |_| 0)
}

fn transfer(
    wallet_id: Option<&str>,
    address: Option<&str>,
    chain: Option<&str>,
) -> CreateTransferRequest {
    CreateTransferRequest {
        wallet_id: wallet_id.map(Into::into),
        wallet_address: address.map(Into::into),
        blockchain: chain.map(Into::into),
        // No registry has this token (the tests must not depend on which tokens are seeded).
        token_id: Some(uuid::Uuid::new_v4().to_string()),
        destination_address: Some(DEST.into()),
        amounts: Some(vec!["1".into()]),
        ..CreateTransferRequest::default()
    }
}

fn call(
    wallet_id: Option<&str>,
    address: Option<&str>,
    chain: Option<&str>,
) -> CreateContractExecutionRequest {
    CreateContractExecutionRequest {
        wallet_id: wallet_id.map(Into::into),
        wallet_address: address.map(Into::into),
        blockchain: chain.map(Into::into),
        contract_address: Some(CONTRACT.into()),
        abi_function_signature: Some("burn(uint256)".into()),
        abi_parameters: Some(vec![serde_json::json!("5")]),
        amount: Some("0.5".into()),
        ..CreateContractExecutionRequest::default()
    }
}

#[tokio::test]
async fn contract_calls_use_only_the_callers_wallets() {
    let w = world().await;
    let s = &*w.store;
    let alice = w.owner(&w.alice);
    let bob = w.owner(&w.bob);

    let plan = call(Some("w-alice"), None, None)
        .plan(s, alice)
        .await
        .unwrap();
    assert_eq!(plan.wallet_id, "w-alice");
    assert_eq!(
        plan.call.from,
        ADDRESS.parse::<latchkey_chains::Address>().unwrap()
    );
    assert_eq!(
        plan.call.data,
        latchkey_chains::encode_call("burn(uint256)", &[serde_json::json!(5)]).unwrap()
    );

    // By address, in any letter case, on the wallet's chain.
    let by_address = call(None, Some(&ADDRESS.to_lowercase()), Some("MATIC-AMOY"));
    assert_eq!(
        by_address.plan(s, alice).await.unwrap().wallet_id,
        "w-alice"
    );

    let cases = [
        // Another user's wallet, by id or by address: as if it did not exist.
        (call(Some("w-alice"), None, None), bob, 156001),
        (call(None, Some(ADDRESS), Some("MATIC-AMOY")), bob, 156001),
        (call(Some("w-none"), None, None), alice, 156001),
        // The right address on another chain is another wallet.
        (
            call(None, Some(ADDRESS), Some("ETH-SEPOLIA")),
            alice,
            156001,
        ),
        (
            call(Some("w-alice"), Some(ADDRESS), Some("MATIC-AMOY")),
            alice,
            155244,
        ),
        (
            call(Some("w-alice"), None, Some("ETH-SEPOLIA")),
            alice,
            155225,
        ),
        (call(None, Some(ADDRESS), None), alice, 2),
    ];
    for (i, (req, owner, want)) in cases.into_iter().enumerate() {
        assert_eq!(code(req.plan(s, owner).await), want, "case {i}");
    }

    // The estimate body names the address sourceAddress.
    let estimate = EstimateContractExecutionFeeRequest {
        source_address: Some(ADDRESS.into()),
        blockchain: Some("MATIC-AMOY".into()),
        contract_address: Some(CONTRACT.into()),
        call_data: Some("0x42966c68".into()),
        ..EstimateContractExecutionFeeRequest::default()
    };
    assert_eq!(
        estimate.plan(s, alice).await.unwrap().call.data,
        vec![0x42, 0x96, 0x6c, 0x68]
    );
    assert_eq!(code(estimate.plan(s, bob).await), 156001);
}

#[tokio::test]
async fn transfers_resolve_the_wallet_then_the_token() {
    let w = world().await;
    let s = &*w.store;
    let alice = w.owner(&w.alice);
    let bob = w.owner(&w.bob);

    // A token the registry does not have (by id or by address) is 156002, after the wallet
    // was found to be the caller's.
    assert_eq!(
        code(transfer(Some("w-alice"), None, None).plan(s, alice).await),
        156002
    );
    assert_eq!(
        code(transfer(Some("w-alice"), None, None).plan(s, bob).await),
        156001
    );
    let by_address = CreateTransferRequest {
        token_id: None,
        token_address: Some("0x4444444444444444444444444444444444444444".into()),
        ..transfer(None, Some(ADDRESS), Some("MATIC-AMOY"))
    };
    assert_eq!(code(by_address.plan(s, alice).await), 156002);
    let bad_token = CreateTransferRequest {
        token_address: Some("0x41e9".into()),
        ..by_address.clone()
    };
    assert_eq!(code(bad_token.plan(s, alice).await), 155239);
    let no_token = CreateTransferRequest {
        token_address: None,
        ..by_address.clone()
    };
    assert_eq!(code(no_token.plan(s, alice).await), 155228);
    assert_eq!(
        code(
            transfer(Some("w-alice"), Some(ADDRESS), None)
                .plan(s, alice)
                .await
        ),
        155244
    );

    let estimate = EstimateTransferFeeRequest {
        wallet_id: Some("w-alice".into()),
        token_address: Some(String::new()),
        destination_address: Some(DEST.into()),
        amounts: Some(vec!["0.01".into()]),
        ..EstimateTransferFeeRequest::default()
    };
    assert_eq!(code(estimate.plan(s, bob).await), 156001);

    // The SDK's token-by-id input has no `blockchain`: a wallet by address is then looked up
    // on the token's chain (Circle's MATIC-AMOY USDC here).
    let by_source = EstimateTransferFeeRequest {
        wallet_id: None,
        source_address: Some(ADDRESS.into()),
        token_address: None,
        token_id: Some("36b6931a-873a-56a8-8a27-b706b17104ee".into()),
        ..estimate.clone()
    };
    let Ok(PlannedTransfer::Evm(plan)) = by_source.plan(s, alice).await else {
        panic!("an EVM plan")
    };
    assert_eq!(
        (plan.wallet_id.as_str(), plan.blockchain),
        ("w-alice", latchkey_chains::Blockchain::MaticAmoy)
    );
    assert_eq!(code(by_source.plan(s, bob).await), 156001);
    let unknown = EstimateTransferFeeRequest {
        token_id: Some(uuid::Uuid::new_v4().to_string()),
        ..by_source.clone()
    };
    assert_eq!(code(unknown.plan(s, alice).await), 156002);
    let on_token_chain = EstimateTransferFeeRequest {
        token_id: Some("5797fbd6-3795-519d-84ca-ec4c5f80c3b1".into()), // ETH-SEPOLIA USDC
        ..by_source
    };
    assert_eq!(code(on_token_chain.plan(s, alice).await), 156001);
}

/// The estimate services validate the request first, then need the chain's node: without one
/// the answer is 156027 naming the setting.
#[tokio::test]
async fn estimates_without_a_node_name_the_setting() {
    use latchkey_core::clock::SystemClock;
    use latchkey_core::crypto::{KdfParams, MasterKey};
    use latchkey_core::kdf_pool::KdfPool;
    use latchkey_core::session::SessionClaims;
    use latchkey_core::{Latchkey, Settings, UserSession};

    let w = world().await;
    let lk = Latchkey::new(
        w.store.clone(),
        Arc::new(SystemClock),
        MasterKey::generate(),
        KdfPool::new(1, 8),
        Settings {
            kdf: KdfParams::DEV,
            ..Settings::default()
        },
    );
    let session = |u: &UserRecord| UserSession {
        claims: SessionClaims {
            sub: u.user_id.clone(),
            iat: 0,
            exp: 0,
            jti: "j".into(),
            iss: "latchkey".into(),
            entity_id: w.entity.clone(),
            internal_user_id: u.internal_id.clone(),
            environment: "TEST".into(),
        },
        user: u.clone(),
    };
    let request = EstimateContractExecutionFeeRequest {
        wallet_id: Some("w-alice".into()),
        contract_address: Some(CONTRACT.into()),
        call_data: Some("0x42966c68".into()),
        ..EstimateContractExecutionFeeRequest::default()
    };
    let e = lk
        .estimate_contract_execution_fee(&session(&w.alice), &request)
        .await
        .unwrap_err();
    assert_eq!(e.code, 156027);
    assert!(e.message.contains("--rpc MATIC-AMOY=URL"), "{}", e.message);
    let e = lk
        .estimate_contract_execution_fee(&session(&w.bob), &request)
        .await
        .unwrap_err();
    assert_eq!(e.code, 156001);
    let transfer = EstimateTransferFeeRequest {
        wallet_id: Some("w-alice".into()),
        token_id: Some(uuid::Uuid::new_v4().to_string()),
        destination_address: Some(DEST.into()),
        amounts: Some(vec!["1".into()]),
        ..EstimateTransferFeeRequest::default()
    };
    // A token no registry has: the request is refused before any node is needed.
    let e = lk
        .estimate_transfer_fee(&session(&w.alice), &transfer)
        .await
        .unwrap_err();
    assert_eq!(e.code, 156002);
}
