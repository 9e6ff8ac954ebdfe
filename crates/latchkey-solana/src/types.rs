//! What the JSON-RPC methods answer, as the agave RPC shapes them (only the fields latchkey
//! reads; unknown fields are ignored).

use crate::pubkey::Pubkey;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// How settled a read or a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// Seen by the node in its current slot (may still be dropped).
    Processed,
    /// Voted on by a supermajority (Circle's CONFIRMED on Solana).
    Confirmed,
    /// 32 slots deep, rooted (Circle's COMPLETE).
    Finalized,
}

impl Commitment {
    /// The JSON-RPC text.
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::Processed => "processed",
            Commitment::Confirmed => "confirmed",
            Commitment::Finalized => "finalized",
        }
    }
}

/// `getLatestBlockhash`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestBlockhash {
    /// The blockhash (base58).
    pub blockhash: String,
    /// The last block height at which a transaction signed under it can land.
    pub last_valid_block_height: u64,
}

/// An account (`getAccountInfo` with `encoding: base64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// Its balance.
    pub lamports: u64,
    /// The program that owns it (System for a wallet, a token program for a mint or a token
    /// account).
    pub owner: Pubkey,
    /// Its data.
    pub data: Vec<u8>,
    /// It is a program.
    pub executable: bool,
}

impl AccountInfo {
    /// The decimals of a mint (byte 44 of a classic Token or Token-2022 mint, whose first 82
    /// bytes share one layout); `None` when the data is too short to be a mint.
    pub fn mint_decimals(&self) -> Option<u8> {
        (self.data.len() >= 82).then(|| self.data[44])
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawAccount {
    pub lamports: u64,
    pub owner: Pubkey,
    /// `[data, "base64"]`.
    pub data: (String, String),
    #[serde(default)]
    pub executable: bool,
}

/// A token amount in base units with its mint's decimals.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenAmount {
    /// Base units.
    #[serde(deserialize_with = "u64_text")]
    pub amount: u64,
    /// The mint's decimals.
    pub decimals: u8,
    /// The amount in whole units, exact (`"1.5"`).
    #[serde(default)]
    pub ui_amount_string: Option<String>,
}

/// A token account of an owner (`getTokenAccountsByOwner` with `jsonParsed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAccount {
    /// The token account's address.
    pub address: Pubkey,
    /// The token program that owns it (classic Token or Token-2022).
    pub program: Pubkey,
    /// Its mint.
    pub mint: Pubkey,
    /// Its owner (the wallet).
    pub owner: Pubkey,
    /// Its balance.
    pub amount: TokenAmount,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawKeyedParsedAccount {
    pub pubkey: Pubkey,
    pub account: RawParsedAccount,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawParsedAccount {
    pub owner: Pubkey,
    pub data: RawParsedData,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawParsedData {
    pub parsed: RawParsed,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawParsed {
    pub info: RawTokenInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawTokenInfo {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub token_amount: TokenAmount,
}

/// One slot of `getRecentPrioritizationFees`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrioritizationFee {
    /// The slot.
    pub slot: u64,
    /// The lowest compute-unit price (micro-lamports) that landed in it, for the accounts
    /// asked about.
    pub prioritization_fee: u64,
}

/// `simulateTransaction`'s value.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// The runtime's `TransactionError` as JSON; `None` when it would succeed.
    pub err: Option<Value>,
    /// The program logs.
    pub logs: Option<Vec<String>>,
    /// Compute units used.
    pub units_consumed: Option<u64>,
    /// The accounts asked about, as the transaction would leave them (`None` inside: it
    /// would not exist); `None` when none were asked or the node does not say.
    pub accounts: Option<Vec<Option<AccountInfo>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSimulation {
    #[serde(default)]
    pub err: Option<Value>,
    #[serde(default)]
    pub logs: Option<Vec<String>>,
    #[serde(default)]
    pub units_consumed: Option<u64>,
    #[serde(default)]
    pub accounts: Option<Vec<Option<RawAccount>>>,
}

/// One answer of `getSignatureStatuses` (`None` there: the node does not know the signature).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureStatus {
    /// The slot it landed in.
    pub slot: u64,
    /// Slots since; `None` once finalized.
    #[serde(default)]
    pub confirmations: Option<u64>,
    /// Its `TransactionError` when it failed on chain (it landed and paid its fee).
    #[serde(default)]
    pub err: Option<Value>,
    /// How settled it is.
    #[serde(default)]
    pub confirmation_status: Option<Commitment>,
}

impl SignatureStatus {
    /// It has reached `commitment`.
    pub fn reached(&self, commitment: Commitment) -> bool {
        self.confirmation_status.is_some_and(|c| c >= commitment)
    }
}

/// One entry of `getSignaturesForAddress` (newest first).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureInfo {
    /// The transaction's id.
    pub signature: String,
    /// Its slot.
    pub slot: u64,
    /// Its error, when it failed on chain.
    #[serde(default)]
    pub err: Option<Value>,
    /// Its memos, as `"[len] text"` (several joined by `; `).
    #[serde(default)]
    pub memo: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    pub block_time: Option<i64>,
    /// How settled it is.
    #[serde(default)]
    pub confirmation_status: Option<Commitment>,
}

/// Paging and commitment of `getSignaturesForAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignaturesQuery {
    /// Start before this signature (older ones).
    pub before: Option<String>,
    /// Stop at this signature (exclusive): the newest one already seen.
    pub until: Option<String>,
    /// At most this many (the node's maximum is 1,000).
    pub limit: Option<u32>,
    /// Confirmed or finalized (processed is refused by the RPC).
    pub commitment: Option<Commitment>,
}

/// `getTransaction` with `encoding: json` (what a follower reads a deposit from).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResponse {
    /// Its slot.
    pub slot: u64,
    /// Unix seconds.
    #[serde(default)]
    pub block_time: Option<i64>,
    /// Execution results.
    #[serde(default)]
    pub meta: Option<TransactionMeta>,
    /// The transaction.
    pub transaction: EncodedTransaction,
}

impl TransactionResponse {
    /// Every account the transaction touched, in index order (static keys, then the
    /// addresses loaded from lookup tables: writable, read-only).
    pub fn account_keys(&self) -> Vec<Pubkey> {
        let mut keys = self.transaction.message.account_keys.clone();
        if let Some(loaded) = self.meta.as_ref().and_then(|m| m.loaded_addresses.as_ref()) {
            keys.extend(loaded.writable.iter().copied());
            keys.extend(loaded.readonly.iter().copied());
        }
        keys
    }

    /// The transaction's id (its first signature).
    pub fn signature(&self) -> Option<&str> {
        self.transaction.signatures.first().map(String::as_str)
    }
}

/// The `transaction` of a `getTransaction` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EncodedTransaction {
    /// Its signatures (base58).
    pub signatures: Vec<String>,
    /// Its message.
    pub message: EncodedMessage,
}

/// The message of a `getTransaction` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncodedMessage {
    /// The static account keys.
    pub account_keys: Vec<Pubkey>,
    /// The blockhash it was signed under.
    pub recent_blockhash: String,
}

/// Execution results of a transaction.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionMeta {
    /// Its error, when it failed on chain.
    #[serde(default)]
    pub err: Option<Value>,
    /// The fee it paid, in lamports.
    pub fee: u64,
    /// Lamports of each account before, by account index.
    pub pre_balances: Vec<u64>,
    /// Lamports of each account after.
    pub post_balances: Vec<u64>,
    /// Token accounts before.
    #[serde(default)]
    pub pre_token_balances: Option<Vec<TokenBalance>>,
    /// Token accounts after.
    #[serde(default)]
    pub post_token_balances: Option<Vec<TokenBalance>>,
    /// Program logs.
    #[serde(default)]
    pub log_messages: Option<Vec<String>>,
    /// Accounts loaded from lookup tables (v0 transactions).
    #[serde(default)]
    pub loaded_addresses: Option<LoadedAddresses>,
    /// Compute units used.
    #[serde(default)]
    pub compute_units_consumed: Option<u64>,
}

/// Addresses a v0 transaction loaded from lookup tables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoadedAddresses {
    /// Writable ones.
    pub writable: Vec<Pubkey>,
    /// Read-only ones.
    pub readonly: Vec<Pubkey>,
}

/// A token account's balance in a transaction's meta.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBalance {
    /// Index into the transaction's account keys.
    pub account_index: usize,
    /// Its mint.
    pub mint: Pubkey,
    /// Its owner (the wallet).
    #[serde(default)]
    pub owner: Option<Pubkey>,
    /// Its token program.
    #[serde(default)]
    pub program_id: Option<Pubkey>,
    /// The balance.
    pub ui_token_amount: TokenAmount,
}

fn u64_text<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}
