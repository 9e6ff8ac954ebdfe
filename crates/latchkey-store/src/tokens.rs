//! The token registry (`tokens`, `token_aliases`) and the monitored-token configuration.

use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use latchkey_core::money::{TokenRecord, TokenStore};
use latchkey_core::store::StoreResult;

#[async_trait]
impl TokenStore for SqlStore {
    async fn token(&self, _id: &str) -> StoreResult<Option<TokenRecord>> {
        Ok(None)
    }

    async fn token_by_address(
        &self,
        _blockchain: Blockchain,
        _address: Option<&str>,
    ) -> StoreResult<Option<TokenRecord>> {
        Ok(None)
    }
}
