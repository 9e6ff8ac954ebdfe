//! `spawn_app()`: the real router on a random port over a fresh database (SQLite file, or
//! PostgreSQL when `LATCHKEY_TEST_DATABASE_URL` names a server), with a hand-moved clock.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_api::AppState;
use latchkey_client::{ChallengeExecutor, ClientError, DeveloperClient};
use latchkey_core::clock::{Clock, ManualClock, SystemClock};
use latchkey_core::crypto::{KdfParams, MasterKey};
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::model::Environment;
use latchkey_core::store::Store;
use latchkey_core::{Latchkey, Settings};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// A fresh database URL: a new SQLite file, or a new PostgreSQL database.
pub async fn fresh_database_url() -> (String, Option<PathBuf>) {
    match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = std::env::temp_dir()
                .join(format!("latchkey-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("sqlite://{}", dir.join("latchkey.db").display()),
                Some(dir),
            )
        }
    }
}

pub fn test_settings() -> Settings {
    Settings {
        kdf: KdfParams::DEV,
        dev: true,
        default_questions: vec!["Pet?".into(), "City?".into()],
        ..Settings::default()
    }
}

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
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let (url, dir) = fresh_database_url().await;
    spawn_app_on(&url, dir, MasterKey::generate(), settings).await
}

/// Another server instance on the same database and master key (a cluster of two).
pub async fn spawn_app_on(
    url: &str,
    sqlite_dir: Option<PathBuf>,
    master: MasterKey,
    settings: Settings,
) -> TestApp {
    let store: Arc<dyn Store> = latchkey_store::open(url, 8).await.expect("open store");
    let clock = ManualClock::new(SystemClock.now());
    let lk = Latchkey::new(
        store,
        Arc::new(clock.clone()),
        master.clone(),
        KdfPool::new(1, 256),
        settings,
    );
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
    let app = latchkey_api::router(AppState {
        lk: lk.clone(),
        public_url: None,
        frame_ancestors: vec![],
        webhooks: webhooks.clone(),
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
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
    }
}

pub struct TestUser {
    pub user_id: String,
    pub token: String,
    pub key: String,
}

impl TestApp {
    pub async fn user(&self) -> TestUser {
        let user_id = format!("user-{}", uuid::Uuid::new_v4().simple());
        self.dev.create_user(&user_id).await.unwrap();
        let (token, key) = self.dev.create_user_token(&user_id).await.unwrap();
        TestUser {
            user_id,
            token,
            key,
        }
    }

    pub fn executor(&self, u: &TestUser) -> ChallengeExecutor {
        ChallengeExecutor::new(&self.base, &self.app_id, &u.token, &u.key).unwrap()
    }

    /// Raw request with the API key (and optionally the user's token).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
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

    pub async fn challenge(&self, u: &TestUser, method: reqwest::Method, path: &str) -> String {
        self.dev
            .create_challenge(method, path, &u.token, json!({}))
            .await
            .unwrap()
    }

    pub async fn initialize(&self, u: &TestUser, pin: &str) -> String {
        let id = self
            .challenge(u, reqwest::Method::POST, "/v1/w3s/user/initialize")
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

    pub async fn change_pin(
        &self,
        u: &TestUser,
        pin: &str,
        new_pin: &str,
    ) -> Result<Value, ClientError> {
        let id = self
            .challenge(u, reqwest::Method::PUT, "/v1/w3s/user/pin")
            .await;
        self.executor(u)
            .execute(&id, &json!({ "pin": pin, "newPin": new_pin }))
            .await
    }

    pub async fn challenge_status(&self, u: &TestUser, id: &str) -> Value {
        self.dev.get_challenge(&u.token, id).await.unwrap()
    }

    pub async fn audit_actions(&self, u: &TestUser) -> Vec<String> {
        let user = self
            .lk
            .store()
            .user(&self.entity_id, &u.user_id)
            .await
            .unwrap()
            .unwrap();
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

pub fn questions() -> Value {
    json!([
        { "question": "What was the name of your first pet?", "answer": "Rex", "hint": "dog" },
        { "question": "In what city were you born?", "answer": "Lyon" }
    ])
}

pub fn api_code(e: &ClientError) -> i64 {
    match e {
        ClientError::Api { body, .. } => body["code"].as_i64().unwrap_or(0),
        other => panic!("not an API error: {other}"),
    }
}

pub fn api_body(e: &ClientError) -> Value {
    match e {
        ClientError::Api { body, .. } => body.clone(),
        other => panic!("not an API error: {other}"),
    }
}
