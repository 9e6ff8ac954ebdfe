//! SET_PIN: a user without a PIN sets one, with security questions.

use super::execution::{Completion, Execution};
use super::setup::{self, SetUpInput};
use super::spec::{ChallengeSpec, Creation, NoRequest, Requires};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};

/// The SET_PIN challenge type.
#[derive(Debug)]
pub struct SetPin;

/// What a SET_PIN challenge keeps: nothing (stored as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetPinPayload {}

impl ChallengeSpec for SetPin {
    const KIND: ChallengeType = ChallengeType::SetPin;
    const NOTIFICATION: &'static str = "challenges.setPin";
    type Request = NoRequest;
    type Payload = SetPinPayload;
    type Input = SetUpInput;

    async fn prepare(
        _creation: Creation<'_>,
        _request: NoRequest,
    ) -> Result<SetPinPayload, ApiError> {
        Ok(SetPinPayload {})
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        if user.pin_wrap.is_some() {
            return Err(codes::PIN_ALREADY_SET);
        }
        Ok(())
    }

    fn requires(user: &UserRecord) -> Requires {
        Requires {
            new_pin: true,
            security_questions: user.answers_wrap.is_none(),
            ..Requires::default()
        }
    }

    fn check_before_input(user: &UserRecord) -> Result<(), ApiError> {
        setup::check_fresh(user)
    }

    fn input(body: ExecuteBody) -> Result<SetUpInput, ApiError> {
        setup::input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        _payload: &SetPinPayload,
        input: SetUpInput,
    ) -> Result<Completion, ApiError> {
        setup::set_up(run, input, None).await
    }
}
