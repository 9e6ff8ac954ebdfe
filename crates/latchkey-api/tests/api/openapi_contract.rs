//! The served OpenAPI document is the contract: it is valid OpenAPI 3.1, it lists every route
//! the router really has (except the ones named here), and real responses of a short scenario
//! validate against its response schemas.

use crate::support::spawn_app;
use latchkey_api::{AppParts, AppState};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(crate) async fn document(base: &str) -> Value {
    let r = reqwest::get(format!("{base}/openapi.json")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    r.json().await.unwrap()
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolved $ref {r}");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for name in ["apiKey", "userToken", "appId"] {
        assert!(schemes.contains_key(name), "missing security scheme {name}");
    }
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}"));
            assert!(
                operation_ids.insert(id.to_string()),
                "duplicate operationId {id}"
            );
            // Every path parameter is declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(
                    declared,
                    "{method} {path}: path parameter {name} undeclared"
                );
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            for (status, resp) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        resp["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    // Query parameters with a closed set of values say so (a fuzzer then tries them).
    let params = doc["paths"]["/v1/w3s/users"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let order = params.iter().find(|p| p["name"] == "order").unwrap();
    let values: Vec<&str> = order["schema"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{order}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(values, ["ASC", "DESC"]);
    // The readable page links the document and fetches nothing from elsewhere.
    let page = reqwest::get(format!("{}/docs", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/openapi.json"));
    assert!(!page.contains("http://") && !page.contains("https://"));
}

/// The paths the router really has, read from axum's own route table (its `Debug` form lists
/// every registered path).
fn router_paths(state: AppState) -> BTreeSet<String> {
    let dump = format!("{:?}", latchkey_api::router(state));
    let mut paths = BTreeSet::new();
    let mut rest = dump.as_str();
    while let Some(i) = rest.find("\"/") {
        let tail = &rest[i + 1..];
        let end = tail.find('"').unwrap();
        // axum's own catch-all for the fallback is not a route.
        if !tail[..end].contains("__private__axum") {
            paths.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    paths
}

#[tokio::test]
async fn every_route_is_in_the_document() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let real = router_paths(AppState::new(AppParts {
        lk: app.lk.clone(),
        public_url: None,
        frame_ancestors: vec![],
        webhooks: app.webhooks.clone(),
    }));
    assert!(
        real.contains("/v1/w3s/users"),
        "cannot read the router's paths: {real:?}"
    );
    // Static files, redirects, the --dev helpers and the document itself, by name.
    let excluded: BTreeSet<String> = [
        "/",
        "/pw",
        "/pw/",
        "/pw/{file}",
        "/sdk/{file}",
        "/sample",
        "/sample/",
        "/sample/{file}",
        "/v1/w3s/dev/users",
        "/v1/w3s/dev/challenges",
        "/openapi.json",
        "/docs",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let named: BTreeSet<String> = latchkey_api::routes::undocumented()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(named, excluded, "the undocumented routes changed");
    let missing: Vec<_> = real
        .iter()
        .filter(|p| !documented.contains(*p) && !excluded.contains(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let phantom: Vec<_> = documented.iter().filter(|p| !real.contains(*p)).collect();
    assert!(
        phantom.is_empty(),
        "documented routes the router lacks: {phantom:?}"
    );
    // The library's own view of the document agrees with the served one.
    let built = serde_json::to_value(latchkey_api::openapi_document(true)).unwrap();
    assert_eq!(built, doc);
}

/// Validates `body` against the document's schema for `method path` answering `status`.
pub(crate) fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let op = &doc["paths"][path][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {path} is not documented");
    let response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} does not document {status}: {body}"
    );
    let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
        assert!(
            body.is_null(),
            "{method} {path} {status}: undocumented body {body}"
        );
        return;
    };
    let mut root = Value::Object(schema.clone());
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: bad schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\nbody: {body}"
    );
}

#[tokio::test]
async fn real_responses_match_the_document() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    let user_id = format!("user-{}", uuid::Uuid::new_v4().simple());

    let r = reqwest::get(format!("{}/ping", app.base)).await.unwrap();
    let status = r.status().as_u16();
    check(&doc, "GET", "/ping", status, &r.json().await.unwrap());

    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users",
            None,
            Some(json!({ "userId": user_id })),
        )
        .await;
    assert_eq!(s, 201);
    check(&doc, "POST", "/v1/w3s/users", s, &b);

    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users",
            None,
            Some(json!({ "userId": user_id })),
        )
        .await;
    assert_eq!(s, 409);
    check(&doc, "POST", "/v1/w3s/users", s, &b);

    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users/token",
            None,
            Some(json!({ "userId": user_id })),
        )
        .await;
    assert_eq!(s, 200);
    check(&doc, "POST", "/v1/w3s/users/token", s, &b);
    let token = b["data"]["userToken"].as_str().unwrap().to_string();

    let (s, b, _) = app
        .call(Method::GET, "/v1/w3s/config/entity", None, None)
        .await;
    check(&doc, "GET", "/v1/w3s/config/entity", s, &b);

    let (s, b, _) = app
        .call(Method::GET, &format!("/v1/w3s/users/{user_id}"), None, None)
        .await;
    check(&doc, "GET", "/v1/w3s/users/{id}", s, &b);

    let (s, b, h) = app
        .call(Method::GET, "/v1/w3s/users?pageSize=1", None, None)
        .await;
    assert_eq!(s, 200);
    assert!(h.contains_key("link"));
    check(&doc, "GET", "/v1/w3s/users", s, &b);

    let (s, b, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&token), None)
        .await;
    assert_eq!(s, 200);
    check(&doc, "GET", "/v1/w3s/user", s, &b);

    let init = json!({
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        "blockchains": ["ETH-SEPOLIA"],
    });
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&token),
            Some(init.clone()),
        )
        .await;
    assert_eq!(s, 201);
    check(&doc, "POST", "/v1/w3s/user/initialize", s, &b);
    let challenge_id = b["data"]["challengeId"].as_str().unwrap().to_string();
    let (s, b, _) = app
        .call(
            Method::POST,
            "/v1/w3s/user/initialize",
            Some(&token),
            Some(init),
        )
        .await;
    assert_eq!(s, 200);
    check(&doc, "POST", "/v1/w3s/user/initialize", s, &b);

    let (s, b, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/user/challenges/{challenge_id}"),
            Some(&token),
            None,
        )
        .await;
    check(&doc, "GET", "/v1/w3s/user/challenges/{id}", s, &b);
    let (s, b, _) = app
        .call(Method::GET, "/v1/w3s/user/challenges", Some(&token), None)
        .await;
    check(&doc, "GET", "/v1/w3s/user/challenges", s, &b);

    let r = app
        .http
        .get(format!("{}/v1/w3s/sdk/challenges/{challenge_id}", app.base))
        .header("x-app-id", &app.app_id)
        .header("x-user-token", &token)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_eq!(s, 200);
    check(
        &doc,
        "GET",
        "/v1/w3s/sdk/challenges/{id}",
        s,
        &r.json().await.unwrap(),
    );

    let (s, b, h) = app
        .call(Method::GET, "/v1/w3s/wallets", Some(&token), None)
        .await;
    assert_eq!(s, 200);
    assert!(h.contains_key("link"));
    check(&doc, "GET", "/v1/w3s/wallets", s, &b);

    let (s, b, _) = app
        .call(Method::GET, "/v2/notifications/subscriptions", None, None)
        .await;
    check(&doc, "GET", "/v2/notifications/subscriptions", s, &b);

    // Tokens and monitored tokens: every status they answer.
    let usdc = "36b6931a-873a-56a8-8a27-b706b17104ee";
    let monitored = "/v1/w3s/config/entity/monitoredTokens";
    for (method, path, body, status) in [
        ("GET", format!("/v1/w3s/tokens/{usdc}"), None, 200),
        ("GET", "/v1/w3s/tokens/nope".to_string(), None, 400),
        (
            "GET",
            format!("/v1/w3s/tokens/{}", uuid::Uuid::new_v4()),
            None,
            404,
        ),
        ("GET", monitored.to_string(), None, 204),
        (
            "POST",
            monitored.to_string(),
            Some(json!({ "tokenIds": [usdc] })),
            201,
        ),
        (
            "POST",
            monitored.to_string(),
            Some(json!({ "tokenIds": [usdc] })),
            200,
        ),
        (
            "PUT",
            monitored.to_string(),
            Some(json!({ "tokenIds": [usdc] })),
            200,
        ),
        ("GET", monitored.to_string(), None, 200),
        (
            "PUT",
            format!("{monitored}/scope"),
            Some(json!({ "scope": "MONITOR_ALL" })),
            200,
        ),
        (
            "POST",
            format!("{monitored}/delete"),
            Some(json!({ "tokenIds": [usdc] })),
            200,
        ),
    ] {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let (s, b, _) = app.call(m, &path, None, body).await;
        assert_eq!(s, status, "{method} {path}: {b}");
        let template = if path.starts_with("/v1/w3s/tokens/") {
            "/v1/w3s/tokens/{id}"
        } else {
            &path
        };
        check(&doc, method, template, s, &b);
    }

    // Errors: unknown user, unauthenticated, bad query, bad path encoding, unknown wallet.
    let (s, b, _) = app
        .call(Method::GET, "/v1/w3s/users/nobody-here", None, None)
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(155102)));
    check(&doc, "GET", "/v1/w3s/users/{id}", s, &b);
    let r = reqwest::get(format!("{}/v1/w3s/users", app.base))
        .await
        .unwrap();
    let s = r.status().as_u16();
    check(&doc, "GET", "/v1/w3s/users", s, &r.json().await.unwrap());
    let (s, b, _) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets?pageSize=0",
            Some(&token),
            None,
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)));
    check(&doc, "GET", "/v1/w3s/wallets", s, &b);
    let (s, b, _) = app.call(Method::GET, "/v1/w3s/users/%ff", None, None).await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)), "{b}");
    check(&doc, "GET", "/v1/w3s/users/{id}", s, &b);
    let (s, b, _) = app
        .call(
            Method::GET,
            "/v1/w3s/wallets/00000000-0000-0000-0000-000000000000/nfts",
            Some(&token),
            None,
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)), "{b}");
    check(&doc, "GET", "/v1/w3s/wallets/{id}/nfts", s, &b);

    let path = "/v1/w3s/transactions/validateAddress";
    for body in [
        json!({"address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "blockchain": "ETH"}),
        json!({"address": "nope", "blockchain": "SOL"}),
        json!({"address": "nope", "blockchain": "ETH-GOERLI"}),
    ] {
        let (s, b, _) = app.post(path, None, body).await;
        check(&doc, "POST", path, s, &b);
    }
}

#[tokio::test]
async fn every_error_body_is_circle_shaped() {
    let app = spawn_app().await;
    let shaped = |s: u16, b: &Value| {
        assert!(b["code"].is_i64() && b["message"].is_string(), "{s}: {b}");
    };
    for path in [
        "/v1/w3s/users/%ff",
        "/v2/notifications/subscriptions/%ff",
        "/pw/%ff",
        "/pw/no-such-file.js",
        "/v1/w3s/users?pageSize=%zz",
        "/nope",
    ] {
        let (s, b, _) = app.call(Method::GET, path, None, None).await;
        assert!(s >= 400, "{path}: {s}");
        shaped(s, &b);
    }
    let (s, b, _) = app.call(Method::DELETE, "/v1/w3s/users", None, None).await;
    assert_eq!(s, 405);
    shaped(s, &b);
    // A body that is not JSON, a JSON body with another content type, a body too large.
    let r = app
        .http
        .post(format!("{}/v1/w3s/users", app.base))
        .header("authorization", format!("Bearer {}", app.api_key))
        .header("content-type", "text/plain")
        .body("userId=abcdef")
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_eq!(s, 400);
    shaped(s, &r.json().await.unwrap());
    let r = app
        .http
        .post(format!("{}/v1/w3s/users", app.base))
        .header("authorization", format!("Bearer {}", app.api_key))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"userId\":\"{}\"}}",
            "x".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert!(s >= 400);
    shaped(s, &r.json().await.unwrap());
    // Every Circle route latchkey lacks answers 175406, whatever the credentials.
    for r in latchkey_api::routes::unimplemented::NOT_IMPLEMENTED {
        let path = r
            .path
            .replace("{id}", "00000000-0000-0000-0000-000000000000");
        let method = Method::from_bytes(r.method.as_bytes()).unwrap();
        let (s, b, _) = app.call(method, &path, None, Some(json!({}))).await;
        assert_eq!(
            (s, b["code"].as_i64()),
            (400, Some(175406)),
            "{} {path}: {b}",
            r.method
        );
        assert!(
            b["message"].as_str().unwrap().contains("not available"),
            "{b}"
        );
    }
}
