//! Developer endpoints (API key): entity config, users, user tokens.

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody};
use crate::paging::{self, Pairs};
use crate::render;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::store::UserFilter;
use latchkey_core::ApiError;
use serde::Deserialize;
use serde_json::json;

/// `POST /v1/w3s/users` and `POST /v1/w3s/users/token` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdRequest {
    user_id: String,
}

/// `GET /v1/w3s/config/entity`.
pub async fn get_entity_config(
    State(s): State<AppState>,
    Developer(caller): Developer,
) -> HttpResult<Response> {
    let entity = s.lk.entity(&caller).await?;
    Ok(Json(json!({ "data": { "appId": entity.app_id } })).into_response())
}

/// `POST /v1/w3s/users`.
pub async fn create_user(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UserIdRequest>,
) -> HttpResult<Response> {
    let user = s.lk.create_user(&caller, &body.value.user_id).await?;
    let now = s.lk.now();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": render::end_user(&user, now) })),
    )
        .into_response())
}

/// `GET /v1/w3s/users/{id}`.
pub async fn get_user(
    State(s): State<AppState>,
    Developer(caller): Developer,
    Path(user_id): Path<String>,
) -> HttpResult<Response> {
    let user = s.lk.get_user(&caller, &user_id).await?;
    Ok(Json(json!({ "data": { "user": render::end_user(&user, s.lk.now()) } })).into_response())
}

fn status_filter(pairs: &Pairs, name: &str) -> Result<Option<String>, ApiError> {
    match paging::get(pairs, name) {
        None => Ok(None),
        Some(v @ ("ENABLED" | "UNSET" | "LOCKED")) => Ok(Some(v.to_string())),
        Some(_) => Err(ApiError::invalid_field(
            name,
            "invalid",
            format!("{name} must be ENABLED, UNSET or LOCKED"),
        )),
    }
}

/// `GET /v1/w3s/users`.
pub async fn list_users(
    State(s): State<AppState>,
    Developer(caller): Developer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<Response> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let filter = UserFilter {
        pin_status: status_filter(&pairs, "pinStatus")?,
        security_question_status: status_filter(&pairs, "securityQuestionStatus")?,
    };
    // Users are paged by the developer's userId (5–50 characters), not by a UUID.
    let query = paging::page_query(&pairs, |c| (1..=50).contains(&c.chars().count()))?;
    let page = s.lk.list_users(&caller, &filter, &query).await?;
    let now = s.lk.now();
    let users: Vec<_> = page
        .items
        .iter()
        .map(|u| render::end_user(u, now))
        .collect();
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        "/v1/w3s/users",
        &pairs,
        page.items.first().map(|u| u.user_id.as_str()),
        page.items.last().map(|u| u.user_id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(json!({ "data": { "users": users } })),
    )
        .into_response())
}

/// `POST /v1/w3s/users/token`.
pub async fn create_user_token(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UserIdRequest>,
) -> HttpResult<Response> {
    let issued = s.lk.issue_token(&caller, &body.value.user_id).await?;
    Ok(Json(json!({
        "data": { "userToken": issued.user_token, "encryptionKey": issued.encryption_key }
    }))
    .into_response())
}
