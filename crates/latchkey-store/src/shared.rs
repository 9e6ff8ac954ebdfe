//! The Store implementation shared by both backends. The SQL is portable (numbered `$N`
//! parameters, integer times, `ON CONFLICT`, `RETURNING`), so one body serves SQLite and
//! PostgreSQL; `impl_store!` instantiates it for each backend's concrete sqlx types, which
//! sqlx's generic executor bounds would otherwise make unreadable.

use latchkey_core::clock::Timestamp;
use latchkey_core::crypto::{KdfParams, WrappedKey};
use latchkey_core::model::*;
use latchkey_core::store::{Cursor, Order, Page, PageQuery, StoreError};
use latchkey_core::webhooks::DeliveryStatus;

/// Columns of `users`, in the order `user_from_row` reads them.
pub(crate) const USER_COLUMNS: &str = "entity_id, internal_id, user_id, created_at, disabled, \
    pin_salt, pin_params, pin_sealed, pin_version, rec_salt, rec_params, rec_sealed, questions, \
    pin_failed, pin_locked_at, pin_lock_expiry, pin_override_at, \
    sq_failed, sq_locked_at, sq_lock_expiry, sq_override_at";

/// Columns of `challenges`.
pub(crate) const CHALLENGE_COLUMNS: &str = "id, entity_id, user_internal_id, kind, status, \
    correlation_ids, error_code, error_message, payload, created_at, expires_at, updated_at";

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Conflict;
        }
    }
    StoreError::Database(e.to_string())
}

pub(crate) fn wrap_from(
    salt: Option<Vec<u8>>,
    params: Option<String>,
    sealed: Option<Vec<u8>>,
) -> Option<WrappedKey> {
    Some(WrappedKey {
        salt: salt?,
        params: KdfParams::decode(&params?)?,
        sealed: sealed?,
    })
}

pub(crate) fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp)
}

/// The SQL that counts a guess before it is checked: increments the failure count unless a
/// lock holds, restarts the count when a lock has run out, and sets the lock when this
/// attempt reaches the limit. `$1` now, `$2` limit, `$3` lock length, `$4` entity, `$5` user.
pub(crate) fn reserve_guess_sql(kind: SecretKind) -> String {
    let p = kind.column_prefix();
    let expired = format!("({p}_lock_expiry IS NOT NULL AND {p}_lock_expiry <= $1)");
    let next = format!("(CASE WHEN {expired} THEN 1 ELSE {p}_failed + 1 END)");
    format!(
        "UPDATE users SET \
            {p}_failed = {next}, \
            {p}_locked_at = CASE WHEN {next} >= $2 THEN $1 WHEN {expired} THEN NULL ELSE {p}_locked_at END, \
            {p}_lock_expiry = CASE WHEN {next} >= $2 THEN $1 + $3 WHEN {expired} THEN NULL ELSE {p}_lock_expiry END \
         WHERE entity_id = $4 AND internal_id = $5 \
           AND ({p}_lock_expiry IS NULL OR {p}_lock_expiry <= $1) \
         RETURNING {p}_failed"
    )
}

/// SQL condition for a `pinStatus` / `securityQuestionStatus` filter (`$1` is now).
pub(crate) fn status_condition(sealed_col: &str, prefix: &str, status: &str) -> Option<String> {
    match status {
        "UNSET" => Some(format!("{sealed_col} IS NULL")),
        "LOCKED" => Some(format!(
            "{sealed_col} IS NOT NULL AND {prefix}_lock_expiry > $1"
        )),
        "ENABLED" => Some(format!(
            "{sealed_col} IS NOT NULL AND ({prefix}_lock_expiry IS NULL OR {prefix}_lock_expiry <= $1)"
        )),
        _ => None,
    }
}

/// Columns of `webhook_deliveries` (prefixed `d.`) plus the subscription's endpoint.
pub(crate) const DELIVERY_COLUMNS: &str =
    "d.id, d.entity_id, d.subscription_id, d.notification_type, \
    d.payload, d.created_at, d.status, d.attempts, d.next_attempt_at, d.last_status_code, \
    d.last_error, d.delivered_at, s.endpoint";

/// Claims due deliveries of enabled subscriptions: `$1` now, `$2` lease length, `$3` lease
/// token, `$4` limit. `lock` is PostgreSQL's `FOR UPDATE SKIP LOCKED` (SQLite has one writer).
pub(crate) fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE webhook_deliveries SET lease_until = $1 + $2, lease_token = $3 \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 AND s.enabled = 1 \
             AND (d.lease_until IS NULL OR d.lease_until <= $1) \
           ORDER BY d.next_attempt_at LIMIT $4 {lock})"
    )
}

/// The statements built once per store because their text depends on the backend or kind.
#[derive(Debug, Clone)]
pub(crate) struct BuiltSql {
    reserve_pin: String,
    reserve_answers: String,
    /// Claims due deliveries.
    pub(crate) claim: String,
}

impl BuiltSql {
    /// `lock` is the backend's row-locking clause for the claim (empty for SQLite).
    pub(crate) fn new(lock: &str) -> Self {
        Self {
            reserve_pin: reserve_guess_sql(SecretKind::Pin),
            reserve_answers: reserve_guess_sql(SecretKind::Answers),
            claim: claim_sql(lock),
        }
    }

    /// The guess-reservation statement for `kind`.
    pub(crate) fn reserve(&self, kind: SecretKind) -> &str {
        match kind {
            SecretKind::Pin => &self.reserve_pin,
            SecretKind::Answers => &self.reserve_answers,
        }
    }
}

pub(crate) fn parse_delivery_status(s: &str) -> Result<DeliveryStatus, StoreError> {
    DeliveryStatus::parse(s)
        .ok_or_else(|| StoreError::Database(format!("unknown delivery status {s}")))
}

/// Columns of `wallets`.
pub(crate) const WALLET_COLUMNS: &str =
    "id, entity_id, user_internal_id, wallet_set_id, blockchain, \
    account_type, address, state, name, ref_id, sealed_key, created_at, updated_at";

/// The seq comparison and ORDER BY direction of a page query: a `Before` cursor reads
/// against the requested order (and [`finish_page`] turns the rows back).
pub(crate) fn page_direction(page: &PageQuery) -> (&'static str, &'static str) {
    let backwards = matches!(page.cursor, Cursor::Before(_));
    if (page.order == Order::Asc) != backwards {
        (">", "ASC")
    } else {
        ("<", "DESC")
    }
}

/// Turns `size + 1` rows read by [`page_direction`] into a page in the requested order,
/// with whether pages follow and precede it.
pub(crate) fn finish_page<T>(mut items: Vec<T>, page: &PageQuery) -> Page<T> {
    let more = items.len() > page.size as usize;
    items.truncate(page.size as usize);
    if matches!(page.cursor, Cursor::Before(_)) {
        items.reverse();
    }
    let (has_next, has_prev) = match page.cursor {
        Cursor::None => (more, false),
        Cursor::After(_) => (more, true),
        Cursor::Before(_) => (true, more),
    };
    Page {
        items,
        has_next,
        has_prev,
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<ChallengeType, StoreError> {
    ChallengeType::parse(s)
        .ok_or_else(|| StoreError::Database(format!("unknown challenge type {s}")))
}

pub(crate) fn parse_status(s: &str) -> Result<ChallengeStatus, StoreError> {
    ChallengeStatus::parse(s)
        .ok_or_else(|| StoreError::Database(format!("unknown challenge status {s}")))
}

/// Implements `Store` for `$store` (a struct with `reader()` / `writer()` pools of `$db`).
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use latchkey_core::challenge::ChallengePayload;
        use latchkey_core::clock::Timestamp;
        use latchkey_core::model::*;
        use latchkey_core::store::*;
        use latchkey_core::webhooks::*;
        use serde_json::Value;
        use sqlx::Row;
        use $crate::shared::*;

        type DbRow = <$db as sqlx::Database>::Row;

        fn user_from_row(r: &DbRow) -> Result<UserRecord, sqlx::Error> {
            let questions: Option<String> = r.try_get("questions")?;
            let questions = questions
                .and_then(|q| serde_json::from_str::<Vec<StoredQuestion>>(&q).ok())
                .unwrap_or_default();
            Ok(UserRecord {
                entity_id: r.try_get("entity_id")?,
                internal_id: r.try_get("internal_id")?,
                user_id: r.try_get("user_id")?,
                created_at: Timestamp(r.try_get("created_at")?),
                disabled: r.try_get::<i64, _>("disabled")? != 0,
                pin_wrap: wrap_from(r.try_get("pin_salt")?, r.try_get("pin_params")?, r.try_get("pin_sealed")?),
                pin_version: r.try_get("pin_version")?,
                recovery_wrap: wrap_from(r.try_get("rec_salt")?, r.try_get("rec_params")?, r.try_get("rec_sealed")?),
                questions,
                pin_guesses: GuessState {
                    failed_attempts: r.try_get("pin_failed")?,
                    locked_date: ts(r.try_get("pin_locked_at")?),
                    locked_expiry: ts(r.try_get("pin_lock_expiry")?),
                    last_lock_override: ts(r.try_get("pin_override_at")?),
                },
                answer_guesses: GuessState {
                    failed_attempts: r.try_get("sq_failed")?,
                    locked_date: ts(r.try_get("sq_locked_at")?),
                    locked_expiry: ts(r.try_get("sq_lock_expiry")?),
                    last_lock_override: ts(r.try_get("sq_override_at")?),
                },
            })
        }

        fn challenge_from_row(r: &DbRow) -> Result<ChallengeRecord, StoreError> {
            let get = |e: sqlx::Error| StoreError::Database(e.to_string());
            let ids: String = r.try_get("correlation_ids").map_err(get)?;
            let payload: String = r.try_get("payload").map_err(get)?;
            let kind = parse_kind(&r.try_get::<String, _>("kind").map_err(get)?)?;
            Ok(ChallengeRecord {
                id: r.try_get("id").map_err(get)?,
                entity_id: r.try_get("entity_id").map_err(get)?,
                user_internal_id: r.try_get("user_internal_id").map_err(get)?,
                kind,
                status: parse_status(&r.try_get::<String, _>("status").map_err(get)?)?,
                correlation_ids: serde_json::from_str(&ids).unwrap_or_default(),
                error_code: r.try_get("error_code").map_err(get)?,
                error_message: r.try_get("error_message").map_err(get)?,
                payload: ChallengePayload::decode(kind, &payload)
                    .map_err(|e| StoreError::Database(e.to_string()))?,
                created_at: Timestamp(r.try_get("created_at").map_err(get)?),
                expires_at: Timestamp(r.try_get("expires_at").map_err(get)?),
                updated_at: Timestamp(r.try_get("updated_at").map_err(get)?),
            })
        }

        fn entity_from_row(r: &DbRow) -> Result<Entity, sqlx::Error> {
            Ok(Entity {
                id: r.try_get("id")?,
                app_id: r.try_get("app_id")?,
                name: r.try_get("name")?,
                created_at: Timestamp(r.try_get("created_at")?),
            })
        }

        async fn insert_audit<'c>(
            tx: &mut sqlx::Transaction<'c, $db>,
            events: &[AuditEvent],
        ) -> Result<(), sqlx::Error> {
            for e in events {
                sqlx::query(
                    "INSERT INTO audit_log (entity_id, user_internal_id, action, detail, at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&e.entity_id)
                .bind(&e.user_internal_id)
                .bind(&e.action)
                .bind(e.detail.to_string())
                .bind(e.at.0)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        fn wallet_from_row(r: &DbRow, user_id: &str) -> Result<WalletRecord, sqlx::Error> {
            Ok(WalletRecord {
                id: r.try_get("id")?,
                entity_id: r.try_get("entity_id")?,
                user_internal_id: r.try_get("user_internal_id")?,
                user_id: user_id.to_string(),
                wallet_set_id: r.try_get("wallet_set_id")?,
                blockchain: r.try_get("blockchain")?,
                account_type: r.try_get("account_type")?,
                address: r.try_get("address")?,
                state: r.try_get("state")?,
                name: r.try_get("name")?,
                ref_id: r.try_get("ref_id")?,
                sealed_key: r.try_get("sealed_key")?,
                created_at: Timestamp(r.try_get("created_at")?),
                updated_at: Timestamp(r.try_get("updated_at")?),
            })
        }

        async fn developer_user_id<E>(ex: E, entity_id: &str, internal_id: &str) -> Result<String, sqlx::Error>
        where
            E: for<'e> sqlx::Executor<'e, Database = $db>,
        {
            let row = sqlx::query("SELECT user_id FROM users WHERE entity_id = $1 AND internal_id = $2")
                .bind(entity_id)
                .bind(internal_id)
                .fetch_optional(ex)
                .await?;
            match row {
                Some(r) => r.try_get("user_id"),
                None => Ok(String::new()),
            }
        }

        fn subscription_from_row(r: &DbRow) -> Result<SubscriptionRecord, sqlx::Error> {
            let types: String = r.try_get("notification_types")?;
            Ok(SubscriptionRecord {
                id: r.try_get("id")?,
                entity_id: r.try_get("entity_id")?,
                name: r.try_get("name")?,
                endpoint: r.try_get("endpoint")?,
                enabled: r.try_get::<i64, _>("enabled")? != 0,
                notification_types: serde_json::from_str(&types).unwrap_or_default(),
                failing_since: ts(r.try_get("failing_since")?),
                created_at: Timestamp(r.try_get("created_at")?),
                updated_at: Timestamp(r.try_get("updated_at")?),
            })
        }

        fn webhook_key_from_row(r: &DbRow) -> Result<WebhookKeyRecord, sqlx::Error> {
            Ok(WebhookKeyRecord {
                id: r.try_get("id")?,
                entity_id: r.try_get("entity_id")?,
                public_key_der: r.try_get("public_key_der")?,
                sealed_private_key: r.try_get("sealed_private_key")?,
                active: r.try_get::<i64, _>("active")? != 0,
                created_at: Timestamp(r.try_get("created_at")?),
            })
        }

        fn delivery_from_row(r: &DbRow) -> Result<DeliveryRecord, StoreError> {
            let get = |e: sqlx::Error| StoreError::Database(e.to_string());
            let payload: String = r.try_get("payload").map_err(get)?;
            Ok(DeliveryRecord {
                id: r.try_get("id").map_err(get)?,
                entity_id: r.try_get("entity_id").map_err(get)?,
                subscription_id: r.try_get("subscription_id").map_err(get)?,
                endpoint: r.try_get("endpoint").map_err(get)?,
                notification_type: r.try_get("notification_type").map_err(get)?,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                created_at: Timestamp(r.try_get("created_at").map_err(get)?),
                status: parse_delivery_status(&r.try_get::<String, _>("status").map_err(get)?)?,
                attempts: r.try_get("attempts").map_err(get)?,
                next_attempt_at: Timestamp(r.try_get("next_attempt_at").map_err(get)?),
                last_status_code: r.try_get("last_status_code").map_err(get)?,
                last_error: r.try_get("last_error").map_err(get)?,
                delivered_at: ts(r.try_get("delivered_at").map_err(get)?),
            })
        }

        /// Inserts one outbox row per matching enabled subscription, inside `tx`.
        async fn enqueue_in<'c>(
            tx: &mut sqlx::Transaction<'c, $db>,
            draft: &NotificationDraft,
            now: Timestamp,
        ) -> Result<Vec<String>, sqlx::Error> {
            let rows = sqlx::query(
                "SELECT id, notification_types FROM subscriptions \
                 WHERE entity_id = $1 AND enabled = 1 AND ($2 IS NULL OR id = $2) ORDER BY created_at",
            )
            .bind(&draft.entity_id)
            .bind(&draft.only_subscription)
            .fetch_all(&mut **tx)
            .await?;
            let mut ids = Vec::new();
            for r in rows {
                let sub_id: String = r.try_get("id")?;
                let types: String = r.try_get("notification_types")?;
                let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
                if draft.only_subscription.is_none() && !matches(&types, &draft.notification_type) {
                    continue;
                }
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, entity_id, subscription_id, notification_type, payload, \
                     created_at, status, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $6)",
                )
                .bind(&id)
                .bind(&draft.entity_id)
                .bind(&sub_id)
                .bind(&draft.notification_type)
                .bind(draft.payload.to_string())
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
                ids.push(id);
            }
            Ok(ids)
        }

        #[async_trait]
        impl Store for $store {
            async fn ensure_default_entity(&self, candidate: &Entity) -> StoreResult<(Entity, bool)> {
                sqlx::query(
                    "INSERT INTO entities (id, app_id, name, is_default, created_at) \
                     VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&candidate.id)
                .bind(&candidate.app_id)
                .bind(&candidate.name)
                .bind(candidate.created_at.0)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                let row = sqlx::query("SELECT id, app_id, name, created_at FROM entities WHERE is_default = 1")
                    .fetch_one(self.writer())
                    .await
                    .map_err(db_err)?;
                let entity = entity_from_row(&row).map_err(db_err)?;
                let created = entity.id == candidate.id;
                Ok((entity, created))
            }

            async fn insert_entity(&self, e: &Entity) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO entities (id, app_id, name, is_default, created_at) VALUES ($1, $2, $3, 0, $4)",
                )
                .bind(&e.id)
                .bind(&e.app_id)
                .bind(&e.name)
                .bind(e.created_at.0)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn entity_by_app_id(&self, app_id: &str) -> StoreResult<Option<Entity>> {
                let row = sqlx::query("SELECT id, app_id, name, created_at FROM entities WHERE app_id = $1")
                    .bind(app_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| entity_from_row(&r)).transpose().map_err(db_err)
            }

            async fn entity(&self, entity_id: &str) -> StoreResult<Option<Entity>> {
                let row = sqlx::query("SELECT id, app_id, name, created_at FROM entities WHERE id = $1")
                    .bind(entity_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| entity_from_row(&r)).transpose().map_err(db_err)
            }

            async fn frame_ancestors(&self, entity_id: &str) -> StoreResult<Vec<String>> {
                let rows = sqlx::query("SELECT origin FROM entity_frame_ancestors WHERE entity_id = $1 ORDER BY origin")
                    .bind(entity_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                rows.iter().map(|r| r.try_get::<String, _>("origin")).collect::<Result<_, _>>().map_err(db_err)
            }

            async fn set_frame_ancestor(&self, entity_id: &str, origin: &str, allowed: bool) -> StoreResult<bool> {
                let sql = if allowed {
                    "INSERT INTO entity_frame_ancestors (entity_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                } else {
                    "DELETE FROM entity_frame_ancestors WHERE entity_id = $1 AND origin = $2"
                };
                let n = sqlx::query(sql).bind(entity_id).bind(origin).execute(self.writer()).await.map_err(db_err)?.rows_affected();
                Ok(n == 1)
            }

            async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO api_keys (key_id, entity_id, name, environment, secret_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.key_id)
                .bind(&key.entity_id)
                .bind(&key.name)
                .bind(key.environment.as_str())
                .bind(&key.secret_hash)
                .bind(key.created_at.0)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>> {
                let row = sqlx::query(
                    "SELECT key_id, entity_id, name, environment, secret_hash, created_at \
                     FROM api_keys WHERE key_id = $1",
                )
                .bind(key_id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err)?;
                let Some(r) = row else { return Ok(None) };
                let env: String = r.try_get("environment").map_err(db_err)?;
                Ok(Some(ApiKeyRecord {
                    key_id: r.try_get("key_id").map_err(db_err)?,
                    entity_id: r.try_get("entity_id").map_err(db_err)?,
                    name: r.try_get("name").map_err(db_err)?,
                    environment: Environment::parse(&env)
                        .ok_or_else(|| StoreError::Database(format!("bad environment {env}")))?,
                    secret_hash: r.try_get("secret_hash").map_err(db_err)?,
                    created_at: Timestamp(r.try_get("created_at").map_err(db_err)?),
                }))
            }

            async fn insert_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
                let sql = format!(
                    "INSERT INTO users (entity_id, internal_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING {USER_COLUMNS}"
                );
                let row = sqlx::query(&sql)
                    .bind(&user.entity_id)
                    .bind(&user.internal_id)
                    .bind(&user.user_id)
                    .bind(user.created_at.0)
                    .fetch_one(self.writer())
                    .await
                    .map_err(db_err)?;
                user_from_row(&row).map_err(db_err)
            }

            async fn user(&self, entity_id: &str, user_id: &str) -> StoreResult<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE entity_id = $1 AND user_id = $2");
                let row = sqlx::query(&sql)
                    .bind(entity_id)
                    .bind(user_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| user_from_row(&r)).transpose().map_err(db_err)
            }

            async fn user_by_internal_id(
                &self,
                entity_id: &str,
                internal_id: &str,
            ) -> StoreResult<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE entity_id = $1 AND internal_id = $2");
                let row = sqlx::query(&sql)
                    .bind(entity_id)
                    .bind(internal_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| user_from_row(&r)).transpose().map_err(db_err)
            }

            async fn list_users(
                &self,
                entity_id: &str,
                filter: &UserFilter,
                page: &PageQuery,
                now: Timestamp,
            ) -> StoreResult<Option<Page<UserRecord>>> {
                let cursor_seq = match &page.cursor {
                    Cursor::None => None,
                    Cursor::After(id) | Cursor::Before(id) => {
                        let row = sqlx::query("SELECT seq FROM users WHERE entity_id = $1 AND user_id = $2")
                            .bind(entity_id)
                            .bind(id)
                            .fetch_optional(self.reader())
                            .await
                            .map_err(db_err)?;
                        match row {
                            Some(r) => Some(r.try_get::<i64, _>("seq").map_err(db_err)?),
                            None => return Ok(None),
                        }
                    }
                };
                // $1 now, $2 entity, $3 from, $4 to, $5 cursor, $6 limit
                let mut conditions = vec![
                    "entity_id = $2".to_string(),
                    "($3 IS NULL OR created_at >= $3)".to_string(),
                    "($4 IS NULL OR created_at <= $4)".to_string(),
                    "($1 = $1)".to_string(),
                ];
                if let Some(s) = &filter.pin_status {
                    conditions.extend(status_condition("pin_sealed", "pin", s));
                }
                if let Some(s) = &filter.security_question_status {
                    conditions.extend(status_condition("rec_sealed", "sq", s));
                }
                let (cmp, dir) = page_direction(page);
                conditions.push(format!("($5 IS NULL OR seq {cmp} $5)"));
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE {} ORDER BY seq {dir} LIMIT $6",
                    conditions.join(" AND ")
                );
                let rows = sqlx::query(&sql)
                    .bind(now.0)
                    .bind(entity_id)
                    .bind(page.from.map(|t| t.0))
                    .bind(page.to.map(|t| t.0))
                    .bind(cursor_seq)
                    .bind(i64::from(page.size) + 1)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                let items = rows
                    .iter()
                    .map(user_from_row)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db_err)?;
                Ok(Some(finish_page(items, page)))
            }

            async fn set_user_disabled(
                &self,
                entity_id: &str,
                user_id: &str,
                disabled: bool,
                audit: &AuditEvent,
            ) -> StoreResult<bool> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let n = sqlx::query("UPDATE users SET disabled = $1 WHERE entity_id = $2 AND user_id = $3")
                    .bind(i64::from(disabled))
                    .bind(entity_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                insert_audit(&mut tx, std::slice::from_ref(audit)).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn lift_lock(
                &self,
                entity_id: &str,
                user_id: &str,
                kind: SecretKind,
                now: Timestamp,
                audit: &AuditEvent,
            ) -> StoreResult<bool> {
                let p = kind.column_prefix();
                let sql = format!(
                    "UPDATE users SET {p}_failed = 0, {p}_locked_at = NULL, {p}_lock_expiry = NULL, \
                     {p}_override_at = $1 WHERE entity_id = $2 AND user_id = $3"
                );
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let n = sqlx::query(&sql)
                    .bind(now.0)
                    .bind(entity_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                insert_audit(&mut tx, std::slice::from_ref(audit)).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn idempotency_record(
                &self,
                entity_id: &str,
                key: &str,
            ) -> StoreResult<Option<(Vec<u8>, String)>> {
                let row = sqlx::query("SELECT request_hash, result_id FROM idempotency WHERE entity_id = $1 AND key = $2")
                    .bind(entity_id)
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                match row {
                    Some(r) => Ok(Some((
                        r.try_get("request_hash").map_err(db_err)?,
                        r.try_get("result_id").map_err(db_err)?,
                    ))),
                    None => Ok(None),
                }
            }

            async fn create_challenge(
                &self,
                c: &ChallengeRecord,
                claim: &IdempotencyClaim,
            ) -> StoreResult<Idempotent<String>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let claimed = sqlx::query(
                    "INSERT INTO idempotency (entity_id, key, request_hash, result_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(&c.entity_id)
                .bind(&claim.key)
                .bind(&claim.request_hash)
                .bind(&c.id)
                .bind(c.created_at.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if claimed == 0 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(match self.idempotency_record(&c.entity_id, &claim.key).await? {
                        Some((hash, id)) if hash == claim.request_hash => Idempotent::Replayed(id),
                        _ => Idempotent::Mismatch,
                    });
                }
                sqlx::query(&format!(
                    "INSERT INTO challenges ({CHALLENGE_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .bind(&c.id)
                .bind(&c.entity_id)
                .bind(&c.user_internal_id)
                .bind(c.kind.as_str())
                .bind(c.status.as_str())
                .bind(serde_json::to_string(&c.correlation_ids).unwrap_or_else(|_| "[]".into()))
                .bind(c.error_code)
                .bind(&c.error_message)
                .bind(c.payload.encode().map_err(|e| StoreError::Database(e.to_string()))?)
                .bind(c.created_at.0)
                .bind(c.expires_at.0)
                .bind(c.updated_at.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(Idempotent::Created(c.id.clone()))
            }

            async fn challenge(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                challenge_id: &str,
            ) -> StoreResult<Option<ChallengeRecord>> {
                let sql = format!(
                    "SELECT {CHALLENGE_COLUMNS} FROM challenges \
                     WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3"
                );
                let row = sqlx::query(&sql)
                    .bind(entity_id)
                    .bind(user_internal_id)
                    .bind(challenge_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| challenge_from_row(&r)).transpose()
            }

            async fn list_challenges(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                status: Option<ChallengeStatus>,
                now: Timestamp,
            ) -> StoreResult<Vec<ChallengeRecord>> {
                // $1 entity, $2 user, $3 now, $4 status
                let condition = match status {
                    None => "($3 = $3 AND $4 = $4)",
                    Some(ChallengeStatus::Pending | ChallengeStatus::InProgress) => {
                        "status = $4 AND expires_at > $3"
                    }
                    Some(ChallengeStatus::Expired) => {
                        "(status = $4 OR (status IN ('PENDING', 'IN_PROGRESS') AND expires_at <= $3))"
                    }
                    Some(_) => "($3 = $3 AND status = $4)",
                };
                let sql = format!(
                    "SELECT {CHALLENGE_COLUMNS} FROM challenges \
                     WHERE entity_id = $1 AND user_internal_id = $2 AND {condition} \
                     ORDER BY created_at DESC, id LIMIT 1000"
                );
                let rows = sqlx::query(&sql)
                    .bind(entity_id)
                    .bind(user_internal_id)
                    .bind(now.0)
                    .bind(status.map(|s| s.as_str()).unwrap_or(""))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                rows.iter().map(challenge_from_row).collect()
            }

            async fn mark_challenge_in_progress(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                challenge_id: &str,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE challenges SET status = 'IN_PROGRESS', updated_at = $1 \
                     WHERE entity_id = $2 AND user_internal_id = $3 AND id = $4 \
                       AND status = 'PENDING' AND expires_at > $1",
                )
                .bind(now.0)
                .bind(entity_id)
                .bind(user_internal_id)
                .bind(challenge_id)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn expire_challenge(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                challenge_id: &str,
                now: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE challenges SET status = 'EXPIRED', updated_at = $1 \
                     WHERE entity_id = $2 AND user_internal_id = $3 AND id = $4 \
                       AND status IN ('PENDING', 'IN_PROGRESS') AND expires_at <= $1",
                )
                .bind(now.0)
                .bind(entity_id)
                .bind(user_internal_id)
                .bind(challenge_id)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn reserve_guess(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                kind: SecretKind,
                policy: LockPolicy,
                now: Timestamp,
            ) -> StoreResult<Reservation> {
                let row = sqlx::query(self.reserve_sql(kind))
                    .bind(now.0)
                    .bind(policy.max_attempts)
                    .bind(policy.lock_ms)
                    .bind(entity_id)
                    .bind(user_internal_id)
                    .fetch_optional(self.writer())
                    .await
                    .map_err(db_err)?;
                if let Some(r) = row {
                    let attempt: i64 = r.try_get(0).map_err(db_err)?;
                    return Ok(Reservation::Counted { attempt });
                }
                let p = kind.column_prefix();
                let until: Option<i64> = sqlx::query(&format!(
                    "SELECT {p}_lock_expiry FROM users WHERE entity_id = $1 AND internal_id = $2"
                ))
                .bind(entity_id)
                .bind(user_internal_id)
                .fetch_optional(self.writer())
                .await
                .map_err(db_err)?
                .map(|r| r.try_get::<Option<i64>, _>(0))
                .transpose()
                .map_err(db_err)?
                .flatten();
                Ok(Reservation::Locked { until: Timestamp(until.unwrap_or(now.0)) })
            }

            async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                insert_audit(&mut tx, events).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn fail_challenge(&self, f: &ChallengeFailure) -> StoreResult<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let failed_now = sqlx::query(
                    "UPDATE challenges SET status = 'FAILED', error_code = $1, error_message = $2, updated_at = $3 \
                     WHERE entity_id = $4 AND user_internal_id = $5 AND id = $6 \
                       AND status IN ('PENDING', 'IN_PROGRESS')",
                )
                .bind(f.error_code)
                .bind(&f.error_message)
                .bind(f.now.0)
                .bind(&f.entity_id)
                .bind(&f.user_internal_id)
                .bind(&f.challenge_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected()
                    == 1;
                insert_audit(&mut tx, &f.audit).await.map_err(db_err)?;
                // Only the change that failed the challenge notifies, never a later refusal.
                if let (true, Some(n)) = (failed_now, &f.notification) {
                    enqueue_in(&mut tx, n, f.now).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn complete_challenge(
                &self,
                c: &ChallengeCommit,
            ) -> StoreResult<Result<(), CommitRefused>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let closed = sqlx::query(
                    "UPDATE challenges SET status = 'COMPLETE', correlation_ids = $1, updated_at = $2 \
                     WHERE entity_id = $3 AND user_internal_id = $4 AND id = $5 \
                       AND status IN ('PENDING', 'IN_PROGRESS') AND expires_at > $2",
                )
                .bind(serde_json::to_string(&c.correlation_ids).unwrap_or_else(|_| "[]".into()))
                .bind(c.now.0)
                .bind(&c.entity_id)
                .bind(&c.user_internal_id)
                .bind(&c.challenge_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if closed != 1 {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(Err(CommitRefused::ChallengeNotOpen));
                }
                if let Some(pin) = &c.pin {
                    let guard = match pin.expected_version {
                        None => "pin_sealed IS NULL AND $5 = $5",
                        Some(_) => "pin_version = $5",
                    };
                    let n = sqlx::query(&format!(
                        "UPDATE users SET pin_salt = $1, pin_params = $2, pin_sealed = $3, \
                         pin_version = pin_version + 1 \
                         WHERE entity_id = $4 AND internal_id = $6 AND {guard}"
                    ))
                    .bind(&pin.wrap.salt)
                    .bind(pin.wrap.params.encode())
                    .bind(&pin.wrap.sealed)
                    .bind(&c.entity_id)
                    .bind(pin.expected_version.unwrap_or(0))
                    .bind(&c.user_internal_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    if n != 1 {
                        tx.rollback().await.map_err(db_err)?;
                        return Ok(Err(CommitRefused::UserChanged));
                    }
                }
                if let Some(rec) = &c.recovery {
                    let n = sqlx::query(
                        "UPDATE users SET rec_salt = $1, rec_params = $2, rec_sealed = $3, questions = $4 \
                         WHERE entity_id = $5 AND internal_id = $6 AND rec_sealed IS NULL",
                    )
                    .bind(&rec.wrap.salt)
                    .bind(rec.wrap.params.encode())
                    .bind(&rec.wrap.sealed)
                    .bind(serde_json::to_string(&rec.questions).unwrap_or_else(|_| "[]".into()))
                    .bind(&c.entity_id)
                    .bind(&c.user_internal_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    if n != 1 {
                        tx.rollback().await.map_err(db_err)?;
                        return Ok(Err(CommitRefused::UserChanged));
                    }
                }
                for (reset, p) in [(c.reset_pin_guesses, "pin"), (c.reset_answer_guesses, "sq")] {
                    if reset {
                        sqlx::query(&format!(
                            "UPDATE users SET {p}_failed = 0, {p}_locked_at = NULL, {p}_lock_expiry = NULL \
                             WHERE entity_id = $1 AND internal_id = $2"
                        ))
                        .bind(&c.entity_id)
                        .bind(&c.user_internal_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
                for w in &c.wallets {
                    sqlx::query(&format!(
                        "INSERT INTO wallets ({WALLET_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                    ))
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
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                insert_audit(&mut tx, &c.audit).await.map_err(db_err)?;
                if let Some(n) = &c.notification {
                    enqueue_in(&mut tx, n, c.now).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(Ok(()))
            }

            async fn list_wallets(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                filter: &WalletFilter,
                page: &PageQuery,
            ) -> StoreResult<Option<Page<WalletRecord>>> {
                let cursor_seq = match &page.cursor {
                    Cursor::None => None,
                    Cursor::After(id) | Cursor::Before(id) => {
                        let row = sqlx::query("SELECT seq FROM wallets WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3")
                            .bind(entity_id)
                            .bind(user_internal_id)
                            .bind(id)
                            .fetch_optional(self.reader())
                            .await
                            .map_err(db_err)?;
                        match row {
                            Some(r) => Some(r.try_get::<i64, _>("seq").map_err(db_err)?),
                            None => return Ok(None),
                        }
                    }
                };
                let (cmp, dir) = page_direction(page);
                // $1 entity, $2 user, $3 from, $4 to, $5 cursor, $6 limit, $7 address, $8 chain, $9 refId, $10 set
                let sql = format!(
                    "SELECT {WALLET_COLUMNS} FROM wallets WHERE entity_id = $1 AND user_internal_id = $2 \
                     AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4) \
                     AND ($5 IS NULL OR seq {cmp} $5) AND ($7 IS NULL OR LOWER(address) = LOWER($7)) \
                     AND ($8 IS NULL OR blockchain = $8) AND ($9 IS NULL OR ref_id = $9) \
                     AND ($10 IS NULL OR wallet_set_id = $10) ORDER BY seq {dir} LIMIT $6"
                );
                let rows = sqlx::query(&sql)
                    .bind(entity_id)
                    .bind(user_internal_id)
                    .bind(page.from.map(|t| t.0))
                    .bind(page.to.map(|t| t.0))
                    .bind(cursor_seq)
                    .bind(i64::from(page.size) + 1)
                    .bind(&filter.address)
                    .bind(&filter.blockchain)
                    .bind(&filter.ref_id)
                    .bind(&filter.wallet_set_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                let user_id = developer_user_id(self.reader(), entity_id, user_internal_id).await.map_err(db_err)?;
                let items = rows.iter().map(|r| wallet_from_row(r, &user_id)).collect::<Result<Vec<_>, _>>().map_err(db_err)?;
                Ok(Some(finish_page(items, page)))
            }

            async fn wallet(&self, entity_id: &str, user_internal_id: &str, id: &str) -> StoreResult<Option<WalletRecord>> {
                let row = sqlx::query(&format!(
                    "SELECT {WALLET_COLUMNS} FROM wallets WHERE entity_id = $1 AND user_internal_id = $2 AND id = $3"
                ))
                .bind(entity_id)
                .bind(user_internal_id)
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err)?;
                let Some(r) = row else { return Ok(None) };
                let user_id = developer_user_id(self.reader(), entity_id, user_internal_id).await.map_err(db_err)?;
                wallet_from_row(&r, &user_id).map(Some).map_err(db_err)
            }

            async fn update_wallet(
                &self,
                entity_id: &str,
                user_internal_id: &str,
                id: &str,
                name: Option<&str>,
                ref_id: Option<&str>,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let n = sqlx::query(
                    "UPDATE wallets SET name = COALESCE($1, name), ref_id = COALESCE($2, ref_id), updated_at = $3 \
                     WHERE entity_id = $4 AND user_internal_id = $5 AND id = $6",
                )
                .bind(name)
                .bind(ref_id)
                .bind(now.0)
                .bind(entity_id)
                .bind(user_internal_id)
                .bind(id)
                .execute(self.writer())
                .await
                .map_err(db_err)?
                .rows_affected();
                Ok(n == 1)
            }

            async fn insert_subscription(&self, sub: &SubscriptionRecord) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO subscriptions (id, entity_id, name, endpoint, enabled, notification_types, \
                     failing_since, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&sub.id)
                .bind(&sub.entity_id)
                .bind(&sub.name)
                .bind(&sub.endpoint)
                .bind(i64::from(sub.enabled))
                .bind(serde_json::to_string(&sub.notification_types).unwrap_or_else(|_| "[]".into()))
                .bind(sub.failing_since.map(|t| t.0))
                .bind(sub.created_at.0)
                .bind(sub.updated_at.0)
                .execute(self.writer())
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_subscriptions(&self, entity_id: &str) -> StoreResult<Vec<SubscriptionRecord>> {
                let rows = sqlx::query("SELECT * FROM subscriptions WHERE entity_id = $1 ORDER BY created_at, id")
                    .bind(entity_id)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err)?;
                rows.iter().map(subscription_from_row).collect::<Result<_, _>>().map_err(db_err)
            }

            async fn subscription(&self, entity_id: &str, id: &str) -> StoreResult<Option<SubscriptionRecord>> {
                let row = sqlx::query("SELECT * FROM subscriptions WHERE entity_id = $1 AND id = $2")
                    .bind(entity_id)
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| subscription_from_row(&r)).transpose().map_err(db_err)
            }

            async fn update_subscription(
                &self,
                entity_id: &str,
                id: &str,
                name: Option<&str>,
                enabled: Option<bool>,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let n = sqlx::query(
                    "UPDATE subscriptions SET name = COALESCE($1, name), enabled = COALESCE($2, enabled), \
                     updated_at = $3 WHERE entity_id = $4 AND id = $5",
                )
                .bind(name)
                .bind(enabled.map(i64::from))
                .bind(now.0)
                .bind(entity_id)
                .bind(id)
                .execute(self.writer())
                .await
                .map_err(db_err)?
                .rows_affected();
                Ok(n == 1)
            }

            async fn delete_subscription(&self, entity_id: &str, id: &str) -> StoreResult<bool> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                sqlx::query("DELETE FROM webhook_deliveries WHERE entity_id = $1 AND subscription_id = $2")
                    .bind(entity_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let n = sqlx::query("DELETE FROM subscriptions WHERE entity_id = $1 AND id = $2")
                    .bind(entity_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                tx.commit().await.map_err(db_err)?;
                Ok(n == 1)
            }

            async fn insert_webhook_key(&self, key: &WebhookKeyRecord) -> StoreResult<()> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                if key.active {
                    sqlx::query("UPDATE webhook_keys SET active = 0 WHERE entity_id = $1 AND active = 1")
                        .bind(&key.entity_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query(
                    "INSERT INTO webhook_keys (id, entity_id, public_key_der, sealed_private_key, active, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.id)
                .bind(&key.entity_id)
                .bind(&key.public_key_der)
                .bind(&key.sealed_private_key)
                .bind(i64::from(key.active))
                .bind(key.created_at.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn active_webhook_key(&self, entity_id: &str) -> StoreResult<Option<WebhookKeyRecord>> {
                let row = sqlx::query("SELECT * FROM webhook_keys WHERE entity_id = $1 AND active = 1")
                    .bind(entity_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| webhook_key_from_row(&r)).transpose().map_err(db_err)
            }

            async fn webhook_key(&self, entity_id: &str, key_id: &str) -> StoreResult<Option<WebhookKeyRecord>> {
                let row = sqlx::query("SELECT * FROM webhook_keys WHERE entity_id = $1 AND id = $2")
                    .bind(entity_id)
                    .bind(key_id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err)?;
                row.map(|r| webhook_key_from_row(&r)).transpose().map_err(db_err)
            }

            async fn enqueue_notification(&self, draft: &NotificationDraft, now: Timestamp) -> StoreResult<Vec<String>> {
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let ids = enqueue_in(&mut tx, draft, now).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(ids)
            }

            async fn claim_deliveries(&self, now: Timestamp, lease_ms: i64, limit: u32) -> StoreResult<Vec<ClaimedDelivery>> {
                let token = uuid::Uuid::new_v4().to_string();
                let claimed = sqlx::query(&self.sql.claim)
                    .bind(now.0)
                    .bind(lease_ms)
                    .bind(&token)
                    .bind(i64::from(limit))
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                if claimed == 0 {
                    return Ok(Vec::new());
                }
                let rows = sqlx::query(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
                     WHERE d.lease_token = $1 ORDER BY d.next_attempt_at"
                ))
                .bind(&token)
                .fetch_all(self.writer())
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| Ok(ClaimedDelivery { delivery: delivery_from_row(r)?, lease_token: token.clone() }))
                    .collect()
            }

            async fn finish_delivery(
                &self,
                claim: &ClaimedDelivery,
                outcome: &AttemptOutcome,
                now: Timestamp,
            ) -> StoreResult<bool> {
                let d = &claim.delivery;
                let (status, code, error, next, delivered) = match outcome {
                    AttemptOutcome::Delivered { status_code } => {
                        ("DELIVERED", Some(*status_code), None, d.next_attempt_at.0, Some(now.0))
                    }
                    AttemptOutcome::Failed { status_code, error, next_attempt_at: Some(next) } => {
                        ("PENDING", *status_code, Some(error.as_str()), next.0, None)
                    }
                    AttemptOutcome::Failed { status_code, error, next_attempt_at: None } => {
                        ("FAILED", *status_code, Some(error.as_str()), d.next_attempt_at.0, None)
                    }
                };
                let mut tx = self.writer().begin().await.map_err(db_err)?;
                let n = sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status_code = $2, \
                     last_error = $3, next_attempt_at = $4, delivered_at = $5, lease_until = NULL, lease_token = NULL \
                     WHERE id = $6 AND lease_token = $7",
                )
                .bind(status)
                .bind(code)
                .bind(error)
                .bind(next)
                .bind(delivered)
                .bind(&d.id)
                .bind(&claim.lease_token)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                if n == 1 {
                    let failing = match status {
                        "DELIVERED" => Some("UPDATE subscriptions SET failing_since = NULL WHERE id = $1 AND $2 = $2"),
                        "FAILED" => Some("UPDATE subscriptions SET failing_since = COALESCE(failing_since, $2) WHERE id = $1"),
                        _ => None,
                    };
                    if let Some(sql) = failing {
                        sqlx::query(sql).bind(&d.subscription_id).bind(now.0).execute(&mut *tx).await.map_err(db_err)?;
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(n == 1)
            }

            async fn list_deliveries(&self, entity_id: &str, limit: u32) -> StoreResult<Vec<DeliveryRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
                     WHERE d.entity_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2"
                ))
                .bind(entity_id)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn redeliver(&self, entity_id: &str, id: &str, now: Timestamp) -> StoreResult<bool> {
                let n = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, lease_until = NULL, \
                     lease_token = NULL WHERE entity_id = $2 AND id = $3",
                )
                .bind(now.0)
                .bind(entity_id)
                .bind(id)
                .execute(self.writer())
                .await
                .map_err(db_err)?
                .rows_affected();
                Ok(n == 1)
            }

            async fn audit_log(
                &self,
                entity_id: &str,
                user_internal_id: Option<&str>,
                limit: u32,
            ) -> StoreResult<Vec<AuditEvent>> {
                let rows = sqlx::query(
                    "SELECT entity_id, user_internal_id, action, detail, at FROM audit_log \
                     WHERE entity_id = $1 AND ($2 IS NULL OR user_internal_id = $2) \
                     ORDER BY seq LIMIT $3",
                )
                .bind(entity_id)
                .bind(user_internal_id)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let detail: String = r.try_get("detail")?;
                        Ok(AuditEvent {
                            entity_id: r.try_get("entity_id")?,
                            user_internal_id: r.try_get("user_internal_id")?,
                            action: r.try_get("action")?,
                            detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                            at: Timestamp(r.try_get("at")?),
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(db_err)
            }

            async fn purge_idempotency(&self, before: Timestamp) -> StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
                    .bind(before.0)
                    .execute(self.writer())
                    .await
                    .map_err(db_err)?
                    .rows_affected())
            }
        }
    };
}

pub(crate) use impl_store;
