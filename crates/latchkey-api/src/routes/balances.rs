//! A wallet's token balances and NFTs: `GET /v1/w3s/wallets/{id}/balances` and
//! `GET /v1/w3s/wallets/{id}/nfts` (API key + `X-User-Token`, the token's user's wallets
//! only), read from the wallet's chain on every call, with the same filters and paging.

use super::tokens::Token;
use crate::error::HttpResult;
use crate::extract::{DeveloperUser, PathParam};
use crate::paging::{self, Pairs};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_core::money::{Balance, BalanceQuery, Nft};
use latchkey_core::{rules, ApiError};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_wallet_balances))
        .routes(routes!(list_wallet_nfts))
}

/// Circle's `TokenStandard` values (both routes accept each; on `/balances` the NFT ones
/// match nothing, on `/nfts` only `ERC721` and `ERC1155` match something).
pub const TOKEN_STANDARDS: &[&str] = &[
    "ERC20",
    "ERC721",
    "ERC1155",
    "Fungible",
    "FungibleAsset",
    "NonFungible",
    "NonFungibleEdition",
    "ProgrammableNonFungible",
    "ProgrammableNonFungibleEdition",
];

/// `{"data": {"tokenBalances": [Balance]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalancesResponse {
    /// The envelope.
    pub data: BalancesData,
}

/// A page of balances.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalancesData {
    /// The page: native coin first, then Circle's seeded tokens, then the tokens the wallet
    /// touched, oldest first; zero balances are left out.
    pub token_balances: Vec<TokenBalance>,
}

/// Circle's `Balance`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenBalance {
    /// The token.
    pub token: Token,
    /// Whole units, exact (`"20"`, `"0.01"`).
    pub amount: String,
    /// When the chain was read (ISO-8601).
    pub update_date: String,
}

impl TokenBalance {
    fn new(b: &Balance) -> Self {
        Self {
            token: Token::new(&b.token),
            amount: b.amount.clone(),
            update_date: b.updated_at.iso(),
        }
    }
}

/// `{"data": {"nfts": [Nft]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NftsResponse {
    /// The envelope.
    pub data: NftsData,
}

/// A page of NFTs.
#[derive(Debug, Serialize, ToSchema)]
pub struct NftsData {
    /// The page, in order of the NFTs' first transfer recorded for the wallet; NFTs it no
    /// longer holds are left out.
    pub nfts: Vec<NftHolding>,
}

/// Circle's `Nft`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NftHolding {
    /// How many the wallet holds: `"1"` for ERC-721, a count for ERC-1155.
    pub amount: String,
    /// The token's metadata URI (`tokenURI` / `uri`), when its contract offers one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// The NFT's id, in decimal.
    pub nft_token_id: String,
    /// The collection.
    pub token: Token,
    /// When the chain was read (ISO-8601).
    pub update_date: String,
}

impl NftHolding {
    fn new(n: &Nft) -> Self {
        Self {
            amount: n.amount.clone(),
            metadata: n.metadata.clone(),
            nft_token_id: n.nft_token_id.clone(),
            token: Token::new(&n.token),
            update_date: n.updated_at.iso(),
        }
    }
}

/// The query of `GET /v1/w3s/wallets/{id}/balances` and `/nfts` (documentation of what the
/// handlers parse).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct ListBalancesQuery {
    /// `true`: also tokens outside the monitored set.
    pub includeAll: Option<bool>,
    /// Only tokens with exactly this name.
    #[param(min_length = 1)]
    pub name: Option<String>,
    /// Only tokens at these addresses (comma-separated).
    #[param(min_length = 1)]
    pub tokenAddress: Option<String>,
    /// Only this standard.
    #[param(schema_with = standard_names)]
    pub standard: Option<String>,
    /// The page before this item (a UUID, else 156014): a token id on `/balances`, the
    /// cursor of an NFT (in the `Link` header) on `/nfts`.
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this item (a UUID, else 156014), as `pageBefore`.
    #[param(min_length = 1)]
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 10.
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
}

/// The document's schema for `standard`: Circle's `TokenStandard` values.
fn standard_names() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(TOKEN_STANDARDS.to_vec()))
        .build()
}

fn balance_query(pairs: &Pairs) -> Result<BalanceQuery, ApiError> {
    let include_all = match paging::constrained(pairs, "includeAll")? {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "includeAll",
                "invalid",
                "includeAll must be true or false",
            ))
        }
    };
    let standard = paging::constrained(pairs, "standard")?
        .map(|s| {
            TOKEN_STANDARDS
                .contains(&s)
                .then(|| s.to_string())
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "standard",
                        "invalid",
                        format!("standard must be one of {}", TOKEN_STANDARDS.join(", ")),
                    )
                })
        })
        .transpose()?;
    let token_addresses = paging::constrained(pairs, "tokenAddress")?
        .map(|csv| {
            csv.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|list| !list.is_empty());
    Ok(BalanceQuery {
        include_all,
        name: paging::constrained(pairs, "name")?.map(String::from),
        token_addresses,
        standard,
    })
}

/// `GET /v1/w3s/wallets/{id}/balances`.
#[utoipa::path(get, path = "/v1/w3s/wallets/{id}/balances", tag = "wallets",
    operation_id = "getWalletTokenBalance", security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Wallet id."), ListBalancesQuery),
    responses((status = 200,
        description = "The wallet's non-zero balances, read from its chain now (156001 for a \
            wallet that is not the user's, 156027 when its chain has no node, 503 when the \
            node cannot be reached).",
        body = BalancesResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev."))),
        (status = 503, description = "The chain's node cannot be reached (code -1); retry.",
        body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_wallet_balances(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let query = balance_query(&pairs)?;
    let page_query = paging::page_query(&pairs, rules::is_uuid)?;
    let page =
        s.lk.wallet_balances(&session, &id, &query, &page_query)
            .await?;
    let path = format!("/v1/w3s/wallets/{id}/balances");
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        &path,
        &pairs,
        page.items.first().map(|b| b.token.id.as_str()),
        page.items.last().map(|b| b.token.id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(BalancesResponse {
            data: BalancesData {
                token_balances: page.items.iter().map(TokenBalance::new).collect(),
            },
        }),
    ))
}

/// `GET /v1/w3s/wallets/{id}/nfts`.
#[utoipa::path(get, path = "/v1/w3s/wallets/{id}/nfts", tag = "wallets",
    operation_id = "getWalletNFTBalance", security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Wallet id."), ListBalancesQuery),
    responses((status = 200,
        description = "The ERC-721 / ERC-1155 tokens the wallet holds: the NFTs of its \
            recorded transfers, with the amounts read from its chain now (156001 for a wallet \
            that is not the user's, 156027 when its chain has no node, 503 when the node cannot \
            be reached).",
        body = NftsResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev."))),
        (status = 503, description = "The chain's node cannot be reached (code -1); retry.",
        body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn list_wallet_nfts(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let query = balance_query(&pairs)?;
    let page_query = paging::page_query(&pairs, rules::is_uuid)?;
    let page = s.lk.wallet_nfts(&session, &id, &query, &page_query).await?;
    let path = format!("/v1/w3s/wallets/{id}/nfts");
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        &path,
        &pairs,
        page.items.first().map(|n| n.cursor.as_str()),
        page.items.last().map(|n| n.cursor.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(NftsResponse {
            data: NftsData {
                nfts: page.items.iter().map(NftHolding::new).collect(),
            },
        }),
    ))
}
