//! SIGN_MESSAGE: a message (text or hex) signed by one of the user's wallets (EIP-191 for
//! EVM, Ed25519 for Solana; for an SCA wallet, its Safe's ERC-1271 signature of the EIP-191
//! hash, ERC-6492-wrapped before deployment).

use super::execution::{Completion, Execution};
use super::signing::{self, Account, PinInput, SignRequest, WalletView};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The SIGN_MESSAGE challenge type.
#[derive(Debug)]
pub struct SignMessage;

/// What the hosted page shows: the wallet and the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignMessageView {
    /// The wallet.
    #[serde(flatten)]
    pub wallet: WalletView,
    /// The message as given.
    pub message: String,
    /// Whether the message is hex.
    pub encoded_by_hex: bool,
}

/// What a SIGN_MESSAGE challenge keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignMessagePayload {
    /// The signing wallet.
    pub wallet_id: String,
    /// The message as given.
    pub message: String,
    /// Whether the message is hex.
    #[serde(default)]
    pub encoded_by_hex: bool,
    /// What the hosted page shows.
    pub signing: SignMessageView,
}

impl ChallengeSpec for SignMessage {
    const KIND: ChallengeType = ChallengeType::SignMessage;
    const NOTIFICATION: &'static str = "challenges.signMessage";
    type Request = SignRequest;
    type Payload = SignMessagePayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: SignRequest,
    ) -> Result<SignMessagePayload, ApiError> {
        let (wallet, _, view) = signing::signing_wallet(creation, &request).await?;
        let message = request
            .message
            .filter(|m| !m.is_empty())
            .ok_or(codes::INVALID_MESSAGE)?;
        signing::message_bytes(&message, request.encoded_by_hex)?;
        Ok(SignMessagePayload {
            wallet_id: wallet.id,
            signing: SignMessageView {
                wallet: view,
                message: message.clone(),
                encoded_by_hex: request.encoded_by_hex,
            },
            message,
            encoded_by_hex: request.encoded_by_hex,
        })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &SignMessagePayload) -> Result<Value, serde_json::Error> {
        serde_json::to_value(&payload.signing)
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &SignMessagePayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
        signing::sign_with_wallet(
            run,
            Self::KIND,
            &payload.wallet_id,
            input,
            |secret, chain, account| {
                let bytes = signing::message_bytes(&payload.message, payload.encoded_by_hex)?;
                let signature = match account {
                    Account::Eoa => signing::signed(latchkey_chains::sign_message(
                        chain.family(),
                        secret,
                        &bytes,
                    ))?,
                    Account::Sca { .. } => signing::sca_signature(
                        secret,
                        account,
                        latchkey_chains::personal_message_hash(&bytes),
                    )?,
                };
                Ok(json!({ "signature": signature }))
            },
        )
        .await
    }
}
