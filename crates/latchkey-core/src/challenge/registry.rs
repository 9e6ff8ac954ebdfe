//! The registered challenge types: one line each in [`challenge_types!`] below. From that
//! list come the typed payload enum (one variant per type, stored as JSON text) and the
//! dispatch from a stored challenge to its spec.

use super::engine::{run, Idempotency};
use super::execution::Execution;
use super::spec::{ChallengeSpec, Requires};
use super::{
    change_pin, create_wallet, initialize, restore_pin, set_pin, sign_message, sign_transaction,
    sign_typed_data,
};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::service::{ApiCaller, ExecuteBody, ExecuteOutcome, Latchkey, UserSession};
use serde_json::Value;

/// A payload that cannot be stored or read back.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The stored text is not the JSON this type keeps.
    #[error("the {kind} challenge payload is not valid: {source}")]
    Json {
        /// The challenge type.
        kind: &'static str,
        /// What serde said (the payload holds no secret).
        source: serde_json::Error,
    },
    /// No spec is registered for this type.
    #[error("no challenge spec is registered for {0}")]
    Unsupported(&'static str),
}

fn encode<S: ChallengeSpec>(payload: &S::Payload) -> Result<String, PayloadError> {
    let json = |source| PayloadError::Json {
        kind: S::KIND.as_str(),
        source,
    };
    // Through `Value`, whose maps are sorted, so the text is the one stored before payloads
    // were typed.
    let value = serde_json::to_value(payload).map_err(json)?;
    serde_json::to_string(&value).map_err(json)
}

fn decode<S: ChallengeSpec>(text: &str) -> Result<S::Payload, PayloadError> {
    serde_json::from_str(text).map_err(|source| PayloadError::Json {
        kind: S::KIND.as_str(),
        source,
    })
}

macro_rules! challenge_types {
    ($($variant:ident => $spec:ty),* $(,)?) => {
        /// What a challenge keeps from its creation: one variant per registered type, each
        /// holding that type's payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ChallengePayload {
            $(
                #[doc = concat!("The payload of [`", stringify!($spec), "`].")]
                $variant(<$spec as ChallengeSpec>::Payload),
            )*
        }

        $(
            impl From<<$spec as ChallengeSpec>::Payload> for ChallengePayload {
                fn from(payload: <$spec as ChallengeSpec>::Payload) -> Self {
                    ChallengePayload::$variant(payload)
                }
            }
        )*

        impl ChallengePayload {
            /// The challenge type.
            pub fn kind(&self) -> ChallengeType {
                match self {
                    $(ChallengePayload::$variant(_) => <$spec>::KIND,)*
                }
            }

            /// The JSON text the store keeps.
            pub fn encode(&self) -> Result<String, PayloadError> {
                match self {
                    $(ChallengePayload::$variant(p) => encode::<$spec>(p),)*
                }
            }

            /// Reads back what [`ChallengePayload::encode`] wrote for a challenge of `kind`.
            pub fn decode(kind: ChallengeType, text: &str) -> Result<Self, PayloadError> {
                $(
                    if kind == <$spec>::KIND {
                        return decode::<$spec>(text).map(ChallengePayload::$variant);
                    }
                )*
                Err(PayloadError::Unsupported(kind.as_str()))
            }

            /// The webhook notification type sent when the challenge ends.
            pub fn notification_type(&self) -> &'static str {
                match self {
                    $(ChallengePayload::$variant(_) => <$spec>::NOTIFICATION,)*
                }
            }

            /// What the hosted page shows about the operation (`signing`).
            pub fn display(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(ChallengePayload::$variant(p) => <$spec>::display(p),)*
                }
            }

            /// What the hosted page must collect from `user`.
            pub fn requires(&self, user: &UserRecord) -> Requires {
                match self {
                    $(ChallengePayload::$variant(_) => <$spec>::requires(user),)*
                }
            }
        }

        /// Runs the spec of the challenge being executed.
        pub(crate) async fn execute(
            exec: &Execution<'_>,
            body: ExecuteBody,
        ) -> Result<ExecuteOutcome, ApiError> {
            match &exec.challenge.payload {
                $(ChallengePayload::$variant(p) => run::<$spec>(exec, p, body).await,)*
            }
        }

        /// Creates a challenge of `kind` from a default (empty) request.
        pub(crate) async fn create_default(
            lk: &Latchkey,
            caller: &ApiCaller,
            session: &UserSession,
            kind: ChallengeType,
            idempotency: Idempotency<'_>,
        ) -> Result<(String, bool), ApiError> {
            $(
                if kind == <$spec>::KIND {
                    return lk
                        .create_challenge::<$spec>(caller, session, Default::default(), idempotency)
                        .await;
                }
            )*
            Err(crate::error::codes::CHALLENGE_INVALID
                .with_message("This challenge type is not supported yet."))
        }
    };
}

challenge_types! {
    Initialize => initialize::Initialize,
    SetPin => set_pin::SetPin,
    ChangePin => change_pin::ChangePin,
    RestorePin => restore_pin::RestorePin,
    CreateWallet => create_wallet::CreateWallet,
    SignMessage => sign_message::SignMessage,
    SignTypedData => sign_typed_data::SignTypedData,
    SignTransaction => sign_transaction::SignTransaction,
}
