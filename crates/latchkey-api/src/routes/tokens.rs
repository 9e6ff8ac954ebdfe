//! Token lookup (`GET /v1/w3s/tokens/{id}`) and the entity's monitored tokens
//! (`/v1/w3s/config/entity/monitoredTokens…`), all with the API key alone. The monitored list
//! belongs to the key's entity and environment.

use crate::error::HttpResult;
use crate::extract::{Developer, JsonBody, PathParam};
use crate::paging;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_chains::Blockchain;
use latchkey_core::money::monitored::MAX_TOKEN_IDS;
use latchkey_core::money::{MonitorScope, MonitoredTokens, TokenListFilter, TokenRecord};
use latchkey_core::{rules, ApiError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_token))
        .routes(routes!(
            create_monitored_tokens,
            update_monitored_tokens,
            list_monitored_tokens
        ))
        .routes(routes!(delete_monitored_tokens))
        .routes(routes!(update_monitored_tokens_scope))
}

/// Circle's `Token` (balances, transactions and webhooks show the same object).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// Token id (UUID).
    pub id: String,
    /// Circle's blockchain name.
    pub blockchain: String,
    /// The contract address; absent for a native coin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_address: Option<String>,
    /// `ERC20`, `ERC721`, `ERC1155`, `Fungible`, `FungibleAsset`; absent for a native coin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    /// The token's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The token's symbol, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Decimal places of amounts, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// The chain's native coin.
    pub is_native: bool,
    /// Creation time (ISO-8601).
    pub create_date: String,
    /// Last change (ISO-8601).
    pub update_date: String,
}

impl Token {
    /// The record on the wire.
    pub fn new(t: &TokenRecord) -> Self {
        Self {
            id: t.id.clone(),
            blockchain: t.blockchain.as_str().into(),
            token_address: t.token_address.clone(),
            standard: t.standard.map(|s| s.as_str().into()),
            name: t.name.clone(),
            symbol: t.symbol.clone(),
            decimals: t.decimals,
            is_native: t.is_native,
            create_date: t.created_at.iso(),
            update_date: t.updated_at.iso(),
        }
    }
}

/// `{"data": {"token": Token}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The envelope.
    pub data: TokenData,
}

/// One token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenData {
    /// The token.
    pub token: Token,
}

/// `GET /v1/w3s/tokens/{id}`.
#[utoipa::path(get, path = "/v1/w3s/tokens/{id}", tag = "tokens", operation_id = "getToken",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Token id (UUID; an old id Circle replaced resolves too).")),
    responses((status = 200, description = "The token.", body = TokenResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_token(
    State(s): State<AppState>,
    Developer(caller): Developer,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<TokenResponse>> {
    let t = s.lk.get_token(&caller, &id).await?;
    Ok(Json(TokenResponse {
        data: TokenData {
            token: Token::new(&t),
        },
    }))
}

/// `SELECTED` or `MONITOR_ALL`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenMonitorScope {
    /// Only the monitored tokens are shown by default.
    Selected,
    /// Every token is shown.
    MonitorAll,
}

impl From<MonitorScope> for TokenMonitorScope {
    fn from(s: MonitorScope) -> Self {
        match s {
            MonitorScope::Selected => TokenMonitorScope::Selected,
            MonitorScope::MonitorAll => TokenMonitorScope::MonitorAll,
        }
    }
}

impl From<TokenMonitorScope> for MonitorScope {
    fn from(s: TokenMonitorScope) -> Self {
        match s {
            TokenMonitorScope::Selected => MonitorScope::Selected,
            TokenMonitorScope::MonitorAll => MonitorScope::MonitorAll,
        }
    }
}

/// `{"data": {"scope", "tokens"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoredTokensResponse {
    /// The envelope.
    pub data: MonitoredTokensData,
}

/// The scope and (a page of) the monitored tokens, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoredTokensData {
    /// The scope.
    pub scope: TokenMonitorScope,
    /// The tokens.
    pub tokens: Vec<Token>,
}

impl MonitoredTokensResponse {
    fn new(scope: MonitorScope, tokens: &[TokenRecord]) -> Self {
        Self {
            data: MonitoredTokensData {
                scope: scope.into(),
                tokens: tokens.iter().map(Token::new).collect(),
            },
        }
    }

    fn whole(list: &MonitoredTokens) -> Self {
        Self::new(list.scope, &list.tokens)
    }
}

/// Body of `POST …/monitoredTokens` and `POST …/monitoredTokens/delete`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenIdsRequest {
    /// Token ids (UUIDs of tokens latchkey knows, else 156002).
    #[schema(schema_with = token_ids)]
    token_ids: Vec<String>,
}

/// Body of `PUT …/monitoredTokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMonitoredTokensRequest {
    /// The whole new list (none: empty).
    #[serde(default)]
    #[schema(schema_with = optional_token_ids)]
    token_ids: Option<Vec<String>>,
}

/// `tokenIds`: UUIDs, at most [`MAX_TOKEN_IDS`] (the document's view of what the service
/// checks).
fn token_id_list(nullable: bool) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, SchemaType, Type};
    let array = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::Type(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(array)
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("uuid".into()))),
        )
        .max_items(Some(MAX_TOKEN_IDS))
        .build()
}

fn token_ids() -> utoipa::openapi::schema::Array {
    token_id_list(false)
}

fn optional_token_ids() -> utoipa::openapi::schema::Array {
    token_id_list(true)
}

/// Body of `PUT …/monitoredTokens/scope`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateScopeRequest {
    /// The new scope.
    scope: TokenMonitorScope,
}

/// `POST /v1/w3s/config/entity/monitoredTokens`: adds tokens and sets the scope to SELECTED.
#[utoipa::path(post, path = "/v1/w3s/config/entity/monitoredTokens", tag = "monitored tokens",
    operation_id = "createMonitoredTokens", security(("apiKey" = [])),
    request_body = TokenIdsRequest,
    responses(
        (status = 201, description = "The list changed; the whole list.", body = MonitoredTokensResponse),
        (status = 200, description = "Nothing changed; the whole list.", body = MonitoredTokensResponse)))]
#[tracing::instrument(skip_all)]
pub async fn create_monitored_tokens(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<TokenIdsRequest>,
) -> HttpResult<impl IntoResponse> {
    let (changed, list) =
        s.lk.add_monitored_tokens(&caller, &body.value.token_ids)
            .await?;
    let status = if changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(MonitoredTokensResponse::whole(&list))))
}

/// `PUT /v1/w3s/config/entity/monitoredTokens`: replaces the list, scope SELECTED.
#[utoipa::path(put, path = "/v1/w3s/config/entity/monitoredTokens", tag = "monitored tokens",
    operation_id = "updateMonitoredTokens", security(("apiKey" = [])),
    request_body = UpdateMonitoredTokensRequest,
    responses((status = 200, description = "The whole new list.", body = MonitoredTokensResponse)))]
#[tracing::instrument(skip_all)]
pub async fn update_monitored_tokens(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UpdateMonitoredTokensRequest>,
) -> HttpResult<Json<MonitoredTokensResponse>> {
    let ids = body.value.token_ids.unwrap_or_default();
    let list = s.lk.replace_monitored_tokens(&caller, &ids).await?;
    Ok(Json(MonitoredTokensResponse::whole(&list)))
}

/// The query of `GET …/monitoredTokens`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct ListMonitoredTokensQuery {
    /// Only this blockchain.
    #[param(schema_with = paging::blockchain_names)]
    pub blockchain: Option<String>,
    /// Only the token at this address (hex addresses compared case-insensitively).
    pub tokenAddress: Option<String>,
    /// Only tokens with exactly this symbol.
    pub symbol: Option<String>,
    /// Added at or after (RFC 3339); after `to` gives an empty page.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Added at or before (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The page before this token id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this token id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 10.
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
    /// `ASC` or `DESC` (default).
    #[param(inline, value_type = Option<crate::paging::SortOrder>)]
    pub order: Option<String>,
}

/// `GET /v1/w3s/config/entity/monitoredTokens`: 204 with no body before any configuration.
#[utoipa::path(get, path = "/v1/w3s/config/entity/monitoredTokens", tag = "monitored tokens",
    operation_id = "listMonitoredTokens", security(("apiKey" = [])),
    params(ListMonitoredTokensQuery),
    responses(
        (status = 200, description = "The scope and a page of the list.", body = MonitoredTokensResponse,
            headers(("link" = String, description = "RFC 8288 links: self, first, next, prev."))),
        (status = 204, description = "Monitoring was never configured (every token is shown).")))]
#[tracing::instrument(skip_all)]
pub async fn list_monitored_tokens(
    State(s): State<AppState>,
    Developer(caller): Developer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<Response> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let blockchain = paging::constrained(&pairs, "blockchain")?
        .map(|b| {
            Blockchain::parse(b).ok_or_else(|| {
                ApiError::invalid_field(
                    "blockchain",
                    "invalid",
                    format!("blockchain must be one of Circle's blockchain names, not {b:?}"),
                )
            })
        })
        .transpose()?;
    let filter = TokenListFilter {
        blockchain,
        token_address: paging::get(&pairs, "tokenAddress").map(str::to_string),
        symbol: paging::get(&pairs, "symbol").map(str::to_string),
    };
    let query = paging::page_query(&pairs, rules::is_uuid)?;
    let Some((scope, page)) = s.lk.list_monitored_tokens(&caller, &filter, &query).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        "/v1/w3s/config/entity/monitoredTokens",
        &pairs,
        page.items.first().map(|t| t.id.as_str()),
        page.items.last().map(|t| t.id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(MonitoredTokensResponse::new(scope, &page.items)),
    )
        .into_response())
}

/// `POST /v1/w3s/config/entity/monitoredTokens/delete`: 200, no body.
#[utoipa::path(post, path = "/v1/w3s/config/entity/monitoredTokens/delete",
    tag = "monitored tokens", operation_id = "deleteMonitoredTokens", security(("apiKey" = [])),
    request_body = TokenIdsRequest,
    responses((status = 200, description = "Removed (tokens not in the list are ignored).")))]
#[tracing::instrument(skip_all)]
pub async fn delete_monitored_tokens(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<TokenIdsRequest>,
) -> HttpResult<StatusCode> {
    s.lk.delete_monitored_tokens(&caller, &body.value.token_ids)
        .await?;
    Ok(StatusCode::OK)
}

/// `PUT /v1/w3s/config/entity/monitoredTokens/scope`: 200, no body.
#[utoipa::path(put, path = "/v1/w3s/config/entity/monitoredTokens/scope",
    tag = "monitored tokens", operation_id = "updateMonitoredTokensScope",
    security(("apiKey" = [])), request_body = UpdateScopeRequest,
    responses((status = 200, description = "The scope is set.")))]
#[tracing::instrument(skip_all)]
pub async fn update_monitored_tokens_scope(
    State(s): State<AppState>,
    Developer(caller): Developer,
    body: JsonBody<UpdateScopeRequest>,
) -> HttpResult<StatusCode> {
    s.lk.set_monitor_scope(&caller, body.value.scope.into())
        .await?;
    Ok(StatusCode::OK)
}
