//! The transaction read side: `GET /transactions` (the user's, with Circle's filters),
//! `GET /transactions/{id}` and the entity-wide lowest-nonce lookup. Nothing here writes: the
//! outbound engine and the inbound follower do.

use super::transactions::{TransactionFilter, TransactionRecord, TxType, WalletSelector};
use crate::error::{codes, ApiError};
use crate::rules;
use crate::service::{store_failed, ApiCaller, Latchkey, UserSession};
use crate::store::{Page, PageQuery};

/// What `GET /transactions` asks beyond paging.
#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    /// Circle's filters; `visible_token_ids` is ignored here (the service sets it).
    pub filter: TransactionFilter,
    /// `includeAll=true`: transactions of tokens outside the monitored scope too.
    pub include_all: bool,
    /// `userId` as the SDK sends it: the token's own user is the only one it can name.
    pub user_id: Option<String>,
}

impl Latchkey {
    /// The token ids whose transactions a list shows; `None`: every token.
    ///
    /// The seam for monitored tokens: with a `SELECTED` scope and no `includeAll`, this is to
    /// answer the entity's monitored ids (transactions without a token always show). Until
    /// the monitored-token store exists every token is visible, which is Circle's
    /// `MONITOR_ALL` default.
    async fn visible_token_ids(
        &self,
        session: &UserSession,
        include_all: bool,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let _ = (session.entity_id(), session.user.environment, include_all);
        Ok(None)
    }

    /// `GET /transactions`: a page of the session user's transactions. A `userId` other than
    /// the token's user gives an empty page (decision 14: never widen the token's scope, and
    /// never refuse what the SDK always sends).
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id))]
    pub async fn list_transactions(
        &self,
        session: &UserSession,
        query: &TransactionQuery,
        page: &PageQuery,
    ) -> Result<Page<TransactionRecord>, ApiError> {
        if query
            .user_id
            .as_deref()
            .is_some_and(|id| id != session.user.user_id)
        {
            return Ok(Page {
                items: vec![],
                has_next: false,
                has_prev: false,
            });
        }
        let filter = TransactionFilter {
            visible_token_ids: self.visible_token_ids(session, query.include_all).await?,
            ..query.filter.clone()
        };
        self.store
            .list_transactions(
                session.entity_id(),
                &session.user.internal_id,
                &filter,
                page,
            )
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// `GET /transactions/{id}`: one of the session user's transactions. A non-UUID id →
    /// 156009; none, another user's, or not of `tx_type` → 156003.
    #[tracing::instrument(skip_all, fields(user = %session.user.internal_id, transaction = %id))]
    pub async fn get_transaction(
        &self,
        session: &UserSession,
        id: &str,
        tx_type: Option<TxType>,
    ) -> Result<TransactionRecord, ApiError> {
        if !rules::is_uuid(id) {
            return Err(codes::ID_NOT_UUID);
        }
        self.store
            .transaction(session.entity_id(), &session.user.internal_id, id)
            .await
            .map_err(store_failed)?
            .filter(|t| tx_type.is_none_or(|k| k == t.tx_type))
            .ok_or(codes::TRANSACTION_NOT_FOUND)
    }

    /// `GET /transactions/lowestNonceTransaction` (API key only): the lowest-nonce OUTBOUND
    /// transaction in QUEUED, SENT or STUCK of a wallet of the caller's entity and
    /// environment; 156003 when there is none (decision 30).
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn lowest_nonce_transaction(
        &self,
        caller: &ApiCaller,
        wallet: &WalletSelector,
    ) -> Result<TransactionRecord, ApiError> {
        self.store
            .lowest_nonce_transaction(&caller.entity_id, caller.environment, wallet)
            .await
            .map_err(store_failed)?
            .ok_or(codes::TRANSACTION_NOT_FOUND)
    }
}
