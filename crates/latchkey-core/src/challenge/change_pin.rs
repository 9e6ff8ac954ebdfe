//! CHANGE_PIN: the current PIN opens the user key, the new PIN rewraps it.

use super::body::{self, ExecuteBody};
use super::execution::{Completion, Execution};
use super::spec::{require, ChallengeSpec, Creation, NoRequest, Requires};
use crate::crypto::{self, WrapPurpose};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::service::SecretString;
use crate::store::PinUpdate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

/// The CHANGE_PIN challenge type.
#[derive(Debug)]
pub struct ChangePin;

/// What a CHANGE_PIN challenge keeps: nothing (stored as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangePinPayload {}

/// What CHANGE_PIN needs from the execute body.
#[derive(Debug)]
pub struct ChangePinInput {
    /// The current PIN.
    pub pin: SecretString,
    /// The PIN to set, different from the current one.
    pub new_pin: SecretString,
}

impl ChallengeSpec for ChangePin {
    const KIND: ChallengeType = ChallengeType::ChangePin;
    const NOTIFICATION: &'static str = "challenges.changePin";
    type Request = NoRequest;
    type Payload = ChangePinPayload;
    type Input = ChangePinInput;

    async fn prepare(
        _creation: Creation<'_>,
        _request: NoRequest,
    ) -> Result<ChangePinPayload, ApiError> {
        Ok(ChangePinPayload {})
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        if user.pin_wrap.is_none() {
            return Err(codes::PIN_NOT_SET);
        }
        Ok(())
    }

    fn requires(_user: &UserRecord) -> Requires {
        Requires {
            pin: true,
            new_pin: true,
            ..Requires::default()
        }
    }

    fn input(body: ExecuteBody) -> Result<ChangePinInput, ApiError> {
        let pin = require(body.pin, "pin")?;
        let new_pin = body::new_pin(body.new_pin)?;
        if crypto::ct_eq(pin.expose().as_bytes(), new_pin.expose().as_bytes()) {
            return Err(ApiError::invalid_field(
                "newPin",
                "invalid",
                "newPin must differ from the current PIN",
            ));
        }
        Ok(ChangePinInput { pin, new_pin })
    }

    async fn complete(
        run: &Execution<'_>,
        _payload: &ChangePinPayload,
        input: ChangePinInput,
    ) -> Result<Completion, ApiError> {
        let wrap = run.pin_wrap()?;
        let ticket = run.admit()?;
        let user_key = run.open_with_pin(&ticket, wrap, &input.pin).await?;
        let new_pin = Zeroizing::new(input.new_pin.expose().as_bytes().to_vec());
        let new_wrap = run
            .wrap(&ticket, WrapPurpose::Pin, user_key, new_pin)
            .await?;
        let now = run.lk().now();
        let mut commit = run.commit(now);
        commit.pin = Some(PinUpdate {
            wrap: new_wrap,
            expected_version: Some(run.user().pin_version),
        });
        commit.audit = vec![
            run.audit("pin.attempt.passed", json!({}), now),
            run.audit("pin.changed", json!({}), now),
        ];
        Ok(Completion::new(commit))
    }
}
