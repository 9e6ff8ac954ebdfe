//! Stable token ids for tokens Circle publishes no id for: name-based UUIDs (version 5), so
//! that two latchkey servers give one token the same id without talking to each other.
//!
//! Circle's own token ids look name-based too, but its namespace and names are private (the
//! obvious ones were tried against its published ids), so latchkey has its own namespace,
//! [`LATCHKEY_TOKEN_NS`]. Seeded tokens keep Circle's published ids; this is for the rest.

use crate::{Blockchain, Family};
use uuid::Uuid;

/// latchkey's token namespace: `caddf3d3-8cfb-5a46-91f4-85c9334c6da4`, itself
/// `uuid5(NAMESPACE_URL, "urn:latchkey:tokens")`. Fixed forever: changing it would change
/// every derived token id.
pub const LATCHKEY_TOKEN_NS: Uuid = Uuid::from_u128(0xcaddf3d3_8cfb_5a46_91f4_85c9334c6da4);

/// The id of a token on `chain`: `uuid5(LATCHKEY_TOKEN_NS, "<BLOCKCHAIN>:<address>")` for a
/// token contract, `uuid5(LATCHKEY_TOKEN_NS, "<BLOCKCHAIN>:native")` for the native coin
/// (`address` `None` or empty). Hex addresses (EVM, Aptos) are lowercased first, so every
/// spelling of one contract gives one id; Solana's base58 is case-sensitive and taken as is.
///
/// For example `ETH-SEPOLIA` native is `bb410366-c799-5fd4-94d6-498344acf435`.
pub fn token_uuid(chain: Blockchain, address: Option<&str>) -> Uuid {
    let name = match address.filter(|a| !a.is_empty()) {
        None => format!("{chain}:native"),
        Some(a) => match chain.family() {
            Family::Evm | Family::Aptos => format!("{chain}:{}", a.to_ascii_lowercase()),
            Family::Solana | Family::Near => format!("{chain}:{a}"),
        },
    };
    Uuid::new_v5(&LATCHKEY_TOKEN_NS, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_the_documented_derivation() {
        assert_eq!(
            LATCHKEY_TOKEN_NS,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:latchkey:tokens")
        );
    }

    #[test]
    fn ids_are_stable_and_case_folded_for_hex_addresses() {
        let native = token_uuid(Blockchain::EthSepolia, None);
        assert_eq!(native.to_string(), "bb410366-c799-5fd4-94d6-498344acf435");
        assert_eq!(token_uuid(Blockchain::EthSepolia, Some("")), native);
        assert_eq!(native.get_version_num(), 5);
        assert_ne!(token_uuid(Blockchain::Eth, None), native);

        let lower = token_uuid(
            Blockchain::MaticAmoy,
            Some("0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582"),
        );
        assert_eq!(lower.to_string(), "d09dcdec-898f-5394-ae6b-4f54ae57aae3");
        let mixed = token_uuid(
            Blockchain::MaticAmoy,
            Some("0x41E94EB019C0762f9Bfcf9Fb1E58725BfB0e7582"),
        );
        assert_eq!(mixed, lower);

        let sol = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
        assert_ne!(
            token_uuid(Blockchain::SolDevnet, Some(sol)),
            token_uuid(Blockchain::SolDevnet, Some(&sol.to_lowercase()))
        );
    }
}
