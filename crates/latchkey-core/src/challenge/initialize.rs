//! INITIALIZE: a new user sets a PIN and security questions, and may get wallets in the
//! same step.

use super::execution::{Completion, Execution};
use super::setup::{self, SetUpInput};
use super::spec::{ChallengeSpec, Creation, Requires};
use super::wallets::{WalletPlan, WalletRequest};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};

/// The INITIALIZE challenge type.
#[derive(Debug)]
pub struct Initialize;

/// What an INITIALIZE challenge keeps: the wallets to create (possibly none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InitializePayload {
    /// The wallets to create with the user key.
    pub wallets: WalletPlan,
}

fn check_not_initialized(user: &UserRecord) -> Result<(), ApiError> {
    if user.pin_wrap.is_some() || user.answers_wrap.is_some() {
        return Err(codes::USER_ALREADY_INITIALIZED);
    }
    Ok(())
}

impl ChallengeSpec for Initialize {
    const KIND: ChallengeType = ChallengeType::Initialize;
    const NOTIFICATION: &'static str = "challenges.initialize";
    type Request = WalletRequest;
    type Payload = InitializePayload;
    type Input = SetUpInput;

    async fn prepare(
        creation: Creation<'_>,
        request: WalletRequest,
    ) -> Result<InitializePayload, ApiError> {
        let wallets = WalletPlan::for_caller(creation.lk, creation.caller, request, false).await?;
        Ok(InitializePayload { wallets })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        check_not_initialized(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        Requires {
            new_pin: true,
            security_questions: true,
            ..Requires::default()
        }
    }

    fn check_before_input(user: &UserRecord) -> Result<(), ApiError> {
        check_not_initialized(user)?;
        setup::check_fresh(user)
    }

    fn input(body: ExecuteBody) -> Result<SetUpInput, ApiError> {
        setup::input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &InitializePayload,
        input: SetUpInput,
    ) -> Result<Completion, ApiError> {
        setup::set_up(run, input, Some(&payload.wallets)).await
    }
}
