//! The one error type of this crate: Circle's numeric code plus a human message.

use std::fmt;

/// Circle error codes returned by this crate.
pub mod codes {
    /// Circle's generic "something went wrong" (bad key material reached the signer).
    pub const INTERNAL: i64 = -1;
    /// Circle's generic "API parameter invalid" (an operation the chain family does not have).
    pub const API_PARAMETER_INVALID: i64 = 2;
    /// The ABI function signature and parameters cannot be packed into calldata.
    pub const ABI_PACK_FAILED: i64 = 155209;
    /// The transaction is invalid: decodable, but not something that can be signed.
    pub const INVALID_TRANSACTION: i64 = 155801;
    /// The wallet's key is not one of the transaction's required signers (Solana).
    pub const NOT_A_SIGNER: i64 = 155803;
    /// The transaction already carries a signature.
    pub const ALREADY_SIGNED: i64 = 155804;
    /// The transaction could not be deserialised (bad hex, RLP, base64, JSON or wire format).
    pub const DESERIALIZATION_FAILED: i64 = 155805;
    /// The transaction's chain id does not match the wallet's blockchain.
    pub const CHAIN_ID_MISMATCH: i64 = 155807;
    /// Neither the transaction nor the wallet's blockchain provides a chain id.
    pub const MISSING_CHAIN_ID: i64 = 155808;
    /// The typed data to sign is not JSON.
    pub const TYPED_DATA_NOT_JSON: i64 = 156024;
    /// The typed data is JSON but not valid EIP-712 typed data.
    pub const INVALID_TYPED_DATA: i64 = 156026;
}

/// A failure of a chain operation: Circle's numeric code and a message that never contains
/// key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// Circle's numeric error code (see [`codes`]).
    pub code: i64,
    /// A human explanation, safe to return to the caller.
    pub message: String,
}

impl ChainError {
    /// An error with the given code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(codes::INTERNAL, message)
    }

    pub(crate) fn invalid_tx(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_TRANSACTION, message)
    }

    pub(crate) fn undecodable(message: impl Into<String>) -> Self {
        Self::new(codes::DESERIALIZATION_FAILED, message)
    }

    pub(crate) fn typed_data(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_TYPED_DATA, message)
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ChainError {}
