//! A Rust client for latchkey (and Circle's W3S API): the developer calls with an API key,
//! and the end user's challenge execution (docs/protocol.md) with an App ID and a userToken.

use latchkey_core::crypto::{self, SecretKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// A failed call: the server's error body, or a transport problem.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body (`code`, `message`, `attemptsLeft`…).
    #[error("{status}: {body}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body as sent.
        body: Value,
    },
    /// The request could not be made or the answer read.
    #[error("{0}")]
    Transport(String),
    /// A bad argument (e.g. an encryption key that is not 32 bytes of base64).
    #[error("{0}")]
    Invalid(String),
}

impl ClientError {
    /// The error as a Circle-shaped JSON body.
    pub fn to_json(&self) -> Value {
        match self {
            ClientError::Api { body, .. } => body.clone(),
            ClientError::Transport(m) => {
                json!({ "code": 155706, "message": format!("Network error: {m}") })
            }
            ClientError::Invalid(m) => json!({ "code": 2, "message": m }),
        }
    }
}

async fn send(req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
    let resp = req
        .send()
        .await
        .map_err(|e| ClientError::Transport(e.without_url().to_string()))?;
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    let body: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| json!({ "code": -1, "message": text }))
    };
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(ClientError::Api { status, body })
    }
}

/// The developer API, authenticated by an API key.
#[derive(Debug, Clone)]
pub struct DeveloperClient {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl DeveloperClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8080`) with `api_key`.
    pub fn new(base_url: &str, api_key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_string(),
            auth: format!("Bearer {api_key}"),
        }
    }

    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        user_token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &self.auth);
        if let Some(t) = user_token {
            r = r.header("x-user-token", t);
        }
        r
    }

    /// `GET /v1/w3s/config/entity` → the App ID.
    pub async fn app_id(&self) -> Result<String, ClientError> {
        let v = send(self.req(reqwest::Method::GET, "/v1/w3s/config/entity", None)).await?;
        Ok(v["data"]["appId"].as_str().unwrap_or_default().to_string())
    }

    /// `POST /v1/w3s/users`.
    pub async fn create_user(&self, user_id: &str) -> Result<Value, ClientError> {
        send(
            self.req(reqwest::Method::POST, "/v1/w3s/users", None)
                .json(&json!({ "userId": user_id })),
        )
        .await
    }

    /// `POST /v1/w3s/users/token` → (userToken, encryptionKey).
    pub async fn create_user_token(&self, user_id: &str) -> Result<(String, String), ClientError> {
        let v = send(
            self.req(reqwest::Method::POST, "/v1/w3s/users/token", None)
                .json(&json!({ "userId": user_id })),
        )
        .await?;
        let d = &v["data"];
        Ok((
            d["userToken"].as_str().unwrap_or_default().to_string(),
            d["encryptionKey"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// Any `GET` of the API (with the user's token when given); returns the body.
    pub async fn get(&self, path: &str, user_token: Option<&str>) -> Result<Value, ClientError> {
        send(self.req(reqwest::Method::GET, path, user_token)).await
    }

    /// `GET /v1/w3s/user` with the user's token.
    pub async fn get_user_status(&self, user_token: &str) -> Result<Value, ClientError> {
        send(self.req(reqwest::Method::GET, "/v1/w3s/user", Some(user_token))).await
    }

    /// A challenge-creating call (`POST /v1/w3s/user/initialize`, `PUT /v1/w3s/user/pin`…)
    /// with a fresh idempotency key merged into `body`; returns the challenge id.
    pub async fn create_challenge(
        &self,
        method: reqwest::Method,
        path: &str,
        user_token: &str,
        body: Value,
    ) -> Result<String, ClientError> {
        let mut body = body;
        if let Value::Object(m) = &mut body {
            m.entry("idempotencyKey")
                .or_insert_with(|| json!(uuid::Uuid::new_v4().to_string()));
        }
        let v = send(self.req(method, path, Some(user_token)).json(&body)).await?;
        Ok(v["data"]["challengeId"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// `GET /v1/w3s/user/challenges/{id}` → the challenge object.
    pub async fn get_challenge(&self, user_token: &str, id: &str) -> Result<Value, ClientError> {
        let v = send(self.req(
            reqwest::Method::GET,
            &format!("/v1/w3s/user/challenges/{id}"),
            Some(user_token),
        ))
        .await?;
        Ok(v["data"]["challenge"].clone())
    }
}

/// Executes challenges as the end user's side does: App ID + userToken, body encrypted
/// with the token's encryptionKey.
pub struct ChallengeExecutor {
    http: reqwest::Client,
    base: String,
    app_id: String,
    user_token: Zeroizing<String>,
    key: SecretKey,
}

impl std::fmt::Debug for ChallengeExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeExecutor")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ChallengeExecutor {
    /// `encryption_key` is the base64 key returned with the token.
    pub fn new(
        base_url: &str,
        app_id: &str,
        user_token: &str,
        encryption_key: &str,
    ) -> Result<Self, ClientError> {
        let raw = Zeroizing::new(
            crypto::b64_decode(encryption_key)
                .ok_or_else(|| ClientError::Invalid("the encryption key is not base64".into()))?,
        );
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| ClientError::Invalid("the encryption key must be 32 bytes".into()))?;
        Ok(Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_string(),
            app_id: app_id.to_string(),
            user_token: Zeroizing::new(user_token.to_string()),
            key: SecretKey::from_bytes(bytes),
        })
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-app-id", &self.app_id)
            .header("x-user-token", self.user_token.as_str())
    }

    /// `GET /v1/w3s/sdk/challenges/{id}`: what the challenge needs (the `data` object).
    pub async fn describe(&self, challenge_id: &str) -> Result<Value, ClientError> {
        let v = send(self.req(
            reqwest::Method::GET,
            &format!("/v1/w3s/sdk/challenges/{challenge_id}"),
        ))
        .await?;
        Ok(v["data"].clone())
    }

    /// Encrypts `input` (the JSON object of docs/protocol.md §2) and executes; returns the
    /// whole success body `{"data": {type, status, data}}`.
    pub async fn execute(&self, challenge_id: &str, input: &Value) -> Result<Value, ClientError> {
        let plain = Zeroizing::new(
            serde_json::to_vec(input).map_err(|e| ClientError::Invalid(e.to_string()))?,
        );
        let sealed = crypto::seal(&self.key, challenge_id.as_bytes(), &plain);
        let body = json!({ "encrypted": crypto::b64(&sealed) });
        send(
            self.req(
                reqwest::Method::POST,
                &format!("/v1/w3s/sdk/challenges/{challenge_id}/execute"),
            )
            .json(&body),
        )
        .await
    }
}
