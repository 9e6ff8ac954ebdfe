//! Transactions, their signed attempts and the per-wallet nonce claims. This module holds the
//! read side and the plain insert; the engine's writes (nonce reservation, leases, state
//! changes) come with the engine.

use crate::db::Db;
use crate::error::DbResult;
use crate::page::{cursor_id, finish_page, page_direction};
use crate::row::{to_json, Columns};
use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use latchkey_core::model::Environment;
use latchkey_core::money::{
    FeeLevel, NftTransfer, TransactionFilter, TransactionRecord, TransactionStore, TxOperation,
    TxState, TxType, WalletSelector,
};
use latchkey_core::store::{Page, PageQuery, StoreResult};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::sync::LazyLock;

const TABLE: &str = "transactions";

/// The stored columns, in insert order.
const COLUMNS: &[&str] = &[
    "id",
    "entity_id",
    "user_internal_id",
    "wallet_id",
    "blockchain",
    "tx_type",
    "operation",
    "state",
    "token_id",
    "amounts",
    "nft_token_ids",
    "source_address",
    "destination_address",
    "contract_address",
    "abi_function_signature",
    "abi_parameters",
    "call_data",
    "ref_id",
    "fee_level",
    "estimated_fee",
    "nonce",
    "tx_hash",
    "block_hash",
    "block_height",
    "first_confirm_date",
    "network_fee",
    "error_reason",
    "error_details",
    "challenge_id",
    "log_index",
    "sent_at",
    "next_check_at",
    "lease_until",
    "lease_token",
    "created_at",
    "updated_at",
    "user_op_hash",
];

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let params: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO transactions ({}) VALUES ({})",
        COLUMNS.join(", "),
        params.join(", ")
    )
});

/// `SELECT … FROM transactions t JOIN users u`: every column of `t`, and the owner's
/// developer userId, which [`from_row`] reads as `owner_user_id`.
pub(crate) static SELECT: LazyLock<String> = LazyLock::new(|| {
    let cols: Vec<String> = COLUMNS.iter().map(|c| format!("t.{c}")).collect();
    format!(
        "SELECT {}, u.user_id AS owner_user_id FROM transactions t \
         JOIN users u ON u.internal_id = t.user_internal_id",
        cols.join(", ")
    )
});

pub(crate) fn from_row(r: &AnyRow) -> DbResult<TransactionRecord> {
    let c = Columns::new(r, TABLE);
    Ok(TransactionRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        user_internal_id: c.get("user_internal_id")?,
        user_id: c.get("owner_user_id")?,
        wallet_id: c.get("wallet_id")?,
        blockchain: c.parsed("blockchain", Blockchain::parse)?,
        tx_type: c.parsed("tx_type", TxType::parse)?,
        operation: c.parsed("operation", TxOperation::parse)?,
        state: c.parsed("state", TxState::parse)?,
        token_id: c.get("token_id")?,
        amounts: c.json("amounts")?,
        nft_token_ids: c.opt_json("nft_token_ids")?,
        source_address: c.get("source_address")?,
        destination_address: c.get("destination_address")?,
        contract_address: c.get("contract_address")?,
        abi_function_signature: c.get("abi_function_signature")?,
        abi_parameters: c.opt_json("abi_parameters")?,
        call_data: c.get("call_data")?,
        ref_id: c.get("ref_id")?,
        fee_level: match c.get::<Option<String>>("fee_level")? {
            None => None,
            Some(s) => Some(
                FeeLevel::parse(&s)
                    .ok_or_else(|| c.corrupt("fee_level", format!("unknown value {s:?}")))?,
            ),
        },
        estimated_fee: c.opt_json("estimated_fee")?,
        nonce: c.get("nonce")?,
        tx_hash: c.get("tx_hash")?,
        user_op_hash: c.get("user_op_hash")?,
        block_hash: c.get("block_hash")?,
        block_height: c.get("block_height")?,
        first_confirm_date: c.opt_time("first_confirm_date")?,
        network_fee: c.get("network_fee")?,
        error_reason: c.get("error_reason")?,
        error_details: c.get("error_details")?,
        challenge_id: c.get("challenge_id")?,
        log_index: c.get("log_index")?,
        sent_at: c.opt_time("sent_at")?,
        next_check_at: c.time("next_check_at")?,
        lease_until: c.opt_time("lease_until")?,
        lease_token: c.get("lease_token")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

/// A bound value of a query built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause built from the filters that are present, with its arguments in `$N`
/// order (a parameter that only ever meets `IS NULL` has no type PostgreSQL could infer).
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<Arg>,
}

impl Where {
    /// The next parameter's placeholder, bound to `arg`.
    fn param(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// `AND <condition>`, where the condition names its parameters through [`Where::param`].
    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }

    /// `column = value`, compared case-insensitively for EVM hex (`0x…`), exactly otherwise
    /// (base58 addresses and hashes are case-sensitive).
    fn hex_or_exact(&mut self, column: &str, value: &str) {
        let p = self.param(Arg::Text(value.to_string()));
        if value.starts_with("0x") || value.starts_with("0X") {
            self.and(&format!("LOWER({column}) = LOWER({p})"));
        } else {
            self.and(&format!("{column} = {p}"));
        }
    }

    /// `column IN (…)`; an empty set matches nothing.
    fn one_of(&mut self, column: &str, values: &[String]) -> String {
        if values.is_empty() {
            return "1 = 0".into();
        }
        let ps: Vec<String> = values
            .iter()
            .map(|v| self.param(Arg::Text(v.clone())))
            .collect();
        format!("{column} IN ({})", ps.join(", "))
    }

    async fn fetch(&self, db: &Db, sql: &str) -> DbResult<Vec<AnyRow>> {
        let mut q = sqlx::query(sql);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(n) => q.bind(*n),
            };
        }
        Ok(q.fetch_all(&db.reader).await?)
    }
}

#[tracing::instrument(skip_all)]
async fn insert(db: &Db, t: &TransactionRecord) -> DbResult<()> {
    let mut conn = db.writer.acquire().await?;
    insert_in(&mut conn, t).await
}

/// `INSERT` of a deposit that may have been recorded already (the follower replaying a range):
/// the unique index on (chain, hash, log index, wallet) makes the repeat a no-op.
pub(crate) static INSERT_ONCE: LazyLock<String> =
    LazyLock::new(|| format!("{} ON CONFLICT DO NOTHING", *INSERT));

/// Inserts `t` inside the caller's transaction (the outbound commit).
pub(crate) async fn insert_in(conn: &mut AnyConnection, t: &TransactionRecord) -> DbResult<()> {
    insert_with(conn, t, &INSERT).await.map(|_| ())
}

/// Inserts `t` with `sql` ([`INSERT`] or [`INSERT_ONCE`]); how many rows it wrote.
pub(crate) async fn insert_with(
    conn: &mut AnyConnection,
    t: &TransactionRecord,
    sql: &str,
) -> DbResult<u64> {
    let amounts = to_json(TABLE, "amounts", &t.amounts)?;
    let nfts = t
        .nft_token_ids
        .as_ref()
        .map(|v| to_json(TABLE, "nft_token_ids", v))
        .transpose()?;
    let abi = t
        .abi_parameters
        .as_ref()
        .map(|v| to_json(TABLE, "abi_parameters", v))
        .transpose()?;
    let fee = t
        .estimated_fee
        .as_ref()
        .map(|v| to_json(TABLE, "estimated_fee", v))
        .transpose()?;
    let written = sqlx::query(sql)
        .bind(&t.id)
        .bind(&t.entity_id)
        .bind(&t.user_internal_id)
        .bind(&t.wallet_id)
        .bind(t.blockchain.as_str())
        .bind(t.tx_type.as_str())
        .bind(t.operation.as_str())
        .bind(t.state.as_str())
        .bind(&t.token_id)
        .bind(amounts)
        .bind(nfts)
        .bind(&t.source_address)
        .bind(&t.destination_address)
        .bind(&t.contract_address)
        .bind(&t.abi_function_signature)
        .bind(abi)
        .bind(&t.call_data)
        .bind(&t.ref_id)
        .bind(t.fee_level.map(FeeLevel::as_str))
        .bind(fee)
        .bind(t.nonce)
        .bind(&t.tx_hash)
        .bind(&t.block_hash)
        .bind(t.block_height)
        .bind(t.first_confirm_date.map(|d| d.0))
        .bind(&t.network_fee)
        .bind(&t.error_reason)
        .bind(&t.error_details)
        .bind(&t.challenge_id)
        .bind(t.log_index)
        .bind(t.sent_at.map(|d| d.0))
        .bind(t.next_check_at.0)
        .bind(t.lease_until.map(|d| d.0))
        .bind(&t.lease_token)
        .bind(t.created_at.0)
        .bind(t.updated_at.0)
        .bind(&t.user_op_hash)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(written)
}

#[tracing::instrument(skip_all)]
async fn by_id(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    id: &str,
) -> DbResult<Option<TransactionRecord>> {
    let sql = format!(
        "{} WHERE t.entity_id = $1 AND t.user_internal_id = $2 AND t.id = $3",
        *SELECT
    );
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(from_row).transpose()
}

#[tracing::instrument(skip_all)]
async fn list(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    filter: &TransactionFilter,
    page: &PageQuery,
) -> DbResult<Option<Page<TransactionRecord>>> {
    let mut w = Where::default();
    let e = w.param(Arg::Text(entity_id.into()));
    let u = w.param(Arg::Text(user_internal_id.into()));
    w.sql = format!("t.entity_id = {e} AND t.user_internal_id = {u}");
    if let Some(id) = cursor_id(page) {
        let row = sqlx::query(
            "SELECT seq FROM transactions \
             WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3",
        )
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(id)
        .fetch_optional(&db.reader)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let seq: i64 = Columns::new(&r, TABLE).get("seq")?;
        let (cmp, _) = page_direction(page);
        let p = w.param(Arg::Int(seq));
        w.and(&format!("t.seq {cmp} {p}"));
    }
    if let Some(from) = page.from {
        let p = w.param(Arg::Int(from.0));
        w.and(&format!("t.created_at >= {p}"));
    }
    if let Some(to) = page.to {
        let p = w.param(Arg::Int(to.0));
        w.and(&format!("t.created_at <= {p}"));
    }
    let exact = [
        ("t.blockchain", filter.blockchain.map(Blockchain::as_str)),
        ("t.operation", filter.operation.map(TxOperation::as_str)),
        ("t.state", filter.state.map(TxState::as_str)),
        ("t.tx_type", filter.tx_type.map(TxType::as_str)),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            let p = w.param(Arg::Text(v.into()));
            w.and(&format!("{column} = {p}"));
        }
    }
    if let Some(a) = &filter.destination_address {
        w.hex_or_exact("t.destination_address", a);
    }
    if let Some(h) = &filter.tx_hash {
        w.hex_or_exact("t.tx_hash", h);
    }
    if let Some(ids) = &filter.wallet_ids {
        let c = w.one_of("t.wallet_id", ids);
        w.and(&c);
    }
    if let Some(tokens) = &filter.visible_token_ids {
        let c = w.one_of("t.token_id", tokens);
        w.and(&format!("(t.token_id IS NULL OR {c})"));
    }
    let (_, dir) = page_direction(page);
    let limit = w.param(Arg::Int(i64::from(page.size) + 1));
    let sql = format!(
        "{} WHERE {} ORDER BY t.seq {dir} LIMIT {limit}",
        *SELECT, w.sql
    );
    let rows = w.fetch(db, &sql).await?;
    let items = rows.iter().map(from_row).collect::<DbResult<Vec<_>>>()?;
    Ok(Some(finish_page(items, page)))
}

#[tracing::instrument(skip_all)]
async fn lowest_nonce(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    wallet: &WalletSelector,
) -> DbResult<Option<TransactionRecord>> {
    let mut w = Where::default();
    let e = w.param(Arg::Text(entity_id.into()));
    let env = w.param(Arg::Text(environment.as_str().into()));
    // The user's environment scopes the wallet: a TEST key never sees a LIVE user's wallets.
    w.sql = format!(
        "t.entity_id = {e} AND u.environment = {env} AND t.tx_type = 'OUTBOUND' \
         AND t.state IN ('QUEUED', 'SENT', 'STUCK') AND t.nonce IS NOT NULL"
    );
    match wallet {
        WalletSelector::Id {
            wallet_id,
            blockchain,
        } => {
            let p = w.param(Arg::Text(wallet_id.clone()));
            w.and(&format!("t.wallet_id = {p}"));
            if let Some(b) = blockchain {
                let p = w.param(Arg::Text(b.as_str().into()));
                w.and(&format!("t.blockchain = {p}"));
            }
        }
        WalletSelector::Address {
            address,
            blockchain,
        } => {
            let p = w.param(Arg::Text(blockchain.as_str().into()));
            w.and(&format!("t.blockchain = {p}"));
            w.hex_or_exact("wl.address", address);
        }
    }
    let sql = format!(
        "{} JOIN wallets wl ON wl.id = t.wallet_id WHERE {} ORDER BY t.nonce ASC LIMIT 1",
        *SELECT, w.sql
    );
    let rows = w.fetch(db, &sql).await?;
    rows.first().map(from_row).transpose()
}

#[async_trait]
impl TransactionStore for SqlStore {
    async fn insert_transaction(&self, tx: &TransactionRecord) -> StoreResult<()> {
        Ok(insert(&self.db, tx).await?)
    }

    async fn transaction(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        id: &str,
    ) -> StoreResult<Option<TransactionRecord>> {
        Ok(by_id(&self.db, entity_id, user_internal_id, id).await?)
    }

    async fn list_transactions(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        filter: &TransactionFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<TransactionRecord>>> {
        Ok(list(&self.db, entity_id, user_internal_id, filter, page).await?)
    }

    async fn lowest_nonce_transaction(
        &self,
        entity_id: &str,
        environment: Environment,
        wallet: &WalletSelector,
    ) -> StoreResult<Option<TransactionRecord>> {
        Ok(lowest_nonce(&self.db, entity_id, environment, wallet).await?)
    }

    async fn wallet_nft_transfers(
        &self,
        entity_id: &str,
        user_internal_id: &str,
        wallet_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<NftTransfer>> {
        Ok(nft_transfers(&self.db, entity_id, user_internal_id, wallet_id, limit).await?)
    }
}

#[tracing::instrument(skip_all)]
async fn nft_transfers(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    wallet_id: &str,
    limit: u32,
) -> DbResult<Vec<NftTransfer>> {
    let rows = sqlx::query(
        "SELECT token_id, nft_token_ids FROM transactions \
         WHERE entity_id = $1 AND user_internal_id = $2 AND wallet_id = $3 \
           AND token_id IS NOT NULL AND nft_token_ids IS NOT NULL \
         ORDER BY seq ASC LIMIT $4",
    )
    .bind(entity_id)
    .bind(user_internal_id)
    .bind(wallet_id)
    .bind(i64::from(limit))
    .fetch_all(&db.reader)
    .await?;
    rows.iter()
        .map(|r| {
            let c = Columns::new(r, TABLE);
            Ok(NftTransfer {
                token_id: c.get("token_id")?,
                nft_token_ids: c.opt_json("nft_token_ids")?.unwrap_or_default(),
            })
        })
        .collect()
}
