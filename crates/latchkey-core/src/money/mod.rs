//! The money half of the API: chains and their nodes, tokens, balances, fees, transactions
//! and the engines that move them. The design is in `docs/plans/evm-money.md` until it has
//! landed, then in `docs/transactions.md`.
//!
//! Layout: [`node`] is the only way to a chain (a trait, implemented by `latchkey-evm`);
//! [`chains`] holds one node per configured blockchain; [`tokens`] is the token registry and
//! [`transactions`] the transaction records, each with its storage trait.

pub mod chains;
pub mod node;
pub mod tokens;
pub mod transactions;

pub use chains::{Chain, ChainInfo, ChainSet};
pub use node::{
    Block, BlockTag, CallRequest, ChainTx, EvmNode, FeeHistory, Log, NodeError, Receipt, RejectKind,
};
pub use tokens::{TokenOrigin, TokenRecord, TokenStandard, TokenStore};
pub use transactions::TransactionStore;
