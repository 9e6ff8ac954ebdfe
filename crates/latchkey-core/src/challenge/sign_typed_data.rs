//! SIGN_TYPEDDATA: EIP-712 typed data signed by one of the user's EVM wallets (for an SCA
//! wallet, its Safe's ERC-1271 signature of the digest, ERC-6492-wrapped before deployment).

use super::execution::{Completion, Execution};
use super::signing::{self, Account, PinInput, SignRequest, WalletView};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use latchkey_chains::Family;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The SIGN_TYPEDDATA challenge type.
#[derive(Debug)]
pub struct SignTypedData;

/// What the hosted page shows: the wallet and the typed data, described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignTypedDataView {
    /// The wallet.
    #[serde(flatten)]
    pub wallet: WalletView,
    /// The domain, primary type and message, as the chain library describes them.
    pub typed_data: Value,
}

/// What a SIGN_TYPEDDATA challenge keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignTypedDataPayload {
    /// The signing wallet.
    pub wallet_id: String,
    /// The EIP-712 JSON string.
    pub data: String,
    /// What the hosted page shows.
    pub signing: SignTypedDataView,
}

impl ChallengeSpec for SignTypedData {
    const KIND: ChallengeType = ChallengeType::SignTypedData;
    const NOTIFICATION: &'static str = "challenges.signTypedData";
    type Request = SignRequest;
    type Payload = SignTypedDataPayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: SignRequest,
    ) -> Result<SignTypedDataPayload, ApiError> {
        let (wallet, chain, view) = signing::signing_wallet(creation, &request).await?;
        if chain.family() != Family::Evm {
            return Err(codes::OPERATION_NOT_SUPPORTED
                .with_message("Typed data (EIP-712) is signed by EVM wallets only."));
        }
        let data = request
            .data
            .ok_or_else(|| ApiError::missing_field("data"))?;
        let typed_data = signing::signed(latchkey_chains::describe_typed_data(&data))?;
        Ok(SignTypedDataPayload {
            wallet_id: wallet.id,
            data,
            signing: SignTypedDataView {
                wallet: view,
                typed_data,
            },
        })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &SignTypedDataPayload) -> Result<Value, serde_json::Error> {
        serde_json::to_value(&payload.signing)
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &SignTypedDataPayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
        signing::sign_with_wallet(
            run,
            Self::KIND,
            &payload.wallet_id,
            input,
            |secret, _, account| {
                let signature = match account {
                    Account::Eoa => {
                        signing::signed(latchkey_chains::sign_typed_data(secret, &payload.data))?
                    }
                    Account::Sca { .. } => signing::sca_signature(
                        secret,
                        account,
                        signing::signed(latchkey_chains::typed_data_hash(&payload.data))?,
                    )?,
                };
                Ok(json!({ "signature": signature }))
            },
        )
        .await
    }
}
