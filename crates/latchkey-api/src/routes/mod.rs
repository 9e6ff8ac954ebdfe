//! One file per resource, each exporting its `routes()` beside its handlers (named
//! `verb_resource`) and its `…Request` / `…Response` wire types.

pub mod balances;
pub mod dev;
pub mod end_user;
pub mod entity;
pub mod faucet;
pub mod fees;
pub mod history;
pub mod replacements;
pub mod sdk;
pub mod subscriptions;
pub mod tokens;
pub mod transactions;
pub mod transfers;
pub mod unimplemented;
pub mod users;
pub mod wallets;
pub mod web;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every route, with the OpenAPI paths of the documented ones (`dev` mounts the emulator
/// helpers).
pub fn all(dev: bool) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(entity::routes())
        .merge(users::routes())
        .merge(end_user::routes())
        .merge(wallets::routes())
        .merge(balances::routes())
        .merge(history::routes())
        .merge(sdk::routes())
        .merge(subscriptions::routes())
        .merge(tokens::routes())
        .merge(transactions::routes())
        .merge(fees::routes())
        .merge(transfers::routes())
        .merge(replacements::routes())
        .merge(faucet::routes())
        .merge(dev::routes(dev))
        .merge(unimplemented::routes())
        .merge(web::routes())
}

/// The routes deliberately absent from the OpenAPI document, by name: static files and
/// redirects, the `--dev` helpers, and the document itself.
pub fn undocumented() -> Vec<&'static str> {
    [
        web::STATIC_ROUTES,
        dev::DEV_ONLY_ROUTES,
        crate::openapi::DOCUMENT_ROUTES,
    ]
    .concat()
}
