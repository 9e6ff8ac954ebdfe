//! The transaction read side: `GET /transactions` (the user's, with Circle's filters),
//! `GET /transactions/{id}` and the entity-wide lowest-nonce lookup. Nothing here writes: the
//! outbound engine and the inbound follower do.

use super::fees::{GasPricing, TransactionFee};
use super::transactions::{TransactionFilter, TransactionRecord, TxType, WalletSelector};
use crate::challenge::replace_transaction::replacement_price;
use crate::error::{codes, ApiError};
use crate::rules;
use crate::service::{store_failed, ApiCaller, Latchkey, UserSession};
use crate::store::{Page, PageQuery};
use latchkey_chains::{format_units, Blockchain, EvmFee, UnsignedEvmTx, U256};
use serde::Serialize;

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
    /// The token ids whose transactions a list shows; `None`: every token. A SELECTED
    /// monitored scope shows its tokens only, unless `includeAll` (transactions without a
    /// token always show).
    async fn visible_token_ids(
        &self,
        session: &UserSession,
        include_all: bool,
    ) -> Result<Option<Vec<String>>, ApiError> {
        if include_all {
            return Ok(None);
        }
        let visibility = self
            .token_visibility(session.entity_id(), session.user.environment)
            .await?;
        Ok(visibility.selected_ids())
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
    /// environment, 156003 when there is none (decision 30), with what accelerating it would
    /// cost now. `None` for that when the chain cannot be asked (no RPC configured any more,
    /// or the node is down): the transaction is still worth answering.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn lowest_nonce_transaction(
        &self,
        caller: &ApiCaller,
        wallet: &WalletSelector,
    ) -> Result<(TransactionRecord, Option<FeeInfo>), ApiError> {
        let t = self
            .store
            .lowest_nonce_transaction(&caller.entity_id, caller.environment, wallet)
            .await
            .map_err(store_failed)?
            .ok_or(codes::TRANSACTION_NOT_FOUND)?;
        let info = match replacement_price(self, &t).await {
            Ok((original, pricing)) => Some(FeeInfo::new(&original, &pricing, t.blockchain)),
            Err(e) => {
                tracing::info!(code = e.code, transaction = %t.id, "no feeInfo: the chain was not priced");
                None
            }
        };
        Ok((t, info))
    }
}

/// `feeInfo` of `lowestNonceTransaction` (the SDK's `LowestNonceTransactionFeeInfo`): the fee
/// an acceleration would sign with now (the HIGH level, at least 12.5 % above the attempt it
/// replaces, as `POST …/accelerate` prices it), and how much more its network fee is than
/// the attempt's, in native units (never negative, by that 12.5 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeeInfo {
    /// The acceleration's fee: gasLimit, the prices in gwei, networkFee in native units.
    pub new_high_estimated_fee: TransactionFee,
    /// networkFee of the acceleration minus that of the attempt it replaces.
    pub fee_difference_amount: String,
}

impl FeeInfo {
    fn new(original: &UnsignedEvmTx, pricing: &GasPricing, blockchain: Blockchain) -> Self {
        let decimals = blockchain.native_decimals();
        let gas = original.gas_limit;
        let mut fee = TransactionFee::estimate(pricing, gas, gas, None, decimals);
        fee.network_fee_raw = None;
        let old_per_gas = match original.fee {
            EvmFee::Eip1559 { max_fee, .. } => max_fee,
            EvmFee::Legacy { gas_price } => gas_price,
        };
        let per_gas = pricing.max_per_gas().saturating_sub(old_per_gas);
        Self {
            new_high_estimated_fee: fee,
            fee_difference_amount: format_units(U256::from(gas) * U256::from(per_gas), decimals),
        }
    }
}
