//! CREATE_WALLET: the PIN opens the user key, under which new wallets' keys are sealed.

use super::execution::{Completion, Execution};
use super::signing::{self, PinInput};
use super::spec::{ChallengeSpec, Creation, Requires};
use super::wallets::{WalletPlan, WalletRequest};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The CREATE_WALLET challenge type.
#[derive(Debug)]
pub struct CreateWallet;

/// What the hosted page shows: which wallets the PIN is about to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletsView {
    /// `EOA` or `SCA`.
    pub account_type: String,
    /// The blockchains.
    pub blockchains: Vec<String>,
}

/// What a CREATE_WALLET challenge keeps: the plan, and what the page shows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateWalletPayload {
    /// The wallets to create.
    #[serde(flatten)]
    pub wallets: WalletPlan,
    /// What the hosted page shows.
    pub signing: WalletsView,
}

impl ChallengeSpec for CreateWallet {
    const KIND: ChallengeType = ChallengeType::CreateWallet;
    const NOTIFICATION: &'static str = "challenges.createWallet";
    type Request = WalletRequest;
    type Payload = CreateWalletPayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: WalletRequest,
    ) -> Result<CreateWalletPayload, ApiError> {
        let wallets = WalletPlan::for_caller(creation.lk, creation.caller, request, true).await?;
        let signing = WalletsView {
            account_type: wallets.account_type.clone(),
            blockchains: wallets.blockchains.clone(),
        };
        Ok(CreateWalletPayload { wallets, signing })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &CreateWalletPayload) -> Result<Value, serde_json::Error> {
        serde_json::to_value(&payload.signing)
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &CreateWalletPayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
        let wrap = run.pin_wrap()?;
        let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
        commit.wallets = payload.wallets.create(&user_key, run.user(), commit.now)?;
        commit.correlation_ids = commit.wallets.iter().map(|w| w.id.clone()).collect();
        commit.audit.push(run.audit(
            "wallets.created",
            json!({ "count": commit.wallets.len() }),
            commit.now,
        ));
        Ok(Completion::new(commit))
    }
}
