//! The wallets an INITIALIZE or CREATE_WALLET challenge creates: the request validated as
//! Circle validates it, the plan the challenge keeps, and the chain keys generated and sealed
//! under the user key when the challenge completes.

use crate::clock::Timestamp;
use crate::crypto::{self, SecretKey};
use crate::error::{codes, ApiError};
use crate::model::{Environment, UserRecord, WalletRecord};
use latchkey_chains::{Blockchain, ChainError, Family};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only account type latchkey creates.
const EOA: &str = "EOA";

/// Most blockchains (so wallets) one INITIALIZE or CREATE_WALLET names: one wallet per
/// chain of one environment, which Circle's enum keeps well under this; without a bound one
/// request could create any number of wallets inside one transaction.
pub const MAX_BLOCKCHAINS: usize = 20;

/// The wallet part of an INITIALIZE or CREATE_WALLET call, as the developer sent it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletRequest {
    /// EOA or SCA (SCA is refused).
    pub account_type: Option<String>,
    /// Circle blockchain names.
    pub blockchains: Option<Vec<String>>,
    /// One `{name, refId}` per blockchain.
    pub metadata: Option<Vec<Value>>,
}

/// The wallets a challenge will create; stored as `{accountType, blockchains, metadata}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletPlan {
    /// Always EOA.
    #[serde(default = "eoa")]
    pub account_type: String,
    /// Circle blockchain names, validated.
    #[serde(default)]
    pub blockchains: Vec<String>,
    /// One `{name, refId}` per blockchain, as sent.
    #[serde(default)]
    pub metadata: Option<Vec<Value>>,
}

fn eoa() -> String {
    EOA.to_string()
}

impl Default for WalletPlan {
    fn default() -> Self {
        Self {
            account_type: eoa(),
            blockchains: Vec::new(),
            metadata: None,
        }
    }
}

/// A chain library error as Circle's error (409 for a nonce conflict, else 400).
pub(crate) fn chain_error(e: ChainError) -> ApiError {
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

impl WalletPlan {
    /// Validates a wallet request of a caller in `environment`; `required` when at least
    /// one blockchain must be named.
    pub(crate) fn from_request(
        environment: Environment,
        request: WalletRequest,
        required: bool,
    ) -> Result<Self, ApiError> {
        let blockchains = request.blockchains.unwrap_or_default();
        if required && blockchains.is_empty() {
            return Err(ApiError::missing_field("blockchains"));
        }
        if blockchains.len() > MAX_BLOCKCHAINS {
            return Err(ApiError::invalid_field(
                "blockchains",
                "max",
                format!("blockchains must name at most {MAX_BLOCKCHAINS} blockchains"),
            ));
        }
        if let Some(m) = request
            .metadata
            .as_ref()
            .filter(|m| m.len() > MAX_BLOCKCHAINS)
        {
            return Err(ApiError::invalid_field(
                "metadata",
                "max",
                format!(
                    "metadata must have at most {MAX_BLOCKCHAINS} entries (it has {})",
                    m.len()
                ),
            ));
        }
        match request.account_type.as_deref() {
            None | Some(EOA) => {}
            Some("SCA") => {
                return Err(codes::SCA_NOT_SUPPORTED
                    .with_message("SCA account is not supported on the given blockchain: latchkey creates EOA wallets only."))
            }
            Some(_) => return Err(ApiError::invalid_field("accountType", "invalid", "accountType must be EOA or SCA")),
        }
        for (i, name) in blockchains.iter().enumerate() {
            check_chain(environment, i, name)?;
            // One wallet per chain and request: a repeat is a mistake, not a second wallet.
            if blockchains.iter().take(i).any(|b| b == name) {
                let loc = format!("blockchains[{i}]");
                return Err(ApiError::invalid_field(
                    &loc,
                    "unique",
                    format!("{loc}: {name} is named twice"),
                ));
            }
        }
        if let Some(m) = &request.metadata {
            check_metadata(m, blockchains.len())?;
        }
        Ok(Self {
            account_type: eoa(),
            blockchains,
            metadata: request.metadata,
        })
    }

    /// Generates the planned wallets, sealing each chain secret under a key derived from
    /// the user key.
    pub(crate) fn create(
        &self,
        user_key: &SecretKey,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<Vec<WalletRecord>, ApiError> {
        let mut out = Vec::new();
        for (i, name) in self.blockchains.iter().enumerate() {
            let chain = Blockchain::parse(name).ok_or_else(ApiError::internal)?;
            let secret = latchkey_chains::generate(chain.family());
            let address = latchkey_chains::address(chain.family(), &secret).map_err(chain_error)?;
            let id = uuid::Uuid::new_v4().to_string();
            let (key, ad) =
                crypto::wallet_sealing_key(user_key, &user.entity_id, &user.internal_id, &id);
            let meta = |field: &str| {
                self.metadata
                    .as_ref()
                    .and_then(|m| m.get(i))
                    .and_then(|item| item.get(field))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            out.push(WalletRecord {
                sealed_key: crypto::seal(&key, &ad, &secret),
                name: meta("name"),
                ref_id: meta("refId"),
                id,
                entity_id: user.entity_id.clone(),
                user_internal_id: user.internal_id.clone(),
                user_id: user.user_id.clone(),
                wallet_set_id: user.internal_id.clone(),
                blockchain: chain.as_str().to_string(),
                account_type: EOA.into(),
                address,
                state: "LIVE".into(),
                created_at: now,
                updated_at: now,
            });
        }
        Ok(out)
    }
}

fn check_chain(environment: Environment, i: usize, name: &str) -> Result<(), ApiError> {
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
    Ok(())
}

fn check_metadata(metadata: &[Value], chains: usize) -> Result<(), ApiError> {
    if metadata.len() != chains {
        return Err(codes::METADATA_LENGTH);
    }
    for (i, item) in metadata.iter().enumerate() {
        for field in ["name", "refId"] {
            match item.get(field) {
                None | Some(Value::Null) => {}
                // PostgreSQL text cannot hold NUL: refused here, or the wallets' insert
                // would fail after the user's PIN opened the key.
                Some(Value::String(s)) if s.contains('\0') => {
                    let loc = format!("metadata[{i}].{field}");
                    return Err(ApiError::invalid_field(
                        &loc,
                        "invalid",
                        format!("{loc} must not contain a NUL character"),
                    ));
                }
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
    Ok(())
}
