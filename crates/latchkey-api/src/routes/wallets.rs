//! Wallets (API key + `X-User-Token`): list, read, rename.

use crate::error::HttpResult;
use crate::extract::{DeveloperUser, JsonBody};
use crate::paging;
use crate::render;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::rules;
use latchkey_core::store::WalletFilter;
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/w3s/wallets`.
pub async fn list_wallets(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<Response> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let filter = WalletFilter {
        address: paging::get(&pairs, "address").map(str::to_string),
        blockchain: paging::get(&pairs, "blockchain").map(str::to_string),
        ref_id: paging::get(&pairs, "refId").map(str::to_string),
        wallet_set_id: paging::get(&pairs, "walletSetId").map(str::to_string),
    };
    let query = paging::page_query(&pairs, rules::is_uuid)?;
    let page = s.lk.list_wallets(&session, &filter, &query).await?;
    let wallets: Vec<_> = page.items.iter().map(render::wallet).collect();
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
        Json(json!({ "data": { "wallets": wallets } })),
    )
        .into_response())
}

/// `GET /v1/w3s/wallets/{id}`.
pub async fn get_wallet(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let w = s.lk.get_wallet(&session, &id).await?;
    Ok(Json(json!({ "data": { "wallet": render::wallet(&w) } })).into_response())
}

/// Body of `PUT /v1/w3s/wallets/{id}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWalletRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    ref_id: Option<String>,
}

/// `PUT /v1/w3s/wallets/{id}`.
pub async fn update_wallet(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    Path(id): Path<String>,
    body: JsonBody<UpdateWalletRequest>,
) -> HttpResult<Response> {
    let w =
        s.lk.update_wallet(
            &session,
            &id,
            body.value.name.as_deref(),
            body.value.ref_id.as_deref(),
        )
        .await?;
    Ok(Json(json!({ "data": { "wallet": render::wallet(&w) } })).into_response())
}
