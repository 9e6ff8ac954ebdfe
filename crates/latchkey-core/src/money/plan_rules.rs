//! The pure rules of [`super::plan`]: each takes the request's fields and the records already
//! read (wallet, token) and answers with the plan or Circle's code. No I/O here, so every rule
//! is unit-tested with plain values.

use super::chains::not_configured;
use super::plan::{CallPlan, OutboundCall, PlannedToken, TokenDebit, TransferPlan};
use super::tokens::{TokenRecord, TokenStandard};
use crate::error::{codes, ApiError};
use crate::model::WalletRecord;
use latchkey_chains::{erc, parse_units, validate_address, Address, Blockchain, Family, U256};
use serde_json::Value;

/// The wallet fields of a request: `walletId`, or an address (`walletAddress` on the challenge
/// routes, `sourceAddress` on the estimates) with `blockchain`. Empty strings count as absent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    wallet_id: Option<&'a str>,
    address: Option<&'a str>,
    address_field: &'static str,
    blockchain: Option<&'a str>,
}

/// How a request names its wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalletRef<'a> {
    /// By id.
    Id(&'a str),
    /// By address on the request's blockchain.
    Address {
        /// The address.
        address: &'a str,
    },
}

/// How a transfer names its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRef<'a> {
    /// `tokenId`.
    Id(&'a str),
    /// `tokenAddress: ""`: the chain's native coin.
    Native,
    /// `tokenAddress`.
    Address(&'a str),
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl<'a> Source<'a> {
    pub(crate) fn new(
        wallet_id: &'a Option<String>,
        address: &'a Option<String>,
        address_field: &'static str,
        blockchain: &'a Option<String>,
    ) -> Self {
        Self {
            wallet_id: present(wallet_id),
            address: present(address),
            address_field,
            blockchain: present(blockchain),
        }
    }

    /// A wallet named by address with no `blockchain` beside it.
    pub(crate) fn address_without_blockchain(&self) -> bool {
        self.wallet_id.is_none() && self.address.is_some() && self.blockchain.is_none()
    }

    /// The same fields with `blockchain` set to `chain`.
    pub(crate) fn on_chain(self, chain: Blockchain) -> Self {
        Self {
            blockchain: Some(chain.as_str()),
            ..self
        }
    }

    /// The request's `blockchain`, if given (code 2 when it is not one of Circle's names).
    pub(crate) fn blockchain(&self) -> Result<Option<Blockchain>, ApiError> {
        self.blockchain
            .map(|name| {
                Blockchain::parse(name).ok_or_else(|| {
                    ApiError::invalid_field(
                        "blockchain",
                        "invalid",
                        format!("blockchain {name:?} is not a supported blockchain"),
                    )
                })
            })
            .transpose()
    }

    /// Which wallet: walletId and an address together → 155244; an address without
    /// `blockchain` → code 2; an address that is not one on that chain → 155226.
    pub(crate) fn check(&self) -> Result<WalletRef<'a>, ApiError> {
        match (self.wallet_id, self.address) {
            (Some(_), Some(_)) => Err(codes::WALLET_ID_AND_ADDRESS),
            (Some(id), None) => Ok(WalletRef::Id(id)),
            (None, Some(address)) => {
                let ways = format!("walletId, or {} and blockchain", self.address_field);
                let chain = self.blockchain()?.ok_or_else(|| {
                    ApiError::missing_one_of("blockchain", &ways, "blockchain is missing")
                })?;
                if !validate_address(chain, address) {
                    return Err(codes::INVALID_SOURCE_ADDRESS.with_message(format!(
                        "Invalid source address: {} {address:?} is not a {chain} address.",
                        self.address_field
                    )));
                }
                Ok(WalletRef::Address { address })
            }
            (None, None) => Err(ApiError::missing_one_of(
                "walletId",
                &format!("walletId, or {} and blockchain", self.address_field),
                "",
            )),
        }
    }
}

/// Which token: `tokenId`, or `tokenAddress` (`""` for the native coin); both → code 2,
/// neither → 155228.
pub(crate) fn token_ref<'a>(
    token_id: Option<&'a str>,
    token_address: Option<&'a str>,
) -> Result<TokenRef<'a>, ApiError> {
    match (token_id.filter(|s| !s.is_empty()), token_address) {
        (Some(_), Some(a)) if !a.is_empty() => Err(ApiError::missing_one_of(
            "tokenAddress",
            "tokenId, or tokenAddress and blockchain",
            "not both",
        )),
        (Some(id), _) => Ok(TokenRef::Id(id)),
        (None, Some("")) => Ok(TokenRef::Native),
        (None, Some(address)) => Ok(TokenRef::Address(address)),
        (None, None) => Err(codes::MISSING_TOKEN_ID),
    }
}

/// The wallet's chain, which must be the request's `blockchain` when one names the wallet's
/// chain (155225), and one latchkey moves money on (156027) with contract calls: EVM only
/// (Solana has transfers, [`transfer_chain`], not contract execution).
pub(crate) fn wallet_chain(
    wallet: &WalletRecord,
    request_chain: Option<Blockchain>,
) -> Result<Blockchain, ApiError> {
    let chain = transfer_chain(wallet, request_chain)?;
    if chain.family() == Family::Solana {
        return Err(super::chains::not_yet_on_solana(chain));
    }
    Ok(chain)
}

/// [`wallet_chain`] for a transfer: EVM chains and Solana.
pub(crate) fn transfer_chain(
    wallet: &WalletRecord,
    request_chain: Option<Blockchain>,
) -> Result<Blockchain, ApiError> {
    let chain = Blockchain::parse(&wallet.blockchain).ok_or_else(ApiError::internal)?;
    if request_chain.is_some_and(|c| c != chain) {
        return Err(codes::WALLET_REQUEST_CHAIN_MISMATCH);
    }
    if !chain.is_money_chain() {
        return Err(not_configured(chain));
    }
    if chain.family() != Family::Evm && chain.family() != Family::Solana {
        // Aptos has no transaction engine in latchkey.
        return Err(codes::BLOCKCHAIN_NOT_SUPPORTED.with_message(format!(
            "The specified blockchain is either not supported or deprecated: latchkey moves no \
             money on {chain} yet."
        )));
    }
    Ok(chain)
}

/// The transfer fields checked against the records.
pub(crate) struct TransferInput<'a> {
    pub(crate) destination: Option<&'a str>,
    pub(crate) amounts: &'a [String],
    pub(crate) nft_token_ids: &'a [String],
    pub(crate) ref_id: Option<&'a str>,
}

/// A transfer of `token` from `wallet` (on `chain`), or the first rule it breaks:
/// - the token is on another chain → 155220; it has no standard → 155240; an ERC-20 without
///   decimals → 155241;
/// - no destination → code 2; not an address on the chain → 155219;
/// - amounts: see [`debit`].
pub(crate) fn transfer(
    wallet: &WalletRecord,
    chain: Blockchain,
    token: &TokenRecord,
    input: TransferInput<'_>,
) -> Result<TransferPlan, ApiError> {
    if token.blockchain != chain {
        return Err(codes::WALLET_TOKEN_CHAIN_MISMATCH.with_message(format!(
            "Wallet and token's blockchain mismatch: the wallet is on {chain}, the token on {}.",
            token.blockchain
        )));
    }
    let standard = if token.is_native {
        None
    } else {
        Some(token.standard.ok_or(codes::INVALID_TOKEN_STANDARD)?)
    };
    let destination = input
        .destination
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::missing_field("destinationAddress"))?;
    let to = evm_address(chain, destination).ok_or_else(|| {
        codes::INVALID_DESTINATION_ADDRESS.with_message(format!(
            "Invalid destination address: {destination:?} is not a {chain} address."
        ))
    })?;
    let from = wallet_address(wallet)?;
    let debit = debit(standard, token, input.amounts, input.nft_token_ids)?;
    let contract = || {
        token
            .token_address
            .as_deref()
            .and_then(|a| evm_address(chain, a))
            .ok_or(codes::INVALID_TOKEN_ADDRESS)
    };
    let call = match &debit {
        TokenDebit::None => OutboundCall {
            from,
            to,
            value: native_amount(input.amounts, chain.native_decimals())?,
            data: Vec::new(),
        },
        TokenDebit::Erc20 { amount } => {
            token_call(from, contract()?, erc::erc20_transfer(to, *amount))
        }
        TokenDebit::Erc721 { id } => token_call(
            from,
            contract()?,
            erc::erc721_safe_transfer_from(from, to, *id),
        ),
        TokenDebit::Erc1155 { ids, amounts } => {
            let data = match (ids.as_slice(), amounts.as_slice()) {
                ([id], [amount]) => erc::erc1155_safe_transfer_from(from, to, *id, *amount, &[]),
                _ => erc::erc1155_safe_batch_transfer_from(from, to, ids, amounts, &[]),
            };
            token_call(from, contract()?, data)
        }
    };
    Ok(TransferPlan {
        sca_owner: sca_owner(wallet)?,
        wallet_id: wallet.id.clone(),
        blockchain: chain,
        token: PlannedToken {
            id: token.id.clone(),
            standard: standard.map(|s| s.as_str().to_owned()),
            symbol: token.symbol.clone(),
            decimals: token.decimals,
            address: token.token_address.clone(),
        },
        destination_address: destination.to_owned(),
        amounts: input.amounts.to_vec(),
        nft_token_ids: input.nft_token_ids.to_vec(),
        ref_id: input.ref_id.map(str::to_owned),
        call,
        debit,
    })
}

fn token_call(from: Address, contract: Address, data: Vec<u8>) -> OutboundCall {
    OutboundCall {
        from,
        to: contract,
        value: U256::ZERO,
        data,
    }
}

/// What the amounts and NFT ids take from the wallet (decision 22 of the plan):
/// - fungible (native, ERC-20): exactly one amount, no NFT ids (155218); an amount that is
///   not a decimal number → 155224; zero, too many decimals or too large → 155221;
/// - ERC-721: exactly one NFT id (155218) and amounts `["1"]` (155221);
/// - ERC-1155: at least one NFT id (155218), one amount per id (155242), each a whole
///   number above zero (155224 / 155221).
fn debit(
    standard: Option<TokenStandard>,
    token: &TokenRecord,
    amounts: &[String],
    nft_token_ids: &[String],
) -> Result<TokenDebit, ApiError> {
    let nfts = |n_ok: fn(usize) -> bool| {
        if !n_ok(nft_token_ids.len()) {
            return Err(codes::INVALID_NFT_COUNT);
        }
        nft_token_ids.iter().map(|s| nft_id(s)).collect()
    };
    match standard {
        None | Some(TokenStandard::Erc20) => {
            if !nft_token_ids.is_empty() {
                return Err(codes::INVALID_NFT_COUNT.with_message(
                    "Invalid number of nft in transaction request: nftTokenIds are for \
                     ERC-721 and ERC-1155 tokens only.",
                ));
            }
            let [amount] = amounts else {
                return Err(codes::INVALID_AMOUNTS.with_message(
                    "Invalid amounts in transfer request: a fungible token takes exactly one \
                     amount.",
                ));
            };
            match standard {
                None => Ok(TokenDebit::None),
                Some(_) => {
                    let decimals = token.decimals.ok_or(codes::INVALID_TOKEN_DECIMALS)?;
                    Ok(TokenDebit::Erc20 {
                        amount: amount_units(amount, decimals)?,
                    })
                }
            }
        }
        // Solana and Aptos standards: no EVM transfer moves them (the registry has such
        // tokens, SOL-DEVNET and APTOS-TESTNET USDC, and their chains are not EVM).
        Some(TokenStandard::Fungible | TokenStandard::FungibleAsset) => {
            Err(codes::INVALID_TOKEN_STANDARD)
        }
        Some(TokenStandard::Erc721) => {
            let ids: Vec<U256> = nfts(|n| n == 1)?;
            if amounts != ["1"] {
                return Err(codes::INVALID_AMOUNTS.with_message(
                    "Invalid amounts in transfer request: an ERC-721 transfer takes amounts \
                     [\"1\"].",
                ));
            }
            Ok(TokenDebit::Erc721 { id: ids[0] })
        }
        Some(TokenStandard::Erc1155) => {
            let ids: Vec<U256> = nfts(|n| n > 0)?;
            if amounts.len() != ids.len() {
                return Err(codes::AMOUNTS_NFT_LENGTH);
            }
            let amounts = amounts
                .iter()
                .map(|a| amount_units(a, 0))
                .collect::<Result<_, _>>()?;
            Ok(TokenDebit::Erc1155 { ids, amounts })
        }
    }
}

/// The native value of a native transfer (its one amount, already checked by [`debit`]).
fn native_amount(amounts: &[String], decimals: u8) -> Result<U256, ApiError> {
    match amounts {
        [amount] => amount_units(amount, decimals),
        _ => Err(codes::INVALID_AMOUNTS),
    }
}

/// A whole-unit amount in base units: unparsable → 155224; zero, more decimals than the
/// token has, or too large → 155221.
pub(crate) fn amount_units(amount: &str, decimals: u8) -> Result<U256, ApiError> {
    match parse_units(amount, decimals) {
        Ok(v) if v.is_zero() => Err(codes::INVALID_AMOUNTS.with_message(format!(
            "Invalid amounts in transfer request: {amount:?} is not above zero."
        ))),
        Ok(v) => Ok(v),
        Err(e) if e.is_unparsable() => Err(codes::UNPARSABLE_AMOUNTS.with_message(format!(
            "Failed to parse the provided amounts in request to decimals: {amount:?}: {e}."
        ))),
        Err(e) => Err(codes::INVALID_AMOUNTS.with_message(format!(
            "Invalid amounts in transfer request: {amount:?}: {e}."
        ))),
    }
}

/// An NFT token id: a decimal number, or `0x` hex (code 2 naming `nftTokenIds` otherwise).
pub(crate) fn nft_id(s: &str) -> Result<U256, ApiError> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) if !hex.is_empty() => U256::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None => parse_units(s, 0).ok(),
    };
    parsed.ok_or_else(|| {
        ApiError::invalid_field(
            "nftTokenIds",
            "invalid",
            format!(
                "nftTokenIds: {:?} is not a token id",
                s.chars().take(80).collect::<String>()
            ),
        )
    })
}

/// The contract fields checked against the wallet.
pub(crate) struct CallInput<'a> {
    pub(crate) contract_address: Option<&'a str>,
    pub(crate) abi_function_signature: Option<&'a str>,
    pub(crate) abi_parameters: Option<&'a [Value]>,
    pub(crate) call_data: Option<&'a str>,
    pub(crate) amount: Option<&'a str>,
    pub(crate) ref_id: Option<&'a str>,
}

impl CallInput<'_> {
    fn call_data(&self) -> Option<&str> {
        self.call_data.filter(|s| !s.is_empty())
    }

    fn signature(&self) -> Option<&str> {
        self.abi_function_signature.filter(|s| !s.is_empty())
    }

    /// Which fields go together: callData with the ABI fields → 155247; neither callData
    /// nor a signature → 155230; no contractAddress → code 2.
    pub(crate) fn check_shape(&self) -> Result<(), ApiError> {
        let has_params = self.abi_parameters.is_some_and(|p| !p.is_empty());
        match (self.call_data(), self.signature()) {
            (Some(_), Some(_)) => return Err(codes::CALL_DATA_AND_ABI),
            (Some(_), None) if has_params => return Err(codes::CALL_DATA_AND_ABI),
            (None, None) => return Err(codes::NO_CALL_DATA),
            _ => {}
        }
        if self.contract_address.is_none_or(str::is_empty) {
            return Err(ApiError::missing_field("contractAddress"));
        }
        Ok(())
    }
}

/// A contract call from `wallet` (on `chain`), or the first rule it breaks: the shape (see
/// [`CallInput::check_shape`]); a contract address not on the chain → 155219; calldata that
/// is not even-length `0x` hex → code 2; ABI parameters that do not pack → 155209; an amount
/// that is not a native amount → 155245.
pub(crate) fn call(
    wallet: &WalletRecord,
    chain: Blockchain,
    input: CallInput<'_>,
) -> Result<CallPlan, ApiError> {
    input.check_shape()?;
    let contract = input.contract_address.unwrap_or_default();
    let to = evm_address(chain, contract).ok_or_else(|| {
        codes::INVALID_DESTINATION_ADDRESS.with_message(format!(
            "Invalid destination address: contractAddress {contract:?} is not a {chain} address."
        ))
    })?;
    let data = match (input.call_data(), input.signature()) {
        (Some(hex), _) => latchkey_chains::check_call_data(hex)
            .map_err(|e| ApiError::invalid_field("callData", "invalid", e.message))?,
        (None, Some(signature)) => {
            latchkey_chains::encode_call(signature, input.abi_parameters.unwrap_or_default())
                .map_err(|e| {
                    codes::ABI_PACK_FAILED.with_message(format!(
                        "{}: {}",
                        codes::ABI_PACK_FAILED.message,
                        e.message
                    ))
                })?
        }
        (None, None) => return Err(codes::NO_CALL_DATA),
    };
    let amount = input.amount.filter(|s| !s.is_empty());
    let value = match amount {
        None => U256::ZERO,
        Some(a) => parse_units(a, chain.native_decimals()).map_err(|e| {
            codes::INVALID_CONTRACT_AMOUNT.with_message(format!(
                "Invalid amount in contract execution request: {a:?}: {e}."
            ))
        })?,
    };
    Ok(CallPlan {
        sca_owner: sca_owner(wallet)?,
        wallet_id: wallet.id.clone(),
        blockchain: chain,
        contract_address: contract.to_owned(),
        abi_function_signature: input.signature().map(str::to_owned),
        abi_parameters: input
            .signature()
            .map(|_| input.abi_parameters.unwrap_or_default().to_vec()),
        call_data: input.call_data().map(str::to_owned),
        amount: amount.map(str::to_owned),
        ref_id: input.ref_id.map(str::to_owned),
        call: OutboundCall {
            from: wallet_address(wallet)?,
            to,
            value,
            data,
        },
    })
}

/// An address valid on `chain` (EIP-55 checked when mixed-case), parsed.
fn evm_address(chain: Blockchain, s: &str) -> Option<Address> {
    if !validate_address(chain, s) {
        return None;
    }
    s.parse().ok()
}

fn wallet_address(wallet: &WalletRecord) -> Result<Address, ApiError> {
    wallet.address.parse().map_err(|_| ApiError::internal())
}

/// An SCA wallet's owner (its key's address, which signs its operations); `None` for EOA.
fn sca_owner(wallet: &WalletRecord) -> Result<Option<Address>, ApiError> {
    if !wallet.is_sca() {
        return Ok(None);
    }
    wallet
        .owner_address
        .as_deref()
        .and_then(|a| a.parse().ok())
        .map(Some)
        .ok_or_else(ApiError::internal)
}
