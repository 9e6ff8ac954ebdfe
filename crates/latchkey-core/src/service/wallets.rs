//! Wallets: reading and renaming the user's wallets. Wallets are created and used only by
//! challenges (see the `challenge` module), after the PIN opened the user key.

use super::{store_failed, Latchkey, UserSession};
use crate::error::{codes, ApiError};
use crate::model::WalletRecord;
use crate::store::{Page, PageQuery, WalletFilter};

impl Latchkey {
    /// One of the session user's wallets; another user's (or none) → 156001.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id, wallet = %wallet_id))]
    pub async fn get_wallet(
        &self,
        session: &UserSession,
        wallet_id: &str,
    ) -> Result<WalletRecord, ApiError> {
        self.store
            .wallet(session.entity_id(), &session.user.internal_id, wallet_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::WALLET_NOT_FOUND)
    }

    /// `GET /wallets`.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id))]
    pub async fn list_wallets(
        &self,
        session: &UserSession,
        filter: &WalletFilter,
        page: &PageQuery,
    ) -> Result<Page<WalletRecord>, ApiError> {
        self.store
            .list_wallets(session.entity_id(), &session.user.internal_id, filter, page)
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// `PUT /wallets/{id}`.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id, wallet = %wallet_id))]
    pub async fn update_wallet(
        &self,
        session: &UserSession,
        wallet_id: &str,
        name: Option<&str>,
        ref_id: Option<&str>,
    ) -> Result<WalletRecord, ApiError> {
        for (field, v) in [("name", name), ("refId", ref_id)] {
            if v.is_some_and(|s| s.chars().count() > 255) {
                return Err(ApiError::invalid_field(
                    field,
                    "max",
                    format!("{field} must be at most 255 characters"),
                ));
            }
        }
        if !self
            .store
            .update_wallet(
                session.entity_id(),
                &session.user.internal_id,
                wallet_id,
                name,
                ref_id,
                self.now(),
            )
            .await
            .map_err(store_failed)?
        {
            return Err(codes::WALLET_NOT_FOUND);
        }
        self.get_wallet(session, wallet_id).await
    }
}
