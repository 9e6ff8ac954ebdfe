//! The registered challenge types: one line each in [`challenge_types!`] below. From that
//! list come the typed payload enum (one variant per type, stored as JSON text) and the
//! dispatch from a stored challenge to its spec.

use super::engine::{run, Idempotency};
use super::execution::Execution;
use super::spec::{ChallengeSpec, Requires};
use super::{
    change_pin, contract_execution, create_transaction, create_wallet, initialize,
    replace_transaction, restore_pin, set_pin, sign_message, sign_transaction, sign_typed_data,
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
        // A transfer's payload (plan, quote, summary) is much larger than a PIN change's;
        // one payload lives per request, so boxing would buy nothing measurable.
        #[allow(clippy::large_enum_variant)]
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
                if kind == <$spec>::KIND && <$spec>::FROM_EMPTY_REQUEST {
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
    CreateTransaction => create_transaction::CreateTransaction,
    ContractExecution => contract_execution::ContractExecution,
    AccelerateTransaction => replace_transaction::AccelerateTransaction,
    CancelTransaction => replace_transaction::CancelTransaction,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Payloads exactly as the untyped code stored them (`serde_json::Value` text).
    const STORED: &[(ChallengeType, &str)] = &[
        (
            ChallengeType::Initialize,
            r#"{"accountType":"EOA","blockchains":["ETH-SEPOLIA"],"metadata":[{"name":"a","refId":"r"}]}"#,
        ),
        (
            ChallengeType::Initialize,
            r#"{"accountType":"EOA","blockchains":[],"metadata":null}"#,
        ),
        (ChallengeType::SetPin, "{}"),
        (ChallengeType::ChangePin, "{}"),
        (ChallengeType::RestorePin, "{}"),
        (
            ChallengeType::CreateWallet,
            r#"{"accountType":"EOA","blockchains":["ETH-SEPOLIA","SOL-DEVNET"],"metadata":null,"signing":{"accountType":"EOA","blockchains":["ETH-SEPOLIA","SOL-DEVNET"]}}"#,
        ),
        (
            ChallengeType::SignMessage,
            r#"{"encodedByHex":false,"message":"hi","signing":{"address":"0xab","blockchain":"ETH-SEPOLIA","encodedByHex":false,"memo":null,"message":"hi","walletId":"w"},"walletId":"w"}"#,
        ),
        (
            ChallengeType::SignTypedData,
            r#"{"data":"{\"x\":1}","signing":{"address":"0xab","blockchain":"ETH-SEPOLIA","memo":"m","typedData":{"domain":{"name":"d"}},"walletId":"w"},"walletId":"w"}"#,
        ),
        (
            ChallengeType::SignTransaction,
            r#"{"rawTransaction":"0x02","signing":{"address":"0xab","blockchain":"ETH-SEPOLIA","memo":null,"transaction":{"chainId":11155111},"walletId":"w"},"transaction":null,"walletId":"w"}"#,
        ),
        (
            ChallengeType::SignTransaction,
            r#"{"rawTransaction":null,"signing":{"address":"0xab","blockchain":"ETH-SEPOLIA","memo":null,"transaction":{"to":"0x1"},"walletId":"w"},"transaction":{"to":"0x1"},"walletId":"w"}"#,
        ),
        (
            ChallengeType::SignTransaction,
            r#"{"rawTransaction":"AQ==","signing":{"address":"So1","blockchain":"SOL-DEVNET","memo":null,"rawTransaction":"AQ==","walletId":"w"},"transaction":null,"walletId":"w"}"#,
        ),
    ];

    #[test]
    fn stored_payloads_decode_and_encode_to_the_same_text() {
        for (kind, text) in STORED {
            let payload = ChallengePayload::decode(*kind, text).unwrap();
            assert_eq!(payload.kind(), *kind);
            assert_eq!(payload.encode().unwrap(), *text, "{kind:?}");
        }
    }

    #[test]
    fn the_page_shows_the_stored_signing_object() {
        for (kind, text) in STORED {
            let payload = ChallengePayload::decode(*kind, text).unwrap();
            let stored: Value = serde_json::from_str(text).unwrap();
            let signing = stored.get("signing").cloned().unwrap_or(Value::Null);
            assert_eq!(payload.display().unwrap(), signing, "{kind:?}");
        }
    }

    #[test]
    fn emulator_initialize_without_fields_still_decodes() {
        let payload = ChallengePayload::decode(ChallengeType::Initialize, "{}").unwrap();
        assert_eq!(payload.kind(), ChallengeType::Initialize);
    }

    #[test]
    fn bad_or_unregistered_payloads_are_errors() {
        assert!(ChallengePayload::decode(ChallengeType::SignMessage, "{}").is_err());
        assert!(ChallengePayload::decode(ChallengeType::SetPin, "null").is_err());
        assert!(matches!(
            ChallengePayload::decode(ChallengeType::WalletUpgrade, "{}"),
            Err(PayloadError::Unsupported("WALLET_UPGRADE"))
        ));
    }
}
