//! Circle's user-controlled-wallets routes that latchkey does not implement yet (wallet
//! upgrade, social/email login). Each answers a Circle-shaped error instead of "No such route", so the
//! official SDK raises a typed error the caller can recognise.
//!
//! The code is Circle's 175406 ("This feature is temporarily disabled.", HTTP 400): the
//! catalog's closest meaning for "this server does not offer it", and a 400 keeps SDKs from
//! retrying as they would on a 5xx.

use crate::error::HttpError;
use crate::AppState;
use axum::extract::MatchedPath;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use latchkey_core::ApiError;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Ref, Required};
use utoipa_axum::router::OpenApiRouter;

/// Circle's code for a capability this server does not offer.
pub const NOT_AVAILABLE: ApiError =
    ApiError::new(175406, 400, "This feature is temporarily disabled.");

/// One Circle route latchkey does not implement: method, path, Circle's operation name.
#[derive(Debug, Clone, Copy)]
pub struct CircleRoute {
    /// HTTP method.
    pub method: &'static str,
    /// Path template (`{id}` for a parameter).
    pub path: &'static str,
    /// The official SDK's method name.
    pub operation: &'static str,
}

const fn route(method: &'static str, path: &'static str, operation: &'static str) -> CircleRoute {
    CircleRoute {
        method,
        path,
        operation,
    }
}

/// Every Circle user-controlled-wallets route that answers [`NOT_AVAILABLE`].
pub const NOT_IMPLEMENTED: &[CircleRoute] = &[
    route(
        "POST",
        "/v1/w3s/user/transactions/walletUpgrade",
        "createUserTransactionWalletUpgradeChallenge",
    ),
    route(
        "POST",
        "/v1/w3s/users/social/token",
        "createDeviceTokenForSocialLogin",
    ),
    route(
        "POST",
        "/v1/w3s/users/email/token",
        "createDeviceTokenForEmailLogin",
    ),
    route("POST", "/v1/w3s/users/token/refresh", "refreshUserToken"),
    route("POST", "/v1/w3s/users/email/resendOTP", "resendOTP"),
];

/// The error every such route answers, naming the route.
#[tracing::instrument(skip_all)]
async fn not_available(method: Method, path: Option<MatchedPath>) -> HttpError {
    let path = path
        .as_ref()
        .map(MatchedPath::as_str)
        .unwrap_or("this route");
    HttpError(NOT_AVAILABLE.with_message(format!(
        "This feature is temporarily disabled: {method} {path} is not available in this latchkey version."
    )))
}

fn methods(method: &str) -> (MethodFilter, HttpMethod) {
    match method {
        "POST" => (MethodFilter::POST, HttpMethod::Post),
        "PUT" => (MethodFilter::PUT, HttpMethod::Put),
        _ => (MethodFilter::GET, HttpMethod::Get),
    }
}

/// This module's routes, each documented as answering only the error.
pub fn routes() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new();
    let mut grouped: Vec<(&str, Vec<&CircleRoute>)> = Vec::new();
    for r in NOT_IMPLEMENTED {
        match grouped.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, list)) => list.push(r),
            None => grouped.push((r.path, vec![r])),
        }
    }
    for (path, list) in grouped {
        let mut method_router = axum::routing::MethodRouter::new();
        for r in &list {
            method_router = method_router.merge(on(methods(r.method).0, not_available));
            let doc = &mut router.get_openapi_mut().paths;
            doc.add_path_operation(path, vec![methods(r.method).1], operation(r));
        }
        router = router.route(path, method_router);
    }
    router
}

fn operation(r: &CircleRoute) -> utoipa::openapi::path::Operation {
    let error = ResponseBuilder::new()
        .description("Not available in this latchkey version (code 175406).")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    let mut op = OperationBuilder::new()
        .tag("not implemented")
        .operation_id(Some(r.operation))
        .description(Some(
            "Circle's route; latchkey does not implement it yet and answers 175406.",
        ))
        .response("400", error);
    if r.path.contains("{id}") {
        op = op.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    op.build()
}
