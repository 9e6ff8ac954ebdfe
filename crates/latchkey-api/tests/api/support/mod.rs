//! What every feature module shares: `spawn_app()` (the real router on a random port over a
//! fresh database: SQLite file, or PostgreSQL when `LATCHKEY_TEST_DATABASE_URL` names a
//! server, with a hand-moved clock), the `app.get/post/put/patch/delete` request family, and
//! user, PIN and challenge setup.
#![allow(dead_code)]

pub mod anvil;
pub mod solana_node;
pub mod wallets;
pub mod webhooks;

#[path = "../../../../latchkey-store/tests/support/fresh_database.rs"]
mod fresh_database;

pub use fresh_database::fresh_database_url;

use anvil::Anvil;
use latchkey_api::{AppParts, AppState};
use latchkey_chains::Blockchain;
use latchkey_client::{ChallengeExecutor, ClientError, DeveloperClient};
use latchkey_core::clock::{Clock, ManualClock, SystemClock};
use latchkey_core::crypto::{KdfParams, MasterKey};
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::model::Environment;
use latchkey_core::money::ChainSet;
use latchkey_core::store::Store;
use latchkey_core::{Latchkey, Settings};
use latchkey_evm::RpcOptions;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// The PIN every test user is initialized with.
pub const PIN: &str = "159357";
/// The PIN tests change or restore to.
pub const NEW_PIN: &str = "246813";
/// A valid PIN that is never the user's: every use is a wrong guess.
pub const WRONG_PIN: &str = "111112";

/// A response: status, JSON body (`Null` when the body is not JSON), headers.
pub type Reply = (u16, Value, HeaderMap);

/// Development settings: fast KDF, `--dev`, two default security questions.
pub fn test_settings() -> Settings {
    Settings {
        kdf: KdfParams::DEV,
        dev: true,
        default_questions: vec!["Pet?".into(), "City?".into()],
        ..Settings::default()
    }
}

/// A running server and the handles a test needs: its URL, API key, clock, core and clients.
pub struct TestApp {
    pub base: String,
    pub api_key: String,
    pub app_id: String,
    pub entity_id: String,
    pub clock: ManualClock,
    pub lk: Latchkey,
    pub master: MasterKey,
    pub database_url: String,
    pub sqlite_dir: Option<PathBuf>,
    pub dev: DeveloperClient,
    pub http: reqwest::Client,
    pub webhooks: latchkey_webhooks::Webhooks,
    /// The outbound engine, stepped by the tests (`run_once`) rather than on a timer.
    pub engine: latchkey_core::money::engine::Engine,
}

/// A server with `test_settings()` on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

/// A server with these settings on a fresh database.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let (url, dir) = fresh_database_url().await;
    spawn_app_on(&url, dir, MasterKey::generate(), settings).await
}

/// A server with these settings on a fresh database whose money routes use these anvils:
/// each is connected with `latchkey_evm::connect` (so it must run the blockchain's chain id,
/// `Anvil::start(Blockchain::MaticAmoy.chain_id()…)`), the way `latchkey serve --rpc` does.
pub async fn spawn_app_with_chains(settings: Settings, chains: &[(Blockchain, &Anvil)]) -> TestApp {
    spawn_app_with_chain_options(settings, chains, RpcOptions::default()).await
}

/// [`spawn_app_with_chains`] with these chain options (confirmations, stuck_after) for every
/// chain, as `--confirmations` and `--stuck-after-seconds` give them.
pub async fn spawn_app_with_chain_options(
    settings: Settings,
    chains: &[(Blockchain, &Anvil)],
    options: RpcOptions,
) -> TestApp {
    let mut set = ChainSet::new();
    for (blockchain, anvil) in chains {
        let chain = latchkey_evm::connect(*blockchain, &anvil.url, &options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        set.insert(chain);
    }
    let (url, dir) = fresh_database_url().await;
    spawn_app_full(&url, dir, MasterKey::generate(), settings, set).await
}

/// A server over chains the test connected itself (to give one an operator key, say).
pub async fn spawn_app_with_chain_set(settings: Settings, chains: ChainSet) -> TestApp {
    let (url, dir) = fresh_database_url().await;
    spawn_app_full(&url, dir, MasterKey::generate(), settings, chains).await
}

/// Another server instance on the same database and master key (a cluster of two).
pub async fn spawn_app_on(
    url: &str,
    sqlite_dir: Option<PathBuf>,
    master: MasterKey,
    settings: Settings,
) -> TestApp {
    spawn_app_full(url, sqlite_dir, master, settings, ChainSet::new()).await
}

async fn spawn_app_full(
    url: &str,
    sqlite_dir: Option<PathBuf>,
    master: MasterKey,
    settings: Settings,
    chains: ChainSet,
) -> TestApp {
    let store: Arc<dyn Store> = latchkey_store::open(url, 8).await.expect("open store");
    let clock = ManualClock::new(SystemClock.now());
    let lk = Latchkey::new(
        store,
        Arc::new(clock.clone()),
        master.clone(),
        KdfPool::new(1, 256),
        settings,
    )
    .with_chains(chains);
    let (entity, _) = lk.ensure_default_entity().await.unwrap();
    let api_key = lk
        .create_api_key(&entity.id, "test", Environment::Test)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let webhooks = latchkey_webhooks::Webhooks::new(
        lk.clone(),
        latchkey_webhooks::WebhookSettings {
            allow_http: true,
            allow_loopback: true,
            timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        },
    );
    let app = latchkey_api::router(AppState::new(AppParts {
        lk: lk.clone(),
        public_url: None,
        frame_ancestors: vec![],
        webhooks: webhooks.clone(),
    }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let engine = latchkey_core::money::engine::Engine::new(lk.clone(), Default::default());
    TestApp {
        dev: DeveloperClient::new(&base, &api_key),
        base,
        api_key,
        app_id: entity.app_id,
        entity_id: entity.id,
        clock,
        lk,
        master,
        database_url: url.to_string(),
        sqlite_dir,
        http: reqwest::Client::new(),
        webhooks,
        engine,
    }
}

/// A user of the test app with a token and that token's encryption key.
pub struct TestUser {
    pub user_id: String,
    pub token: String,
    pub key: String,
}

impl TestApp {
    /// Another server instance on this one's database and master key (a restart, or the
    /// second node of a cluster), with its own clock.
    pub async fn second_instance(&self) -> TestApp {
        spawn_app_full(
            &self.database_url,
            None,
            self.master.clone(),
            test_settings(),
            self.lk.chains().clone(),
        )
        .await
    }

    /// The same server and entity seen through a new API key of `environment`: every helper
    /// (users, challenges, subscriptions) then acts in that environment.
    pub async fn with_key_of(&self, environment: Environment) -> TestApp {
        let api_key = self
            .lk
            .create_api_key(&self.entity_id, "other", environment)
            .await
            .unwrap();
        TestApp {
            base: self.base.clone(),
            dev: DeveloperClient::new(&self.base, &api_key),
            api_key,
            app_id: self.app_id.clone(),
            entity_id: self.entity_id.clone(),
            clock: self.clock.clone(),
            lk: self.lk.clone(),
            master: self.master.clone(),
            database_url: self.database_url.clone(),
            sqlite_dir: self.sqlite_dir.clone(),
            http: self.http.clone(),
            webhooks: self.webhooks.clone(),
            engine: self.engine.clone(),
        }
    }

    /// The environment of this view's API key.
    pub fn environment(&self) -> Environment {
        if self.api_key.starts_with(Environment::Live.key_prefix()) {
            Environment::Live
        } else {
            Environment::Test
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with no credentials at all, for what the helpers below would add.
    pub fn bare(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// GET with the API key (and the user's token when given).
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    /// POST a JSON body with the API key (and the user's token when given).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// PUT a JSON body with the API key (and the user's token when given).
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// PATCH a JSON body with the API key (and the user's token when given).
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// DELETE with the API key (and the user's token when given).
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Raw request with the API key (and optionally the user's token).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut r = self
            .bare(method, path)
            .header("authorization", format!("Bearer {}", self.api_key));
        if let Some(t) = token {
            r = r.header("x-user-token", t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        )
    }

    /// A new user and a token for it (no PIN yet).
    pub async fn user(&self) -> TestUser {
        let user_id = format!("user-{}", uuid::Uuid::new_v4().simple());
        self.dev.create_user(&user_id).await.unwrap();
        self.token_for(&user_id).await
    }

    /// A fresh token (and its encryption key) for an existing user.
    pub async fn token_for(&self, user_id: &str) -> TestUser {
        let (token, key) = self.dev.create_user_token(user_id).await.unwrap();
        TestUser {
            user_id: user_id.to_string(),
            token,
            key,
        }
    }

    /// A new user with a token, initialized with `pin` and `questions()`.
    pub async fn initialized_user(&self, pin: &str) -> TestUser {
        let u = self.user().await;
        self.initialize(&u, pin).await;
        u
    }

    /// The end user's side (App ID, token, encryption key), as the hosted page runs it.
    pub fn executor(&self, u: &TestUser) -> ChallengeExecutor {
        ChallengeExecutor::new(&self.base, &self.app_id, &u.token, &u.key).unwrap()
    }

    /// Creates a challenge for the user through the developer client; returns its id.
    pub async fn challenge(&self, u: &TestUser, method: Method, path: &str) -> String {
        self.dev
            .create_challenge(method, path, &u.token, json!({}))
            .await
            .unwrap()
    }

    /// POSTs `body` as the user to a challenge-creating endpoint; asserts 201 and returns the
    /// challenge id.
    pub async fn start_challenge(&self, u: &TestUser, path: &str, body: Value) -> String {
        let (s, b, _) = self.post(path, Some(&u.token), body).await;
        assert_eq!(s, 201, "{b}");
        b["data"]["challengeId"].as_str().unwrap().to_string()
    }

    /// INITIALIZE with `pin` and `questions()`; asserts COMPLETE and returns the challenge id.
    pub async fn initialize(&self, u: &TestUser, pin: &str) -> String {
        let id = self
            .challenge(u, Method::POST, "/v1/w3s/user/initialize")
            .await;
        let out = self
            .executor(u)
            .execute(
                &id,
                &json!({ "newPin": pin, "securityQuestions": questions() }),
            )
            .await
            .unwrap();
        assert_eq!(out["data"]["status"], "COMPLETE");
        id
    }

    /// A CHANGE_PIN challenge run with `pin` and `new_pin`.
    pub async fn change_pin(
        &self,
        u: &TestUser,
        pin: &str,
        new_pin: &str,
    ) -> Result<Value, ClientError> {
        let id = self.challenge(u, Method::PUT, "/v1/w3s/user/pin").await;
        self.executor(u)
            .execute(&id, &json!({ "pin": pin, "newPin": new_pin }))
            .await
    }

    /// Three wrong PINs (each on its own CHANGE_PIN challenge): the PIN is locked.
    pub async fn lock_pin(&self, u: &TestUser, wrong: &str) {
        for _ in 0..3 {
            let _ = self.change_pin(u, wrong, NEW_PIN).await;
        }
    }

    /// A RESTORE_PIN challenge run with `answers` and `new_pin`.
    pub async fn restore_pin(
        &self,
        u: &TestUser,
        answers: [&str; 2],
        new_pin: &str,
    ) -> Result<Value, ClientError> {
        let id = self
            .challenge(u, Method::POST, "/v1/w3s/user/pin/restore")
            .await;
        self.executor(u)
            .execute(
                &id,
                &json!({ "securityAnswers": answers, "newPin": new_pin }),
            )
            .await
    }

    /// The operator lifts the user's PIN lock (what `latchkey users unlock` does).
    pub async fn lift_pin_lock(&self, u: &TestUser) {
        self.lk
            .lift_lock(
                &self.entity_id,
                self.environment(),
                &u.user_id,
                latchkey_core::model::SecretKind::Pin,
            )
            .await
            .unwrap();
    }

    /// The challenge as `GET /v1/w3s/user/challenges/{id}` returns it.
    pub async fn challenge_status(&self, u: &TestUser, id: &str) -> Value {
        self.dev.get_challenge(&u.token, id).await.unwrap()
    }

    /// The user's status as `GET /v1/w3s/user` returns it (the `data` object).
    pub async fn user_status(&self, u: &TestUser) -> Value {
        self.dev.get_user_status(&u.token).await.unwrap()["data"].clone()
    }

    /// The user's stored row (white-box: what the database holds).
    pub async fn user_row(&self, u: &TestUser) -> latchkey_core::model::UserRecord {
        self.lk
            .store()
            .user(&self.entity_id, self.environment(), &u.user_id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Runs one statement on the app's database with `args` bound as text (white-box: a test
    /// that changes what the server stored behind its back); returns the rows affected.
    pub async fn sql(&self, statement: &str, args: &[&str]) -> u64 {
        use sqlx::Connection;
        if self.database_url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .unwrap();
            let mut q = sqlx::query(statement);
            for a in args {
                q = q.bind(*a);
            }
            q.execute(&mut c).await.unwrap().rows_affected()
        } else {
            let mut c = sqlx::PgConnection::connect(&self.database_url)
                .await
                .unwrap();
            let mut q = sqlx::query(statement);
            for a in args {
                q = q.bind(*a);
            }
            q.execute(&mut c).await.unwrap().rows_affected()
        }
    }

    /// How many PIN guesses were evaluated (and failed), by the audit log.
    pub async fn failed_pin_attempts(&self, u: &TestUser) -> usize {
        self.audit_actions(u)
            .await
            .iter()
            .filter(|a| *a == "pin.attempt.failed")
            .count()
    }

    /// The audit log's actions for the user, oldest first.
    pub async fn audit_actions(&self, u: &TestUser) -> Vec<String> {
        let user = self.user_row(u).await;
        self.lk.flush_audit().await;
        self.lk
            .store()
            .audit_log(&self.entity_id, Some(&user.internal_id), 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

/// The security questions every initialized user has (answers "Rex" and "Lyon").
pub fn questions() -> Value {
    json!([
        { "question": "What was the name of your first pet?", "answer": "Rex", "hint": "dog" },
        { "question": "In what city were you born?", "answer": "Lyon" }
    ])
}

/// The Circle code of an API error.
pub fn api_code(e: &ClientError) -> i64 {
    match e {
        ClientError::Api { body, .. } => body["code"].as_i64().unwrap_or(0),
        other => panic!("not an API error: {other}"),
    }
}

/// The body of an API error.
pub fn api_body(e: &ClientError) -> Value {
    match e {
        ClientError::Api { body, .. } => body.clone(),
        other => panic!("not an API error: {other}"),
    }
}
