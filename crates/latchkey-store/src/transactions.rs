//! Transactions, their signed attempts and the per-wallet nonce claims.

use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_core::money::TransactionStore;

#[async_trait]
impl TransactionStore for SqlStore {}
