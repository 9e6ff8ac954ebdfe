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

/// Facts about the money side of each blockchain: its native coin, which fee and replacement
/// rules apply, and how deep a block must be before a transaction counts as final.
impl Blockchain {
    /// The native coin's symbol. Mainnets use the coin's ticker; testnets use Circle's chain
    /// code (Circle's balances show Sepolia ether as `ETH-SEPOLIA`), so a test coin is never
    /// mistaken for the real one. On ARC the native gas token is USDC.
    pub const fn native_symbol(self) -> &'static str {
        use Blockchain::*;
        match self {
            Eth | Arb | Base | Op | Uni | Evm => "ETH",
            Avax => "AVAX",
            Matic => "POL",
            Sol => "SOL",
            Near => "NEAR",
            Aptos => "APT",
            Arc => "USDC",
            Monad => "MON",
            EthSepolia | AvaxFuji | MaticAmoy | SolDevnet | ArbSepolia | NearTestnet
            | EvmTestnet | UniSepolia | BaseSepolia | OpSepolia | AptosTestnet | ArcTestnet
            | MonadTestnet => self.as_str(),
        }
    }

    /// The native coin's display name (`Ethereum`, `Polygon-Amoy` …): the network's name, with
    /// the testnet's name after a dash.
    pub const fn native_name(self) -> &'static str {
        use Blockchain::*;
        match self {
            Eth | Evm => "Ethereum",
            EthSepolia | EvmTestnet => "Ethereum-Sepolia",
            Avax => "Avalanche",
            AvaxFuji => "Avalanche-Fuji",
            Matic => "Polygon",
            MaticAmoy => "Polygon-Amoy",
            Sol => "Solana",
            SolDevnet => "Solana-Devnet",
            Arb => "Arbitrum",
            ArbSepolia => "Arbitrum-Sepolia",
            Near => "NEAR",
            NearTestnet => "NEAR-Testnet",
            Uni => "Unichain",
            UniSepolia => "Unichain-Sepolia",
            Base => "Base",
            BaseSepolia => "Base-Sepolia",
            Op => "Optimism",
            OpSepolia => "Optimism-Sepolia",
            Aptos => "Aptos",
            AptosTestnet => "Aptos-Testnet",
            Arc => "Arc",
            ArcTestnet => "Arc-Testnet",
            Monad => "Monad",
            MonadTestnet => "Monad-Testnet",
        }
    }

    /// Decimals of the native coin: 18 on every EVM chain (ARC's native USDC included: gas is
    /// accounted in 18 decimals), 9 on Solana, 8 on Aptos, 24 on NEAR.
    pub const fn native_decimals(self) -> u8 {
        match self.family() {
            Family::Evm => 18,
            Family::Solana => 9,
            Family::Aptos => 8,
            Family::Near => 24,
        }
    }

    /// Whether the chain is an OP-stack rollup, whose transactions also pay an L1 data fee
    /// (`getL1Fee` on the GasPriceOracle predeploy).
    pub const fn is_op_stack(self) -> bool {
        use Blockchain::*;
        matches!(self, Op | OpSepolia | Base | BaseSepolia | Uni | UniSepolia)
    }

    /// Whether Circle offers smart-contract accounts (`accountType: "SCA"`) on the chain: ETH,
    /// MATIC, ARB, AVAX, BASE, OP, UNI and their testnets; not Solana, Aptos, NEAR, the generic
    /// `EVM` / `EVM-TESTNET` codes, nor ARC or MONAD (unknown, so not offered).
    pub const fn supports_sca(self) -> bool {
        use Blockchain::*;
        matches!(
            self,
            Eth | EthSepolia
                | Matic
                | MaticAmoy
                | Arb
                | ArbSepolia
                | Avax
                | AvaxFuji
                | Base
                | BaseSepolia
                | Op
                | OpSepolia
                | Uni
                | UniSepolia
        )
    }

    /// Whether a pending transaction can be accelerated or cancelled (replaced at the same
    /// nonce with a higher fee). Circle supports neither on Arbitrum, whose sequencer does not
    /// replace by fee, nor off EVM.
    pub const fn supports_replacement(self) -> bool {
        use Blockchain::*;
        matches!(self.family(), Family::Evm) && !matches!(self, Arb | ArbSepolia)
    }

    /// Whether the money API serves this chain: Circle's `TokenBlockchain`, which leaves out
    /// the generic `EVM` / `EVM-TESTNET` and NEAR.
    pub const fn is_money_chain(self) -> bool {
        use Blockchain::*;
        !matches!(self, Evm | EvmTestnet | Near | NearTestnet)
    }

    /// Blocks a transaction's block must have on top of it (itself included) before the
    /// transaction is COMPLETE, from Circle's published table; testnets as their mainnet.
    /// Polygon takes the prose figure (50), not the table's 2: a false COMPLETE is worse than
    /// a late one. `None` off the money chains. Operators can lower it, and local nodes use 1.
    pub const fn default_confirmations(self) -> Option<u64> {
        use Blockchain::*;
        match self {
            Eth | EthSepolia | Arb | ArbSepolia | Base | BaseSepolia | Op | OpSepolia => Some(12),
            Matic | MaticAmoy => Some(50),
            Avax | AvaxFuji | Aptos | AptosTestnet | Arc | ArcTestnet | Monad | MonadTestnet => {
                Some(1)
            }
            Uni | UniSepolia => Some(300),
            Sol | SolDevnet => Some(33),
            Evm | EvmTestnet | Near | NearTestnet => None,
        }
    }
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

    #[test]
    fn money_facts() {
        use Blockchain::*;
        assert_eq!(Eth.native_symbol(), "ETH");
        assert_eq!(Base.native_symbol(), "ETH");
        assert_eq!(EthSepolia.native_symbol(), "ETH-SEPOLIA");
        assert_eq!(MaticAmoy.native_name(), "Polygon-Amoy");
        assert_eq!(ArcTestnet.native_symbol(), "ARC-TESTNET");
        assert_eq!(Arc.native_symbol(), "USDC");
        assert_eq!(MaticAmoy.native_decimals(), 18);
        assert_eq!(SolDevnet.native_decimals(), 9);
        assert_eq!(Aptos.native_decimals(), 8);
        assert_eq!(Near.native_decimals(), 24);

        let op_stack: Vec<_> = Blockchain::ALL.iter().filter(|b| b.is_op_stack()).collect();
        assert_eq!(
            op_stack,
            [&Uni, &UniSepolia, &Base, &BaseSepolia, &Op, &OpSepolia]
        );

        assert!(MaticAmoy.supports_replacement() && EthSepolia.supports_replacement());
        assert!(!Arb.supports_replacement() && !ArbSepolia.supports_replacement());
        assert!(!Sol.supports_replacement() && !Aptos.supports_replacement());

        let outside: Vec<_> = Blockchain::ALL
            .iter()
            .filter(|b| !b.is_money_chain())
            .collect();
        assert_eq!(outside, [&Near, &NearTestnet, &Evm, &EvmTestnet]);

        assert_eq!(Eth.default_confirmations(), Some(12));
        assert_eq!(MaticAmoy.default_confirmations(), Some(50));
        assert_eq!(AvaxFuji.default_confirmations(), Some(1));
        assert_eq!(Uni.default_confirmations(), Some(300));
        assert_eq!(Sol.default_confirmations(), Some(33));
        for &b in Blockchain::ALL {
            assert_eq!(
                b.default_confirmations().is_some(),
                b.is_money_chain(),
                "{b}"
            );
            assert!(!b.native_symbol().is_empty() && !b.native_name().is_empty());
            // A testnet's coin is never named like a mainnet's.
            if b.is_testnet() {
                assert!(
                    Blockchain::ALL
                        .iter()
                        .filter(|m| !m.is_testnet())
                        .all(|m| m.native_symbol() != b.native_symbol()),
                    "{b}"
                );
            }
        }
    }
}
