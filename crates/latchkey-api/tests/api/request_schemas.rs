//! The document's request schemas and query parameters say exactly what the server accepts
//! (what schemathesis, in reliability/schemathesis, relies on): a value the document refuses
//! is refused with code 2, a value it admits is not refused as malformed, and each challenge
//! route documents its own body.

use crate::support::spawn_app;
use serde_json::{json, Value};

async fn document(base: &str) -> Value {
    reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The component schema a request body of `method path` refers to.
fn body_schema<'a>(doc: &'a Value, method: &str, path: &str) -> (&'a Value, &'a Value) {
    let body = &doc["paths"][path][method]["requestBody"];
    let r = body["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} {path}: {body}"));
    let name = r.rsplit('/').next().unwrap();
    (body, &doc["components"]["schemas"][name])
}

fn assert_code_2(status: u16, body: &Value, location: &str, what: &str) {
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(2)),
        "{what}: {body}"
    );
    assert_eq!(body["errors"][0]["location"], location, "{what}: {body}");
}

#[tokio::test]
async fn empty_values_of_constrained_query_parameters_are_refused() {
    let app = spawn_app().await;
    let u = app.user().await;
    for (path, name) in [
        ("/v1/w3s/users?pageSize=", "pageSize"),
        ("/v1/w3s/users?pinStatus=", "pinStatus"),
        (
            "/v1/w3s/users?securityQuestionStatus=",
            "securityQuestionStatus",
        ),
        ("/v1/w3s/users?order=", "order"),
        ("/v1/w3s/users?from=", "from"),
        ("/v1/w3s/users?to=", "to"),
        ("/v1/w3s/users?pageAfter=", "pageAfter"),
        ("/v1/w3s/wallets?pageSize=", "pageSize"),
        ("/v1/w3s/wallets?pageBefore=", "pageBefore"),
        ("/v1/w3s/user/challenges?status=", "status"),
    ] {
        // The developer's user routes take the API key alone; the others the user's token too.
        let token = (!path.starts_with("/v1/w3s/users")).then_some(u.token.as_str());
        let (s, b, _) = app.get(path, token).await;
        assert_code_2(s, &b, name, path);
    }
    // Free-text filters admit any string: empty still means "no filter".
    let (s, b, _) = app
        .get("/v1/w3s/wallets?refId=&address=", Some(&u.token))
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn order_takes_exactly_the_documented_values() {
    let app = spawn_app().await;
    for order in ["asc", "Desc", "ASC%20"] {
        let (s, b, _) = app.get(&format!("/v1/w3s/users?order={order}"), None).await;
        assert_code_2(s, &b, "order", order);
    }
    for order in ["ASC", "DESC"] {
        let (s, b, _) = app.get(&format!("/v1/w3s/users?order={order}"), None).await;
        assert_eq!(s, 200, "{order}: {b}");
    }
}

#[tokio::test]
async fn from_after_to_is_an_empty_page() {
    let app = spawn_app().await;
    app.user().await;
    let (s, b, _) = app
        .get(
            "/v1/w3s/users?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["users"], json!([]));
    // The same dates the right way round find the user.
    let (s, b, _) = app
        .get(
            "/v1/w3s/users?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["users"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn each_challenge_route_documents_its_own_body() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    let uuid_pattern = |schema: &Value| {
        let key = &schema["properties"]["idempotencyKey"];
        assert_eq!(key["format"], "uuid", "{schema}");
        assert!(key["pattern"].is_string(), "{schema}");
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .contains(&json!("idempotencyKey")),
            "{schema}"
        );
    };
    for (method, path) in [
        ("post", "/v1/w3s/user/pin"),
        ("put", "/v1/w3s/user/pin"),
        ("post", "/v1/w3s/user/pin/restore"),
    ] {
        let (_, schema) = body_schema(&doc, method, path);
        let props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(props, ["idempotencyKey"], "{method} {path}");
        uuid_pattern(schema);
    }
    let chains: Vec<Value> = latchkey_chains::Blockchain::ALL
        .iter()
        .map(|b| json!(b.as_str()))
        .collect();
    let (_, init) = body_schema(&doc, "post", "/v1/w3s/user/initialize");
    uuid_pattern(init);
    assert_eq!(
        init["properties"]["blockchains"]["items"]["enum"],
        json!(chains)
    );
    assert_eq!(init["properties"]["blockchains"]["minItems"], 0);
    let (_, wallets) = body_schema(&doc, "post", "/v1/w3s/user/wallets");
    uuid_pattern(wallets);
    assert_eq!(
        wallets["properties"]["blockchains"]["items"]["enum"],
        json!(chains)
    );
    assert_eq!(wallets["properties"]["blockchains"]["minItems"], 1);
    assert!(wallets["required"]
        .as_array()
        .unwrap()
        .contains(&json!("blockchains")));
    assert!(doc["components"]["schemas"]["ChallengeRequest"].is_null());

    // What the schemas say, the server does: an empty wallet list is refused only where the
    // document requires one, and a key that is not a UUID is refused with code 2.
    let u = app.user().await;
    let key = || uuid::Uuid::new_v4().to_string();
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/wallets",
            Some(&u.token),
            json!({ "idempotencyKey": key(), "blockchains": [] }),
        )
        .await;
    assert_code_2(s, &b, "blockchains", "wallets without a blockchain");
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/initialize",
            Some(&u.token),
            json!({ "idempotencyKey": key(), "blockchains": [] }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/pin/restore",
            Some(&u.token),
            json!({ "idempotencyKey": "not-a-uuid" }),
        )
        .await;
    assert_code_2(s, &b, "idempotencyKey", "a key that is no UUID");
}

#[tokio::test]
async fn a_body_that_requires_nothing_may_be_left_out() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    // The server reads a missing body as {}: optional where nothing is required.
    let (patch, _) = body_schema(&doc, "patch", "/v2/notifications/subscriptions/{id}");
    assert_eq!(patch["required"], false, "{patch}");
    let (put, _) = body_schema(&doc, "put", "/v1/w3s/wallets/{id}");
    assert_eq!(put["required"], false, "{put}");
    let (create, _) = body_schema(&doc, "post", "/v1/w3s/users");
    assert_eq!(create["required"], true, "{create}");
    let (pin, _) = body_schema(&doc, "post", "/v1/w3s/user/pin");
    assert_eq!(pin["required"], true, "{pin}");
}

#[tokio::test]
async fn user_id_limits_are_the_documented_ones() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    let (_, schema) = body_schema(&doc, "post", "/v1/w3s/users");
    let user_id = &schema["properties"]["userId"];
    let min = user_id["minLength"].as_u64().unwrap() as usize;
    let max = user_id["maxLength"].as_u64().unwrap() as usize;
    assert_eq!((min, max), (5, 50), "{user_id}");
    for (len, accepted) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
        let id: String = "é".repeat(len);
        let (s, b, _) = app
            .post("/v1/w3s/users", None, json!({ "userId": id }))
            .await;
        if accepted {
            assert_eq!(s, 201, "{len}: {b}");
        } else {
            assert_code_2(s, &b, "userId", &format!("{len} characters"));
        }
    }
    let (s, b, _) = app
        .post("/v1/w3s/users", None, json!({ "userId": "ab\u{7}cdef" }))
        .await;
    assert_code_2(s, &b, "userId", "a control character");
}

#[tokio::test]
async fn collection_bounds_are_the_documented_ones() {
    let app = spawn_app().await;
    let doc = document(&app.base).await;
    for path in ["/v1/w3s/user/initialize", "/v1/w3s/user/wallets"] {
        let (_, schema) = body_schema(&doc, "post", path);
        let chains = &schema["properties"]["blockchains"];
        assert_eq!(
            (chains["maxItems"].as_u64(), chains["uniqueItems"].as_bool()),
            (Some(20), Some(true)),
            "{path}: {chains}"
        );
    }
    let (_, schema) = body_schema(&doc, "post", "/v2/notifications/subscriptions");
    let types = &schema["properties"]["notificationTypes"];
    assert_eq!(types["maxItems"].as_u64(), Some(64), "{types}");

    // And the server refuses one past each bound with code 2 naming the field.
    let u = app.user().await;
    let chains: Vec<&str> = latchkey_chains::Blockchain::ALL
        .iter()
        .map(|b| b.as_str())
        .take(21)
        .collect();
    assert_eq!(chains.len(), 21, "the enum has fewer than 21 blockchains");
    let (status, body, _) = app
        .post(
            "/v1/w3s/user/wallets",
            Some(&u.token),
            json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(), "blockchains": chains }),
        )
        .await;
    assert_code_2(status, &body, "blockchains", "21 blockchains");
}
