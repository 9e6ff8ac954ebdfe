//! SIGN_TRANSACTION: a transaction signed (not broadcast) by one of the user's wallets: an
//! EVM transaction given raw or as JSON, or a base64 Solana transaction.

use super::execution::{Completion, Execution};
use super::signing::{self, Account, PinInput, SignRequest, WalletView};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::service::ExecuteBody;
use latchkey_chains::Family;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The SIGN_TRANSACTION challenge type.
#[derive(Debug)]
pub struct SignTransaction;

/// What the hosted page shows: the wallet and the transaction (Solana: raw; EVM: decoded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignTransactionView {
    /// The wallet.
    #[serde(flatten)]
    pub wallet: WalletView,
    /// Solana: the base64 transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_transaction: Option<String>,
    /// EVM: the transaction's fields, as the chain library describes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Value>,
}

/// What a SIGN_TRANSACTION challenge keeps (`rawTransaction` and `transaction` are `null`
/// when not given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignTransactionPayload {
    /// The signing wallet.
    pub wallet_id: String,
    /// The raw unsigned transaction (EVM hex, Solana base64).
    #[serde(default)]
    pub raw_transaction: Option<String>,
    /// The EVM transaction as JSON (a string or an object).
    #[serde(default)]
    pub transaction: Option<Value>,
    /// What the hosted page shows.
    pub signing: SignTransactionView,
}

impl ChallengeSpec for SignTransaction {
    const KIND: ChallengeType = ChallengeType::SignTransaction;
    const NOTIFICATION: &'static str = "challenges.signTransaction";
    type Request = SignRequest;
    type Payload = SignTransactionPayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: SignRequest,
    ) -> Result<SignTransactionPayload, ApiError> {
        let (wallet, chain, view) = signing::signing_wallet(creation, &request).await?;
        // An SCA's key is only its Safe's owner: a transaction it signed would come from the
        // owner's address, not the wallet's. Circle signs transactions for EOA wallets only.
        if wallet.is_sca() {
            return Err(signing::sca_refused("signing a raw transaction"));
        }
        let mut signing = SignTransactionView {
            wallet: view,
            raw_transaction: None,
            transaction: None,
        };
        // The checks signing runs, key aside, so that a transaction the wallet cannot sign
        // is refused now rather than after the user's PIN.
        if chain.family() == Family::Solana {
            let raw = request
                .raw_transaction
                .clone()
                .ok_or_else(|| ApiError::missing_field("rawTransaction"))?;
            signing::signed(latchkey_chains::check_solana_transaction(
                &raw,
                &wallet.address,
            ))?;
            signing.raw_transaction = Some(raw);
        } else {
            let input = signing::evm_input(
                request.raw_transaction.as_deref(),
                request.transaction.as_ref(),
            )?;
            signing::signed(latchkey_chains::check_evm_transaction(
                &input,
                &wallet.address,
                chain.chain_id(),
            ))?;
            signing.transaction = Some(signing::signed(
                latchkey_chains::describe_evm_transaction(&input),
            )?);
        }
        Ok(SignTransactionPayload {
            wallet_id: wallet.id,
            raw_transaction: request.raw_transaction,
            transaction: request.transaction,
            signing,
        })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &SignTransactionPayload) -> Result<Value, serde_json::Error> {
        serde_json::to_value(&payload.signing)
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &SignTransactionPayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
        signing::sign_with_wallet(
            run,
            Self::KIND,
            &payload.wallet_id,
            input,
            |secret, chain, account| {
                if account != Account::Eoa {
                    return Err(signing::sca_refused("signing a raw transaction"));
                }
                let signed = match chain.family() {
                    Family::Solana => {
                        // Required and checked when the challenge was created.
                        let raw = payload
                            .raw_transaction
                            .as_deref()
                            .ok_or_else(ApiError::internal)?;
                        signing::signed(latchkey_chains::sign_solana_transaction(secret, raw))?
                    }
                    _ => signing::signed(latchkey_chains::sign_evm_transaction(
                        secret,
                        &signing::evm_input(
                            payload.raw_transaction.as_deref(),
                            payload.transaction.as_ref(),
                        )?,
                        chain.chain_id(),
                    ))?,
                };
                Ok(json!({
                    "signature": signed.signature,
                    "txHash": signed.tx_hash,
                    "signedTransaction": signed.signed_transaction,
                }))
            },
        )
        .await
    }
}
