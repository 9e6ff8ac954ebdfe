//! The services: what each API call does, independent of HTTP. Handlers parse and render;
//! everything that decides lives here.

mod admin;
mod embedding;
mod secrets;
mod users;
mod wallets;

pub use crate::challenge::{
    ChallengeView, ExecuteBody, ExecuteOutcome, Idempotency, QuestionAnswer, SignRequest,
    WalletRequest,
};
pub use secrets::SecretString;

use crate::audit::AuditSender;
use crate::clock::{Clock, Timestamp};
use crate::crypto::{self, KdfParams, MasterKey};
use crate::defaults;
use crate::error::{codes, ApiError};
use crate::kdf_pool::KdfPool;
use crate::model::{ApiKeyRecord, Entity, Environment, UserRecord};
use crate::money::ChainSet;
use crate::session::{SessionClaims, SessionKeys};
use crate::store::{LockPolicy, Store, StoreError};
use std::sync::Arc;

/// Tunable behaviour; every field has a documented default (docs/configuration.md).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of a userToken (default 60 minutes).
    pub token_ttl_ms: i64,
    /// Lifetime of a challenge (default 15 minutes).
    pub challenge_ttl_ms: i64,
    /// PIN guess limit (default 3 failures, 30 minutes).
    pub pin_policy: LockPolicy,
    /// Security answer guess limit (default 3 failures, 30 minutes).
    pub answer_policy: LockPolicy,
    /// Argon2id cost for new wraps.
    pub kdf: KdfParams,
    /// Emulator mode.
    pub dev: bool,
    /// Suggested security questions for set-up screens.
    pub default_questions: Vec<String>,
    /// Open (PENDING or IN_PROGRESS) challenges a user may have at once (default 100).
    pub max_open_challenges: u32,
}

impl Default for Settings {
    fn default() -> Self {
        const MINUTE_MS: i64 = 60 * 1000;
        Self {
            token_ttl_ms: defaults::TOKEN_TTL_MINUTES * MINUTE_MS,
            challenge_ttl_ms: defaults::CHALLENGE_TTL_MINUTES * MINUTE_MS,
            pin_policy: LockPolicy {
                max_attempts: defaults::PIN_MAX_ATTEMPTS,
                lock_ms: defaults::PIN_LOCK_MINUTES * MINUTE_MS,
            },
            answer_policy: LockPolicy {
                max_attempts: defaults::ANSWER_MAX_ATTEMPTS,
                lock_ms: defaults::ANSWER_LOCK_MINUTES * MINUTE_MS,
            },
            kdf: KdfParams::PRODUCTION,
            dev: false,
            default_questions: crate::rules::default_questions(),
            max_open_challenges: defaults::MAX_OPEN_CHALLENGES,
        }
    }
}

/// A request authenticated by a developer API key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The key's entity.
    pub entity_id: String,
    /// TEST or LIVE.
    pub environment: Environment,
}

/// A request authenticated by a userToken (and an API key of the same entity and environment,
/// or the entity's App ID).
#[derive(Debug, Clone)]
pub struct UserSession {
    /// The token's claims.
    pub claims: SessionClaims,
    /// The user as read when the request started.
    pub user: UserRecord,
}

impl UserSession {
    /// The entity id.
    pub fn entity_id(&self) -> &str {
        &self.user.entity_id
    }
}

/// The latchkey services over one store.
#[derive(Clone)]
pub struct Latchkey {
    pub(crate) store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pub(crate) master: MasterKey,
    pub(crate) sessions: SessionKeys,
    pub(crate) kdf: KdfPool,
    pub(crate) settings: Arc<Settings>,
    audit: AuditSender,
    api_keys: Arc<ApiKeyCache>,
    pub(crate) chains: Arc<ChainSet>,
}

/// Recently verified API keys, so that the hot paths skip one database read per request.
/// Entries live [`API_KEY_CACHE_MS`]; only the key id, its entity, environment and secret
/// hash are kept, never the secret.
#[derive(Default)]
struct ApiKeyCache(std::sync::RwLock<std::collections::HashMap<String, (ApiKeyRecord, Timestamp)>>);

/// How long a looked-up API key is trusted without reading the database again.
const API_KEY_CACHE_MS: i64 = 10_000;
const API_KEY_CACHE_MAX: usize = 10_000;

impl ApiKeyCache {
    fn get(&self, key_id: &str, now: Timestamp) -> Option<ApiKeyRecord> {
        let map = self.0.read().ok()?;
        map.get(key_id)
            .filter(|(_, at)| now.0.saturating_sub(at.0) < API_KEY_CACHE_MS)
            .map(|(r, _)| r.clone())
    }

    fn put(&self, record: ApiKeyRecord, now: Timestamp) {
        if let Ok(mut map) = self.0.write() {
            if map.len() >= API_KEY_CACHE_MAX {
                map.clear();
            }
            map.insert(record.key_id.clone(), (record, now));
        }
    }
}

impl std::fmt::Debug for Latchkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latchkey")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Logs a store failure for the operator and returns what the caller sees (the one mapping
/// every service, including the webhook crate's, uses): 503 while the database cannot be
/// reached (retry later), else the opaque 500.
pub fn store_failed(e: StoreError) -> ApiError {
    match e {
        // Where a conflict is an answer (a taken userId), the caller maps it before this; one
        // that reaches here is a defect, and its log line is the only trace of it.
        StoreError::Conflict => {
            tracing::error!("unexpected uniqueness conflict in the store");
            ApiError::internal()
        }
        StoreError::Unavailable(detail) => {
            tracing::warn!(%detail, "database unavailable");
            ApiError::service_unavailable()
        }
        StoreError::Database(detail) => {
            tracing::error!(%detail, "store failure");
            ApiError::internal()
        }
    }
}

impl Latchkey {
    /// Builds the services. Must be called inside a Tokio runtime (it starts the audit writer).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        master: MasterKey,
        kdf: KdfPool,
        settings: Settings,
    ) -> Self {
        let audit = AuditSender::spawn(store.clone());
        Self {
            sessions: SessionKeys::new(&master),
            store,
            clock,
            master,
            kdf,
            settings: Arc::new(settings),
            audit,
            api_keys: Arc::default(),
            chains: Arc::default(),
        }
    }

    /// The same services with the chains money moves on (none by default: the money routes
    /// then answer 156027 naming the setting).
    pub fn with_chains(mut self, chains: ChainSet) -> Self {
        self.chains = Arc::new(chains);
        self
    }

    /// The configured chains.
    pub fn chains(&self) -> &ChainSet {
        &self.chains
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Seals a server-side secret (e.g. a webhook signing key) under a key derived from the
    /// master key, bound to `label` (which names what the secret is and whose).
    pub fn seal_server_secret(&self, label: &str, plaintext: &[u8]) -> Vec<u8> {
        crypto::seal(
            &self.master.server_secrets_key(),
            label.as_bytes(),
            plaintext,
        )
    }

    /// Opens what [`Latchkey::seal_server_secret`] sealed with the same `label`.
    pub fn open_server_secret(
        &self,
        label: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, crypto::OpenError> {
        crypto::open(&self.master.server_secrets_key(), label.as_bytes(), sealed)
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Waits until queued audit events are written (shutdown, tests).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// Authenticates `Authorization: Bearer TEST_API_KEY:<id>:<secret>`.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_api_key(&self, header: Option<&str>) -> Result<ApiCaller, ApiError> {
        let header = header.ok_or(codes::MALFORMED_AUTH)?;
        let credentials = header
            .strip_prefix("Bearer ")
            .ok_or(codes::MALFORMED_AUTH)?
            .trim();
        let mut parts = credentials.splitn(3, ':');
        let (prefix, key_id, secret) = match (parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(i), Some(s)) if !i.is_empty() && !s.is_empty() => (p, i, s),
            _ => return Err(codes::MALFORMED_AUTH),
        };
        let environment = match prefix {
            "TEST_API_KEY" => Environment::Test,
            "LIVE_API_KEY" => Environment::Live,
            _ => return Err(codes::MALFORMED_AUTH),
        };
        if key_id.len() > 128 || secret.len() > 256 {
            return Err(codes::API_KEY_NOT_FOUND);
        }
        let now = self.now();
        let record = match self.api_keys.get(key_id, now) {
            Some(r) => Some(r),
            None => {
                let r = self.store.api_key(key_id).await.map_err(store_failed)?;
                if let Some(r) = &r {
                    self.api_keys.put(r.clone(), now);
                }
                r
            }
        };
        // Hash even when the key is unknown, so that both answers cost the same.
        let presented = crypto::sha256(secret.as_bytes());
        match record {
            Some(r)
                if crypto::ct_eq(&presented, &r.secret_hash) && r.environment == environment =>
            {
                Ok(ApiCaller {
                    entity_id: r.entity_id,
                    environment,
                })
            }
            _ => Err(codes::API_KEY_NOT_FOUND),
        }
    }

    /// Creates an API key for `entity_id`; returns the full key text (shown once).
    #[tracing::instrument(skip_all, fields(entity = %entity_id, environment = environment.as_str()))]
    pub async fn create_api_key(
        &self,
        entity_id: &str,
        name: &str,
        environment: Environment,
    ) -> Result<String, ApiError> {
        let key_id = crypto::random_hex(16);
        let secret = crypto::random_hex(16);
        let record = ApiKeyRecord {
            key_id: key_id.clone(),
            entity_id: entity_id.to_string(),
            name: name.to_string(),
            environment,
            secret_hash: crypto::sha256(secret.as_bytes()).to_vec(),
            created_at: self.now(),
        };
        self.store
            .insert_api_key(&record)
            .await
            .map_err(store_failed)?;
        Ok(format!("{}:{key_id}:{secret}", environment.key_prefix()))
    }

    /// The default entity, created on first start.
    #[tracing::instrument(skip_all)]
    pub async fn ensure_default_entity(&self) -> Result<(Entity, bool), ApiError> {
        let candidate = Entity {
            id: uuid::Uuid::new_v4().to_string(),
            app_id: uuid::Uuid::new_v4().to_string(),
            name: "default".to_string(),
            created_at: self.now(),
        };
        self.store
            .ensure_default_entity(&candidate)
            .await
            .map_err(store_failed)
    }

    /// The entity of an API caller.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn entity(&self, caller: &ApiCaller) -> Result<Entity, ApiError> {
        self.store
            .entity(&caller.entity_id)
            .await
            .map_err(store_failed)?
            .ok_or_else(ApiError::internal)
    }

    /// Authenticates the end user's side: `X-App-Id` + `X-User-Token`, no API key.
    #[tracing::instrument(skip_all, fields(app_id = ?app_id))]
    pub async fn authenticate_app_user(
        &self,
        app_id: Option<&str>,
        token: Option<&str>,
    ) -> Result<UserSession, ApiError> {
        let app_id = app_id.map(str::trim).filter(|a| !a.is_empty());
        let app_id = app_id.ok_or(codes::APP_ID_UNKNOWN)?;
        let entity = self
            .store
            .entity_by_app_id(app_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::APP_ID_UNKNOWN)?;
        // The App ID is the entity's in both environments: the token says which one.
        self.session(&entity.id, None, token).await
    }

    /// Authenticates a userToken presented together with `caller`'s API key: a token issued
    /// in the other environment is refused like another entity's.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn user_session(
        &self,
        caller: &ApiCaller,
        token: Option<&str>,
    ) -> Result<UserSession, ApiError> {
        self.session(&caller.entity_id, Some(caller.environment), token)
            .await
    }

    /// The session of a token of `entity_id` (and of `environment` when one is required),
    /// whose user still exists in the token's environment.
    async fn session(
        &self,
        entity_id: &str,
        environment: Option<Environment>,
        token: Option<&str>,
    ) -> Result<UserSession, ApiError> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(codes::TOKEN_NOT_FOUND)?;
        let claims = self.sessions.verify(token, self.now())?;
        if claims.entity_id != entity_id {
            return Err(codes::TOKEN_INVALID);
        }
        let token_environment =
            Environment::parse(&claims.environment).ok_or(codes::TOKEN_INVALID)?;
        if environment.is_some_and(|e| e != token_environment) {
            return Err(codes::TOKEN_INVALID);
        }
        let user = self
            .store
            .user_by_internal_id(&claims.entity_id, &claims.internal_user_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::TOKEN_INVALID)?;
        if user.user_id != claims.sub || user.environment != token_environment {
            return Err(codes::TOKEN_INVALID);
        }
        if user.disabled {
            return Err(codes::USER_DISABLED);
        }
        Ok(UserSession { claims, user })
    }
}
