//! Circle's `blockchain` enum and what latchkey needs to know about each value.

use std::fmt;

/// The signing family of a blockchain: which curve, address format and transaction format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Ethereum and EVM-compatible chains: secp256k1, EIP-55 addresses, RLP transactions.
    Evm,
    /// Solana: Ed25519, base58 addresses, Solana wire-format transactions.
    Solana,
    /// NEAR: Ed25519, implicit (hex) account ids. Addresses and messages only.
    Near,
    /// Aptos: Ed25519, SHA3-256 authentication-key addresses. Addresses and messages only.
    Aptos,
}

macro_rules! blockchains {
    ($($variant:ident = $name:literal, $family:ident, $testnet:literal, $chain_id:expr;)*) => {
        /// A value of Circle's `blockchain` enum.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Blockchain {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Blockchain {
            /// Every blockchain, in Circle's documentation order.
            pub const ALL: &'static [Blockchain] = &[$(Blockchain::$variant),*];

            /// Parses Circle's spelling (`ETH-SEPOLIA`); `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// Circle's spelling of this blockchain.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// Whether this is a test network.
            pub const fn is_testnet(self) -> bool {
                match self {
                    $(Self::$variant => $testnet,)*
                }
            }

            /// The signing family (curve, address and transaction format).
            pub const fn family(self) -> Family {
                match self {
                    $(Self::$variant => Family::$family,)*
                }
            }

            /// The EIP-155 chain id of an EVM chain. `None` for non-EVM chains, for the
            /// generic `EVM` / `EVM-TESTNET` (the transaction then names its own chain) and
            /// for `ARC` (mainnet chain id not yet published).
            pub const fn chain_id(self) -> Option<u64> {
                match self {
                    $(Self::$variant => $chain_id,)*
                }
            }
        }
    };
}

blockchains! {
    Eth = "ETH", Evm, false, Some(1);
    EthSepolia = "ETH-SEPOLIA", Evm, true, Some(11_155_111);
    Avax = "AVAX", Evm, false, Some(43_114);
    AvaxFuji = "AVAX-FUJI", Evm, true, Some(43_113);
    Matic = "MATIC", Evm, false, Some(137);
    MaticAmoy = "MATIC-AMOY", Evm, true, Some(80_002);
    Sol = "SOL", Solana, false, None;
    SolDevnet = "SOL-DEVNET", Solana, true, None;
    Arb = "ARB", Evm, false, Some(42_161);
    ArbSepolia = "ARB-SEPOLIA", Evm, true, Some(421_614);
    Near = "NEAR", Near, false, None;
    NearTestnet = "NEAR-TESTNET", Near, true, None;
    Evm = "EVM", Evm, false, None;
    EvmTestnet = "EVM-TESTNET", Evm, true, None;
    Uni = "UNI", Evm, false, Some(130);
    UniSepolia = "UNI-SEPOLIA", Evm, true, Some(1_301);
    Base = "BASE", Evm, false, Some(8_453);
    BaseSepolia = "BASE-SEPOLIA", Evm, true, Some(84_532);
    Op = "OP", Evm, false, Some(10);
    OpSepolia = "OP-SEPOLIA", Evm, true, Some(11_155_420);
    Aptos = "APTOS", Aptos, false, None;
    AptosTestnet = "APTOS-TESTNET", Aptos, true, None;
    Arc = "ARC", Evm, false, None;
    ArcTestnet = "ARC-TESTNET", Evm, true, Some(5_042_002);
    Monad = "MONAD", Evm, false, Some(143);
    MonadTestnet = "MONAD-TESTNET", Evm, true, Some(10_143);
}

impl fmt::Display for Blockchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_every_value() {
        assert_eq!(Blockchain::ALL.len(), 26);
        for &b in Blockchain::ALL {
            assert_eq!(Blockchain::parse(b.as_str()), Some(b));
            assert_eq!(b.to_string(), b.as_str());
            if b.family() != Family::Evm {
                assert_eq!(b.chain_id(), None);
            }
        }
        assert_eq!(Blockchain::parse("eth"), None);
        assert_eq!(Blockchain::parse("ETH-GOERLI"), None);
    }

    #[test]
    fn facts() {
        assert_eq!(Blockchain::Eth.chain_id(), Some(1));
        assert_eq!(
            Blockchain::parse("OP-SEPOLIA").and_then(Blockchain::chain_id),
            Some(11_155_420)
        );
        assert_eq!(
            Blockchain::parse("MATIC-AMOY").and_then(Blockchain::chain_id),
            Some(80_002)
        );
        assert_eq!(Blockchain::Evm.chain_id(), None);
        assert_eq!(Blockchain::EvmTestnet.chain_id(), None);
        assert!(Blockchain::EvmTestnet.is_testnet());
        assert!(Blockchain::SolDevnet.is_testnet());
        assert!(!Blockchain::Monad.is_testnet());
        assert_eq!(Blockchain::Sol.family(), Family::Solana);
        assert_eq!(Blockchain::AptosTestnet.family(), Family::Aptos);
        assert_eq!(Blockchain::NearTestnet.family(), Family::Near);
        assert_eq!(Blockchain::ArcTestnet.family(), Family::Evm);
    }
}
