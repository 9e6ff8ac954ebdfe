//! Which tokens a wallet has touched (`wallet_tokens`): the tokens beyond its chain's native
//! coin and Circle's seeded ones whose `balanceOf` the balances route reads. The chain
//! follower records a token here when a wallet first receives it; the balances route reads
//! the list.

use crate::clock::Timestamp;
use crate::store::StoreResult;
use async_trait::async_trait;

/// Storage of the tokens each wallet has touched (implemented by `latchkey-store`). A
/// supertrait of [`super::TokenStore`], so every store that keeps tokens keeps these too.
#[async_trait]
pub trait WalletTokenStore: Send + Sync {
    /// The token ids `wallet_id` has touched, oldest first (ties by token id), at most
    /// `limit`.
    async fn wallet_token_ids(&self, wallet_id: &str, limit: u32) -> StoreResult<Vec<String>>;
    /// Records that `wallet_id` touched `token_id` (a canonical id) at `first_seen`; a token
    /// already recorded keeps its first time. `true` when the row is new.
    async fn add_wallet_token(
        &self,
        wallet_id: &str,
        token_id: &str,
        first_seen: Timestamp,
    ) -> StoreResult<bool>;
}
