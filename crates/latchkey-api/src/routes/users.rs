//! Developer user management (API key): create, list and read users, issue user tokens.

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody, PathParam};
use crate::paging::{self, Pairs};
use crate::render::EndUser;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use latchkey_core::store::UserFilter;
use latchkey_core::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(create_user_token))
        .routes(routes!(get_user))
}

/// `POST /v1/w3s/users` and `POST /v1/w3s/users/token` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdRequest {
    /// The developer's user id: 5–50 characters, no control characters.
    #[schema(min_length = 5, max_length = 50, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    user_id: String,
}

/// `{"data": EndUser}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndUserResponse {
    /// The envelope.
    pub data: EndUser,
}

/// `{"data": {"user": EndUser}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// The envelope.
    pub data: UserData,
}

/// One user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserData {
    /// The user.
    pub user: EndUser,
}

/// `{"data": {"users": [EndUser]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersResponse {
    /// The envelope.
    pub data: UsersData,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersData {
    /// The page.
    pub users: Vec<EndUser>,
}

/// `{"data": {"userToken", "encryptionKey"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserTokenResponse {
    /// The envelope.
    pub data: UserToken,
}

/// A fresh user token (valid 60 minutes) and the key the end user's side encrypts with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserToken {
    /// The token, sent as `X-User-Token`.
    pub user_token: String,
    /// Base64 key the end user's side encrypts challenge inputs with.
    pub encryption_key: String,
}

/// A PIN or security-question status to filter users by.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub enum UserStatusFilter {
    /// Set up and usable.
    Enabled,
    /// Not set up yet.
    Unset,
    /// Locked after too many wrong guesses.
    Locked,
}

/// The query of `GET /v1/w3s/users` (documentation of what the handler parses).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct ListUsersQuery {
    /// `ENABLED`, `UNSET` or `LOCKED`.
    #[param(inline, value_type = Option<UserStatusFilter>)]
    pub pinStatus: Option<String>,
    /// `ENABLED`, `UNSET` or `LOCKED`.
    #[param(inline, value_type = Option<UserStatusFilter>)]
    pub securityQuestionStatus: Option<String>,
    /// Created at or after (RFC 3339); after `to` gives an empty page.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Created at or before (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The page before this user id (1–50 characters, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this user id (1–50 characters, else 156014).
    #[param(min_length = 1)]
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 10.
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
    /// `ASC` or `DESC` (default).
    #[param(inline, value_type = Option<crate::paging::SortOrder>)]
    pub order: Option<String>,
}

/// `POST /v1/w3s/users`.
#[utoipa::path(post, path = "/v1/w3s/users", tag = "users", operation_id = "createUser",
    security(("apiKey" = [])), request_body = UserIdRequest,
    responses((status = 201, description = "The new user.", body = EndUserResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_user(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UserIdRequest>,
) -> HttpResult<impl IntoResponse> {
    let user = s.lk.create_user(&caller, &body.value.user_id).await?;
    let now = s.lk.now();
    Ok((
        StatusCode::CREATED,
        Json(EndUserResponse {
            data: EndUser::new(&user, now),
        }),
    ))
}

/// `GET /v1/w3s/users/{id}`.
#[utoipa::path(get, path = "/v1/w3s/users/{id}", tag = "users", operation_id = "getUser",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The developer's user id.")),
    responses((status = 200, description = "The user.", body = UserResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_user(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(user_id): PathParam<String>,
) -> HttpResult<Json<UserResponse>> {
    let user = s.lk.get_user(&caller, &user_id).await?;
    Ok(Json(UserResponse {
        data: UserData {
            user: EndUser::new(&user, s.lk.now()),
        },
    }))
}

fn status_filter(pairs: &Pairs, name: &str) -> Result<Option<String>, ApiError> {
    match paging::constrained(pairs, name)? {
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
#[utoipa::path(get, path = "/v1/w3s/users", tag = "users", operation_id = "listUsers",
    security(("apiKey" = [])), params(ListUsersQuery),
    responses((status = 200, description = "A page of users.", body = UsersResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev.")))))]
#[tracing::instrument(skip_all)]
pub async fn list_users(
    State(s): State<AppState>,
    Developer(caller): Developer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let filter = UserFilter {
        pin_status: status_filter(&pairs, "pinStatus")?,
        security_question_status: status_filter(&pairs, "securityQuestionStatus")?,
    };
    // Users are paged by the developer's userId (5–50 characters), not by a UUID.
    let query = paging::page_query(&pairs, |c| (1..=50).contains(&c.chars().count()))?;
    let page = s.lk.list_users(&caller, &filter, &query).await?;
    let now = s.lk.now();
    let users = page.items.iter().map(|u| EndUser::new(u, now)).collect();
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
        Json(UsersResponse {
            data: UsersData { users },
        }),
    ))
}

/// `POST /v1/w3s/users/token`.
#[utoipa::path(post, path = "/v1/w3s/users/token", tag = "users", operation_id = "createUserToken",
    security(("apiKey" = [])), request_body = UserIdRequest,
    responses((status = 200, description = "A token for the user.", body = UserTokenResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_user_token(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UserIdRequest>,
) -> HttpResult<Json<UserTokenResponse>> {
    let issued = s.lk.issue_token(&caller, &body.value.user_id).await?;
    Ok(Json(UserTokenResponse {
        data: UserToken {
            user_token: issued.user_token,
            encryption_key: issued.encryption_key,
        },
    }))
}
