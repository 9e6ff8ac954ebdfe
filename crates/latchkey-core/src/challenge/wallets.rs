//! The wallets an INITIALIZE or CREATE_WALLET challenge creates: the request validated as
//! Circle validates it, the plan the challenge keeps, and the chain keys generated and sealed
//! under the user key when the challenge completes.

use crate::clock::Timestamp;
use crate::crypto::{self, SecretKey};
use crate::error::{codes, ApiError};
use crate::model::{Environment, UserRecord, WalletRecord, ACCOUNT_EOA, ACCOUNT_SCA, SCA_CORE};
use latchkey_chains::sca::{self, SafeAccountConfig};
use latchkey_chains::{Address, Blockchain, ChainError, Family};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most blockchains (so wallets) one INITIALIZE or CREATE_WALLET names: one wallet per
/// chain of one environment, which Circle's enum keeps well under this; without a bound one
/// request could create any number of wallets inside one transaction.
pub const MAX_BLOCKCHAINS: usize = 20;

/// The wallet part of an INITIALIZE or CREATE_WALLET call, as the developer sent it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletRequest {
    /// EOA (the default) or SCA.
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
    /// `EOA` or `SCA`.
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
    ACCOUNT_EOA.to_string()
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
        let account_type = match request.account_type.as_deref() {
            None | Some(ACCOUNT_EOA) => ACCOUNT_EOA,
            Some(ACCOUNT_SCA) => ACCOUNT_SCA,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "accountType",
                    "invalid",
                    "accountType must be EOA or SCA",
                ))
            }
        };
        let sca = account_type == ACCOUNT_SCA;
        if sca && blockchains.len() > 1 {
            return Err(codes::SCA_MULTIPLE_CHAINS);
        }
        for (i, name) in blockchains.iter().enumerate() {
            check_chain(environment, i, name, sca)?;
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
            account_type: account_type.to_string(),
            blockchains,
            metadata: request.metadata,
        })
    }

    /// [`Self::from_request`] for `caller`, and for SCA wallets the entity's sponsorship policy
    /// on the chain: an SCA that could never be sponsored is not created (155509, Circle's
    /// answer on a mainnet without a policy).
    pub(crate) async fn for_caller(
        lk: &crate::service::Latchkey,
        caller: &crate::service::ApiCaller,
        request: WalletRequest,
        required: bool,
    ) -> Result<Self, ApiError> {
        let plan = Self::from_request(caller.environment, request, required)?;
        if plan.account_type == ACCOUNT_SCA {
            for name in &plan.blockchains {
                let chain = Blockchain::parse(name).ok_or_else(ApiError::internal)?;
                lk.ensure_sca_eligible(&caller.entity_id, chain).await?;
            }
        }
        Ok(plan)
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
            let sca = self.account_type == ACCOUNT_SCA;
            if sca && !chain.supports_sca() {
                return Err(ApiError::internal());
            }
            let secret = latchkey_chains::generate(chain.family());
            let key_address =
                latchkey_chains::address(chain.family(), &secret).map_err(chain_error)?;
            // An SCA's key only owns the account: the wallet's address is its Safe's.
            let (address, owner_address) = if sca {
                (safe_address_of(&key_address)?, Some(key_address))
            } else {
                (key_address, None)
            };
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
                account_type: self.account_type.clone(),
                address,
                sca_core: sca.then(|| SCA_CORE.to_string()),
                owner_address,
                deployed_at: None,
                state: "LIVE".into(),
                created_at: now,
                updated_at: now,
            });
        }
        Ok(out)
    }
}

/// The EIP-55 address of the Safe owned by the EVM key at `owner` (an EIP-55 address):
/// counterfactual, computed offline, the same on every chain (`sca::safe_address` with the
/// canonical contracts and salt 0).
pub(crate) fn safe_address_of(owner: &str) -> Result<String, ApiError> {
    let owner: Address = owner.parse().map_err(|_| ApiError::internal())?;
    Ok(sca::safe_address(owner, &SafeAccountConfig::default()).to_checksum(None))
}

fn check_chain(environment: Environment, i: usize, name: &str, sca: bool) -> Result<(), ApiError> {
    let chain = Blockchain::parse(name).ok_or_else(|| {
        ApiError::invalid_field(
            &format!("blockchains[{i}]"),
            "blockchain",
            format!("{name:?} is not a blockchain of Circle's enum"),
        )
    })?;
    if sca && !chain.supports_sca() {
        return Err(codes::SCA_NOT_SUPPORTED.with_message(format!(
            "SCA account is not supported on the given blockchain: {name} has no smart-contract \
             accounts (Circle offers them on ETH, MATIC, ARB, AVAX, BASE, OP, UNI and their \
             testnets)."
        )));
    }
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
