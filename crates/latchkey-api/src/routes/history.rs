//! Transaction history: `GET /v1/w3s/transactions` and `/transactions/{id}` (API key +
//! `X-User-Token`, the token's user only) and `/transactions/lowestNonceTransaction` (API key
//! only, entity-wide). Every transaction goes out as `money::TransactionView`.

use crate::error::HttpResult;
use crate::extract::{Developer, DeveloperUser, PathParam};
use crate::paging::{self, Pairs};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_chains::Blockchain;
use latchkey_core::money::{
    FeeInfo, TransactionFilter, TransactionQuery, TransactionView, TxOperation, TxState, TxType,
    WalletSelector,
};
use latchkey_core::{rules, ApiError};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes. `/transactions/lowestNonceTransaction` is a static segment, which
/// axum matches before `/transactions/{id}` whatever the registration order.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_transactions))
        .routes(routes!(get_lowest_nonce_transaction))
        .routes(routes!(get_transaction))
}

/// `{"data": {"transactions": [Transaction]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsResponse {
    /// The envelope.
    pub data: TransactionsData,
}

/// A page of transactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsData {
    /// The page.
    pub transactions: Vec<TransactionView>,
}

/// `{"data": {"transaction": Transaction}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionResponse {
    /// The envelope.
    pub data: TransactionData,
}

/// One transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionData {
    /// The transaction.
    pub transaction: TransactionView,
}

/// `{"data": {"transaction": Transaction, "feeInfo": …}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowestNonceResponse {
    /// The envelope.
    pub data: LowestNonceData,
}

/// The lowest-nonce transaction and what accelerating it would cost now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LowestNonceData {
    /// The transaction.
    pub transaction: TransactionView,
    /// Left out only when the chain could not be priced (its node unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_info: Option<FeeInfo>,
}

/// The query of `GET /v1/w3s/transactions` (documentation of what the handler parses).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct ListTransactionsQuery {
    /// Only this blockchain (Circle's name, e.g. `MATIC-AMOY`; else code 2).
    #[param(schema_with = paging::blockchain_names)]
    pub blockchain: Option<String>,
    /// Only to this address.
    #[param(min_length = 1)]
    pub destinationAddress: Option<String>,
    /// `true`: also transactions of tokens outside the monitored set.
    pub includeAll: Option<bool>,
    /// Only this operation.
    #[param(inline, value_type = Option<TxOperation>)]
    pub operation: Option<String>,
    /// Only this state.
    #[param(inline, value_type = Option<TxState>)]
    pub state: Option<String>,
    /// Only this transaction hash.
    #[param(min_length = 1)]
    pub txHash: Option<String>,
    /// Only this direction; also shows `estimatedFee` and `feeLevel` in the list.
    #[param(inline, value_type = Option<TxType>)]
    pub txType: Option<String>,
    /// The SDK sends it: the token's own user (another userId gives an empty page).
    #[param(min_length = 1)]
    pub userId: Option<String>,
    /// Only these wallets (comma-separated ids).
    #[param(min_length = 1)]
    pub walletIds: Option<String>,
    /// Created at or after (RFC 3339); after `to` gives an empty page.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Created at or before (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The page before this transaction id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageBefore: Option<String>,
    /// The page after this transaction id (a UUID, else 156014).
    #[param(min_length = 1)]
    pub pageAfter: Option<String>,
    /// 1 to 50 (larger is clamped), default 10.
    #[param(minimum = 1)]
    pub pageSize: Option<i64>,
    /// `ASC` or `DESC` (default).
    #[param(inline, value_type = Option<crate::paging::SortOrder>)]
    pub order: Option<String>,
}

/// The query of `GET /v1/w3s/transactions/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct GetTransactionQuery {
    /// The transaction must be of this direction (else 156003).
    #[param(inline, value_type = Option<TxType>)]
    pub txType: Option<String>,
}

/// The query of `GET /v1/w3s/transactions/lowestNonceTransaction`: `walletId`, or
/// `address` and `blockchain`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, style = Form)]
#[allow(non_snake_case)]
pub struct LowestNonceQuery {
    /// The wallet's blockchain (required with `address`).
    #[param(schema_with = paging::blockchain_names)]
    pub blockchain: Option<String>,
    /// The wallet's address.
    #[param(min_length = 1)]
    pub address: Option<String>,
    /// The wallet's id.
    #[param(min_length = 1)]
    pub walletId: Option<String>,
}

/// A closed-set query value, parsed with `parse`; anything else is code 2 naming `name`.
fn enum_param<T>(
    pairs: &Pairs,
    name: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    paging::constrained(pairs, name)?
        .map(|v| {
            parse(v).ok_or_else(|| {
                ApiError::invalid_field(name, "invalid", format!("{name} must be {allowed}"))
            })
        })
        .transpose()
}

fn blockchain_param(pairs: &Pairs) -> Result<Option<Blockchain>, ApiError> {
    enum_param(
        pairs,
        "blockchain",
        Blockchain::parse,
        "one of Circle's blockchain names",
    )
}

fn tx_type_param(pairs: &Pairs) -> Result<Option<TxType>, ApiError> {
    enum_param(pairs, "txType", TxType::parse, "INBOUND or OUTBOUND")
}

fn list_query(pairs: &Pairs) -> Result<TransactionQuery, ApiError> {
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
    let wallet_ids = paging::constrained(pairs, "walletIds")?
        .map(|csv| {
            csv.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|ids| !ids.is_empty());
    Ok(TransactionQuery {
        filter: TransactionFilter {
            blockchain: blockchain_param(pairs)?,
            destination_address: paging::constrained(pairs, "destinationAddress")?
                .map(String::from),
            operation: enum_param(
                pairs,
                "operation",
                TxOperation::parse,
                "TRANSFER or CONTRACT_EXECUTION",
            )?,
            state: enum_param(pairs, "state", TxState::parse, "a TransactionState")?,
            tx_hash: paging::constrained(pairs, "txHash")?.map(String::from),
            tx_type: tx_type_param(pairs)?,
            wallet_ids,
            visible_token_ids: None,
        },
        include_all,
        user_id: paging::constrained(pairs, "userId")?.map(String::from),
    })
}

/// `GET /v1/w3s/transactions`.
#[utoipa::path(get, path = "/v1/w3s/transactions", tag = "transactions",
    operation_id = "listTransactions", security(("apiKey" = [], "userToken" = [])),
    params(ListTransactionsQuery),
    responses((status = 200, description = "A page of the user's transactions, newest first.",
        body = TransactionsResponse,
        headers(("link" = String, description = "RFC 8288 links: self, first, next, prev.")))))]
#[tracing::instrument(skip_all)]
pub async fn list_transactions(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HttpResult<impl IntoResponse> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let query = list_query(&pairs)?;
    let page_query = paging::page_query(&pairs, rules::is_uuid)?;
    let page =
        s.lk.list_transactions(&session, &query, &page_query)
            .await?;
    let with_fee = query.filter.tx_type.is_some();
    let transactions = page
        .items
        .iter()
        .map(|t| {
            let v = TransactionView::new(t);
            if with_fee {
                v
            } else {
                v.without_fee()
            }
        })
        .collect();
    let link = paging::link_header(
        &paging::base_url(s.public_url.as_deref(), &headers),
        "/v1/w3s/transactions",
        &pairs,
        page.items.first().map(|t| t.id.as_str()),
        page.items.last().map(|t| t.id.as_str()),
        page.has_next,
        page.has_prev,
    );
    Ok((
        [("link", link)],
        Json(TransactionsResponse {
            data: TransactionsData { transactions },
        }),
    ))
}

/// `GET /v1/w3s/transactions/{id}`.
#[utoipa::path(get, path = "/v1/w3s/transactions/{id}", tag = "transactions",
    operation_id = "getTransaction", security(("apiKey" = [], "userToken" = [])),
    params(("id" = String, Path, description = "Transaction id (a UUID, else 156009)."),
        GetTransactionQuery),
    responses((status = 200, description = "The transaction.", body = TransactionResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_transaction(
    State(s): State<AppState>,
    DeveloperUser(_, session): DeveloperUser,
    PathParam(id): PathParam<String>,
    RawQuery(raw): RawQuery,
) -> HttpResult<Json<TransactionResponse>> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let tx_type = tx_type_param(&pairs)?;
    let t = s.lk.get_transaction(&session, &id, tx_type).await?;
    Ok(Json(TransactionResponse {
        data: TransactionData {
            transaction: TransactionView::new(&t),
        },
    }))
}

fn wallet_selector(pairs: &Pairs) -> Result<WalletSelector, ApiError> {
    let blockchain = blockchain_param(pairs)?;
    match (
        paging::constrained(pairs, "walletId")?,
        paging::constrained(pairs, "address")?,
    ) {
        (Some(_), Some(_)) => Err(ApiError::missing_one_of(
            "address",
            "walletId, or address and blockchain",
            "not both",
        )),
        (Some(id), None) => Ok(WalletSelector::Id {
            wallet_id: id.to_string(),
            blockchain,
        }),
        (None, Some(address)) => match blockchain {
            Some(blockchain) => Ok(WalletSelector::Address {
                address: address.to_string(),
                blockchain,
            }),
            None => Err(ApiError::missing_one_of(
                "blockchain",
                "walletId, or address and blockchain",
                "blockchain is missing",
            )),
        },
        (None, None) => Err(ApiError::missing_one_of(
            "walletId",
            "walletId, or address and blockchain",
            "",
        )),
    }
}

/// `GET /v1/w3s/transactions/lowestNonceTransaction`.
#[utoipa::path(get, path = "/v1/w3s/transactions/lowestNonceTransaction", tag = "transactions",
    operation_id = "getLowestNonceTransaction", security(("apiKey" = [])),
    description = "Names the wallet with `walletId`, or with `address` and `blockchain`, not \
        both: any other combination is refused with code 2 (\"walletId, or address and \
        blockchain, is required\"), a rule between parameters the schema cannot state.",
    params(LowestNonceQuery),
    responses((status = 200,
        description = "The wallet's lowest-nonce outbound transaction in QUEUED, SENT or STUCK \
            (156003 when there is none), and `feeInfo`: the fee an acceleration would sign \
            with now and how much more it costs than the pending attempt.",
        body = LowestNonceResponse)))]
#[tracing::instrument(skip_all)]
pub async fn get_lowest_nonce_transaction(
    State(s): State<AppState>,
    Developer(caller): Developer,
    RawQuery(raw): RawQuery,
) -> HttpResult<Json<LowestNonceResponse>> {
    let pairs = paging::parse_query(raw.as_deref())?;
    let wallet = wallet_selector(&pairs)?;
    let (t, fee_info) = s.lk.lowest_nonce_transaction(&caller, &wallet).await?;
    Ok(Json(LowestNonceResponse {
        data: LowestNonceData {
            transaction: TransactionView::new(&t),
            fee_info,
        },
    }))
}
