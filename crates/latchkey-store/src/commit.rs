//! Completing a challenge: every change it makes (the challenge itself, the PIN under a CAS
//! on `pin_version`, the answers wrap, the PIN guess reset of a restore, weak wraps made
//! again, new wallets, audit, the notification) in one transaction, or nothing.

use crate::db::Db;
use crate::error::DbResult;
use crate::guesses::prefix;
use crate::row::to_json;
use crate::{audit, engine, outbox, transactions, users, wallets};
use latchkey_core::model::SecretKind;
use latchkey_core::money::OutboundWrite;
use latchkey_core::store::{AnswersUpdate, ChallengeCommit, CommitRefused, PinUpdate};
use sqlx::AnyConnection;

/// Completes an open challenge; `Err(refused)` (with nothing written) when it is no longer
/// open or the user's secrets changed since they were read.
#[tracing::instrument(skip_all)]
pub(crate) async fn complete(db: &Db, c: &ChallengeCommit) -> DbResult<Result<(), CommitRefused>> {
    let mut tx = db.writer.begin().await?;
    let closed = sqlx::query(
        "UPDATE challenges SET status = 'COMPLETE', correlation_ids = $1, updated_at = $2 \
         WHERE entity_id = $3 AND user_internal_id = $4 AND id = $5 \
           AND status IN ('PENDING', 'IN_PROGRESS') AND expires_at > $2",
    )
    .bind(to_json(
        "challenges",
        "correlation_ids",
        &c.correlation_ids,
    )?)
    .bind(c.now.0)
    .bind(&c.entity_id)
    .bind(&c.user_internal_id)
    .bind(&c.challenge_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if closed != 1 {
        tx.rollback().await?;
        return Ok(Err(CommitRefused::ChallengeNotOpen));
    }
    let pin_kept = match &c.pin {
        Some(pin) => set_pin(&mut tx, c, pin).await?,
        None => true,
    };
    let answers_kept = match &c.answers {
        Some(update) if pin_kept => set_answers(&mut tx, c, update).await?,
        _ => pin_kept,
    };
    if !answers_kept {
        tx.rollback().await?;
        return Ok(Err(CommitRefused::UserChanged));
    }
    if c.reset_pin_guesses {
        reset_guesses(&mut tx, c, SecretKind::Pin).await?;
    }
    for r in &c.rewraps {
        // A wrap changed meanwhile (another request rewrapped it) is simply left alone.
        users::rewrap_in(&mut tx, &c.entity_id, &c.user_internal_id, r).await?;
    }
    for w in &c.wallets {
        wallets::insert_in(&mut tx, w).await?;
    }
    if let Some(out) = &c.outbound {
        if let Some(refused) = write_outbound(&mut tx, c, out).await? {
            tx.rollback().await?;
            return Ok(Err(refused));
        }
    }
    audit::insert(&mut tx, &c.audit).await?;
    if let Some(n) = &c.notification {
        outbox::enqueue_in(&mut tx, n, c.now).await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// Writes what an approved outbound challenge produced; the refusal when it must not be
/// written (nothing of it is kept: the caller rolls back).
async fn write_outbound(
    conn: &mut AnyConnection,
    c: &ChallengeCommit,
    out: &OutboundWrite,
) -> DbResult<Option<CommitRefused>> {
    match out {
        OutboundWrite::New {
            transaction,
            attempt,
            claimed_nonce,
            notification,
        } => {
            // The nonce claim becomes USED by this transaction, if it is still this
            // challenge's.
            if let Some(nonce) = claimed_nonce {
                let used = sqlx::query(
                    "UPDATE nonce_claims SET state = 'USED', transaction_id = $1, \
                     challenge_id = NULL, updated_at = $2 \
                     WHERE wallet_id = $3 AND nonce = $4 AND challenge_id = $5 \
                       AND state = 'RESERVED'",
                )
                .bind(&transaction.id)
                .bind(c.now.0)
                .bind(&transaction.wallet_id)
                .bind(i64::try_from(*nonce).unwrap_or(i64::MAX))
                .bind(&c.challenge_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if used != 1 {
                    return Ok(Some(CommitRefused::NonceLost));
                }
            }
            // One operation in flight per SCA wallet: re-checked here, under the write, for
            // two executions that passed the check before the PIN at once (the unique index
            // transactions_one_user_op is the backstop on PostgreSQL's concurrent writers).
            if transaction.user_op_hash.is_some()
                && engine::pending_outbound_in(conn, &transaction.wallet_id).await? > 0
            {
                return Ok(Some(CommitRefused::ScaBusy));
            }
            transactions::insert_in(conn, transaction).await?;
            if let Some(a) = attempt {
                engine::insert_attempt_in(conn, a).await?;
            }
            if let Some(n) = notification {
                outbox::enqueue_in(conn, n, c.now).await?;
            }
        }
        OutboundWrite::Replacement { attempt } => {
            // Due now, for the engine's next pass, while it is still live.
            let live = sqlx::query(
                "UPDATE transactions SET next_check_at = $1, updated_at = $1 \
                 WHERE id = $2 AND entity_id = $3 AND user_internal_id = $4 \
                   AND state IN ('INITIATED', 'QUEUED', 'SENT', 'STUCK')",
            )
            .bind(c.now.0)
            .bind(&attempt.transaction_id)
            .bind(&c.entity_id)
            .bind(&c.user_internal_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if live != 1 {
                return Ok(Some(CommitRefused::NotReplaceable));
            }
            engine::insert_attempt_in(conn, attempt).await?;
        }
    }
    Ok(None)
}

/// Writes the new PIN wrap if the PIN is still what the caller read (unset, or at
/// `expected_version`); `false` when it changed.
async fn set_pin(conn: &mut AnyConnection, c: &ChallengeCommit, pin: &PinUpdate) -> DbResult<bool> {
    let sql = match pin.expected_version {
        None => {
            "UPDATE users SET pin_salt = $1, pin_params = $2, pin_sealed = $3, \
             pin_version = pin_version + 1 \
             WHERE entity_id = $4 AND internal_id = $5 AND pin_sealed IS NULL"
        }
        Some(_) => {
            "UPDATE users SET pin_salt = $1, pin_params = $2, pin_sealed = $3, \
             pin_version = pin_version + 1 \
             WHERE entity_id = $4 AND internal_id = $5 AND pin_version = $6"
        }
    };
    let mut query = sqlx::query(sql)
        .bind(&pin.wrap.salt)
        .bind(pin.wrap.params.encode())
        .bind(&pin.wrap.sealed)
        .bind(&c.entity_id)
        .bind(&c.user_internal_id);
    if let Some(version) = pin.expected_version {
        query = query.bind(version);
    }
    Ok(query.execute(&mut *conn).await?.rows_affected() == 1)
}

/// Writes the answers wrap and questions if none is set; `false` when one is.
async fn set_answers(
    conn: &mut AnyConnection,
    c: &ChallengeCommit,
    update: &AnswersUpdate,
) -> DbResult<bool> {
    let n = sqlx::query(
        "UPDATE users SET answers_salt = $1, answers_params = $2, answers_sealed = $3, questions = $4 \
         WHERE entity_id = $5 AND internal_id = $6 AND answers_sealed IS NULL",
    )
    .bind(&update.wrap.salt)
    .bind(update.wrap.params.encode())
    .bind(&update.wrap.sealed)
    .bind(to_json("users", "questions", &update.questions)?)
    .bind(&c.entity_id)
    .bind(&c.user_internal_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Clears `kind`'s guess count and lock (the secret itself was replaced).
async fn reset_guesses(
    conn: &mut AnyConnection,
    c: &ChallengeCommit,
    kind: SecretKind,
) -> DbResult<()> {
    let p = prefix(kind);
    let sql = format!(
        "UPDATE users SET {p}_failed = 0, {p}_locked_at = NULL, {p}_lock_expiry = NULL, \
         {p}_lock_owner = NULL WHERE entity_id = $1 AND internal_id = $2"
    );
    sqlx::query(&sql)
        .bind(&c.entity_id)
        .bind(&c.user_internal_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
