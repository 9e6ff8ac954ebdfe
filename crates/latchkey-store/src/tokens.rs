//! The stored part of the token registry (`tokens`: tokens seen on chain, faucet-deployed
//! ones) and the monitored-token configuration (`monitored_token_config`,
//! `monitored_tokens`), per entity and environment.

use crate::db::Db;
use crate::error::{DbError, DbResult};
use crate::page::{cursor_id, finish_page, page_direction};
use crate::row::Columns;
use crate::store::SqlStore;
use async_trait::async_trait;
use latchkey_chains::Blockchain;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::Environment;
use latchkey_core::money::{
    MonitorScope, MonitoredConfig, MonitoredEntry, MonitoredFilter, TokenOrigin, TokenRecord,
    TokenStandard, TokenStore,
};
use latchkey_core::store::{Page, PageQuery, StoreResult};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// Columns of `tokens`, as [`token_from_row`] reads them.
const TOKEN_COLUMNS: &str = "id, blockchain, token_address, standard, name, symbol, decimals, \
    is_native, origin, created_at, updated_at";

fn token_from_row(r: &AnyRow) -> DbResult<TokenRecord> {
    let c = Columns::new(r, "tokens");
    let address: String = c.get("token_address")?;
    let decimals = match c.get::<Option<i64>>("decimals")? {
        None => None,
        Some(d) => Some(u8::try_from(d).map_err(|e| c.corrupt("decimals", e))?),
    };
    let standard = match c.get::<Option<String>>("standard")? {
        None => None,
        Some(s) => Some(
            TokenStandard::parse(&s)
                .ok_or_else(|| c.corrupt("standard", format!("unknown value {s:?}")))?,
        ),
    };
    Ok(TokenRecord {
        id: c.get("id")?,
        blockchain: c.parsed("blockchain", Blockchain::parse)?,
        token_address: (!address.is_empty()).then_some(address),
        standard,
        name: c.get("name")?,
        symbol: c.get("symbol")?,
        decimals,
        is_native: c.flag("is_native")?,
        origin: c.parsed("origin", TokenOrigin::parse)?,
        created_at: c.time("created_at")?,
        updated_at: c.time("updated_at")?,
    })
}

async fn token_by_id(db: &Db, id: &str) -> DbResult<Option<TokenRecord>> {
    let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(token_from_row).transpose()
}

async fn token_by_address(
    db: &Db,
    blockchain: Blockchain,
    address: Option<&str>,
) -> DbResult<Option<TokenRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE blockchain = $1 AND token_address = $2"
    ))
    .bind(blockchain.as_str())
    .bind(address.unwrap_or(""))
    .fetch_optional(&db.reader)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

async fn upsert_seen(db: &Db, t: &TokenRecord) -> DbResult<TokenRecord> {
    // Fill only what is still unknown, and touch updated_at only then.
    sqlx::query(&format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET \
           standard = COALESCE(tokens.standard, excluded.standard), \
           name = COALESCE(tokens.name, excluded.name), \
           symbol = COALESCE(tokens.symbol, excluded.symbol), \
           decimals = COALESCE(tokens.decimals, excluded.decimals), \
           updated_at = excluded.updated_at \
         WHERE (tokens.standard IS NULL AND excluded.standard IS NOT NULL) \
            OR (tokens.name IS NULL AND excluded.name IS NOT NULL) \
            OR (tokens.symbol IS NULL AND excluded.symbol IS NOT NULL) \
            OR (tokens.decimals IS NULL AND excluded.decimals IS NOT NULL)"
    ))
    .bind(&t.id)
    .bind(t.blockchain.as_str())
    .bind(t.token_address.as_deref().unwrap_or(""))
    .bind(t.standard.map(TokenStandard::as_str))
    .bind(&t.name)
    .bind(&t.symbol)
    .bind(t.decimals.map(i64::from))
    .bind(i64::from(t.is_native))
    .bind(t.origin.as_str())
    .bind(t.created_at.0)
    .bind(t.updated_at.0)
    .execute(&db.writer)
    .await?;
    let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1"))
        .bind(&t.id)
        .fetch_one(&db.writer)
        .await?;
    token_from_row(&row)
}

async fn config(
    db: &Db,
    entity_id: &str,
    environment: Environment,
) -> DbResult<Option<MonitoredConfig>> {
    let row = sqlx::query(
        "SELECT scope, updated_at FROM monitored_token_config \
         WHERE entity_id = $1 AND environment = $2",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .fetch_optional(&db.reader)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let c = Columns::new(&r, "monitored_token_config");
    Ok(Some(MonitoredConfig {
        scope: c.parsed("scope", MonitorScope::parse)?,
        updated_at: c.time("updated_at")?,
    }))
}

async fn token_ids(db: &Db, entity_id: &str, environment: Environment) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT token_id FROM monitored_tokens WHERE entity_id = $1 AND environment = $2 \
         ORDER BY seq",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .fetch_all(&db.reader)
    .await?)
}

/// Creates the configuration if missing and makes its scope SELECTED, holding its row lock
/// until the transaction ends (PostgreSQL), so that concurrent writes of one list queue;
/// `true` when this changed it.
async fn select_scope_locked(
    conn: &mut AnyConnection,
    db: &Db,
    entity_id: &str,
    environment: Environment,
    now: Timestamp,
) -> DbResult<bool> {
    let created = sqlx::query(
        "INSERT INTO monitored_token_config (entity_id, environment, scope, updated_at) \
         VALUES ($1, $2, 'SELECTED', $3) ON CONFLICT (entity_id, environment) DO NOTHING",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .bind(now.0)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let scope: String = sqlx::query_scalar(&format!(
        "SELECT scope FROM monitored_token_config WHERE entity_id = $1 AND environment = $2 {}",
        db.dialect.row_lock()
    ))
    .bind(entity_id)
    .bind(environment.as_str())
    .fetch_one(&mut *conn)
    .await?;
    if scope == MonitorScope::Selected.as_str() {
        return Ok(created == 1);
    }
    touch(
        conn,
        entity_id,
        environment,
        Some(MonitorScope::Selected),
        now,
    )
    .await?;
    Ok(true)
}

/// Records a change of the list (and of the scope, when given).
async fn touch(
    conn: &mut AnyConnection,
    entity_id: &str,
    environment: Environment,
    scope: Option<MonitorScope>,
    now: Timestamp,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE monitored_token_config SET scope = COALESCE($1, scope), updated_at = $2 \
         WHERE entity_id = $3 AND environment = $4",
    )
    .bind(scope.map(MonitorScope::as_str))
    .bind(now.0)
    .bind(entity_id)
    .bind(environment.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts the ids not yet listed; returns how many were new.
async fn insert_ids(
    conn: &mut AnyConnection,
    entity_id: &str,
    environment: Environment,
    ids: &[String],
    now: Timestamp,
) -> DbResult<u64> {
    let mut added = 0;
    for id in ids {
        added += sqlx::query(
            "INSERT INTO monitored_tokens (entity_id, environment, token_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (entity_id, environment, token_id) DO NOTHING",
        )
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(id)
        .bind(now.0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(added)
}

/// Deletes the listed ids; returns how many were listed.
async fn delete_ids(
    conn: &mut AnyConnection,
    entity_id: &str,
    environment: Environment,
    ids: &[String],
) -> DbResult<u64> {
    let mut removed = 0;
    for id in ids {
        removed += sqlx::query(
            "DELETE FROM monitored_tokens \
             WHERE entity_id = $1 AND environment = $2 AND token_id = $3",
        )
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(removed)
}

async fn add(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    ids: &[String],
    now: Timestamp,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let scope_changed = select_scope_locked(&mut tx, db, entity_id, environment, now).await?;
    let added = insert_ids(&mut tx, entity_id, environment, ids, now).await?;
    if added > 0 {
        touch(&mut tx, entity_id, environment, None, now).await?;
    }
    tx.commit().await?;
    Ok(scope_changed || added > 0)
}

async fn replace(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    ids: &[String],
    now: Timestamp,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let scope_changed = select_scope_locked(&mut tx, db, entity_id, environment, now).await?;
    let listed: Vec<String> = sqlx::query_scalar(
        "SELECT token_id FROM monitored_tokens WHERE entity_id = $1 AND environment = $2",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let gone: Vec<String> = listed.into_iter().filter(|t| !ids.contains(t)).collect();
    let removed = delete_ids(&mut tx, entity_id, environment, &gone).await?;
    let added = insert_ids(&mut tx, entity_id, environment, ids, now).await?;
    if added + removed > 0 {
        touch(&mut tx, entity_id, environment, None, now).await?;
    }
    tx.commit().await?;
    Ok(scope_changed || added + removed > 0)
}

async fn remove(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    ids: &[String],
    now: Timestamp,
) -> DbResult<u64> {
    let mut tx = db.writer.begin().await?;
    let removed = delete_ids(&mut tx, entity_id, environment, ids).await?;
    if removed > 0 {
        touch(&mut tx, entity_id, environment, None, now).await?;
    }
    tx.commit().await?;
    Ok(removed)
}

async fn set_scope(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    scope: MonitorScope,
    now: Timestamp,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO monitored_token_config (entity_id, environment, scope, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (entity_id, environment) \
         DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
    )
    .bind(entity_id)
    .bind(environment.as_str())
    .bind(scope.as_str())
    .bind(now.0)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A page of the list, each entry joined with its stored token row when it has one.
async fn list(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    filter: &MonitoredFilter,
    page: &PageQuery,
) -> DbResult<Option<Page<MonitoredEntry>>> {
    let cursor = match cursor_id(page) {
        None => None,
        Some(id) => {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM monitored_tokens \
                 WHERE entity_id = $1 AND environment = $2 AND token_id = $3",
            )
            .bind(entity_id)
            .bind(environment.as_str())
            .bind(id.to_ascii_lowercase())
            .fetch_optional(&db.reader)
            .await?;
            match seq {
                Some(seq) => Some(seq),
                None => return Ok(None),
            }
        }
    };
    let (cmp, dir) = page_direction(page);
    // $1 entity, $2 environment, $3 from, $4 to, $5 cursor, $6 limit, $7 blockchain,
    // $8 address, $9 symbol, then the outside matches.
    // A stored token is matched on its columns (unset filters are NULL and match anything);
    // a static-only one (no tokens row) by the caller's list of matching ids.
    let outside = if filter.is_empty() {
        "TRUE".to_string()
    } else if filter.outside_matches.is_empty() {
        "FALSE".to_string()
    } else {
        let marks: Vec<String> = (0..filter.outside_matches.len())
            .map(|i| format!("${}", i + 10))
            .collect();
        format!("m.token_id IN ({})", marks.join(", "))
    };
    let filters = format!(
        "((t.id IS NOT NULL AND ($7 IS NULL OR t.blockchain = $7) \
           AND ($8 IS NULL OR t.token_address = $8) AND ($9 IS NULL OR t.symbol = $9)) \
          OR (t.id IS NULL AND {outside}))"
    );
    let sql = format!(
        "SELECT m.seq, m.token_id, m.created_at AS listed_at, t.id, t.blockchain, \
         t.token_address, t.standard, t.name, t.symbol, t.decimals, t.is_native, t.origin, \
         t.created_at, t.updated_at \
         FROM monitored_tokens m LEFT JOIN tokens t ON t.id = m.token_id \
         WHERE m.entity_id = $1 AND m.environment = $2 \
         AND ($3 IS NULL OR m.created_at >= $3) AND ($4 IS NULL OR m.created_at <= $4) \
         AND ($5 IS NULL OR m.seq {cmp} $5) AND {filters} ORDER BY m.seq {dir} LIMIT $6"
    );
    let mut q = sqlx::query(&sql)
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(page.from.map(|t| t.0))
        .bind(page.to.map(|t| t.0))
        .bind(cursor)
        .bind(i64::from(page.size).saturating_add(1))
        .bind(filter.blockchain.map(Blockchain::as_str))
        .bind(&filter.token_address)
        .bind(&filter.symbol);
    for id in &filter.outside_matches {
        q = q.bind(id);
    }
    let rows = q.fetch_all(&db.reader).await?;
    let items = rows
        .iter()
        .map(|r| {
            let c = Columns::new(r, "monitored_tokens");
            let stored = match c.get::<Option<String>>("id")? {
                None => None,
                Some(_) => Some(token_from_row(r)?),
            };
            Ok(MonitoredEntry {
                token_id: c.get("token_id")?,
                created_at: c.time("listed_at")?,
                stored,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Some(finish_page(items, page)))
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn token(&self, id: &str) -> StoreResult<Option<TokenRecord>> {
        Ok(token_by_id(&self.db, id).await?)
    }

    async fn token_by_address(
        &self,
        blockchain: Blockchain,
        address: Option<&str>,
    ) -> StoreResult<Option<TokenRecord>> {
        Ok(token_by_address(&self.db, blockchain, address).await?)
    }

    async fn upsert_seen_token(&self, token: &TokenRecord) -> StoreResult<TokenRecord> {
        Ok(upsert_seen(&self.db, token).await?)
    }

    async fn monitored_config(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Option<MonitoredConfig>> {
        Ok(config(&self.db, entity_id, environment).await?)
    }

    async fn monitored_token_ids(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> StoreResult<Vec<String>> {
        Ok(token_ids(&self.db, entity_id, environment).await?)
    }

    async fn add_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(add(&self.db, entity_id, environment, token_ids, now).await?)
    }

    async fn replace_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<bool> {
        Ok(replace(&self.db, entity_id, environment, token_ids, now).await?)
    }

    async fn remove_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        token_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<u64> {
        Ok(remove(&self.db, entity_id, environment, token_ids, now).await?)
    }

    async fn set_monitor_scope(
        &self,
        entity_id: &str,
        environment: Environment,
        scope: MonitorScope,
        now: Timestamp,
    ) -> StoreResult<()> {
        Ok(set_scope(&self.db, entity_id, environment, scope, now).await?)
    }

    async fn list_monitored_tokens(
        &self,
        entity_id: &str,
        environment: Environment,
        filter: &MonitoredFilter,
        page: &PageQuery,
    ) -> StoreResult<Option<Page<MonitoredEntry>>> {
        Ok(list(&self.db, entity_id, environment, filter, page).await?)
    }
}
