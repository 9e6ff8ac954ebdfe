//! Whether a string is a well-formed address on a blockchain (`validateAddress`, destination
//! checks). Only the format is checked; wallet addresses themselves come from [`crate::address()`].

use crate::{Blockchain, Family};
use alloy_primitives::Address;

/// Whether `address` is a valid address on `chain`:
/// - EVM: `0x` + 40 hex digits; all-lowercase and all-uppercase are accepted, a mixed-case
///   address must carry a correct EIP-55 checksum;
/// - Solana: base58 that decodes to 32 bytes;
/// - Aptos: `0x` + 1 to 64 hex digits;
/// - NEAR: an implicit account (64 lowercase hex digits) or a named account (2–64 characters
///   of `a-z`, `0-9` and the separators `-`, `_`, `.`, a separator never first, last or next
///   to another).
pub fn validate_address(chain: Blockchain, address: &str) -> bool {
    match chain.family() {
        Family::Evm => evm(address),
        Family::Solana => bs58::decode(address)
            .into_vec()
            .is_ok_and(|bytes| bytes.len() == 32),
        Family::Aptos => address.strip_prefix("0x").is_some_and(|h| {
            (1..=64).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
        }),
        Family::Near => near(address),
    }
}

fn evm(address: &str) -> bool {
    let Some(digits) = address.strip_prefix("0x") else {
        return false;
    };
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        return Address::parse_checksummed(address, None).is_ok();
    }
    true
}

fn near(account: &str) -> bool {
    if !(2..=64).contains(&account.len()) {
        return false;
    }
    let is_sep = |b: u8| matches!(b, b'-' | b'_' | b'.');
    let mut previous_sep = true; // no separator first
    for b in account.bytes() {
        if is_sep(b) {
            if previous_sep {
                return false;
            }
            previous_sep = true;
        } else if b.is_ascii_lowercase() || b.is_ascii_digit() {
            previous_sep = false;
        } else {
            return false;
        }
    }
    !previous_sep // no separator last
}

#[cfg(test)]
mod tests {
    use super::*;
    use Blockchain::*;

    #[test]
    fn evm_addresses() {
        let ok = [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
            "0x0000000000000000000000000000000000000000",
        ];
        for a in ok {
            assert!(validate_address(MaticAmoy, a), "{a}");
            assert!(validate_address(Evm, a), "{a}");
        }
        let bad = [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", // checksum
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
            " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "",
        ];
        for a in bad {
            assert!(!validate_address(EthSepolia, a), "{a}");
        }
    }

    #[test]
    fn solana_aptos_near() {
        assert!(validate_address(
            Sol,
            "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
        ));
        assert!(validate_address(
            SolDevnet,
            "11111111111111111111111111111111"
        ));
        assert!(!validate_address(
            Sol,
            "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncD0"
        ));
        assert!(!validate_address(Sol, "3yZe7d"));
        assert!(!validate_address(
            Sol,
            "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582"
        ));

        assert!(validate_address(
            AptosTestnet,
            "0x69091fbab5f7d635ee7ac5098cf0c1efbe31d68fec0f2cd565e8d168daf52832"
        ));
        assert!(validate_address(Aptos, "0x1"));
        assert!(!validate_address(Aptos, "0x"));
        assert!(!validate_address(Aptos, "1"));
        assert!(!validate_address(Aptos, &format!("0x{}", "a".repeat(65))));

        assert!(validate_address(Near, &"ab".repeat(32)));
        assert!(validate_address(NearTestnet, "alice.testnet"));
        assert!(validate_address(Near, "a-b_c.near"));
        assert!(!validate_address(Near, "a"));
        assert!(!validate_address(Near, "Alice.near"));
        assert!(!validate_address(Near, ".alice"));
        assert!(!validate_address(Near, "alice."));
        assert!(!validate_address(Near, "ali..ce"));
        assert!(!validate_address(Near, &"a".repeat(65)));
    }
}
