//! Requests that move money, turned into plans: a [`TransferPlan`] or a [`CallPlan`] says
//! exactly which wallet sends what to whom, as the transaction that will be signed (`to`,
//! `value`, calldata). Every rule that needs no chain read runs here, with Circle's code, so
//! that the challenge routes and the fee estimates refuse a bad request the same way, before
//! any node is asked and before a user sees a PIN prompt.
//!
//! The order is: the request's shape (which fields go together), then the wallet (it must be
//! the caller's), then the token, the destination and the amounts. The pure rules on resolved
//! records are in [`super::plan_rules`].

use super::plan_rules::{self, Source};
use super::serde_as;
use super::solana_plan::SolanaTransferPlan;
use super::tokens::TokenRecord;
use crate::error::{codes, ApiError};
use crate::model::WalletRecord;
use crate::service::{store_failed, UserSession};
use crate::store::{Cursor, Order, PageQuery, Store, WalletFilter};
use latchkey_chains::{Address, Blockchain, U256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::fees::FeeRequest;

/// Body of `POST /v1/w3s/user/transactions/transfer`, minus `idempotencyKey` (the SDK's
/// `CreateTransferTransactionForEndUserRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTransferRequest {
    /// The sending wallet; excludes `walletAddress`.
    #[serde(default)]
    pub wallet_id: Option<String>,
    /// The sending wallet by address, with `blockchain`.
    #[serde(default)]
    pub wallet_address: Option<String>,
    /// The chain of `walletAddress` and of `tokenAddress`.
    #[serde(default)]
    pub blockchain: Option<String>,
    /// The token; excludes `tokenAddress`.
    #[serde(default)]
    pub token_id: Option<String>,
    /// The token by contract address (`""`: the native coin).
    #[serde(default)]
    pub token_address: Option<String>,
    /// The recipient.
    #[serde(default)]
    pub destination_address: Option<String>,
    /// Whole-unit amounts (`["0.01"]`; NFTs: counts).
    #[serde(default)]
    pub amounts: Option<Vec<String>>,
    /// NFT token ids (ERC-721: one; ERC-1155: one per amount).
    #[serde(default)]
    pub nft_token_ids: Option<Vec<String>>,
    /// The developer's reference.
    #[serde(default)]
    pub ref_id: Option<String>,
    /// feeLevel, or gasLimit with prices.
    #[serde(flatten)]
    pub fee: FeeRequest,
}

/// Body of `POST /v1/w3s/user/transactions/contractExecution`, minus `idempotencyKey` (the
/// SDK's `CreateContractExecutionTransactionForEndUserRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateContractExecutionRequest {
    /// The sending wallet; excludes `walletAddress`.
    #[serde(default)]
    pub wallet_id: Option<String>,
    /// The sending wallet by address, with `blockchain`.
    #[serde(default)]
    pub wallet_address: Option<String>,
    /// The chain of `walletAddress`.
    #[serde(default)]
    pub blockchain: Option<String>,
    /// The contract called.
    #[serde(default)]
    pub contract_address: Option<String>,
    /// `burn(uint256)`; excludes `callData`.
    #[serde(default)]
    pub abi_function_signature: Option<String>,
    /// The signature's arguments.
    #[serde(default)]
    pub abi_parameters: Option<Vec<Value>>,
    /// Raw calldata (`0x` hex); excludes the ABI fields.
    #[serde(default)]
    pub call_data: Option<String>,
    /// Native value sent with the call, in whole units.
    #[serde(default)]
    pub amount: Option<String>,
    /// The developer's reference.
    #[serde(default)]
    pub ref_id: Option<String>,
    /// feeLevel, or gasLimit with prices.
    #[serde(flatten)]
    pub fee: FeeRequest,
}

/// Body of `POST /v1/w3s/transactions/transfer/estimateFee` (the SDK's
/// `EstimateTransferTransactionFeeRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EstimateTransferFeeRequest {
    /// The sending wallet; excludes `sourceAddress`.
    #[serde(default)]
    pub wallet_id: Option<String>,
    /// The sending wallet by address, with `blockchain`.
    #[serde(default)]
    pub source_address: Option<String>,
    /// The chain of `sourceAddress` and of `tokenAddress`.
    #[serde(default)]
    pub blockchain: Option<String>,
    /// The token; excludes `tokenAddress`.
    #[serde(default)]
    pub token_id: Option<String>,
    /// The token by contract address (`""`: the native coin).
    #[serde(default)]
    pub token_address: Option<String>,
    /// The recipient.
    #[serde(default)]
    pub destination_address: Option<String>,
    /// Whole-unit amounts.
    #[serde(default)]
    pub amounts: Option<Vec<String>>,
    /// NFT token ids.
    #[serde(default)]
    pub nft_token_ids: Option<Vec<String>>,
}

/// Body of `POST /v1/w3s/transactions/contractExecution/estimateFee` (the SDK's
/// `EstimateContractExecutionTransactionFeeRequest`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EstimateContractExecutionFeeRequest {
    /// The sending wallet; excludes `sourceAddress`.
    #[serde(default)]
    pub wallet_id: Option<String>,
    /// The sending wallet by address, with `blockchain`.
    #[serde(default)]
    pub source_address: Option<String>,
    /// The chain of `sourceAddress`.
    #[serde(default)]
    pub blockchain: Option<String>,
    /// The contract called.
    #[serde(default)]
    pub contract_address: Option<String>,
    /// `burn(uint256)`; excludes `callData`.
    #[serde(default)]
    pub abi_function_signature: Option<String>,
    /// The signature's arguments.
    #[serde(default)]
    pub abi_parameters: Option<Vec<Value>>,
    /// Raw calldata; excludes the ABI fields.
    #[serde(default)]
    pub call_data: Option<String>,
    /// Native value sent with the call, in whole units.
    #[serde(default)]
    pub amount: Option<String>,
}

/// The transaction a plan signs, minus nonce and fees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundCall {
    /// The wallet's address.
    #[serde(with = "serde_as::text")]
    pub from: Address,
    /// The recipient (native) or the contract (tokens, calls).
    #[serde(with = "serde_as::text")]
    pub to: Address,
    /// Native value in wei.
    #[serde(with = "serde_as::text")]
    pub value: U256,
    /// Calldata.
    #[serde(with = "serde_as::hex_bytes")]
    pub data: Vec<u8>,
}

/// What a transfer takes from the wallet besides native value and gas: checked against the
/// chain before estimating, so that a shortfall gets its own code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "standard")]
pub enum TokenDebit {
    /// Nothing (a native transfer or a contract call).
    None,
    /// ERC-20 base units.
    #[serde(rename = "ERC20")]
    Erc20 {
        /// The amount in base units.
        #[serde(with = "serde_as::text")]
        amount: U256,
    },
    /// One ERC-721 token, which the wallet must own.
    #[serde(rename = "ERC721")]
    Erc721 {
        /// The token id.
        #[serde(with = "serde_as::text")]
        id: U256,
    },
    /// ERC-1155 amounts per id.
    #[serde(rename = "ERC1155")]
    Erc1155 {
        /// Token ids.
        #[serde(with = "serde_as::text_seq")]
        ids: Vec<U256>,
        /// Amount per id.
        #[serde(with = "serde_as::text_seq")]
        amounts: Vec<U256>,
    },
}

/// The token a transfer moves, as the user is shown it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedToken {
    /// Registry id.
    pub id: String,
    /// `ERC20` / `ERC721` / `ERC1155`; `None` for the native coin.
    pub standard: Option<String>,
    /// Symbol.
    pub symbol: Option<String>,
    /// Decimals.
    pub decimals: Option<u8>,
    /// Contract address; `None` for the native coin.
    pub address: Option<String>,
}

/// A validated transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferPlan {
    /// SCA wallets: the account's owner (the wallet key's address). The plan then moves
    /// money by an ERC-4337 UserOperation from the account (`call.from`), not by a
    /// transaction of the key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_as::opt_text"
    )]
    pub sca_owner: Option<Address>,
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    #[serde(with = "serde_as::blockchain")]
    pub blockchain: Blockchain,
    /// The token.
    pub token: PlannedToken,
    /// The recipient, as given.
    pub destination_address: String,
    /// The amounts, as given.
    pub amounts: Vec<String>,
    /// NFT ids, as given (empty for fungible tokens).
    pub nft_token_ids: Vec<String>,
    /// The developer's reference.
    pub ref_id: Option<String>,
    /// The transaction.
    pub call: OutboundCall,
    /// The token balance it needs.
    pub debit: TokenDebit,
}

/// A validated transfer on either family: the EVM transaction, or the Solana transfer.
// One lives per request: boxing the larger variant would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedTransfer {
    /// An EVM chain.
    Evm(TransferPlan),
    /// SOL or SOL-DEVNET.
    Solana(SolanaTransferPlan),
}

/// A validated contract execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallPlan {
    /// SCA wallets: the account's owner (the wallet key's address). The plan then moves
    /// money by an ERC-4337 UserOperation from the account (`call.from`), not by a
    /// transaction of the key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_as::opt_text"
    )]
    pub sca_owner: Option<Address>,
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    #[serde(with = "serde_as::blockchain")]
    pub blockchain: Blockchain,
    /// The contract, as given.
    pub contract_address: String,
    /// The ABI signature, when the call was given that way.
    pub abi_function_signature: Option<String>,
    /// Its parameters.
    pub abi_parameters: Option<Vec<Value>>,
    /// The raw calldata, when the call was given that way.
    pub call_data: Option<String>,
    /// The native amount, as given.
    pub amount: Option<String>,
    /// The developer's reference.
    pub ref_id: Option<String>,
    /// The transaction.
    pub call: OutboundCall,
}

/// Whose wallets a request may use: the token's user.
#[derive(Debug, Clone, Copy)]
pub struct WalletOwner<'a> {
    /// The entity.
    pub entity_id: &'a str,
    /// The user's internal id.
    pub user_internal_id: &'a str,
}

impl<'a> From<&'a UserSession> for WalletOwner<'a> {
    fn from(session: &'a UserSession) -> Self {
        Self {
            entity_id: session.entity_id(),
            user_internal_id: &session.user.internal_id,
        }
    }
}

/// The transfer fields the two transfer bodies share.
struct TransferFields<'a> {
    source: Source<'a>,
    token_id: Option<&'a str>,
    token_address: Option<&'a str>,
    destination: Option<&'a str>,
    amounts: &'a [String],
    nft_token_ids: &'a [String],
    ref_id: Option<&'a str>,
}

/// The contract fields the two contract bodies share.
struct CallFields<'a> {
    source: Source<'a>,
    contract_address: Option<&'a str>,
    abi_function_signature: Option<&'a str>,
    abi_parameters: Option<&'a [Value]>,
    call_data: Option<&'a str>,
    amount: Option<&'a str>,
    ref_id: Option<&'a str>,
}

impl CreateTransferRequest {
    /// The plan, or the first rule the request breaks (fees are checked separately, by
    /// [`FeeRequest::validate`], because they need the chain's fee model).
    pub async fn plan(
        &self,
        store: &dyn Store,
        owner: WalletOwner<'_>,
    ) -> Result<PlannedTransfer, ApiError> {
        let fields = TransferFields {
            source: Source::new(
                &self.wallet_id,
                &self.wallet_address,
                "walletAddress",
                &self.blockchain,
            ),
            token_id: self.token_id.as_deref(),
            token_address: self.token_address.as_deref(),
            destination: self.destination_address.as_deref(),
            amounts: self.amounts.as_deref().unwrap_or_default(),
            nft_token_ids: self.nft_token_ids.as_deref().unwrap_or_default(),
            ref_id: self.ref_id.as_deref(),
        };
        plan_transfer(store, owner, fields).await
    }
}

impl EstimateTransferFeeRequest {
    /// The plan whose fee is estimated, or the first rule the request breaks.
    pub async fn plan(
        &self,
        store: &dyn Store,
        owner: WalletOwner<'_>,
    ) -> Result<PlannedTransfer, ApiError> {
        let fields = TransferFields {
            source: Source::new(
                &self.wallet_id,
                &self.source_address,
                "sourceAddress",
                &self.blockchain,
            ),
            token_id: self.token_id.as_deref(),
            token_address: self.token_address.as_deref(),
            destination: self.destination_address.as_deref(),
            amounts: self.amounts.as_deref().unwrap_or_default(),
            nft_token_ids: self.nft_token_ids.as_deref().unwrap_or_default(),
            ref_id: None,
        };
        plan_transfer(store, owner, fields).await
    }
}

impl CreateContractExecutionRequest {
    /// The plan, or the first rule the request breaks (fees are checked separately).
    pub async fn plan(
        &self,
        store: &dyn Store,
        owner: WalletOwner<'_>,
    ) -> Result<CallPlan, ApiError> {
        let fields = CallFields {
            source: Source::new(
                &self.wallet_id,
                &self.wallet_address,
                "walletAddress",
                &self.blockchain,
            ),
            contract_address: self.contract_address.as_deref(),
            abi_function_signature: self.abi_function_signature.as_deref(),
            abi_parameters: self.abi_parameters.as_deref(),
            call_data: self.call_data.as_deref(),
            amount: self.amount.as_deref(),
            ref_id: self.ref_id.as_deref(),
        };
        plan_call(store, owner, fields).await
    }
}

impl EstimateContractExecutionFeeRequest {
    /// The plan whose fee is estimated, or the first rule the request breaks.
    pub async fn plan(
        &self,
        store: &dyn Store,
        owner: WalletOwner<'_>,
    ) -> Result<CallPlan, ApiError> {
        let fields = CallFields {
            source: Source::new(
                &self.wallet_id,
                &self.source_address,
                "sourceAddress",
                &self.blockchain,
            ),
            contract_address: self.contract_address.as_deref(),
            abi_function_signature: self.abi_function_signature.as_deref(),
            abi_parameters: self.abi_parameters.as_deref(),
            call_data: self.call_data.as_deref(),
            amount: self.amount.as_deref(),
            ref_id: None,
        };
        plan_call(store, owner, fields).await
    }
}

async fn plan_transfer(
    store: &dyn Store,
    owner: WalletOwner<'_>,
    f: TransferFields<'_>,
) -> Result<PlannedTransfer, ApiError> {
    // The SDK's `TokenIdInput` forbids `blockchain`, so a wallet named by address beside a
    // token named by id is on the token's chain: the token is resolved first to learn it.
    let mut fields = f.source;
    let mut known_token = None;
    if fields.address_without_blockchain() {
        if let Ok(plan_rules::TokenRef::Id(id)) = plan_rules::token_ref(f.token_id, f.token_address)
        {
            let token = super::registry::find_token(store, id)
                .await
                .map_err(store_failed)?
                .ok_or(codes::TOKEN_NOT_FOUND_ID)?;
            fields = fields.on_chain(token.blockchain);
            known_token = Some(token);
        }
    }
    let source = fields.check()?;
    let token_ref = plan_rules::token_ref(f.token_id, f.token_address)?;
    let request_chain = fields.blockchain()?;
    let wallet = resolve_wallet(store, owner, &source, request_chain).await?;
    // With tokenAddress, `blockchain` is the token's chain: a difference from the wallet's is
    // a token mismatch (155220, below). Otherwise it can only describe the wallet (155225).
    let wallet_side = match token_ref {
        plan_rules::TokenRef::Id(_) => request_chain,
        plan_rules::TokenRef::Native | plan_rules::TokenRef::Address(_) => None,
    };
    let chain = plan_rules::transfer_chain(&wallet, wallet_side)?;
    let token = match known_token {
        Some(token) => token,
        None => resolve_token(store, &token_ref, request_chain.unwrap_or(chain)).await?,
    };
    let input = plan_rules::TransferInput {
        destination: f.destination,
        amounts: f.amounts,
        nft_token_ids: f.nft_token_ids,
        ref_id: f.ref_id,
    };
    if chain.family() == latchkey_chains::Family::Solana {
        return super::solana_plan::transfer(&wallet, chain, &token, input)
            .map(PlannedTransfer::Solana);
    }
    plan_rules::transfer(&wallet, chain, &token, input).map(PlannedTransfer::Evm)
}

async fn plan_call(
    store: &dyn Store,
    owner: WalletOwner<'_>,
    f: CallFields<'_>,
) -> Result<CallPlan, ApiError> {
    let source = f.source.check()?;
    let input = plan_rules::CallInput {
        contract_address: f.contract_address,
        abi_function_signature: f.abi_function_signature,
        abi_parameters: f.abi_parameters,
        call_data: f.call_data,
        amount: f.amount,
        ref_id: f.ref_id,
    };
    input.check_shape()?;
    let request_chain = f.source.blockchain()?;
    let wallet = resolve_wallet(store, owner, &source, request_chain).await?;
    let chain = plan_rules::wallet_chain(&wallet, request_chain)?;
    plan_rules::call(&wallet, chain, input)
}

/// The wallet a request names, if it is the caller's (156001 otherwise) and an EOA (155515
/// for an SCA).
async fn resolve_wallet(
    store: &dyn Store,
    owner: WalletOwner<'_>,
    source: &plan_rules::WalletRef<'_>,
    chain: Option<Blockchain>,
) -> Result<WalletRecord, ApiError> {
    let found = match (*source, chain) {
        (plan_rules::WalletRef::Id(id), _) => store
            .wallet(owner.entity_id, owner.user_internal_id, id)
            .await
            .map_err(store_failed)?,
        (plan_rules::WalletRef::Address { address, .. }, Some(chain)) => {
            let filter = WalletFilter {
                address: Some(address.to_owned()),
                blockchain: Some(chain.as_str().to_owned()),
                ..WalletFilter::default()
            };
            let page = PageQuery {
                size: 1,
                cursor: Cursor::None,
                order: Order::Desc,
                from: None,
                to: None,
            };
            store
                .list_wallets(owner.entity_id, owner.user_internal_id, &filter, &page)
                .await
                .map_err(store_failed)?
                .and_then(|p| p.items.into_iter().next())
        }
        // Source::check refuses an address without its blockchain.
        (plan_rules::WalletRef::Address { .. }, None) => None,
    };
    // An SCA wallet's plan carries its owner (`sca_owner`): it moves money by an ERC-4337
    // UserOperation from the account, never by a transaction of the owner key.
    found.ok_or(codes::WALLET_NOT_FOUND)
}

/// The registry's record of the token a request names (156002 when it has none).
async fn resolve_token(
    store: &dyn Store,
    token: &plan_rules::TokenRef<'_>,
    chain: Blockchain,
) -> Result<TokenRecord, ApiError> {
    let found = match *token {
        plan_rules::TokenRef::Id(id) => super::registry::find_token(store, id).await,
        plan_rules::TokenRef::Native => {
            super::registry::find_token_by_address(store, chain, None).await
        }
        plan_rules::TokenRef::Address(address) => {
            if !latchkey_chains::validate_address(chain, address) {
                return Err(codes::INVALID_TOKEN_ADDRESS.with_message(format!(
                    "Invalid token address for transfer: {address:?} is not a {chain} address."
                )));
            }
            super::registry::find_token_by_address(store, chain, Some(address)).await
        }
    };
    found
        .map_err(store_failed)?
        .ok_or(codes::TOKEN_NOT_FOUND_ID)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
