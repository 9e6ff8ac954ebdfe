//! The contract every challenge type fulfils: how it is created, what the hosted page asks
//! for and shows, what the execute body must hold, and what completing it does. The engine
//! calls these and nothing else type-specific.

use super::execution::{Completion, Execution};
use super::registry::ChallengePayload;
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::service::{ApiCaller, ExecuteBody, Latchkey, UserSession};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Debug;
use std::future::Future;

/// Which plaintext fields the hosted page must collect for a challenge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requires {
    /// The current PIN.
    pub pin: bool,
    /// A PIN to set.
    pub new_pin: bool,
    /// Security questions to set, with answers.
    pub security_questions: bool,
    /// Answers to the stored security questions.
    pub security_answers: bool,
}

/// The request of a create call that carries nothing but its idempotency key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NoRequest {}

/// Who asks for a new challenge, given to [`ChallengeSpec::prepare`].
#[derive(Debug, Clone, Copy)]
pub struct Creation<'a> {
    /// The services (to read the user's wallets, for instance).
    pub lk: &'a Latchkey,
    /// The developer's key (its environment decides which chains are allowed).
    pub caller: &'a ApiCaller,
    /// The end user the challenge is for.
    pub session: &'a UserSession,
}

/// One challenge type. Implement it in one module and register it in
/// [`super::registry`]; the engine does the rest.
pub trait ChallengeSpec: Send + Sync + 'static {
    /// The wire type.
    const KIND: ChallengeType;
    /// The webhook notification type sent when a challenge of this type ends.
    const NOTIFICATION: &'static str;

    /// Whether the emulator's shortcut may create this type from an empty request (a money
    /// challenge cannot: an empty transfer names no wallet, token or amount).
    const FROM_EMPTY_REQUEST: bool = true;

    /// What the developer's create call asks for; hashed into the idempotency fingerprint.
    type Request: Serialize + Default + Send + Sync;
    /// What the challenge keeps between creation and execution (stored as JSON).
    type Payload: Serialize
        + DeserializeOwned
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + Into<ChallengePayload>;
    /// What the decrypted execute body must hold for this type, checked.
    type Input: Send;

    /// Validates the create call and builds the payload.
    fn prepare(
        creation: Creation<'_>,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Payload, ApiError>> + Send;

    /// Whether the user may receive a challenge of this type now (checked after the
    /// idempotency replay, before the challenge is stored).
    fn check_user(user: &UserRecord) -> Result<(), ApiError>;

    /// What the hosted page must collect from this user.
    fn requires(user: &UserRecord) -> Requires;

    /// What the hosted page shows about the operation (`signing`); `null` when nothing.
    fn display(_payload: &Self::Payload) -> Result<Value, serde_json::Error> {
        Ok(Value::Null)
    }

    /// Checks on the user made at execution before the body is read.
    fn check_before_input(_user: &UserRecord) -> Result<(), ApiError> {
        Ok(())
    }

    /// Takes what this type needs from the decrypted body, checking it.
    fn input(body: ExecuteBody) -> Result<Self::Input, ApiError>;

    /// Does the work: opens what it must with the PIN or the answers, and says what the
    /// completing transaction writes and what the executing client gets back.
    fn complete(
        run: &Execution<'_>,
        payload: &Self::Payload,
        input: Self::Input,
    ) -> impl Future<Output = Result<Completion, ApiError>> + Send;
}

/// A required field of the execute body.
pub(crate) fn require<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::missing_field(field))
}
