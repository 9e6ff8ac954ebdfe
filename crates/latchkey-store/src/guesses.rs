//! Guess counting: a guess is counted *before* it is checked, by one conditional update that
//! refuses once the secret is locked, so concurrent guesses can never exceed the limit. A guess
//! that proves right gives its own count back (and lifts the lock only if it set it), so the
//! count is the wrong guesses since the last lock plus the guesses still being checked.

use crate::db::Db;
use crate::error::DbResult;
use crate::row::Columns;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::SecretKind;
use latchkey_core::store::{LockPolicy, Reservation};
use std::sync::LazyLock;

/// The prefix of `kind`'s guess columns in `users` (`pin_failed`, `answers_lock_expiry`, …).
pub(crate) fn prefix(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Pin => "pin",
        SecretKind::Answers => "answers",
    }
}

/// `kind`'s guess columns in `users`.
pub(crate) struct GuessColumns {
    /// Wrong guesses since the last lock, plus those still being checked.
    pub(crate) failed: &'static str,
    /// When the lock was set.
    pub(crate) locked_at: &'static str,
    /// When the lock runs out.
    pub(crate) lock_expiry: &'static str,
    /// When an operator last lifted a lock.
    pub(crate) override_at: &'static str,
}

/// The names of `kind`'s guess columns (kept literal so decode errors name them).
pub(crate) fn columns(kind: SecretKind) -> GuessColumns {
    match kind {
        SecretKind::Pin => GuessColumns {
            failed: "pin_failed",
            locked_at: "pin_locked_at",
            lock_expiry: "pin_lock_expiry",
            override_at: "pin_override_at",
        },
        SecretKind::Answers => GuessColumns {
            failed: "answers_failed",
            locked_at: "answers_locked_at",
            lock_expiry: "answers_lock_expiry",
            override_at: "answers_override_at",
        },
    }
}

/// The statement that counts a guess: increments the count unless a lock holds, restarts the
/// count when a lock has run out, and sets the lock, owned by this guess, when this guess
/// reaches the limit. `$1` now, `$2` limit, `$3` lock length, `$4` entity, `$5` user, `$6`
/// the guess.
fn reserve_sql(kind: SecretKind) -> String {
    let p = prefix(kind);
    let expired = format!("({p}_lock_expiry IS NOT NULL AND {p}_lock_expiry <= $1)");
    let next = format!("(CASE WHEN {expired} THEN 1 ELSE {p}_failed + 1 END)");
    format!(
        "UPDATE users SET \
            {p}_failed = {next}, \
            {p}_locked_at = CASE WHEN {next} >= $2 THEN $1 WHEN {expired} THEN NULL ELSE {p}_locked_at END, \
            {p}_lock_expiry = CASE WHEN {next} >= $2 THEN $1 + $3 WHEN {expired} THEN NULL ELSE {p}_lock_expiry END, \
            {p}_lock_owner = CASE WHEN {next} >= $2 THEN $6 WHEN {expired} THEN NULL ELSE {p}_lock_owner END \
         WHERE entity_id = $4 AND internal_id = $5 \
           AND ({p}_lock_expiry IS NULL OR {p}_lock_expiry <= $1) \
         RETURNING {p}_failed"
    )
}

/// The statement that gives back a guess proved right: one off the count (never below 0),
/// and the lock lifted only when this guess set it. A lock set by any other guess stays, so
/// a wrong guess that reached the limit while a right one was being checked still locks.
/// `$1` the guess, `$2` entity, `$3` user.
fn release_sql(kind: SecretKind) -> String {
    let p = prefix(kind);
    let mine = format!("({p}_lock_owner IS NOT NULL AND {p}_lock_owner = $1)");
    format!(
        "UPDATE users SET \
            {p}_failed = CASE WHEN {p}_failed > 0 THEN {p}_failed - 1 ELSE 0 END, \
            {p}_locked_at = CASE WHEN {mine} THEN NULL ELSE {p}_locked_at END, \
            {p}_lock_expiry = CASE WHEN {mine} THEN NULL ELSE {p}_lock_expiry END, \
            {p}_lock_owner = CASE WHEN {mine} THEN NULL ELSE {p}_lock_owner END \
         WHERE entity_id = $2 AND internal_id = $3"
    )
}

static RESERVE_PIN: LazyLock<String> = LazyLock::new(|| reserve_sql(SecretKind::Pin));
static RESERVE_ANSWERS: LazyLock<String> = LazyLock::new(|| reserve_sql(SecretKind::Answers));
static RELEASE_PIN: LazyLock<String> = LazyLock::new(|| release_sql(SecretKind::Pin));
static RELEASE_ANSWERS: LazyLock<String> = LazyLock::new(|| release_sql(SecretKind::Answers));

/// Counts guess `guess` against `kind`, or reports the lock that refuses it.
#[tracing::instrument(skip_all)]
pub(crate) async fn reserve(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    kind: SecretKind,
    policy: LockPolicy,
    now: Timestamp,
    guess: &str,
) -> DbResult<Reservation> {
    let sql: &str = match kind {
        SecretKind::Pin => &RESERVE_PIN,
        SecretKind::Answers => &RESERVE_ANSWERS,
    };
    let row = sqlx::query(sql)
        .bind(now.0)
        .bind(policy.max_attempts)
        .bind(policy.lock_ms)
        .bind(entity_id)
        .bind(user_internal_id)
        .bind(guess)
        .fetch_optional(&db.writer)
        .await?;
    if let Some(r) = row {
        let attempt = Columns::new(&r, "users").get(columns(kind).failed)?;
        return Ok(Reservation::Counted { attempt });
    }
    let lock_expiry = columns(kind).lock_expiry;
    let sql = format!("SELECT {lock_expiry} FROM users WHERE entity_id = $1 AND internal_id = $2");
    let row = sqlx::query(&sql)
        .bind(entity_id)
        .bind(user_internal_id)
        .fetch_optional(&db.writer)
        .await?;
    let until = match row {
        Some(r) => Columns::new(&r, "users").opt_time(lock_expiry)?,
        None => None,
    };
    Ok(Reservation::Locked {
        until: until.unwrap_or(now),
    })
}

/// Gives back guess `guess`, proved right (see [`release_sql`]).
#[tracing::instrument(skip_all)]
pub(crate) async fn release(
    db: &Db,
    entity_id: &str,
    user_internal_id: &str,
    kind: SecretKind,
    guess: &str,
) -> DbResult<()> {
    let sql: &str = match kind {
        SecretKind::Pin => &RELEASE_PIN,
        SecretKind::Answers => &RELEASE_ANSWERS,
    };
    sqlx::query(sql)
        .bind(guess)
        .bind(entity_id)
        .bind(user_internal_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}
