//! Signing and addresses for EVM chains and Solana.
//!
//! latchkey keeps each user's wallet key and signs on their behalf once they approve a
//! challenge. This crate is the chain-specific part: Circle's [`Blockchain`] enum and its
//! [`Family`], key generation ([`generate`]), addresses ([`address`]), message signing
//! ([`sign_message`]: EIP-191 `personal_sign` on EVM, raw Ed25519 on Solana), EIP-712 typed
//! data ([`sign_typed_data`]), EVM transactions ([`sign_evm_transaction`]: legacy with
//! EIP-155, EIP-2930 and EIP-1559, from raw unsigned hex or JSON) and Solana transactions
//! ([`sign_solana_transaction`]: legacy and v0 messages).
//!
//! For moving money it also has the pure pieces the transaction engine builds on: exact
//! decimal amounts ([`parse_units`] / [`format_units`]), contract-call data from an ABI
//! signature ([`encode_call`]), the ERC-20/721/1155 calls and transfer events ([`erc`]),
//! signing of transactions latchkey builds itself ([`sign_evm_tx`]), address validation
//! ([`validate_address`]), stable token ids ([`token_uuid`]) and each blockchain's money
//! facts (native coin, confirmations, replacement support). For smart-contract accounts,
//! [`sca`] has the ERC-4337 v0.7 encodings (account addresses, user operations, paymaster
//! data).
//!
//! # Key material
//!
//! A secret is 32 bytes: a secp256k1 scalar for [`Family::Evm`], an Ed25519 seed for the
//! others (a 64-byte Solana keypair, seed ‖ public key, is accepted too). Functions borrow it
//! as `&[u8]`; the signing keys built from it (k256, ed25519-dalek) and the seed copy are
//! zeroed on drop, and [`generate`] returns it in a [`Zeroizing`] buffer. No type here
//! prints key material, and no error message contains it.
//!
//! # Errors
//!
//! Every failure is a [`ChainError`] carrying the Circle error code the API returns (see
//! [`codes`]) and a message safe to show to the caller.
//!
//! # Output formats
//!
//! EVM signatures are `0x` + hex of r‖s‖v (65 bytes, low s, v = 27/28), as ethers'
//! `verifyMessage` / `verifyTypedData` / `Signature.from` accept. Solana signatures are
//! base58; Solana transactions base64.

#![warn(missing_docs)]

mod abi;
mod address;
mod blockchain;
mod eip712;
pub mod erc;
mod error;
mod evm_tx;
mod keys;
pub mod sca;
mod solana;
mod token_id;
mod units;

pub use abi::{check_call_data, encode_call};
pub use address::validate_address;
/// The alloy integer and byte types in this crate's API, re-exported so that callers need no
/// alloy dependency of their own.
pub use alloy_primitives::{Address, B256, U256};
pub use blockchain::{Blockchain, Family};
pub use eip712::{describe_typed_data, sign_typed_data, typed_data_hash};
pub use error::{codes, ChainError};
pub use evm_tx::{
    check_evm_transaction, decode_evm_tx, describe_evm_transaction, recover_evm_transaction_sender,
    sign_evm_transaction, sign_evm_tx, unsigned_rlp, EvmFee, EvmTxInput, UnsignedEvmTx,
};
pub use keys::{
    address, generate, personal_message_hash, recover_evm_address, sign_message, sign_message_bytes,
};
pub use solana::{check_solana_transaction, sign_solana_transaction};
pub use token_id::{token_uuid, LATCHKEY_TOKEN_NS};
pub use units::{format_units, gwei, parse_gwei, parse_units, UnitsError};
pub use zeroize::Zeroizing;

/// A signed transaction, in the forms Circle's sign-transaction response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The signature: EVM `0x` + hex r‖s‖v (v = 27 + yParity, for every transaction type);
    /// Solana base58 of the wallet's Ed25519 signature.
    pub signature: String,
    /// The signed transaction: EVM `0x` + hex (for `eth_sendRawTransaction`); Solana base64.
    pub signed_transaction: String,
    /// The transaction hash: EVM `0x` + hex keccak256 of the signed transaction; Solana base58
    /// of the first signature (the transaction id).
    pub tx_hash: String,
}
