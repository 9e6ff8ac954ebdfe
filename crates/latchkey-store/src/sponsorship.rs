//! The gas station's sponsorship policies (`paymaster_policies`) and the day's sponsored
//! operations they are checked against (the entity's SCA transactions on a chain).

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_chains::{Blockchain, U256};
use latchkey_core::clock::Timestamp;
use latchkey_core::money::{
    PaymasterPolicy, SponsoredOperation, SponsorshipStore, TransactionFee, TxState,
};
use latchkey_core::store::StoreResult;
use sqlx::any::AnyRow;

const POLICIES: &str = "paymaster_policies";

#[async_trait]
impl SponsorshipStore for SqlStore {
    async fn paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> StoreResult<Option<PaymasterPolicy>> {
        Ok(policy(&self.db, entity_id, blockchain).await?)
    }

    async fn paymaster_policies(&self, entity_id: &str) -> StoreResult<Vec<PaymasterPolicy>> {
        Ok(policies(&self.db, entity_id).await?)
    }

    async fn set_paymaster_policy(
        &self,
        entity_id: &str,
        policy: &PaymasterPolicy,
        now: Timestamp,
    ) -> StoreResult<()> {
        Ok(set_policy(&self.db, entity_id, policy, now).await?)
    }

    async fn delete_paymaster_policy(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
    ) -> StoreResult<bool> {
        Ok(delete_policy(&self.db, entity_id, blockchain).await?)
    }

    async fn sponsored_operations(
        &self,
        entity_id: &str,
        blockchain: Blockchain,
        since: Timestamp,
    ) -> StoreResult<Vec<SponsoredOperation>> {
        Ok(operations(&self.db, entity_id, blockchain, since).await?)
    }
}

/// A wei amount column (decimal text, NULL: no limit).
fn wei(c: &Columns<'_>, column: &'static str) -> DbResult<Option<U256>> {
    match c.get::<Option<String>>(column)? {
        None => Ok(None),
        Some(text) => text
            .parse::<U256>()
            .map(Some)
            .map_err(|e| c.corrupt(column, e)),
    }
}

fn policy_from_row(r: &AnyRow) -> DbResult<PaymasterPolicy> {
    let c = Columns::new(r, POLICIES);
    let max_ops_daily = match c.get::<Option<i64>>("max_ops_daily")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|e| c.corrupt("max_ops_daily", e))?),
    };
    Ok(PaymasterPolicy {
        blockchain: c.parsed("blockchain", Blockchain::parse)?,
        active: c.flag("active")?,
        max_native_daily: wei(&c, "max_native_daily")?,
        max_native_per_tx: wei(&c, "max_native_per_tx")?,
        max_ops_daily,
        updated_at: Some(c.time("updated_at")?),
    })
}

const SELECT_POLICY: &str = "SELECT blockchain, active, max_native_daily, max_native_per_tx, \
     max_ops_daily, updated_at FROM paymaster_policies";

#[tracing::instrument(skip_all)]
async fn policy(
    db: &Db,
    entity_id: &str,
    blockchain: Blockchain,
) -> DbResult<Option<PaymasterPolicy>> {
    let sql = format!("{SELECT_POLICY} WHERE entity_id = $1 AND blockchain = $2");
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .bind(blockchain.as_str())
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(policy_from_row).transpose()
}

#[tracing::instrument(skip_all)]
async fn policies(db: &Db, entity_id: &str) -> DbResult<Vec<PaymasterPolicy>> {
    let sql = format!("{SELECT_POLICY} WHERE entity_id = $1 ORDER BY blockchain");
    let rows = sqlx::query(&sql)
        .bind(entity_id)
        .fetch_all(&db.reader)
        .await?;
    rows.iter().map(policy_from_row).collect()
}

#[tracing::instrument(skip_all)]
async fn set_policy(db: &Db, entity_id: &str, p: &PaymasterPolicy, now: Timestamp) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO paymaster_policies (entity_id, blockchain, active, max_native_daily, \
         max_native_per_tx, max_ops_daily, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (entity_id, blockchain) DO UPDATE SET active = excluded.active, \
         max_native_daily = excluded.max_native_daily, \
         max_native_per_tx = excluded.max_native_per_tx, \
         max_ops_daily = excluded.max_ops_daily, updated_at = excluded.updated_at",
    )
    .bind(entity_id)
    .bind(p.blockchain.as_str())
    .bind(i64::from(p.active))
    .bind(p.max_native_daily.map(|v| v.to_string()))
    .bind(p.max_native_per_tx.map(|v| v.to_string()))
    .bind(p.max_ops_daily.map(i64::from))
    .bind(now.0)
    .execute(&db.writer)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
async fn delete_policy(db: &Db, entity_id: &str, blockchain: Blockchain) -> DbResult<bool> {
    let n = sqlx::query("DELETE FROM paymaster_policies WHERE entity_id = $1 AND blockchain = $2")
        .bind(entity_id)
        .bind(blockchain.as_str())
        .execute(&db.writer)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The entity's SCA transactions on the chain since `since` (the `transactions_sponsored`
/// index), reduced to what the policy counts.
#[tracing::instrument(skip_all)]
async fn operations(
    db: &Db,
    entity_id: &str,
    blockchain: Blockchain,
    since: Timestamp,
) -> DbResult<Vec<SponsoredOperation>> {
    let rows = sqlx::query(
        "SELECT state, network_fee, estimated_fee FROM transactions \
         WHERE entity_id = $1 AND blockchain = $2 AND created_at >= $3 \
         AND user_op_hash IS NOT NULL",
    )
    .bind(entity_id)
    .bind(blockchain.as_str())
    .bind(since.0)
    .fetch_all(&db.reader)
    .await?;
    rows.iter()
        .map(|r| {
            let c = Columns::new(r, "transactions");
            let estimate: Option<TransactionFee> = c.opt_json("estimated_fee")?;
            Ok(SponsoredOperation {
                state: c.parsed("state", TxState::parse)?,
                network_fee: c.get("network_fee")?,
                worst_case: estimate.and_then(|e| e.network_fee),
            })
        })
        .collect()
}
