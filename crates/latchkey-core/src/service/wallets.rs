//! Wallets: requests validated as Circle validates them, chain keys generated and sealed
//! under the user key when a challenge completes, and signatures made only after the PIN
//! opened that user key. Signatures go back to the executing client only.

use super::{store_failed, ApiCaller, Latchkey, UserSession};
use crate::clock::Timestamp;
use crate::crypto::{self, SecretKey};
use crate::error::{codes, ApiError};
use crate::model::{ChallengeType, Environment, WalletRecord};
use crate::store::{IdempotencyClaim, Page, PageQuery, WalletFilter};
use latchkey_chains::{Blockchain, ChainError, EvmTxInput, Family};
use serde_json::{json, Value};

fn chain_error(e: ChainError) -> ApiError {
    let status = if e.code == 156023 { 409 } else { 400 };
    ApiError {
        code: e.code,
        status,
        message: e.message.into(),
        errors: Vec::new(),
        attempts_left: None,
        locked_expiry_date: None,
    }
}

/// Validates the wallet part of INITIALIZE / CREATE_WALLET and returns it as the payload the
/// challenge keeps: `{accountType, blockchains, metadata}`.
pub fn wallet_payload(
    environment: Environment,
    blockchains: &[String],
    account_type: Option<&str>,
    metadata: Option<&[Value]>,
    required: bool,
) -> Result<Value, ApiError> {
    if required && blockchains.is_empty() {
        return Err(ApiError::missing_field("blockchains"));
    }
    match account_type {
        None | Some("EOA") => {}
        Some("SCA") => {
            return Err(codes::SCA_NOT_SUPPORTED
                .with_message("SCA account is not supported on the given blockchain: latchkey creates EOA wallets only."))
        }
        Some(_) => return Err(ApiError::invalid_field("accountType", "invalid", "accountType must be EOA or SCA")),
    }
    for (i, name) in blockchains.iter().enumerate() {
        let chain = Blockchain::parse(name).ok_or_else(|| {
            ApiError::invalid_field(
                &format!("blockchains[{i}]"),
                "blockchain",
                format!("{name:?} is not a blockchain of Circle's enum"),
            )
        })?;
        match chain.family() {
            Family::Evm | Family::Solana => {}
            Family::Near => {
                return Err(codes::CHAIN_NOT_SUPPORTED
                    .with_message(format!("Blockchain is not supported for wallet creation: latchkey does not support {name} yet.")))
            }
            Family::Aptos => {
                return Err(codes::OPERATION_NOT_SUPPORTED.with_message(format!(
                    "The operation is not supported on the blockchain you specify: latchkey does not support {name} yet."
                )))
            }
        }
        if chain.is_testnet() != (environment == Environment::Test) {
            return Err(codes::ENVIRONMENT_MISMATCH);
        }
    }
    if let Some(m) = metadata {
        if m.len() != blockchains.len() {
            return Err(codes::METADATA_LENGTH);
        }
        for (i, item) in m.iter().enumerate() {
            for field in ["name", "refId"] {
                match item.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.chars().count() <= 255 => {}
                    Some(_) => {
                        let loc = format!("metadata[{i}].{field}");
                        return Err(ApiError::invalid_field(
                            &loc,
                            "invalid",
                            format!("{loc} must be a string of at most 255 characters"),
                        ));
                    }
                }
            }
        }
    }
    Ok(json!({ "accountType": "EOA", "blockchains": blockchains, "metadata": metadata }))
}

/// Generates the wallets a completed INITIALIZE / CREATE_WALLET creates, sealing each chain
/// secret under a key derived from the user key.
pub(crate) fn new_wallets(
    user_key: &SecretKey,
    user: &crate::model::UserRecord,
    payload: &Value,
    now: Timestamp,
) -> Result<Vec<WalletRecord>, ApiError> {
    let chains: Vec<String> = payload["blockchains"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, name) in chains.iter().enumerate() {
        let chain = Blockchain::parse(name).ok_or_else(ApiError::internal)?;
        let secret = latchkey_chains::generate(chain.family());
        let address = latchkey_chains::address(chain.family(), &secret).map_err(chain_error)?;
        let id = uuid::Uuid::new_v4().to_string();
        let (key, ad) =
            crypto::wallet_sealing_key(user_key, &user.entity_id, &user.internal_id, &id);
        let meta = &payload["metadata"][i];
        out.push(WalletRecord {
            sealed_key: crypto::seal(&key, &ad, &secret),
            id,
            entity_id: user.entity_id.clone(),
            user_internal_id: user.internal_id.clone(),
            user_id: user.user_id.clone(),
            wallet_set_id: user.internal_id.clone(),
            blockchain: chain.as_str().to_string(),
            account_type: "EOA".into(),
            address,
            state: "LIVE".into(),
            name: meta["name"].as_str().map(str::to_string),
            ref_id: meta["refId"].as_str().map(str::to_string),
            created_at: now,
            updated_at: now,
        });
    }
    Ok(out)
}

/// Signs what a SIGN_* challenge asks, with the wallet's secret opened by the user key.
/// Returns the data only the executing client sees.
pub(crate) fn sign_for_challenge(
    user_key: &SecretKey,
    wallet: &WalletRecord,
    kind: ChallengeType,
    payload: &Value,
) -> Result<Value, ApiError> {
    let (key, ad) = crypto::wallet_sealing_key(
        user_key,
        &wallet.entity_id,
        &wallet.user_internal_id,
        &wallet.id,
    );
    let secret = crypto::open(&key, &ad, &wallet.sealed_key).map_err(|_| ApiError::internal())?;
    let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
    match kind {
        ChallengeType::SignMessage => {
            let bytes = message_bytes(payload)?;
            let signature = latchkey_chains::sign_message(chain.family(), &secret, &bytes)
                .map_err(chain_error)?;
            Ok(json!({ "signature": signature }))
        }
        ChallengeType::SignTypedData => {
            let data = payload["data"].as_str().unwrap_or_default();
            let signature = latchkey_chains::sign_typed_data(&secret, data).map_err(chain_error)?;
            Ok(json!({ "signature": signature }))
        }
        ChallengeType::SignTransaction => {
            let signed = match chain.family() {
                Family::Solana => {
                    let raw = payload["rawTransaction"].as_str().unwrap_or_default();
                    latchkey_chains::sign_solana_transaction(&secret, raw).map_err(chain_error)?
                }
                _ => latchkey_chains::sign_evm_transaction(
                    &secret,
                    &evm_input(payload)?,
                    chain.chain_id(),
                )
                .map_err(chain_error)?,
            };
            Ok(json!({
                "signature": signed.signature,
                "txHash": signed.tx_hash,
                "signedTransaction": signed.signed_transaction,
            }))
        }
        _ => Err(ApiError::internal()),
    }
}

fn message_bytes(payload: &Value) -> Result<Vec<u8>, ApiError> {
    let message = payload["message"].as_str().unwrap_or_default();
    if payload["encodedByHex"].as_bool() == Some(true) {
        let hex_part = message.strip_prefix("0x").unwrap_or(message);
        hex::decode(hex_part).map_err(|_| codes::NOT_HEX)
    } else {
        Ok(message.as_bytes().to_vec())
    }
}

fn evm_input(payload: &Value) -> Result<EvmTxInput, ApiError> {
    match (
        payload["rawTransaction"].as_str(),
        payload.get("transaction").filter(|t| !t.is_null()),
    ) {
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

/// What a signing request asks for (walletId plus the type's fields).
#[derive(Debug, Clone, Default)]
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

impl Latchkey {
    /// `POST /user/sign/{message,typedData,transaction}`: checks the request against the
    /// wallet now (so that a bad one never reaches the user), then creates the challenge.
    pub async fn create_sign_challenge(
        &self,
        session: &UserSession,
        kind: ChallengeType,
        req: SignRequest,
    ) -> Result<String, ApiError> {
        if req.wallet_id.is_empty() {
            return Err(ApiError::missing_field("walletId"));
        }
        if session.user.pin_wrap.is_none() {
            return Err(codes::PIN_NOT_SET);
        }
        let wallet = self.get_wallet(session, &req.wallet_id).await?;
        let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
        let mut signing = json!({
            "walletId": wallet.id, "address": wallet.address, "blockchain": wallet.blockchain, "memo": req.memo,
        });
        let mut payload = json!({ "walletId": wallet.id });
        match kind {
            ChallengeType::SignMessage => {
                let message = req
                    .message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .ok_or(codes::INVALID_MESSAGE)?;
                payload["message"] = json!(message);
                payload["encodedByHex"] = json!(req.encoded_by_hex);
                message_bytes(&payload)?;
                signing["message"] = json!(message);
                signing["encodedByHex"] = json!(req.encoded_by_hex);
            }
            ChallengeType::SignTypedData => {
                if chain.family() != Family::Evm {
                    return Err(codes::OPERATION_NOT_SUPPORTED
                        .with_message("Typed data (EIP-712) is signed by EVM wallets only."));
                }
                let data = req
                    .data
                    .clone()
                    .ok_or_else(|| ApiError::missing_field("data"))?;
                signing["typedData"] =
                    latchkey_chains::describe_typed_data(&data).map_err(chain_error)?;
                payload["data"] = json!(data);
            }
            ChallengeType::SignTransaction => {
                payload["rawTransaction"] = json!(req.raw_transaction);
                payload["transaction"] = req.transaction.clone().unwrap_or(Value::Null);
                if chain.family() == Family::Solana {
                    let raw = req
                        .raw_transaction
                        .clone()
                        .ok_or_else(|| ApiError::missing_field("rawTransaction"))?;
                    if crypto::b64_decode(&raw).is_none() {
                        return Err(chain_error(ChainError::new(
                            latchkey_chains::codes::DESERIALIZATION_FAILED,
                            "rawTransaction must be a base64 serialized Solana transaction",
                        )));
                    }
                    signing["rawTransaction"] = json!(raw);
                } else {
                    let input = evm_input(&payload)?;
                    let described =
                        latchkey_chains::describe_evm_transaction(&input).map_err(chain_error)?;
                    let tx_chain = described["chainId"].as_u64().filter(|c| *c != 0);
                    if let (Some(tx), Some(mine)) = (tx_chain, chain.chain_id()) {
                        if tx != mine {
                            return Err(chain_error(ChainError::new(
                                latchkey_chains::codes::CHAIN_ID_MISMATCH,
                                format!("The transaction is for chain {tx}, the wallet is on {} (chain {mine}).", wallet.blockchain),
                            )));
                        }
                    }
                    signing["transaction"] = described;
                }
            }
            _ => return Err(ApiError::internal()),
        }
        payload["signing"] = signing;
        // Circle's signing endpoints take no idempotency key: every call is a new challenge.
        let key = uuid::Uuid::new_v4().to_string();
        let claim = IdempotencyClaim {
            request_hash: key.as_bytes().to_vec(),
            key,
        };
        let (id, _) = self.create_challenge(session, kind, payload, claim).await?;
        Ok(id)
    }

    /// One of the session user's wallets; another user's (or none) → 156001.
    pub async fn get_wallet(
        &self,
        session: &UserSession,
        wallet_id: &str,
    ) -> Result<WalletRecord, ApiError> {
        self.store
            .wallet(session.entity_id(), &session.user.internal_id, wallet_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::WALLET_NOT_FOUND)
    }

    /// `GET /wallets`.
    pub async fn list_wallets(
        &self,
        session: &UserSession,
        filter: &WalletFilter,
        page: &PageQuery,
    ) -> Result<Page<WalletRecord>, ApiError> {
        self.store
            .list_wallets(session.entity_id(), &session.user.internal_id, filter, page)
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// `PUT /wallets/{id}`.
    pub async fn update_wallet(
        &self,
        session: &UserSession,
        wallet_id: &str,
        name: Option<&str>,
        ref_id: Option<&str>,
    ) -> Result<WalletRecord, ApiError> {
        for (field, v) in [("name", name), ("refId", ref_id)] {
            if v.is_some_and(|s| s.chars().count() > 255) {
                return Err(ApiError::invalid_field(
                    field,
                    "max",
                    format!("{field} must be at most 255 characters"),
                ));
            }
        }
        if !self
            .store
            .update_wallet(
                session.entity_id(),
                &session.user.internal_id,
                wallet_id,
                name,
                ref_id,
                self.now(),
            )
            .await
            .map_err(store_failed)?
        {
            return Err(codes::WALLET_NOT_FOUND);
        }
        self.get_wallet(session, wallet_id).await
    }

    /// Validates a wallet request of `caller` (environment rules apply).
    pub fn check_wallet_request(
        &self,
        caller: &ApiCaller,
        blockchains: &[String],
        account_type: Option<&str>,
        metadata: Option<&[Value]>,
        required: bool,
    ) -> Result<Value, ApiError> {
        wallet_payload(
            caller.environment,
            blockchains,
            account_type,
            metadata,
            required,
        )
    }
}
