//! latchkey's HTTP API: Circle's User-Controlled Wallets routes, the end-user challenge
//! protocol, and (with `--dev`) emulator helpers. Every response carries `X-Request-Id`,
//! every error is Circle-shaped JSON.

pub mod error;
pub mod extract;
pub mod limits;
pub mod paging;
pub mod render;
pub mod routes;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use error::HttpError;
use latchkey_core::error::codes;
use latchkey_core::Latchkey;
use routes::{dev, sdk, subscriptions, user, users, wallets, web};
use serde_json::json;
use std::time::Instant;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The services.
    pub lk: Latchkey,
    /// Base URL for `Link` headers when the server sits behind a proxy.
    pub public_url: Option<String>,
    /// Origins allowed to frame the hosted page (besides the server itself).
    pub frame_ancestors: Vec<String>,
    /// Webhook subscriptions and signing keys.
    pub webhooks: latchkey_webhooks::Webhooks,
}

/// `GET /ping`: `{"message":"pong"}`, no auth.
pub async fn ping() -> Response {
    Json(json!({ "message": "pong" })).into_response()
}

async fn not_found() -> HttpError {
    HttpError(codes::NOT_FOUND.with_message("No such route."))
}

/// The whole router, without rate limits (the timeouts apply).
pub fn router(state: AppState) -> Router {
    router_with_limits(state, &limits::LimitSettings::default())
}

/// The whole router, throttled as `limits` says.
pub fn router_with_limits(state: AppState, limits: &limits::LimitSettings) -> Router {
    let mut api = Router::new()
        .route("/ping", get(ping))
        .route("/v1/w3s/config/entity", get(users::get_entity_config))
        .route(
            "/v1/w3s/users",
            post(users::create_user).get(users::list_users),
        )
        .route("/v1/w3s/users/token", post(users::create_user_token))
        .route("/v1/w3s/users/{id}", get(users::get_user))
        .route("/v1/w3s/user", get(user::get_user_status))
        .route(
            "/v1/w3s/user/initialize",
            post(user::create_initialize_challenge),
        )
        .route(
            "/v1/w3s/user/pin",
            post(user::create_set_pin_challenge).put(user::create_change_pin_challenge),
        )
        .route(
            "/v1/w3s/user/pin/restore",
            post(user::create_restore_pin_challenge),
        )
        .route("/v1/w3s/user/wallets", post(user::create_wallet_challenge))
        .route(
            "/v1/w3s/user/sign/message",
            post(user::create_sign_message_challenge),
        )
        .route(
            "/v1/w3s/user/sign/typedData",
            post(user::create_sign_typed_data_challenge),
        )
        .route(
            "/v1/w3s/user/sign/transaction",
            post(user::create_sign_transaction_challenge),
        )
        .route("/v1/w3s/wallets", get(wallets::list_wallets))
        .route(
            "/v1/w3s/wallets/{id}",
            get(wallets::get_wallet).put(wallets::update_wallet),
        )
        .route("/v1/w3s/user/challenges", get(user::list_user_challenges))
        .route(
            "/v1/w3s/user/challenges/{id}",
            get(user::get_user_challenge),
        )
        .route("/v1/w3s/sdk/challenges/{id}", get(sdk::get_sdk_challenge))
        .route(
            "/v1/w3s/sdk/challenges/{id}/execute",
            post(sdk::execute_sdk_challenge),
        )
        .route("/v1/w3s/dev/status", get(dev::get_dev_status))
        .route(
            "/v2/notifications/subscriptions",
            post(subscriptions::create_subscription).get(subscriptions::list_subscriptions),
        )
        .route(
            "/v2/notifications/subscriptions/{id}",
            get(subscriptions::get_subscription)
                .patch(subscriptions::update_subscription)
                .delete(subscriptions::delete_subscription),
        )
        .route(
            "/v2/notifications/publicKey/{id}",
            get(subscriptions::get_notification_public_key),
        )
        .route("/", get(web::get_root))
        .route("/pw", get(web::redirect_page))
        .route("/pw/", get(web::get_page_index))
        .route("/pw/{file}", get(web::get_page_file))
        .route("/sdk/{file}", get(web::get_sdk_file))
        .route("/sample", get(web::get_sample_index))
        .route("/sample/", get(web::get_sample_index))
        .route("/sample/{file}", get(web::get_sample_file));
    if state.lk.settings().dev {
        api = api
            .route("/v1/w3s/dev/users", post(dev::create_dev_user))
            .route("/v1/w3s/dev/challenges", post(dev::create_dev_challenge));
    }
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    limits::apply(api, limits)
        .layer(middleware::from_fn(request_context))
        .with_state(state)
}

async fn method_not_allowed() -> HttpError {
    HttpError(latchkey_core::ApiError::new(
        405,
        405,
        "Method not allowed.",
    ))
}

/// Echoes or assigns `X-Request-Id`, sets `nosniff`, and logs one line per request
/// (method, path, status, latency: never headers, bodies or tokens).
async fn request_context(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().clone();
    let route = req.uri().path().to_string();
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", v);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let status = response.status();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, %route, status = status.as_u16(), ms, request_id, "request");
    } else {
        tracing::debug!(%method, %route, status = status.as_u16(), ms, request_id, "request");
    }
    response
}
