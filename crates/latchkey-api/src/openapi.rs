//! The OpenAPI 3.1 document: built from the handlers' `#[utoipa::path]` annotations and the
//! wire types, completed here with what every operation shares (security schemes, Circle's
//! error responses), and served at `GET /openapi.json` with a small page at `GET /docs`.

use crate::error::{ErrorBody, FieldErrorBody};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

/// The routes served by this module, outside the document on purpose (the document itself
/// and its page).
pub const DOCUMENT_ROUTES: &[&str] = &["/openapi.json", "/docs"];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latchkey",
        description = "Circle's User-Controlled Wallets API, self-hosted. Every error is Circle-shaped JSON: `{\"code\": n, \"message\": \"…\"}`. No string of a request (a JSON key or value, a query name or value) may hold U+0000: refused with code 2 wherever it appears.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ErrorBody, FieldErrorBody)),
    modifiers(&SecuritySchemes)
)]
struct BaseDocument;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("TEST_API_KEY:id:secret")
                    .description(Some("The developer's API key."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "userToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-User-Token",
                "A user token from POST /v1/w3s/users/token.",
            ))),
        );
        components.add_security_scheme(
            "appId",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-App-Id",
                "The entity's App ID (the end user's side; never with the API key).",
            ))),
        );
    }
}

/// The document's fixed part: info, error schemas, security schemes.
pub fn base() -> Document {
    BaseDocument::openapi()
}

fn error_response(description: &str) -> utoipa::openapi::response::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Adds Circle's error responses to every operation that can answer them: validation (400),
/// authentication (401/403, only where a credential is required), missing resources (404),
/// conflicts (409, only on writes), rate limits (429) and failures (500). Operations tagged
/// `not implemented` or without any security keep exactly what they declare.
pub fn complete(mut doc: Document) -> Document {
    let schemas = doc
        .components
        .as_ref()
        .map(|c| c.schemas.clone())
        .unwrap_or_default();
    for item in doc.paths.paths.values_mut() {
        for (method, op) in [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ] {
            if let Some(op) = op {
                add_errors(method, op);
                add_request_id(op);
                optional_body(op, &schemas);
            }
        }
    }
    doc
}

fn add_errors(method: HttpMethod, op: &mut Operation) {
    let implemented = !op
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "not implemented"));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    if !implemented || !secured {
        return;
    }
    let write = !matches!(method, HttpMethod::Get | HttpMethod::Delete);
    let errors = [
        (
            "400",
            "Invalid request (code 2 names the field) or a Circle 4xx code.",
            true,
        ),
        ("401", "Missing or unknown credentials.", true),
        (
            "403",
            "Credentials not valid for this call (expired token, wrong key…).",
            true,
        ),
        ("404", "No such resource.", true),
        (
            "409",
            "Conflicts with the current state (already set up, idempotency reuse…).",
            write,
        ),
        ("429", "Too many requests.", true),
        ("500", "Internal error.", true),
    ];
    for (status, description, applies) in errors {
        if applies && !op.responses.responses.contains_key(status) {
            op.responses
                .responses
                .insert(status.to_string(), error_response(description).into());
        }
    }
}

/// The server reads a missing JSON body as `{}` (`extract::parse_json`), so a body whose
/// schema requires no property may be left out: the document says so.
fn optional_body(
    op: &mut Operation,
    schemas: &std::collections::BTreeMap<String, RefOr<utoipa::openapi::schema::Schema>>,
) {
    let Some(body) = op.request_body.as_mut() else {
        return;
    };
    let Some(RefOr::Ref(r)) = body
        .content
        .get("application/json")
        .and_then(|c| c.schema.as_ref())
    else {
        return;
    };
    let name = r.ref_location.rsplit('/').next().unwrap_or_default();
    if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(o))) = schemas.get(name) {
        if o.required.is_empty() {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// Every response carries `X-Request-Id` (the caller's, or a fresh one).
fn add_request_id(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response
                .headers
                .entry("x-request-id".to_string())
                .or_insert_with(|| {
                    HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(
                        "The request's id: the caller's X-Request-Id when sent, else a new UUID.",
                    ))
                    .build()
                });
        }
    }
}

/// The document as JSON text. Serializing utoipa's own types into a string cannot fail (no
/// map has non-string keys, no writer can error): a failure here is a bug, not an input.
#[allow(clippy::expect_used)]
pub fn to_json(doc: &Document) -> String {
    doc.to_json()
        .expect("an OpenAPI document always serializes to JSON")
}

/// `GET /openapi.json`: the document, serialized once at startup.
pub fn json_response(document: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}

/// `GET /docs`: a plain page listing the operations; nothing is fetched from elsewhere.
pub fn docs_page(doc: &Document) -> Html<String> {
    let mut rows = String::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", item.get.as_ref()),
            ("POST", item.post.as_ref()),
            ("PUT", item.put.as_ref()),
            ("PATCH", item.patch.as_ref()),
            ("DELETE", item.delete.as_ref()),
        ] {
            if let Some(op) = op {
                let id = op.operation_id.as_deref().unwrap_or_default();
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first())
                    .map(String::as_str)
                    .unwrap_or_default();
                rows.push_str(&format!(
                    "<tr><td>{}</td><td><code>{method}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                    escape(tag),
                    escape(path),
                    escape(id)
                ));
            }
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>latchkey API</title></head><body>\
         <h1>latchkey API</h1><p>The machine-readable document: <a href=\"/openapi.json\">/openapi.json</a>.</p>\
         <table><thead><tr><th>Tag</th><th>Method</th><th>Path</th><th>Operation</th></tr></thead><tbody>\n{rows}</tbody></table></body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
