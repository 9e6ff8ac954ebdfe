//! Transactions: the records the outbound engine and the inbound follower write, and the
//! storage contract for them.

use async_trait::async_trait;

/// Storage for transactions, their signed attempts and the per-wallet nonces (implemented by
/// `latchkey-store`).
#[async_trait]
pub trait TransactionStore: Send + Sync {}
