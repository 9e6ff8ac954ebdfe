//! latchkey's HTTP API: Circle's User-Controlled Wallets routes, the end-user challenge
//! protocol, and (with `--dev`) emulator helpers. Every response carries `X-Request-Id`,
//! every error is Circle-shaped JSON.

pub mod error;
pub mod extract;
pub mod limits;
pub mod openapi;
pub mod paging;
pub mod render;
pub mod routes;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::HttpError;
use latchkey_core::error::codes;
use latchkey_core::Latchkey;
use std::sync::Arc;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

pub use routes::entity::ping;

/// Shared state of every handler: one allocation, so that the clone axum makes for each
/// request (and each middleware) is a pointer copy, not a copy of the services' keys.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppParts>);

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct AppParts {
    /// The services.
    pub lk: Latchkey,
    /// Base URL for `Link` headers when the server sits behind a proxy.
    pub public_url: Option<String>,
    /// Origins allowed to frame the hosted page (besides the server itself).
    pub frame_ancestors: Vec<String>,
    /// Webhook subscriptions and signing keys.
    pub webhooks: latchkey_webhooks::Webhooks,
}

impl AppState {
    /// The state of a router serving `parts`.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

async fn not_found() -> HttpError {
    HttpError(codes::NOT_FOUND.with_message("No such route."))
}

/// The OpenAPI document of the routes mounted with (`dev`) or without the emulator helpers.
pub fn openapi_document(dev: bool) -> utoipa::openapi::OpenApi {
    let (_, doc) = routes::all(dev).split_for_parts();
    openapi::complete(doc)
}

/// The whole router, without rate limits (the timeouts apply).
pub fn router(state: AppState) -> Router {
    router_with_limits(state, &limits::LimitSettings::default())
}

/// The whole router, throttled as `limits` says.
pub fn router_with_limits(state: AppState, limits: &limits::LimitSettings) -> Router {
    let (api, doc) = routes::all(state.lk.settings().dev).split_for_parts();
    let doc = openapi::complete(doc);
    let json: Arc<str> = openapi::to_json(&doc).into();
    let page = openapi::docs_page(&doc);
    let api = api
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { openapi::json_response(&json) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let page = page.clone();
                async move { page }
            }),
        )
        .route_layer(middleware::from_fn(record_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    limits::apply(api, limits)
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(request_context))
        .with_state(state)
}

/// A handler that panicked answers Circle's opaque 500, never the panic's text (it may name
/// internals); the request line is logged with its request id by [`request_context`].
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    HttpError(latchkey_core::ApiError::internal()).into_response()
}

async fn method_not_allowed() -> HttpError {
    HttpError(latchkey_core::ApiError::new(
        405,
        405,
        "Method not allowed.",
    ))
}

/// Names the matched route on the request's span (known only once routing has matched).
async fn record_route(req: Request, next: Next) -> Response {
    if let Some(route) = req.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", route.as_str());
    }
    next.run(req).await
}

/// Echoes or assigns `X-Request-Id`, runs the request inside a span carrying the request id,
/// method and matched route, sets `nosniff`, and logs one line per request (method, path,
/// status, latency: never headers, bodies or tokens).
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
    let path = req.uri().path().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = tracing::field::Empty,
    );
    let mut response = next.run(req).instrument(span).await;
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
        tracing::warn!(%method, %path, status = status.as_u16(), ms, request_id, "request");
    } else {
        tracing::debug!(%method, %path, status = status.as_u16(), ms, request_id, "request");
    }
    response
}
