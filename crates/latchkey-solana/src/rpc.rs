//! The JSON-RPC client: one POST per call over reqwest (the HTTP stack the workspace already
//! builds for alloy), a timeout per call, and a few retries of rate-limited or momentarily
//! unavailable answers (HTTP 429/503), as latchkey-evm's retry layer does. Other failures are
//! returned at once, classified (see [`RpcError`]): the engine's next pass is the retry.

use crate::errors::{classify, RpcError};
use crate::pubkey::{Pubkey, TOKEN_2022_PROGRAM, TOKEN_PROGRAM};
use crate::types::*;
use base64::Engine as _;
use latchkey_core::redact::redact_rpc_url;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// First wait before a rate-limited call is retried (doubled each time, or the server's
/// `Retry-After`, at most [`MAX_BACKOFF`]).
const RETRY_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest a TCP/TLS connection may take, whatever the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to talk to a node (latchkey-evm's `RpcOptions`, plus what a Solana node needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcOptions {
    /// Longest a single JSON-RPC call may take.
    pub timeout: Duration,
    /// Retries of a rate-limited or temporarily unavailable call (HTTP 429/503).
    pub retries: u32,
    /// A genesis hash to accept besides the cluster's (a local validator's, which is new at
    /// every `solana-test-validator --reset`); the node is then a local one. latchkey's own
    /// test node (`tests/solana-node`) is always accepted: see [`crate::LOCAL_GENESIS_HASH`].
    pub local_genesis_hash: Option<String>,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retries: 3,
            local_genesis_hash: None,
        }
    }
}

/// How `sendTransaction` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Skip the node's simulation (a refused transaction is then dropped silently instead of
    /// answered with an error).
    pub skip_preflight: bool,
    /// The bank the preflight runs against (confirmed: the blockhashes latchkey signs under
    /// come from `getLatestBlockhash(confirmed)`).
    pub preflight_commitment: Commitment,
    /// How often the node itself re-broadcasts; `None` for its default (until the blockhash
    /// expires).
    pub max_retries: Option<u32>,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            skip_preflight: false,
            preflight_commitment: Commitment::Confirmed,
            max_retries: None,
        }
    }
}

/// A Solana JSON-RPC node.
#[derive(Debug)]
pub struct SolanaRpc {
    http: reqwest::Client,
    /// The URL with its secrets, for requests only.
    url: reqwest::Url,
    /// The URL as it may be logged.
    shown: String,
    retries: u32,
    next_id: AtomicU64,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize)]
struct WithContext<T> {
    value: T,
}

impl SolanaRpc {
    /// The client for `url` (`http://` or `https://`), without contacting it.
    pub fn new(url: &str, options: &RpcOptions) -> Result<SolanaRpc, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("unsupported scheme {}", parsed.scheme()));
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SolanaRpc {
            http,
            url: parsed,
            shown: redact_rpc_url(url),
            retries: options.retries,
            next_id: AtomicU64::new(1),
        })
    }

    /// The node's URL with its secrets replaced (for logs and errors).
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// One JSON-RPC call, retried on HTTP 429/503.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut attempt = 0u32;
        loop {
            let response = self
                .http
                .post(self.url.clone())
                .json(&body)
                .send()
                .await
                .map_err(|e| RpcError::Unavailable(transport_message(&e)))?;
            let status = response.status();
            if matches!(status.as_u16(), 429 | 503) && attempt < self.retries {
                let backoff = RETRY_BACKOFF
                    .checked_mul(2u32.saturating_pow(attempt))
                    .unwrap_or(MAX_BACKOFF);
                let wait = retry_after(&response).unwrap_or(backoff);
                tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
                attempt += 1;
                continue;
            }
            if !status.is_success() {
                return Err(RpcError::Unavailable(format!("HTTP {}", status.as_u16())));
            }
            let envelope: Envelope = response.json().await.map_err(|e| {
                RpcError::Other(format!(
                    "{method}: not a JSON-RPC answer ({})",
                    transport_message(&e)
                ))
            })?;
            if let Some(e) = envelope.error {
                return Err(classify(e.code, &e.message, e.data.as_ref()));
            }
            let result = envelope.result.unwrap_or(Value::Null);
            return serde_json::from_value(result)
                .map_err(|e| RpcError::Other(format!("{method}: unexpected answer ({e})")));
        }
    }

    async fn call_value<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        self.call::<WithContext<T>>(method, params)
            .await
            .map(|w| w.value)
    }

    /// `getGenesisHash`: which cluster the node serves.
    pub async fn get_genesis_hash(&self) -> Result<String, RpcError> {
        self.call("getGenesisHash", json!([])).await
    }

    /// `getSlot` at `commitment`.
    pub async fn get_slot(&self, commitment: Commitment) -> Result<u64, RpcError> {
        self.call("getSlot", json!([{"commitment": commitment}]))
            .await
    }

    /// `getBlockHeight` at `commitment` (what `lastValidBlockHeight` is compared with).
    pub async fn get_block_height(&self, commitment: Commitment) -> Result<u64, RpcError> {
        self.call("getBlockHeight", json!([{"commitment": commitment}]))
            .await
    }

    /// `getLatestBlockhash` at `commitment`.
    pub async fn get_latest_blockhash(
        &self,
        commitment: Commitment,
    ) -> Result<LatestBlockhash, RpcError> {
        self.call_value("getLatestBlockhash", json!([{"commitment": commitment}]))
            .await
    }

    /// `isBlockhashValid`: a transaction signed under `blockhash` can still land.
    pub async fn is_blockhash_valid(
        &self,
        blockhash: &str,
        commitment: Commitment,
    ) -> Result<bool, RpcError> {
        self.call_value(
            "isBlockhashValid",
            json!([blockhash, {"commitment": commitment}]),
        )
        .await
    }

    /// `getBalance` in lamports.
    pub async fn get_balance(
        &self,
        address: &Pubkey,
        commitment: Commitment,
    ) -> Result<u64, RpcError> {
        self.call_value(
            "getBalance",
            json!([address.to_string(), {"commitment": commitment}]),
        )
        .await
    }

    /// `getAccountInfo` (base64); `None` for an account that does not exist.
    pub async fn get_account_info(
        &self,
        address: &Pubkey,
        commitment: Commitment,
    ) -> Result<Option<AccountInfo>, RpcError> {
        let raw: Option<RawAccount> = self
            .call_value(
                "getAccountInfo",
                json!([address.to_string(), {"commitment": commitment, "encoding": "base64"}]),
            )
            .await?;
        raw.map(decode_account).transpose()
    }

    /// `getTokenAccountsByOwner` filtered by one mint or one token program (jsonParsed).
    pub async fn get_token_accounts_by_owner(
        &self,
        owner: &Pubkey,
        filter: TokenFilter,
        commitment: Commitment,
    ) -> Result<Vec<TokenAccount>, RpcError> {
        let filter = match filter {
            TokenFilter::Mint(m) => json!({"mint": m.to_string()}),
            TokenFilter::Program(p) => json!({"programId": p.to_string()}),
        };
        let raw: Vec<RawKeyedParsedAccount> = self
            .call_value(
                "getTokenAccountsByOwner",
                json!([owner.to_string(), filter, {"commitment": commitment, "encoding": "jsonParsed"}]),
            )
            .await?;
        Ok(raw
            .into_iter()
            .map(|a| TokenAccount {
                address: a.pubkey,
                program: a.account.owner,
                mint: a.account.data.parsed.info.mint,
                owner: a.account.data.parsed.info.owner,
                amount: a.account.data.parsed.info.token_amount,
            })
            .collect())
    }

    /// Every token account of `owner`, classic Token then Token-2022 (two calls: the RPC
    /// filters by one program at a time).
    pub async fn token_accounts_of(
        &self,
        owner: &Pubkey,
        commitment: Commitment,
    ) -> Result<Vec<TokenAccount>, RpcError> {
        let mut all = self
            .get_token_accounts_by_owner(owner, TokenFilter::Program(TOKEN_PROGRAM), commitment)
            .await?;
        all.extend(
            self.get_token_accounts_by_owner(
                owner,
                TokenFilter::Program(TOKEN_2022_PROGRAM),
                commitment,
            )
            .await?,
        );
        Ok(all)
    }

    /// `getTokenAccountBalance` of a token account.
    pub async fn get_token_account_balance(
        &self,
        account: &Pubkey,
        commitment: Commitment,
    ) -> Result<TokenAmount, RpcError> {
        self.call_value(
            "getTokenAccountBalance",
            json!([account.to_string(), {"commitment": commitment}]),
        )
        .await
    }

    /// `getMinimumBalanceForRentExemption` of an account of `size` bytes, in lamports.
    pub async fn get_minimum_balance_for_rent_exemption(&self, size: u64) -> Result<u64, RpcError> {
        self.call("getMinimumBalanceForRentExemption", json!([size]))
            .await
    }

    /// `getFeeForMessage` of a serialized message, in lamports; `None` when its blockhash is no
    /// longer valid.
    pub async fn get_fee_for_message(
        &self,
        message: &[u8],
        commitment: Commitment,
    ) -> Result<Option<u64>, RpcError> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(message);
        self.call_value("getFeeForMessage", json!([b64, {"commitment": commitment}]))
            .await
    }

    /// `getRecentPrioritizationFees` for transactions writing `accounts` (up to 128).
    pub async fn get_recent_prioritization_fees(
        &self,
        accounts: &[Pubkey],
    ) -> Result<Vec<PrioritizationFee>, RpcError> {
        let keys: Vec<String> = accounts.iter().take(128).map(Pubkey::to_string).collect();
        self.call("getRecentPrioritizationFees", json!([keys]))
            .await
    }

    /// `sendTransaction` of a base64 transaction; answers its signature. A refusal is
    /// [`RpcError::Rejected`] with its kind (already processed, blockhash not found,
    /// insufficient funds, …).
    pub async fn send_transaction(
        &self,
        base64_tx: &str,
        options: &SendOptions,
    ) -> Result<String, RpcError> {
        let mut config = json!({
            "encoding": "base64",
            "skipPreflight": options.skip_preflight,
            "preflightCommitment": options.preflight_commitment,
        });
        if let Some(n) = options.max_retries {
            config["maxRetries"] = json!(n);
        }
        self.call("sendTransaction", json!([base64_tx, config]))
            .await
    }

    /// `simulateTransaction` of a base64 transaction. With `sig_verify` false the signatures
    /// may be zeroed (an unsigned transaction, to measure compute units); with
    /// `replace_recent_blockhash` the node runs it under its latest blockhash. `accounts` are
    /// returned as the transaction would leave them ([`Simulation::accounts`]).
    pub async fn simulate_transaction(
        &self,
        base64_tx: &str,
        sig_verify: bool,
        replace_recent_blockhash: bool,
        commitment: Commitment,
        accounts: &[Pubkey],
    ) -> Result<Simulation, RpcError> {
        let mut config = json!({
            "encoding": "base64",
            "sigVerify": sig_verify,
            "replaceRecentBlockhash": replace_recent_blockhash,
            "commitment": commitment,
        });
        if !accounts.is_empty() {
            let addresses: Vec<String> = accounts.iter().map(Pubkey::to_string).collect();
            config["accounts"] = json!({"addresses": addresses, "encoding": "base64"});
        }
        let raw: RawSimulation = self
            .call_value("simulateTransaction", json!([base64_tx, config]))
            .await?;
        let accounts = raw
            .accounts
            .map(|list| {
                list.into_iter()
                    .map(|a| a.map(decode_account).transpose())
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Simulation {
            err: raw.err,
            logs: raw.logs,
            units_consumed: raw.units_consumed,
            accounts,
        })
    }

    /// `getSignatureStatuses` (at most 256 signatures); `None` for a signature the node does
    /// not know. With `search_history` the node also looks beyond its recent status cache.
    pub async fn get_signature_statuses(
        &self,
        signatures: &[&str],
        search_history: bool,
    ) -> Result<Vec<Option<SignatureStatus>>, RpcError> {
        self.call_value(
            "getSignatureStatuses",
            json!([signatures, {"searchTransactionHistory": search_history}]),
        )
        .await
    }

    /// `getSignaturesForAddress`, newest first.
    pub async fn get_signatures_for_address(
        &self,
        address: &Pubkey,
        query: &SignaturesQuery,
    ) -> Result<Vec<SignatureInfo>, RpcError> {
        let mut config = json!({});
        if let Some(b) = &query.before {
            config["before"] = json!(b);
        }
        if let Some(u) = &query.until {
            config["until"] = json!(u);
        }
        if let Some(l) = query.limit {
            config["limit"] = json!(l);
        }
        if let Some(c) = query.commitment {
            config["commitment"] = json!(c);
        }
        self.call(
            "getSignaturesForAddress",
            json!([address.to_string(), config]),
        )
        .await
    }

    /// `getTransaction` (json, v0 allowed) at `commitment` (confirmed or finalized); `None`
    /// when the node has not seen it at that commitment.
    pub async fn get_transaction(
        &self,
        signature: &str,
        commitment: Commitment,
    ) -> Result<Option<TransactionResponse>, RpcError> {
        self.call(
            "getTransaction",
            json!([signature, {
                "encoding": "json",
                "commitment": commitment,
                "maxSupportedTransactionVersion": 0,
            }]),
        )
        .await
    }

    /// `requestAirdrop` (devnet, testnet and local nodes); answers the airdrop's signature.
    pub async fn request_airdrop(&self, to: &Pubkey, lamports: u64) -> Result<String, RpcError> {
        self.call("requestAirdrop", json!([to.to_string(), lamports]))
            .await
    }

    /// Whether a transaction signed under a blockhash whose `lastValidBlockHeight` was
    /// `last_valid_block_height` can never land: the *finalized* block height is past it (no
    /// fork can bring the blockhash back) **and** the node, searching its whole history, does
    /// not know `signature`. Only then may an engine give the transaction up (nothing left the
    /// wallet). A `BlockhashNotFound` from `sendTransaction` alone is no such proof: a node
    /// behind the one the blockhash came from says it too.
    pub async fn can_never_land(
        &self,
        signature: &str,
        last_valid_block_height: u64,
    ) -> Result<bool, RpcError> {
        let finalized = self.get_block_height(Commitment::Finalized).await?;
        if finalized <= last_valid_block_height {
            return Ok(false);
        }
        let status = self.get_signature_statuses(&[signature], true).await?;
        Ok(matches!(status.as_slice(), [None]))
    }

    /// Polls `getSignatureStatuses` until `signature` reaches `commitment` (or failed on
    /// chain: the status is returned either way), every 200 ms for at most `timeout`;
    /// `Ok(None)` when it did not get there in time.
    pub async fn wait_for_signature(
        &self,
        signature: &str,
        commitment: Commitment,
        timeout: Duration,
    ) -> Result<Option<SignatureStatus>, RpcError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self
                .get_signature_statuses(&[signature], true)
                .await?
                .into_iter()
                .next()
                .flatten();
            if let Some(s) = status.filter(|s| s.err.is_some() || s.reached(commitment)) {
                return Ok(Some(s));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Which token accounts `getTokenAccountsByOwner` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFilter {
    /// Those of one mint.
    Mint(Pubkey),
    /// Those of one token program (classic Token or Token-2022).
    Program(Pubkey),
}

fn decode_account(a: RawAccount) -> Result<AccountInfo, RpcError> {
    let data = base64::engine::general_purpose::STANDARD
        .decode(&a.data.0)
        .map_err(|_| RpcError::Other("account data is not base64".into()))?;
    Ok(AccountInfo {
        lamports: a.lamports,
        owner: a.owner,
        data,
        executable: a.executable,
    })
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// A transport failure's text without the URL (which may carry an API key).
fn transport_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".to_string();
    }
    if e.is_connect() {
        return "connection refused or unreachable".to_string();
    }
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(url.as_str(), "<node>"),
        None => text,
    }
}
