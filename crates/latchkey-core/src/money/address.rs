//! `POST /v1/w3s/transactions/validateAddress`: whether a string is a well-formed address on a
//! blockchain. A format check only (latchkey-chains' `validate_address`), so it needs no node
//! and answers for every value of Circle's `Blockchain` enum.

use crate::error::ApiError;
use latchkey_chains::Blockchain;

/// Whether `address` is valid on `blockchain`. Both are required (code 2 naming the missing
/// one); a blockchain outside Circle's enum is code 2 too. A malformed address is not an
/// error: it is `false`.
pub fn validate_address(address: Option<&str>, blockchain: Option<&str>) -> Result<bool, ApiError> {
    let address = address.ok_or_else(|| ApiError::missing_field("address"))?;
    let name = blockchain.ok_or_else(|| ApiError::missing_field("blockchain"))?;
    let chain = Blockchain::parse(name).ok_or_else(|| {
        ApiError::invalid_field(
            "blockchain",
            "blockchain",
            format!("{name:?} is not a blockchain of Circle's enum"),
        )
    })?;
    Ok(latchkey_chains::validate_address(chain, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let location = |r: Result<bool, ApiError>| {
            r.err()
                .map(|e| (e.code, e.errors.first().map(|f| f.location.clone())))
        };
        assert_eq!(
            location(validate_address(None, Some("ETH"))),
            Some((2, Some("address".into())))
        );
        assert_eq!(
            location(validate_address(Some("0x"), None)),
            Some((2, Some("blockchain".into())))
        );
        assert_eq!(
            location(validate_address(Some("0x"), Some("eth"))),
            Some((2, Some("blockchain".into())))
        );
        assert_eq!(
            validate_address(Some("nope"), Some("ETH")).ok(),
            Some(false)
        );
    }
}
