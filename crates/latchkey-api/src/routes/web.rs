//! The hosted challenge page (`/pw/`), the web SDK (`/sdk/`) and the sample app (`/sample/`):
//! static files compiled into the binary (read from the source tree in debug builds), served
//! with a strict Content-Security-Policy.

use crate::error::HttpError;
use crate::extract::PathParam;
use crate::paging;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use latchkey_core::error::codes;
use rust_embed::RustEmbed;
use utoipa_axum::router::OpenApiRouter;

/// The static-file routes: left out of the OpenAPI document on purpose (HTML, scripts and
/// redirects, not API calls).
pub const STATIC_ROUTES: &[&str] = &[
    "/",
    "/pw",
    "/pw/",
    "/pw/{file}",
    "/sdk/{file}",
    "/sample",
    "/sample/",
    "/sample/{file}",
];

/// This module's routes (none documented).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/", get(get_root))
        .route("/pw", get(redirect_page))
        .route("/pw/", get(get_page_index))
        .route("/pw/{file}", get(get_page_file))
        .route("/sdk/{file}", get(get_sdk_file))
        .route("/sample", get(get_sample_index))
        .route("/sample/", get(get_sample_index))
        .route("/sample/{file}", get(get_sample_file))
}

#[derive(RustEmbed)]
#[folder = "../../web/"]
struct WebAssets;

#[derive(RustEmbed)]
#[folder = "../../sdk/js/"]
#[include = "*.js"]
#[include = "*.d.ts"]
#[exclude = "test/*"]
#[exclude = "node_modules/*"]
struct SdkAssets;

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// A missing file is a Circle-shaped 404 like every other error.
fn not_found() -> Response {
    HttpError(codes::NOT_FOUND.with_message("No such file.")).into_response()
}

fn asset(
    file: Option<rust_embed::EmbeddedFile>,
    path: &str,
    extra: &[(&'static str, String)],
) -> Response {
    let Some(file) = file else { return not_found() };
    let mut resp = (
        [
            (header::CONTENT_TYPE, content_type(path)),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.data.into_owned(),
    )
        .into_response();
    let headers = resp.headers_mut();
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(*name, v);
        }
    }
    resp
}

/// The hosted page's policy: only its own scripts, styles and API; framed only by the
/// origins the operator allows.
fn page_csp(frame_ancestors: &[String]) -> String {
    let mut ancestors = vec!["'self'".to_string()];
    ancestors.extend(frame_ancestors.iter().cloned());
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {}",
        ancestors.join(" ")
    )
}

fn safe(path: &str) -> bool {
    !path.is_empty() && !path.contains("..") && !path.starts_with('/') && path.len() < 200
}

/// `GET /pw` → `/pw/` (the page loads its files by relative URL).
#[tracing::instrument(skip_all)]
pub async fn redirect_page() -> Redirect {
    Redirect::permanent("/pw/")
}

/// `GET /pw/?appId=…`: the page, framable by the server's origins plus the entity's.
#[tracing::instrument(skip_all)]
pub async fn get_page_index(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let pairs = match paging::parse_query(raw.as_deref()) {
        Ok(pairs) => pairs,
        Err(e) => return HttpError(e).into_response(),
    };
    let mut ancestors = s.frame_ancestors.clone();
    if let Some(app_id) = paging::get(&pairs, "appId") {
        ancestors.extend(s.lk.frame_ancestors_for_app(app_id).await);
    }
    asset(
        WebAssets::get("pw/index.html"),
        "index.html",
        &[("content-security-policy", page_csp(&ancestors))],
    )
}

/// `GET /pw/{file}`.
#[tracing::instrument(skip_all)]
pub async fn get_page_file(
    State(s): State<AppState>,
    PathParam(file): PathParam<String>,
) -> Response {
    if !safe(&file) {
        return not_found();
    }
    let embedded = if file == "questions.json" {
        WebAssets::get("questions.json")
    } else {
        WebAssets::get(&format!("pw/{file}"))
    };
    asset(
        embedded,
        &file,
        &[("content-security-policy", page_csp(&s.frame_ancestors))],
    )
}

/// `GET /sdk/{file}`: importable from any origin.
#[tracing::instrument(skip_all)]
pub async fn get_sdk_file(PathParam(file): PathParam<String>) -> Response {
    if !safe(&file) {
        return not_found();
    }
    asset(
        SdkAssets::get(&file),
        &file,
        &[("access-control-allow-origin", "*".to_string())],
    )
}

/// `GET /sample` and `/sample/`.
#[tracing::instrument(skip_all)]
pub async fn get_sample_index() -> Response {
    get_sample_file(PathParam("index.html".to_string())).await
}

/// `GET /sample/{file}`.
#[tracing::instrument(skip_all)]
pub async fn get_sample_file(PathParam(file): PathParam<String>) -> Response {
    if !safe(&file) {
        return not_found();
    }
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
               frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    asset(
        WebAssets::get(&format!("sample/{file}")),
        &file,
        &[("content-security-policy", csp.to_string())],
    )
}

/// `GET /`: newcomers land on the sample app.
#[tracing::instrument(skip_all)]
pub async fn get_root() -> Redirect {
    Redirect::temporary("/sample/")
}
