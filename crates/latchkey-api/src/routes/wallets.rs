//! Wallets (API key + `X-User-Token`): list, read, rename.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody, PathParam};
use crate::paging;
use crate::render::Wallet;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_core::rules;
use latchkey_core::store::WalletFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_wallets))
        .routes(routes!(get_wallet, update_wallet))
}

/// `{"data": {"wallets": [Wallet]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletsResponse {
    /// The envelope.
    pub data: WalletsData,
}

/// A page of wallets.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletsData {
    /// The page.
    pub wallets: Vec<Wallet>,
}

/// `{"data": {"wallet": Wallet}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletResponse {
    /// The envelope.
    pub data: WalletData,
}

/// One wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletData {
    /// The wallet.
    pub wallet: Wallet,
}

/// The query of `GET /v1/w3s/wallets`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct ListWalletsQuery {
    /// Only this address.
    pub address: Option<String>,
    /// Only this blockchain.
    pub blockchain: Option<String>,
    /// Only this reference.
    pub refId: Option<String>,
    /// Only this wallet set.
    pub walletSetId: Option<String>,
    /// Only SCA wallets of this SCA version (latchkey's is `latchkey_safe_v141_4337_v030`).
    pub scaCore: Option<String>,
    /// Created at or after (RFC 3339); after `to` gives an empty page.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Created at or before (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The page before this wallet id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this wallet id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 10.
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
    /// `ASC` or `DESC` (default).
    #[param(inline, value_type = Option<crate::paging::SortOrder>)]
    pub order: Option<String>,
}

/// `GET /v1/w3s/wallets`.
#[utoipa::path(get, path = "/v1/w3s/wallets", tag = "wallets", operation_id = "listWallets",
    security(("apiKey" = [], "userToken" = [])), params(ListWalletsQuery),
    responses((status = 200, description = "A page of the user's wallets.", body = WalletsResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev.")))))]
#[tracing::instrument(skip_all)]
pub async fn list_wallets(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let filter = WalletFilter {
        address: paging::get(&pairs, "address").map(str::to_string),
        blockchain: paging::get(&pairs, "blockchain").map(str::to_string),
        ref_id: paging::get(&pairs, "refId").map(str::to_string),
        wallet_set_id: paging::get(&pairs, "walletSetId").map(str::to_string),
        sca_core: paging::get(&pairs, "scaCore").map(str::to_string),
    };
    let query = paging::page_query(&pairs, rules::is_uuid)?;
    let page = s.lk.list_wallets(&session, &filter, &query).await?;
    let wallets = page.items.iter().map(Wallet::new).collect();
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        "/v1/w3s/wallets",
        &pairs,
        page.items.first().map(|w| w.id.as_str()),
        page.items.last().map(|w| w.id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(WalletsResponse {
            data: WalletsData { wallets },
        }),
    ))
}

/// `GET /v1/w3s/wallets/{id}`.
#[utoipa::path(get, path = "/v1/w3s/wallets/{id}", tag = "wallets", operation_id = "getWallet",
    security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Wallet id.")),
    responses((status = 200, description = "The wallet.", body = WalletResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_wallet(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
) -> HttpResult<Json<WalletResponse>> {
    let w = s.lk.get_wallet(&session, &id).await?;
    Ok(Json(WalletResponse {
        data: WalletData {
            wallet: Wallet::new(&w),
        },
    }))
}

/// Body of `PUT /v1/w3s/wallets/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWalletRequest {
    /// New display name (at most 255 characters).
    #[serde(default)]
    #[schema(max_length = 255)]
    name: Option<String>,
    /// New reference (at most 255 characters).
    #[serde(default)]
    #[schema(max_length = 255)]
    ref_id: Option<String>,
}

/// `PUT /v1/w3s/wallets/{id}`.
#[utoipa::path(put, path = "/v1/w3s/wallets/{id}", tag = "wallets", operation_id = "updateWallet",
    security(("apiKey" = [], "userToken" = [])), request_body = UpdateWalletRequest,
    params(("id" = String, Path, description = "Wallet id.")),
    responses((status = 200, description = "The renamed wallet.", body = WalletResponse)))]
#[tracing::instrument(skip_all)]
pub async fn update_wallet(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    body: JsonBody<UpdateWalletRequest>,
) -> HttpResult<Json<WalletResponse>> {
    let w =
        s.lk.update_wallet(
            &session,
            &id,
            body.value.name.as_deref(),
            body.value.ref_id.as_deref(),
        )
        .await?;
    Ok(Json(WalletResponse {
        data: WalletData {
            wallet: Wallet::new(&w),
        },
    }))
}
