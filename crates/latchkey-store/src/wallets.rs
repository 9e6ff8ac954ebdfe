//! Wallets: created by completed challenges, listed in pages, renamed by the developer.

use crate::db::Db;
use crate::error::DbResult;
use crate::page::{cursor_id, finish_page, page_direction};
use crate::row::Columns;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::WalletRecord;
use latchkey_core::store::{Page, PageQuery, WalletFilter};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::sync::LazyLock;

/// Columns of `wallets`, as [`wallet_from_row`] reads them.
const WALLET_COLUMNS: &str = "id, entity_id, user_internal_id, wallet_set_id, blockchain, \
    account_type, address, state, name, ref_id, sealed_key, created_at, updated_at, sca_core, \
    owner_address, deployed_at";

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO wallets ({WALLET_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    )
});
/// The owner's developer userId, read in the same statement as the wallet (one round trip per
/// read instead of two), as the column `owner_user_id`.
const OWNER_USER_ID: &str = "(SELECT u.user_id FROM users u WHERE u.entity_id = wallets.entity_id \
    AND u.internal_id = wallets.user_internal_id) AS owner_user_id";

static BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {WALLET_COLUMNS}, {OWNER_USER_ID} FROM wallets \
         WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3"
    )
});

/// A wallet row; `user_id` (the developer's id of its owner) is not stored with it.
fn wallet_from_row(r: &AnyRow, user_id: &str) -> DbResult<WalletRecord> {
    let c = Columns::new(r, "wallets");
    Ok(WalletRecord {
        id: c.get("id")?,
        entity_id: c.get("entity_id")?,
        user_internal_id: c.get("user_internal_id")?,
        user_id: user_id.to_string(),
        wallet_set_id: c.get("wallet_set_id")?,
        blockchain: c.get("blockchain")?,
        account_type: c.get("account_type")?,
        address: c.get("address")?,
        state: c.get("state")?,
        name: c.get("name")?,
        ref_id: c.get("ref_id")?,
        sealed_key: c.get("sealed_key")?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
        sca_core: c.get("sca_core")?,
        owner_address: c.get("owner_address")?,
        deployed_at: c.opt_time("deployed_at")?,
    })
}

/// The `owner_user_id` column of a read with [`OWNER_USER_ID`] ("" when the user is gone).
fn owner_user_id(r: &AnyRow) -> DbResult<String> {
    Ok(Columns::new(r, "users")
        .get::<Option<String>>("owner_user_id")?
        .unwrap_or_default())
}

/// Inserts a wallet inside the caller's transaction.
pub(crate) async fn insert_in(conn: &mut AnyConnection, w: &WalletRecord) -> DbResult<()> {
    sqlx::query(&INSERT)
        .bind(&w.id)
        .bind(&w.entity_id)
        .bind(&w.user_internal_id)
        .bind(&w.wallet_set_id)
        .bind(&w.blockchain)
        .bind(&w.account_type)
        .bind(&w.address)
        .bind(&w.state)
        .bind(&w.name)
        .bind(&w.ref_id)
        .bind(&w.sealed_key)
        .bind(w.created_at.0)
        .bind(w.updated_at.0)
        .bind(&w.sca_core)
        .bind(&w.owner_address)
        .bind(w.deployed_at.map(|t| t.0))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A page of the user's wallets; `None` when the cursor names no wallet of theirs.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    filter: &WalletFilter,
    page: &PageQuery,
) -> DbResult<Option<Page<WalletRecord>>> {
    let cursor = match cursor_id(page) {
        None => None,
        Some(id) => {
            let row = sqlx::query(
                "SELECT seq FROM wallets WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3",
            )
            .bind(entity_id)
            .bind(user_internal_id)
            .bind(id)
            .fetch_optional(&db.reader)
            .await?;
            match row {
                Some(r) => Some(Columns::new(&r, "wallets").get::<i64>("seq")?),
                None => return Ok(None),
            }
        }
    };
    let (cmp, dir) = page_direction(page);
    // $1 entity, $2 user, $3 from, $4 to, $5 cursor, $6 limit, $7 address, $8 chain,
    // $9 refId, $10 set, $11 scaCore.
    let sql = format!(
        "SELECT {WALLET_COLUMNS}, {OWNER_USER_ID} FROM wallets \
         WHERE entity_id = $1 AND user_internal_id = $2 AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4) \
         AND ($5 IS NULL OR seq {cmp} $5) AND ($7 IS NULL OR LOWER(address) = LOWER($7)) \
         AND ($8 IS NULL OR blockchain = $8) AND ($9 IS NULL OR ref_id = $9) \
         AND ($10 IS NULL OR wallet_set_id = $10) AND ($11 IS NULL OR sca_core = $11) \
         ORDER BY seq {dir} LIMIT $6"
    );
    let rows = sqlx::query(&sql)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(page.from.map(|t| t.0))
        .bind(page.to.map(|t| t.0))
        .bind(cursor)
        .bind(i64::from(page.size) + 1)
        .bind(&filter.address)
        .bind(&filter.blockchain)
        .bind(&filter.ref_id)
        .bind(&filter.wallet_set_id)
        .bind(&filter.sca_core)
        .fetch_all(&db.reader)
        .await?;
    let items = rows
        .iter()
        .map(|r| wallet_from_row(r, &owner_user_id(r)?))
        .collect::<DbResult<Vec<_>>>()?;
    Ok(Some(finish_page(items, page)))
}

/// One of the user's wallets.
#[tracing::instrument(skip_all)]
pub(crate) async fn by_id(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    id: &str,
) -> DbResult<Option<WalletRecord>> {
    let row = sqlx::query(&BY_ID)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(id)
        .fetch_optional(&db.reader)
        .await?;
    let Some(r) = row else { return Ok(None) };
    wallet_from_row(&r, &owner_user_id(&r)?).map(Some)
}

/// Sets a wallet's name and refId (each left alone when `None`); `false` when there is none.
#[tracing::instrument(skip_all)]
pub(crate) async fn update(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    id: &str,
    name: Option<&str>,
    ref_id: Option<&str>,
    now: Timestamp,
) -> DbResult<bool> {
    let n = sqlx::query(
        "UPDATE wallets SET name = COALESCE($1, name), ref_id = COALESCE($2, ref_id), \
         updated_at = $3 WHERE entity_id = $4 AND user_internal_id = $5 AND id = $6",
    )
    .bind(name)
    .bind(ref_id)
    .bind(now.0)
    .bind(entity_id)
    .bind(user_internal_id)
    .bind(id)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The wallets of `blockchain` at `addresses` (compared case-insensitively: EVM hex), for the
/// inbound follower. `user_id` is left empty: the follower reads the owner itself.
#[tracing::instrument(skip_all)]
/// Every wallet of `blockchain`, oldest first.
pub(crate) async fn on_chain(db: &Db, blockchain: &str) -> DbResult<Vec<WalletRecord>> {
    let sql = format!(
        "SELECT {WALLET_COLUMNS} FROM wallets WHERE blockchain = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(blockchain)
        .fetch_all(&db.reader)
        .await?;
    rows.iter().map(|r| wallet_from_row(r, "")).collect()
}

pub(crate) async fn at_addresses(
    db: &Db,
    blockchain: &str,
    addresses: &[String],
) -> DbResult<Vec<WalletRecord>> {
    let mut found = Vec::new();
    // A block's deposits name few addresses; chunks keep each statement's parameters small.
    for chunk in addresses.chunks(100) {
        let params: Vec<String> = (0..chunk.len())
            .map(|i| format!("LOWER(${})", i + 2))
            .collect();
        let sql = format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE blockchain = $1 AND LOWER(address) IN ({})",
            params.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(blockchain);
        for a in chunk {
            q = q.bind(a);
        }
        for r in q.fetch_all(&db.reader).await? {
            found.push(wallet_from_row(&r, "")?);
        }
    }
    Ok(found)
}
