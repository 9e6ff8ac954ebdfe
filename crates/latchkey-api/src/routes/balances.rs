//! A wallet's token balances: `GET /v1/w3s/wallets/{id}/balances` (API key + `X-User-Token`,
//! the token's user's wallets only), read from the wallet's chain on every call. `/nfts`
//! waits for the chain follower and still answers from `unimplemented`.

use super::tokens::Token;
use crate::error::HttpResult;
use crate::extract::{DeveloperUser, PathParam};
use crate::paging::{self, Pairs};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_core::money::{Balance, BalanceQuery};
use latchkey_core::{rules, ApiError};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_wallet_balances))
}

/// Circle's `TokenStandard` values (the query accepts each; the NFT ones match nothing here).
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

/// The query of `GET /v1/w3s/wallets/{id}/balances` (documentation of what the handler
/// parses).
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
    /// The page before this token id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this token id (a UUID, else 156014).
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
