//! The money half of the API: chains and their nodes, tokens, balances, fees, transactions
//! and the engines that move them. The design is in `docs/plans/evm-money.md` until it has
//! landed, then in `docs/transactions.md`.
//!
//! Layout: [`address`] answers `validateAddress` without a node; [`node`] is the only way to
//! a chain (a trait, implemented by `latchkey-evm`), [`solana`] its Solana sibling (`SolanaNode`,
//! implemented by `latchkey-solana`); [`chains`] holds one node per configured blockchain; [`tokens`] holds the token records and
//! their storage trait, [`registry`] resolves token ids and addresses (Circle's published
//! tokens are a table there), [`monitored`] is the monitored-token configuration and the
//! [`Visibility`] it gives; [`transactions`] holds the transaction records, [`history`] reads
//! them for the API and [`view`] is their one wire form. [`fees`] prices gas
//! and checks fee fields, [`plan`] turns a transfer or contract-execution request into the
//! transaction it signs, [`estimate`] prices such a plan on its chain, and [`quote`] prices it
//! for a challenge (what the user is shown, and the cap the signature keeps to).
//! [`balances`] reads a wallet's token balances from its chain ([`wallet_tokens`] lists the
//! tokens it touched beyond the seeded ones), [`nfts`] the NFTs of its recorded transfers it
//! still holds, and [`faucet`] drips test tokens. [`sponsorship`] is the gas station's policy for SCA
//! operations. [`follower`] records deposits (native,
//! ERC-20, ERC-721, ERC-1155) as INBOUND transactions.

pub mod address;
pub mod balances;
pub mod chains;
pub mod engine;
pub mod estimate;
#[cfg(test)]
mod fake_node;
pub mod faucet;
pub mod fees;
pub mod follower;
pub mod history;
pub mod monitored;
pub mod nfts;
pub mod node;
pub mod operator_key;
pub mod outbound;
pub mod plan;
mod plan_rules;
pub mod quote;
pub mod registry;
mod serde_as;
pub mod solana;
mod solana_follower;
pub mod solana_plan;
pub mod sponsorship;
pub mod tokens;
pub mod transactions;
pub mod user_op;
pub mod view;
pub mod wallet_tokens;

pub use balances::{Balance, BalanceQuery};
pub use chains::{Chain, ChainInfo, ChainSet, GasStation};
pub use faucet::FaucetRequest;
pub use fees::{
    EstimatedFees, FeeCap, FeeChoice, FeeLevel, FeeLevels, FeeRequest, GasPricing, TransactionFee,
};
pub use follower::FollowerStore;
pub use history::{FeeInfo, TransactionQuery};
pub use monitored::{MonitoredTokens, TokenListFilter, Visibility};
pub use nfts::Nft;
pub use node::{
    Block, BlockTag, CallRequest, ChainTx, EvmNode, FeeHistory, Log, NodeError, Receipt, RejectKind,
};
pub use operator_key::OperatorKey;
pub use outbound::{
    AttemptChange, AttemptKind, AttemptRecord, AttemptStatus, ChainNonces, EngineStore,
    OutboundStore, OutboundWrite, TxProgress,
};
pub use plan::{
    CallPlan, CreateContractExecutionRequest, CreateTransferRequest,
    EstimateContractExecutionFeeRequest, EstimateTransferFeeRequest, OutboundCall, PlannedTransfer,
    TokenDebit, TransferPlan, WalletOwner,
};
pub use registry::SeenToken;
pub use solana::{
    Blockhash, SignedSolana, SolanaChain, SolanaDeposit, SolanaInfo, SolanaLanded, SolanaNode,
    SolanaPlanError, SolanaQuote, SolanaStatus, SolanaTransfer, TokenHolding,
};
pub use solana_plan::SolanaTransferPlan;
pub use sponsorship::{PaymasterPolicy, SponsoredOperation, SponsorshipStore};
pub use tokens::{
    MonitorScope, MonitoredConfig, MonitoredEntry, MonitoredFilter, TokenOrigin, TokenRecord,
    TokenStandard, TokenStore,
};
pub use transactions::{
    NftTransfer, TransactionFilter, TransactionRecord, TransactionStore, TxOperation, TxState,
    TxType, WalletSelector,
};
pub use view::TransactionView;
pub use wallet_tokens::WalletTokenStore;
