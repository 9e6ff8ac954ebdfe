//! What the SIGN_* challenges share: the request, the wallet it names (checked when the
//! challenge is created, so a bad request never reaches the user), what the hosted page
//! shows about it, and signing after the PIN opened the user key. A signature goes back to
//! the executing client only, never to the store.

use super::execution::{Completion, Execution};
use super::spec::{require, Creation, Requires};
use super::wallets::chain_error;
use crate::crypto;
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, WalletRecord};
use crate::service::{store_failed, ExecuteBody, SecretString};
use latchkey_chains::{Blockchain, EvmTxInput};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// What a signing call asks for (walletId plus the type's fields).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignRequest {
    /// The wallet.
    pub wallet_id: String,
    /// SIGN_MESSAGE: the message.
    pub message: Option<String>,
    /// SIGN_MESSAGE: the message is hex.
    pub encoded_by_hex: bool,
    /// SIGN_TYPEDDATA: the EIP-712 JSON string.
    pub data: Option<String>,
    /// SIGN_TRANSACTION: raw unsigned transaction (EVM hex, Solana base64).
    pub raw_transaction: Option<String>,
    /// SIGN_TRANSACTION (EVM): the transaction as JSON.
    pub transaction: Option<Value>,
    /// A note shown to the user.
    pub memo: Option<String>,
}

/// The wallet a signing challenge uses, as the hosted page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletView {
    /// Wallet id.
    pub wallet_id: String,
    /// Its address.
    pub address: String,
    /// Its blockchain.
    pub blockchain: String,
    /// The developer's note for the user (`null` when none).
    #[serde(default)]
    pub memo: Option<String>,
}

/// The signing wallet of a create call: the walletId must be given, the user must have a
/// PIN, and the wallet must be theirs.
pub(crate) async fn signing_wallet(
    creation: Creation<'_>,
    request: &SignRequest,
) -> Result<(WalletRecord, Blockchain, WalletView), ApiError> {
    if request.wallet_id.is_empty() {
        return Err(ApiError::missing_field("walletId"));
    }
    if creation.session.user.pin_wrap.is_none() {
        return Err(codes::PIN_NOT_SET);
    }
    let wallet = creation
        .lk
        .get_wallet(creation.session, &request.wallet_id)
        .await?;
    let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
    let view = WalletView {
        wallet_id: wallet.id.clone(),
        address: wallet.address.clone(),
        blockchain: wallet.blockchain.clone(),
        memo: request.memo.clone(),
    };
    Ok((wallet, chain, view))
}

/// A signing challenge may be created only for a user with a PIN.
pub(crate) fn check_user(user: &crate::model::UserRecord) -> Result<(), ApiError> {
    if user.pin_wrap.is_none() {
        return Err(codes::PIN_NOT_SET);
    }
    Ok(())
}

/// Signing asks for the PIN only.
pub(crate) fn requires() -> Requires {
    Requires {
        pin: true,
        ..Requires::default()
    }
}

/// What a wallet operation needs from the execute body: the PIN.
#[derive(Debug)]
pub struct PinInput {
    /// The current PIN.
    pub pin: SecretString,
}

/// Takes the PIN from the execute body.
pub(crate) fn pin_input(body: ExecuteBody) -> Result<PinInput, ApiError> {
    Ok(PinInput {
        pin: require(body.pin, "pin")?,
    })
}

/// Opens the user key with the PIN, then the wallet's chain secret, and lets `sign` use it.
/// `sign`'s result goes back to the executing client only.
pub(crate) async fn sign_with_wallet<F>(
    run: &Execution<'_>,
    kind: ChallengeType,
    wallet_id: &str,
    input: PinInput,
    sign: F,
) -> Result<Completion, ApiError>
where
    F: FnOnce(&[u8], Blockchain) -> Result<Value, ApiError> + Send,
{
    let wrap = run.pin_wrap()?;
    let user = run.user();
    let wallet = run
        .lk()
        .store
        .wallet(&user.entity_id, &user.internal_id, wallet_id)
        .await
        .map_err(store_failed)?
        .ok_or(codes::WALLET_NOT_FOUND)?;
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let secret = wallet_secret(&user_key, &wallet)?;
    let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
    let data = sign(&secret, chain)?;
    commit.audit.push(run.audit(
        "wallet.signed",
        json!({ "walletId": wallet.id, "type": kind.as_str() }),
        commit.now,
    ));
    Ok(Completion { commit, data })
}

/// The wallet's chain secret, opened with the user key (zeroized when dropped).
pub(crate) fn wallet_secret(
    user_key: &crypto::SecretKey,
    wallet: &WalletRecord,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let (key, ad) = crypto::wallet_sealing_key(
        user_key,
        &wallet.entity_id,
        &wallet.user_internal_id,
        &wallet.id,
    );
    crypto::open(&key, &ad, &wallet.sealed_key).map_err(|_| ApiError::internal())
}

/// A message as the bytes to sign: hex-decoded when `encoded_by_hex`.
pub(crate) fn message_bytes(message: &str, encoded_by_hex: bool) -> Result<Vec<u8>, ApiError> {
    if encoded_by_hex {
        let hex_part = message.strip_prefix("0x").unwrap_or(message);
        hex::decode(hex_part).map_err(|_| codes::NOT_HEX)
    } else {
        Ok(message.as_bytes().to_vec())
    }
}

/// An EVM transaction given either raw or as JSON (a string or an object), not both.
pub(crate) fn evm_input(
    raw_transaction: Option<&str>,
    transaction: Option<&Value>,
) -> Result<EvmTxInput, ApiError> {
    match (raw_transaction, transaction.filter(|t| !t.is_null())) {
        (Some(raw), None) => Ok(EvmTxInput::Raw(raw.to_string())),
        (None, Some(Value::String(tx))) => Ok(EvmTxInput::Json(tx.clone())),
        (None, Some(tx @ Value::Object(_))) => Ok(EvmTxInput::Json(tx.to_string())),
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "rawTransaction",
            "invalid",
            "give rawTransaction or transaction, not both",
        )),
        _ => Err(ApiError::invalid_field(
            "rawTransaction",
            "required",
            "rawTransaction or transaction is required",
        )),
    }
}

/// Any chain-library error of a signature as Circle's error.
pub(crate) fn signed<T>(r: Result<T, latchkey_chains::ChainError>) -> Result<T, ApiError> {
    r.map_err(chain_error)
}
