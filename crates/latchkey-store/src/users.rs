//! End users: their records, listing with filters and pages, the operator's changes
//! (disable, lift a lock), and weak wraps made again under the current policy.

use crate::audit;
use crate::db::Db;
use crate::error::DbResult;
use crate::guesses::{columns, prefix};
use crate::page::{cursor_id, finish_page, page_direction};
use crate::row::Columns;
use latchkey_core::clock::Timestamp;
use latchkey_core::crypto::{KdfParams, WrappedKey};
use latchkey_core::model::{AuditEvent, Environment, GuessState, NewUser, SecretKind, UserRecord};
use latchkey_core::store::{Page, PageQuery, Rewrap, UserFilter};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::sync::LazyLock;

/// Columns of `users`, as [`user_from_row`] reads them.
const USER_COLUMNS: &str = "entity_id, environment, internal_id, user_id, created_at, disabled, \
    pin_salt, pin_params, pin_sealed, pin_version, answers_salt, answers_params, answers_sealed, questions, \
    pin_failed, pin_locked_at, pin_lock_expiry, pin_override_at, \
    answers_failed, answers_locked_at, answers_lock_expiry, answers_override_at";

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO users (entity_id, environment, internal_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
    )
});
static BY_USER_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {USER_COLUMNS} FROM users WHERE entity_id = $1 AND environment = $2 AND user_id = $3"
    )
});
static BY_INTERNAL_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {USER_COLUMNS} FROM users WHERE entity_id = $1 AND internal_id = $2")
});

/// A wrapped key from its three columns (all set or all NULL).
fn wrap_from(
    c: &Columns<'_>,
    salt: &'static str,
    params: &'static str,
    sealed: &'static str,
) -> DbResult<Option<WrappedKey>> {
    let (Some(salt_v), Some(params_v), Some(sealed_v)) = (
        c.get::<Option<Vec<u8>>>(salt)?,
        c.get::<Option<String>>(params)?,
        c.get::<Option<Vec<u8>>>(sealed)?,
    ) else {
        return Ok(None);
    };
    let params_v =
        KdfParams::decode(&params_v).ok_or_else(|| c.corrupt(params, "invalid KDF parameters"))?;
    Ok(Some(WrappedKey {
        salt: salt_v,
        params: params_v,
        sealed: sealed_v,
    }))
}

fn guesses_from(c: &Columns<'_>, kind: SecretKind) -> DbResult<GuessState> {
    let cols = columns(kind);
    Ok(GuessState {
        failed_attempts: c.get(cols.failed)?,
        locked_date: c.opt_time(cols.locked_at)?,
        locked_expiry: c.opt_time(cols.lock_expiry)?,
        last_lock_override: c.opt_time(cols.override_at)?,
    })
}

fn user_from_row(r: &AnyRow) -> DbResult<UserRecord> {
    let c = Columns::new(r, "users");
    Ok(UserRecord {
        entity_id: c.get("entity_id")?,
        environment: c.parsed("environment", Environment::parse)?,
        internal_id: c.get("internal_id")?,
        user_id: c.get("user_id")?,
        created_at: c.time("created_at")?,
        disabled: c.flag("disabled")?,
        pin_wrap: wrap_from(&c, "pin_salt", "pin_params", "pin_sealed")?,
        pin_version: c.get("pin_version")?,
        answers_wrap: wrap_from(&c, "answers_salt", "answers_params", "answers_sealed")?,
        questions: c.opt_json("questions")?.unwrap_or_default(),
        pin_guesses: guesses_from(&c, SecretKind::Pin)?,
        answer_guesses: guesses_from(&c, SecretKind::Answers)?,
    })
}

/// Creates a user (a unique violation becomes `StoreError::Conflict`).
#[tracing::instrument(skip_all)]
pub(crate) async fn insert(db: &Db, user: &NewUser) -> DbResult<UserRecord> {
    let row = sqlx::query(&INSERT)
        .bind(&user.entity_id)
        .bind(user.environment.as_str())
        .bind(&user.internal_id)
        .bind(&user.user_id)
        .bind(user.created_at.0)
        .fetch_one(&db.writer)
        .await?;
    user_from_row(&row)
}

/// A user of one environment by the developer's userId.
#[tracing::instrument(skip_all)]
pub(crate) async fn by_user_id(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    user_id: &str,
) -> DbResult<Option<UserRecord>> {
    let row = sqlx::query(&BY_USER_ID)
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(user_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// A user by internal id (a hot path: every end-user call resolves its token to this).
#[tracing::instrument(skip_all)]
pub(crate) async fn by_internal_id(
    db: &Db,
    entity_id: &str,
    internal_id: &str,
) -> DbResult<Option<UserRecord>> {
    let row = sqlx::query(&BY_INTERNAL_ID)
        .bind(entity_id)
        .bind(internal_id)
        .fetch_optional(&db.reader)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// SQL condition for a `pinStatus` / `securityQuestionStatus` filter; `$7` is now.
fn status_condition(kind: SecretKind, status: &str) -> Option<&'static str> {
    Some(match (kind, status) {
        (SecretKind::Pin, "UNSET") => "pin_sealed IS NULL",
        (SecretKind::Pin, "LOCKED") => "pin_sealed IS NOT NULL AND pin_lock_expiry > $7",
        (SecretKind::Pin, "ENABLED") => {
            "pin_sealed IS NOT NULL AND (pin_lock_expiry IS NULL OR pin_lock_expiry <= $7)"
        }
        (SecretKind::Answers, "UNSET") => "answers_sealed IS NULL",
        (SecretKind::Answers, "LOCKED") => "answers_sealed IS NOT NULL AND answers_lock_expiry > $7",
        (SecretKind::Answers, "ENABLED") => {
            "answers_sealed IS NOT NULL AND (answers_lock_expiry IS NULL OR answers_lock_expiry <= $7)"
        }
        _ => return None,
    })
}

/// A page of the users of the entity's environment; `None` when the cursor names no user of
/// that environment.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    db: &Db,
    entity_id: &str,
    environment: Environment,
    filter: &UserFilter,
    page: &PageQuery,
    now: Timestamp,
) -> DbResult<Option<Page<UserRecord>>> {
    let cursor = match cursor_id(page) {
        None => None,
        Some(id) => {
            let row = sqlx::query(
                "SELECT seq FROM users WHERE entity_id = $1 AND environment = $2 AND user_id = $3",
            )
            .bind(entity_id)
            .bind(environment.as_str())
            .bind(id)
            .fetch_optional(&db.reader)
            .await?;
            match row {
                Some(r) => Some(Columns::new(&r, "users").get::<i64>("seq")?),
                None => return Ok(None),
            }
        }
    };
    let (cmp, dir) = page_direction(page);
    // $1 entity, $2 environment, $3 from, $4 to, $5 cursor, $6 limit, $7 now (only with a
    // status filter).
    let mut conditions = vec![
        "entity_id = $1".to_string(),
        "environment = $2".to_string(),
        "($3 IS NULL OR created_at >= $3)".to_string(),
        "($4 IS NULL OR created_at <= $4)".to_string(),
        format!("($5 IS NULL OR seq {cmp} $5)"),
    ];
    let statuses = [
        (SecretKind::Pin, &filter.pin_status),
        (SecretKind::Answers, &filter.security_question_status),
    ];
    let mut uses_now = false;
    for (kind, status) in statuses {
        if let Some(cond) = status.as_deref().and_then(|s| status_condition(kind, s)) {
            conditions.push(cond.to_string());
            uses_now |= cond.contains("$7");
        }
    }
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE {} ORDER BY seq {dir} LIMIT $6",
        conditions.join(" AND ")
    );
    let mut query = sqlx::query(&sql)
        .bind(entity_id)
        .bind(environment.as_str())
        .bind(page.from.map(|t| t.0))
        .bind(page.to.map(|t| t.0))
        .bind(cursor)
        .bind(i64::from(page.size) + 1);
    if uses_now {
        query = query.bind(now.0);
    }
    let rows = query.fetch_all(&db.reader).await?;
    let items = rows
        .iter()
        .map(user_from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(Some(finish_page(items, page)))
}

/// Enables or disables a user (by internal id), with its audit event; `false` when there is
/// no such user.
#[tracing::instrument(skip_all)]
pub(crate) async fn set_disabled(
    db: &Db,
    entity_id: &str,
    internal_id: &str,
    disabled: bool,
    event: &AuditEvent,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let n = sqlx::query("UPDATE users SET disabled = $1 WHERE entity_id = $2 AND internal_id = $3")
        .bind(i64::from(disabled))
        .bind(entity_id)
        .bind(internal_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit::insert(&mut tx, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Lifts the lock of `kind` of a user (by internal id) and clears its count, recording when;
/// `false` when no such user.
#[tracing::instrument(skip_all)]
pub(crate) async fn lift_lock(
    db: &Db,
    entity_id: &str,
    internal_id: &str,
    kind: SecretKind,
    now: Timestamp,
    event: &AuditEvent,
) -> DbResult<bool> {
    let p = prefix(kind);
    let sql = format!(
        "UPDATE users SET {p}_failed = 0, {p}_locked_at = NULL, {p}_lock_expiry = NULL, \
         {p}_lock_owner = NULL, {p}_override_at = $1 WHERE entity_id = $2 AND internal_id = $3"
    );
    let mut tx = db.writer.begin().await?;
    let n = sqlx::query(&sql)
        .bind(now.0)
        .bind(entity_id)
        .bind(internal_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit::insert(&mut tx, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Writes `r`'s wrap and audit event inside the caller's transaction if the wrap it replaces
/// (by salt) is still stored; `false` (nothing written) when it is not.
pub(crate) async fn rewrap_in(
    conn: &mut AnyConnection,
    entity_id: &str,
    user_internal_id: &str,
    r: &Rewrap,
) -> DbResult<bool> {
    let sql = match r.kind {
        SecretKind::Pin => {
            "UPDATE users SET pin_salt = $1, pin_params = $2, pin_sealed = $3 \
             WHERE entity_id = $4 AND internal_id = $5 AND pin_salt = $6"
        }
        SecretKind::Answers => {
            "UPDATE users SET answers_salt = $1, answers_params = $2, answers_sealed = $3 \
             WHERE entity_id = $4 AND internal_id = $5 AND answers_salt = $6"
        }
    };
    let n = sqlx::query(sql)
        .bind(&r.wrap.salt)
        .bind(r.wrap.params.encode())
        .bind(&r.wrap.sealed)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(&r.replaces_salt)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 1 {
        audit::insert(conn, std::slice::from_ref(&r.audit)).await?;
    }
    Ok(n == 1)
}

/// [`rewrap_in`] in a transaction of its own.
#[tracing::instrument(skip_all)]
pub(crate) async fn rewrap(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    r: &Rewrap,
) -> DbResult<bool> {
    let mut tx = db.writer.begin().await?;
    let written = rewrap_in(&mut tx, entity_id, user_internal_id, r).await?;
    tx.commit().await?;
    Ok(written)
}
