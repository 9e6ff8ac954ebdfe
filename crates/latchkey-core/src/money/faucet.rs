//! `POST /v1/faucet/drips`: test tokens for development, with a TEST key only.
//!
//! latchkey drips from a local development node: with `--dev`, on a chain whose node is anvil
//! (`ChainInfo::is_local`), the node's first unlocked account sends the native coin, and test
//! USDC is minted. The first USDC drip places the runtime code of `contracts/src/TestUsdc.sol`
//! (6 decimals, open mint) at Circle's USDC address of that chain with `anvil_setCode`, so
//! Circle's USDC token id and address are right without any override, and code that
//! hard-codes the address works too. The mint emits `Transfer(0x0, to, amount)`, as a real
//! deposit would.
//!
//! On a chain whose operator configured a faucet key (`--faucet-key CHAIN=FILE`, testnets
//! only), that funded account drips instead, on any node (a key configured for a local node
//! wins over its unlocked accounts): the native coin as a plain transfer, USDC as an ERC-20
//! `transfer` of Circle's USDC from the account's own holding, each signed by latchkey with
//! the key ([`OperatorKey`]). An account that holds too little answers 175406 naming it, so
//! the operator knows to refill it.
//!
//! On SOL-DEVNET with latchkey's local Solana node and `--dev`: an airdrop of SOL, and USDC
//! minted from a test mint latchkey creates (keys derived from the master key), registered
//! under Circle's SOL-DEVNET USDC token id (see `Latchkey::solana_drip`).
//!
//! On any other chain there is no faucet: the call answers Circle's 175406 ("feature
//! disabled") saying so, as latchkey does for every capability it lacks.
//!
//! The answer (204) comes once the node accepted the transactions; it does not wait for them
//! to be mined (anvil's automine mines them at once).

use super::estimate::node_unavailable;
use super::operator_key::OperatorKey;
use super::registry;
use super::solana::SolanaChain;
use super::tokens::{TokenOrigin, TokenRecord};
use super::{CallRequest, Chain, NodeError};
use crate::error::{codes, ApiError};
use crate::model::Environment;
use crate::service::{store_failed, ApiCaller, Latchkey};
use latchkey_chains::{erc, parse_units, validate_address, Address, Blockchain, Family, U256};
use std::sync::LazyLock;

/// The runtime code of the development USDC (`contracts/out/TestUsdc.runtime.hex`, built by
/// `contracts/build` and checked by `contracts/build --check`).
const TEST_USDC_RUNTIME_HEX: &str = include_str!("../../../../contracts/out/TestUsdc.runtime.hex");

/// [`TEST_USDC_RUNTIME_HEX`] decoded (empty if the committed file were not hex, which the
/// unit test below rules out).
static TEST_USDC_RUNTIME: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let hex = TEST_USDC_RUNTIME_HEX.trim();
    hex::decode(hex.strip_prefix("0x").unwrap_or(hex)).unwrap_or_default()
});

/// USDC per drip, in whole units (Circle's console faucet gives 20).
pub const USDC_DRIP: &str = "20";

/// Native coin per drip, in whole units: Circle's console figures (0.1 AVAX, 0.2 POL, 0.01
/// of the ether-class coins).
pub fn native_drip(blockchain: Blockchain) -> &'static str {
    match blockchain {
        Blockchain::AvaxFuji => "0.1",
        Blockchain::MaticAmoy => "0.2",
        _ => "0.01",
    }
}

/// What the faucet's first account is topped up to when it runs low (anvil's own default
/// balance: 10 000 coins).
const REFILL_WEI: u128 = 10_000 * 10u128.pow(18);

/// The body of `POST /v1/faucet/drips` (the SDK's `FaucetRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaucetRequest {
    /// The receiving address.
    pub address: Option<String>,
    /// A value of Circle's `TestnetBlockchain`.
    pub blockchain: Option<String>,
    /// Send the native coin.
    pub native: bool,
    /// Send USDC.
    pub usdc: bool,
    /// Send EURC (latchkey has none).
    pub eurc: bool,
}

/// Whether Circle's faucet serves `b` (the SDK's `TestnetBlockchain`: every testnet with
/// money, so not EVM-TESTNET or NEAR-TESTNET).
pub fn is_faucet_chain(b: Blockchain) -> bool {
    b.is_testnet() && b.is_money_chain()
}

/// A refusal of the request itself: code 2, 400, naming the field.
fn refused(field: &str, message: String) -> ApiError {
    ApiError::invalid_field(field, "invalid", message)
}

/// What latchkey does not offer for a well-formed request (no faucet on the chain, no EURC, no
/// USDC there): Circle's 175406, as for every capability latchkey lacks, not a code 2 (the
/// request is not malformed).
fn not_offered(message: String) -> ApiError {
    NOT_OFFERED.with_message(format!("This feature is temporarily disabled: {message}."))
}

/// Circle's "feature disabled" code, latchkey's answer for a capability it does not offer.
const NOT_OFFERED: ApiError = ApiError::new(175406, 400, "This feature is temporarily disabled.");

impl Latchkey {
    /// `POST /v1/faucet/drips`. A LIVE key → 156006; a blockchain outside `TestnetBlockchain`
    /// or nothing asked for → code 2; a malformed address → 155219; EURC, or USDC on a chain
    /// with no USDC → 175406; no node → 156027; no faucet on that chain → 175406; the node
    /// unreachable → 503.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn request_testnet_tokens(
        &self,
        caller: &ApiCaller,
        req: &FaucetRequest,
    ) -> Result<(), ApiError> {
        if caller.environment == Environment::Live {
            return Err(codes::ENVIRONMENT_MISMATCH.with_message(
                "TEST_API key cannot be used with blockchain mainnets, or LIVE_API key cannot \
                 be used with blockchain testnets: the faucet drips test tokens, use a TEST_API \
                 key.",
            ));
        }
        let name = req
            .blockchain
            .as_deref()
            .ok_or_else(|| ApiError::missing_field("blockchain"))?;
        let blockchain = Blockchain::parse(name)
            .filter(|b| is_faucet_chain(*b))
            .ok_or_else(|| {
                refused(
                    "blockchain",
                    format!("{name:?} is not a testnet blockchain (TestnetBlockchain)"),
                )
            })?;
        let address = req
            .address
            .as_deref()
            .ok_or_else(|| ApiError::missing_field("address"))?;
        if !validate_address(blockchain, address) {
            return Err(codes::INVALID_DESTINATION_ADDRESS.with_message(format!(
                "Invalid destination address: {address:?} is not an address on {blockchain}."
            )));
        }
        if !(req.native || req.usdc || req.eurc) {
            return Err(refused(
                "native",
                "nothing to send: set native, usdc or eurc to true".into(),
            ));
        }
        if req.eurc {
            return Err(not_offered(format!(
                "EURC is not available on {blockchain} in latchkey"
            )));
        }
        let usdc = if req.usdc {
            Some(
                registry::static_tokens()
                    .iter()
                    .find(|t| t.blockchain == blockchain && t.symbol.as_deref() == Some("USDC"))
                    .ok_or_else(|| {
                        not_offered(format!("USDC is not available on {blockchain} in latchkey"))
                    })?,
            )
        } else {
            None
        };
        if blockchain.family() == Family::Solana {
            let chain = self.chains().require_solana(blockchain)?;
            if !(chain.info.is_local && self.settings().dev) {
                return Err(not_offered(format!(
                    "no faucet for {blockchain}: latchkey drips test tokens on Solana only from \
                     a local node (latchkey's test node) with --dev; use Circle's public faucet \
                     for this chain"
                )));
            }
            return self.solana_drip(chain, address, req.native, usdc).await;
        }
        let chain = self.chains().require(blockchain)?;
        let local =
            chain.info.is_local && self.settings().dev && blockchain.family() == Family::Evm;
        if chain.faucet_key.is_none() && !local {
            return Err(not_offered(format!(
                "no faucet for {blockchain}: latchkey drips test tokens from an operator faucet \
                 key (--faucet-key) or from a local development node (anvil) with --dev; use \
                 Circle's public faucet for this chain"
            )));
        }
        let to: Address = address.parse().map_err(|_| {
            codes::INVALID_DESTINATION_ADDRESS
                .with_message(format!("Invalid destination address: {address:?}."))
        })?;
        let usdc = match usdc {
            None => None,
            Some(t) => {
                let contract = t
                    .token_address
                    .as_deref()
                    .and_then(|a| a.parse::<Address>().ok())
                    .ok_or_else(ApiError::internal)?;
                let amount = parse_units(USDC_DRIP, t.decimals.unwrap_or(6))
                    .map_err(|_| ApiError::internal())?;
                Some((contract, amount))
            }
        };
        let native = if req.native {
            let amount = parse_units(native_drip(blockchain), blockchain.native_decimals())
                .map_err(|_| ApiError::internal())?;
            Some(amount)
        } else {
            None
        };
        match &chain.faucet_key {
            Some(key) => keyed_drip(chain, key, to, native, usdc).await,
            None => local_drip(chain, to, native, usdc)
                .await
                .map_err(|e| drip_failed(blockchain, e)),
        }
    }
}

/// SOL kept by the local Solana faucet's authority (it pays the mint's rent, the recipients'
/// token accounts and the fees): topped up by an airdrop of [`SOLANA_AUTHORITY_REFILL`] below.
const SOLANA_AUTHORITY_FLOOR: u64 = 100_000_000;
/// What the authority is topped up with (1 SOL).
const SOLANA_AUTHORITY_REFILL: u64 = 1_000_000_000;

impl Latchkey {
    /// The development faucet on a local Solana node: SOL by `requestAirdrop`; USDC minted
    /// from a test mint latchkey creates on first use, registered under Circle's USDC token
    /// id of the chain (a stored row overriding the static one, so balances name it USDC).
    /// The mint and its authority are Ed25519 keys derived from the master key
    /// ([`crate::crypto::MasterKey::solana_dev_faucet_seed`]): the same mint on every
    /// instance and after every restart, no key stored anywhere.
    async fn solana_drip(
        &self,
        chain: &SolanaChain,
        to: &str,
        native: bool,
        usdc: Option<&TokenRecord>,
    ) -> Result<(), ApiError> {
        let blockchain = chain.info.blockchain;
        let failed = |e| solana_drip_failed(blockchain, e);
        if native {
            let lamports = parse_units(native_drip(blockchain), blockchain.native_decimals())
                .ok()
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(ApiError::internal)?;
            chain.node.airdrop(to, lamports).await.map_err(failed)?;
        }
        let Some(usdc) = usdc else { return Ok(()) };
        let name = blockchain.as_str();
        let authority = self.master.solana_dev_faucet_seed(name, "authority");
        let mint_seed = self.master.solana_dev_faucet_seed(name, "usdc-mint");
        let payer = latchkey_chains::address(Family::Solana, authority.expose()).map_err(|e| {
            tracing::error!(error = %e.message, "derived faucet key has no address");
            ApiError::internal()
        })?;
        if chain.node.balance(&payer).await.map_err(failed)? < SOLANA_AUTHORITY_FLOOR {
            chain
                .node
                .airdrop(&payer, SOLANA_AUTHORITY_REFILL)
                .await
                .map_err(failed)?;
        }
        let decimals = usdc.decimals.unwrap_or(6);
        let mint = chain
            .node
            .create_mint(authority.expose(), mint_seed.expose(), decimals)
            .await
            .map_err(failed)?;
        let registered = self.token(&usdc.id).await?;
        if registered.and_then(|t| t.token_address).as_deref() != Some(mint.as_str()) {
            tracing::info!(%blockchain, %mint, token = %usdc.id,
                "registering the local test USDC mint under Circle's USDC token id");
            let now = self.now();
            let record = TokenRecord {
                token_address: Some(mint.clone()),
                origin: TokenOrigin::Local,
                created_at: now,
                updated_at: now,
                ..usdc.clone()
            };
            self.store
                .upsert_seen_token(&record)
                .await
                .map_err(store_failed)?;
        }
        let amount = parse_units(USDC_DRIP, decimals)
            .ok()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(ApiError::internal)?;
        chain
            .node
            .mint_to(authority.expose(), &mint, to, amount)
            .await
            .map_err(failed)
    }
}

/// A node failure during a Solana drip: unreachable → 503; anything else → 500, the node's
/// text in the log (the local node refusing latchkey's own transactions is a bug, not input).
fn solana_drip_failed(blockchain: Blockchain, e: NodeError) -> ApiError {
    match e {
        NodeError::Unavailable(why) => {
            tracing::warn!(%blockchain, %why, "node unavailable during a faucet drip");
            node_unavailable(blockchain)
        }
        other => {
            tracing::warn!(%blockchain, error = %other, "Solana faucet drip failed");
            ApiError::internal()
        }
    }
}

/// Drips from the operator's faucet account: `native` wei, then `usdc` (contract, base units)
/// transferred from its own holding, after checking it holds both (175406 naming the account
/// otherwise, and a warning in the log for the operator).
async fn keyed_drip(
    chain: &Chain,
    key: &OperatorKey,
    to: Address,
    native: Option<U256>,
    usdc: Option<(Address, U256)>,
) -> Result<(), ApiError> {
    let blockchain = chain.info.blockchain;
    let from = key.address();
    let failed = |e| drip_failed(blockchain, e);
    let dry = |what: &str| {
        tracing::warn!(%blockchain, account = %from, what, "the faucet account needs a refill");
        not_offered(format!(
            "the faucet account {from} on {blockchain} holds too little {what} to drip; the \
             operator must refill it"
        ))
    };
    let node = &chain.node;
    if let Some(value) = native {
        if node
            .balance(from, super::BlockTag::Latest)
            .await
            .map_err(failed)?
            <= value
        {
            return Err(dry(blockchain.native_symbol()));
        }
    }
    if let Some((contract, amount)) = usdc {
        let call = CallRequest {
            to: Some(contract),
            data: erc::erc20_balance_of(from),
            ..CallRequest::default()
        };
        let held = node
            .call(&call)
            .await
            .ok()
            .and_then(|r| erc::decode_uint(&r))
            .unwrap_or(U256::ZERO);
        if held < amount {
            return Err(dry("USDC"));
        }
    }
    if let Some(value) = native {
        key.send(chain, to, value, Vec::new())
            .await?
            .map_err(failed)?;
    }
    if let Some((contract, amount)) = usdc {
        key.send(chain, contract, U256::ZERO, erc::erc20_transfer(to, amount))
            .await?
            .map_err(failed)?;
    }
    Ok(())
}

/// Drips from the local node's first unlocked account: `native` wei, then `usdc` (contract,
/// base units) minted, with the development USDC placed at the contract address first when
/// nothing is there.
async fn local_drip(
    chain: &Chain,
    to: Address,
    native: Option<U256>,
    usdc: Option<(Address, U256)>,
) -> Result<(), NodeError> {
    let node = &chain.node;
    let from = node
        .accounts()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| NodeError::Other("the local node has no unlocked account".into()))?;
    if let Some(value) = native {
        let balance = node.balance(from, super::BlockTag::Latest).await?;
        // Keep ample room for gas: a drained dev account is topped up, never left short.
        if balance < value.saturating_mul(U256::from(2u8)) {
            node.set_balance(from, U256::from(REFILL_WEI).saturating_add(value))
                .await?;
        }
        let send = CallRequest {
            from: Some(from),
            to: Some(to),
            value: Some(value),
            ..CallRequest::default()
        };
        node.send_unlocked(&send).await?;
    }
    if let Some((contract, amount)) = usdc {
        if node.code(contract).await?.is_empty() {
            tracing::info!(blockchain = %chain.info.blockchain, %contract,
                "placing the development USDC at Circle's USDC address");
            node.set_code(contract, &TEST_USDC_RUNTIME).await?;
        }
        let mint = CallRequest {
            from: Some(from),
            to: Some(contract),
            data: erc::test_usdc_mint(to, amount),
            ..CallRequest::default()
        };
        node.send_unlocked(&mint).await?;
    }
    Ok(())
}

/// A node failure during a drip: unreachable → 503 (nothing is known; retry); a revert (a
/// token at the USDC address without an open mint, as on a forked chain) → code 2 with the
/// reason; anything else → 500, the node's text in the log.
fn drip_failed(blockchain: Blockchain, e: NodeError) -> ApiError {
    match e {
        NodeError::Unavailable(why) => {
            tracing::warn!(%blockchain, %why, "node unavailable during a faucet drip");
            node_unavailable(blockchain)
        }
        NodeError::Reverted(reason) => refused(
            "usdc",
            format!(
                "the {blockchain} node refused the drip (execution reverted{}): the contract \
                 at the USDC address is not a token the faucet can mint or send",
                reason.map(|r| format!(": {r}")).unwrap_or_default()
            ),
        ),
        other => {
            tracing::warn!(%blockchain, error = %other, "faucet drip failed");
            ApiError::internal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_runtime_code_decodes() {
        assert!(TEST_USDC_RUNTIME.len() > 100);
        // PUSH1 0x80 PUSH1 0x40 MSTORE: solc's preamble.
        assert_eq!(
            TEST_USDC_RUNTIME.get(..5),
            Some(&[0x60, 0x80, 0x60, 0x40, 0x52][..])
        );
    }

    #[test]
    fn faucet_chains_are_the_sdks_testnet_blockchains() {
        let names: Vec<&str> = Blockchain::ALL
            .iter()
            .filter(|b| is_faucet_chain(**b))
            .map(|b| b.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "ETH-SEPOLIA",
                "AVAX-FUJI",
                "MATIC-AMOY",
                "SOL-DEVNET",
                "ARB-SEPOLIA",
                "UNI-SEPOLIA",
                "BASE-SEPOLIA",
                "OP-SEPOLIA",
                "APTOS-TESTNET",
                "ARC-TESTNET",
                "MONAD-TESTNET"
            ]
        );
    }

    #[test]
    fn drip_amounts_parse() {
        for &b in Blockchain::ALL.iter().filter(|b| is_faucet_chain(**b)) {
            assert!(
                parse_units(native_drip(b), b.native_decimals()).is_ok(),
                "{b}"
            );
        }
        assert_eq!(parse_units(USDC_DRIP, 6), Ok(U256::from(20_000_000u64)));
    }
}
