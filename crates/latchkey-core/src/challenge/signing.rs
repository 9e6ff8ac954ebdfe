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
use crate::service::{ExecuteBody, SecretString};
use latchkey_chains::sca::{self, SafeAccountConfig};
use latchkey_chains::{Address, Blockchain, EvmTxInput, Family, B256};
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

/// Whose signature a wallet's key makes: its own (EOA), or that of the Safe it owns (SCA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Account {
    /// The key signs for its own address.
    Eoa,
    /// The key is the one owner of the Safe at `safe` on the chain `chain_id`.
    Sca {
        /// The Safe (the wallet's address).
        safe: Address,
        /// The key's own address.
        owner: Address,
        /// The chain's EIP-155 id (the SafeMessage domain's).
        chain_id: u64,
        /// The Safe has code on the chain's node (else signatures are ERC-6492-wrapped).
        deployed: bool,
    },
}

/// The refusal of an operation that would make the owner key of an SCA wallet act as an EOA
/// (a raw transaction signature, a transfer or a contract execution): 155515.
pub(crate) fn sca_refused(what: &str) -> ApiError {
    codes::ACCOUNT_TYPE_NOT_SUPPORTED.with_message(format!(
        "The provided wallet account type is not supported by this API: {what} from an SCA \
         wallet is not available in this latchkey version (the wallet's key only owns its \
         smart-contract account; see docs/sca.md)."
    ))
}

/// Whether the Safe at `safe` is deployed on `chain`: `eth_getCode` on the chain's node. No
/// node, or a node that does not answer, counts as not deployed: an ERC-6492-wrapped signature
/// is valid for every ERC-6492 verifier whether or not the account has been deployed since.
async fn safe_deployed(run: &Execution<'_>, chain: Blockchain, safe: Address) -> bool {
    let Some(c) = run.lk().chains().get(chain) else {
        return false;
    };
    match c.node.code(safe).await {
        Ok(code) => !code.is_empty(),
        Err(e) => {
            tracing::warn!(blockchain = %chain, error = %e, "eth_getCode of an SCA failed: ERC-6492 signature");
            false
        }
    }
}

/// The account of an SCA wallet whose key is `secret`: its owner is the key's address, and
/// its address must be that owner's Safe (else the record is inconsistent: 500).
fn sca_account(
    secret: &[u8],
    wallet: &WalletRecord,
    chain: Blockchain,
    deployed: bool,
) -> Result<Account, ApiError> {
    let owner: Address = latchkey_chains::address(Family::Evm, secret)
        .map_err(chain_error)?
        .parse()
        .map_err(|_| ApiError::internal())?;
    let safe = sca::safe_address(owner, &SafeAccountConfig::default());
    let recorded: Address = wallet.address.parse().map_err(|_| ApiError::internal())?;
    if safe != recorded {
        return Err(ApiError::internal());
    }
    Ok(Account::Sca {
        safe,
        owner,
        chain_id: chain.chain_id().ok_or_else(ApiError::internal)?,
        deployed,
    })
}

/// The signature of the 32-byte `hash` (an EIP-191 or EIP-712 digest) by an SCA wallet, as
/// `0x` hex: its owner's signature of the Safe's SafeMessage hash of `hash` (ERC-1271), wrapped
/// as ERC-6492 (the factory call that deploys the Safe) while the Safe is not deployed.
pub(crate) fn sca_signature(
    secret: &[u8],
    account: Account,
    hash: [u8; 32],
) -> Result<String, ApiError> {
    let Account::Sca {
        safe,
        owner,
        chain_id,
        deployed,
    } = account
    else {
        return Err(ApiError::internal());
    };
    let signature = signed(sca::sign_for_safe(secret, safe, chain_id, B256::from(hash)))?;
    let bytes = if deployed {
        signature.to_vec()
    } else {
        let config = SafeAccountConfig::default();
        sca::erc6492_wrap(
            config.proxy_factory,
            &sca::create_safe_call(owner, &config),
            &signature,
        )
    };
    Ok(format!("0x{}", hex::encode(bytes)))
}

/// Opens the user key with the PIN, then the wallet's chain secret, and lets `sign` use it
/// for the wallet's [`Account`]. `sign`'s result goes back to the executing client only.
pub(crate) async fn sign_with_wallet<F>(
    run: &Execution<'_>,
    kind: ChallengeType,
    wallet_id: &str,
    input: PinInput,
    sign: F,
) -> Result<Completion, ApiError>
where
    F: FnOnce(&[u8], Blockchain, Account) -> Result<Value, ApiError> + Send,
{
    let wrap = run.pin_wrap()?;
    let wallet = run.user_wallet(wallet_id).await?;
    let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
    // Read before the PIN is checked: no node round trip between the check and the commit.
    // An account whose first operation completed is deployed for good (no node asked);
    // before that, the node's code decides (the Safe may have been deployed by someone else).
    let deployed = if wallet.is_sca() && wallet.deployed_at.is_some() {
        true
    } else if wallet.is_sca() {
        let safe: Address = wallet.address.parse().map_err(|_| ApiError::internal())?;
        safe_deployed(run, chain, safe).await
    } else {
        false
    };
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let secret = wallet_secret(&user_key, &wallet)?;
    let account = if wallet.is_sca() {
        sca_account(&secret, &wallet, chain, deployed)?
    } else {
        Account::Eoa
    };
    let data = sign(&secret, chain, account)?;
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
