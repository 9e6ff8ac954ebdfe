//! What a request may carry: no U+0000 in any text (JSON strings and keys at any depth, path
//! segments, query names and values), bounded collections, and a bounded body. Each refusal
//! is Circle's 400 code 2 naming the field (413 for the body), alike on SQLite and
//! PostgreSQL (where a NUL used to reach a text column and answer 500).

use crate::support::wallets::init_with_wallets;
use crate::support::{spawn_app, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Who sends a case: the developer (API key, optionally with the user's token), the end user
/// (App ID + token), or nobody.
#[derive(Clone, Copy)]
enum As {
    Developer,
    User,
    AppUser,
    Anonymous,
}

struct Case {
    method: Method,
    path: String,
    caller: As,
    body: Option<Value>,
    location: &'static str,
}

fn case(method: Method, path: &str, caller: As, body: Option<Value>, loc: &'static str) -> Case {
    Case {
        method,
        path: path.to_string(),
        caller,
        body,
        location: loc,
    }
}

async fn send(app: &TestApp, token: &str, c: &Case) -> (u16, Value) {
    let mut r = app.bare(c.method.clone(), &c.path);
    match c.caller {
        As::Developer => r = r.bearer_auth(&app.api_key),
        As::User => r = r.bearer_auth(&app.api_key).header("x-user-token", token),
        As::AppUser => {
            r = r
                .header("x-app-id", &app.app_id)
                .header("x-user-token", token)
        }
        As::Anonymous => {}
    }
    if let Some(b) = &c.body {
        r = r.json(b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const NUL: &str = "\u{0}";

#[tokio::test]
async fn nul_is_refused_in_every_body_field_path_segment_and_query_value() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["ETH-SEPOLIA"])).await;
    let wallet = wallets[0]["id"].as_str().unwrap().to_string();
    let key = || uuid::Uuid::new_v4().to_string();
    let any_id = uuid::Uuid::new_v4().to_string();
    let nul_in = |s: &str| format!("{s}{NUL}{s}");
    use As::*;
    let cases = vec![
        // Developer routes: bodies.
        case(
            Method::POST,
            "/v1/w3s/users",
            Developer,
            Some(json!({ "userId": nul_in("abcde") })),
            "userId",
        ),
        case(
            Method::POST,
            "/v1/w3s/users/token",
            Developer,
            Some(json!({ "userId": NUL })),
            "userId",
        ),
        case(
            Method::POST,
            "/v1/w3s/users",
            Developer,
            Some(json!({ "userId": "abcdef", "extra": { "deep": ["ok", NUL] } })),
            "extra.deep[1]",
        ),
        case(
            Method::POST,
            "/v1/w3s/users",
            Developer,
            Some(json!({ "userId": "abcdef", format!("k{NUL}"): 1 })),
            "k\\u0000",
        ),
        // Developer routes: path segments and query values.
        case(Method::GET, "/v1/w3s/users/%00", Developer, None, "id"),
        case(
            Method::GET,
            "/v1/w3s/users/abc%00def",
            Developer,
            None,
            "id",
        ),
        case(
            Method::GET,
            "/v1/w3s/users?pinStatus=%00",
            Developer,
            None,
            "pinStatus",
        ),
        case(
            Method::GET,
            "/v1/w3s/users?pageAfter=ab%00cde",
            Developer,
            None,
            "pageAfter",
        ),
        case(
            Method::GET,
            "/v1/w3s/users?from=%00",
            Developer,
            None,
            "from",
        ),
        case(
            Method::GET,
            "/v1/w3s/users?a%00b=1",
            Developer,
            None,
            "query",
        ),
        // Wallets.
        case(
            Method::GET,
            "/v1/w3s/wallets?refId=%00",
            User,
            None,
            "refId",
        ),
        case(
            Method::GET,
            "/v1/w3s/wallets?blockchain=ETH%00",
            User,
            None,
            "blockchain",
        ),
        case(
            Method::GET,
            "/v1/w3s/wallets?address=0x%00",
            User,
            None,
            "address",
        ),
        case(
            Method::GET,
            "/v1/w3s/wallets?walletSetId=%00",
            User,
            None,
            "walletSetId",
        ),
        case(Method::GET, "/v1/w3s/wallets/%00", User, None, "id"),
        case(
            Method::PUT,
            &format!("/v1/w3s/wallets/{wallet}"),
            User,
            Some(json!({ "name": nul_in("w") })),
            "name",
        ),
        case(
            Method::PUT,
            &format!("/v1/w3s/wallets/{wallet}"),
            User,
            Some(json!({ "refId": NUL })),
            "refId",
        ),
        case(
            Method::PUT,
            "/v1/w3s/wallets/%00",
            User,
            Some(json!({ "name": "w" })),
            "id",
        ),
        // Challenge-creating calls.
        case(
            Method::POST,
            "/v1/w3s/user/initialize",
            User,
            Some(json!({ "idempotencyKey": NUL })),
            "idempotencyKey",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/initialize",
            User,
            Some(json!({ "idempotencyKey": key(), "blockchains": [format!("ETH-SEPOLIA{NUL}")] })),
            "blockchains[0]",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/wallets",
            User,
            Some(
                json!({ "idempotencyKey": key(), "blockchains": ["ETH-SEPOLIA"], "metadata": [{ "name": nul_in("x") }] }),
            ),
            "metadata[0].name",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/wallets",
            User,
            Some(
                json!({ "idempotencyKey": key(), "blockchains": ["ETH-SEPOLIA"], "metadata": [{ "refId": NUL }] }),
            ),
            "metadata[0].refId",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/wallets",
            User,
            Some(
                json!({ "idempotencyKey": key(), "blockchains": ["ETH-SEPOLIA"], "accountType": nul_in("EOA") }),
            ),
            "accountType",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/pin",
            User,
            Some(json!({ "idempotencyKey": nul_in("k") })),
            "idempotencyKey",
        ),
        case(
            Method::PUT,
            "/v1/w3s/user/pin",
            User,
            Some(json!({ "idempotencyKey": NUL })),
            "idempotencyKey",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/pin/restore",
            User,
            Some(json!({ "idempotencyKey": NUL })),
            "idempotencyKey",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/message",
            User,
            Some(json!({ "idempotencyKey": key(), "walletId": NUL, "message": "hi" })),
            "walletId",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/message",
            User,
            Some(json!({ "idempotencyKey": key(), "walletId": wallet, "message": nul_in("hi") })),
            "message",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/typedData",
            User,
            Some(json!({ "idempotencyKey": key(), "walletId": wallet, "data": NUL })),
            "data",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/transaction",
            User,
            Some(json!({ "idempotencyKey": key(), "walletId": wallet, "rawTransaction": NUL })),
            "rawTransaction",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/transaction",
            User,
            Some(
                json!({ "idempotencyKey": key(), "walletId": wallet, "transaction": { "to": NUL } }),
            ),
            "transaction.to",
        ),
        case(
            Method::POST,
            "/v1/w3s/user/sign/transaction",
            User,
            Some(
                json!({ "idempotencyKey": key(), "walletId": wallet, "rawTransaction": "AA==", "memo": NUL }),
            ),
            "memo",
        ),
        // The user's challenges.
        case(Method::GET, "/v1/w3s/user/challenges/%00", User, None, "id"),
        case(
            Method::GET,
            "/v1/w3s/user/challenges?status=%00",
            User,
            None,
            "status",
        ),
        case(
            Method::GET,
            "/v1/w3s/user/challenges?pageBefore=%00",
            User,
            None,
            "pageBefore",
        ),
        // The end user's protocol.
        case(
            Method::GET,
            "/v1/w3s/sdk/challenges/%00",
            AppUser,
            None,
            "id",
        ),
        case(
            Method::POST,
            "/v1/w3s/sdk/challenges/%00/execute",
            AppUser,
            Some(json!({ "encrypted": "x" })),
            "id",
        ),
        case(
            Method::POST,
            &format!("/v1/w3s/sdk/challenges/{any_id}/execute"),
            AppUser,
            Some(json!({ "encrypted": NUL })),
            "encrypted",
        ),
        // Webhook subscriptions.
        case(
            Method::POST,
            "/v2/notifications/subscriptions",
            Developer,
            Some(json!({ "endpoint": format!("https://example.com/{NUL}") })),
            "endpoint",
        ),
        case(
            Method::POST,
            "/v2/notifications/subscriptions",
            Developer,
            Some(json!({ "endpoint": "https://example.com/", "notificationTypes": ["*", NUL] })),
            "notificationTypes[1]",
        ),
        case(
            Method::GET,
            "/v2/notifications/subscriptions/%00",
            Developer,
            None,
            "id",
        ),
        case(
            Method::PATCH,
            "/v2/notifications/subscriptions/%00",
            Developer,
            Some(json!({ "name": "n" })),
            "id",
        ),
        case(
            Method::PATCH,
            &format!("/v2/notifications/subscriptions/{any_id}"),
            Developer,
            Some(json!({ "name": nul_in("n") })),
            "name",
        ),
        case(
            Method::DELETE,
            "/v2/notifications/subscriptions/%00",
            Developer,
            None,
            "id",
        ),
        case(
            Method::GET,
            "/v2/notifications/publicKey/%00",
            Developer,
            None,
            "id",
        ),
        // The hosted page's App ID.
        case(Method::GET, "/pw/?appId=%00", Anonymous, None, "appId"),
    ];
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for c in &cases {
        let (status, body) = send(&app, &u.token, c).await;
        let named = body["errors"][0]["location"].as_str().unwrap_or_default();
        if (status, body["code"].as_i64(), named) != (400, Some(2), c.location) {
            failures.push(format!("{} {} → {status} {body}", c.method, c.path));
        }
    }
    assert!(
        failures.is_empty(),
        "not refused as 400 code 2 naming the field:\n{}",
        failures.join("\n")
    );
    // Nothing of the above was written: the wallet keeps its name, the user exists once.
    let (s, w, _) = app
        .get(&format!("/v1/w3s/wallets/{wallet}"), Some(&u.token))
        .await;
    assert_eq!((s, &w["data"]["wallet"]["name"]), (200, &json!("w0")));
}

/// Sends `body` as the user to `path`; the status and body.
async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let (s, b, _) = app.post(path, Some(token), body).await;
    (s, b)
}

fn location(body: &Value) -> &str {
    body["errors"][0]["location"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn request_collections_are_bounded_and_blockchains_unique() {
    let app = spawn_app().await;
    let u = app.user().await;
    let key = || uuid::Uuid::new_v4().to_string();
    // 21 blockchains: one past the bound, refused before any is looked at.
    let many: Vec<String> = (0..21).map(|i| format!("CHAIN-{i}")).collect();
    let (s, b) = post_as(
        &app,
        &u.token,
        "/v1/w3s/user/initialize",
        json!({ "idempotencyKey": key(), "blockchains": many }),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_i64(), location(&b)),
        (400, Some(2), "blockchains"),
        "{b}"
    );
    assert_eq!(b["errors"][0]["error"], "max");
    // A repeated blockchain.
    let (s, b) = post_as(&app, &u.token, "/v1/w3s/user/initialize",
        json!({ "idempotencyKey": key(), "blockchains": ["ETH-SEPOLIA", "SOL-DEVNET", "ETH-SEPOLIA"] })).await;
    assert_eq!(
        (s, b["code"].as_i64(), location(&b)),
        (400, Some(2), "blockchains[2]"),
        "{b}"
    );
    // Metadata past the bound.
    let metadata: Vec<Value> = (0..21)
        .map(|i| json!({ "name": format!("w{i}") }))
        .collect();
    let (s, b) = post_as(
        &app,
        &u.token,
        "/v1/w3s/user/initialize",
        json!({ "idempotencyKey": key(), "blockchains": ["ETH-SEPOLIA"], "metadata": metadata }),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_i64(), location(&b)),
        (400, Some(2), "metadata"),
        "{b}"
    );
    // Twenty distinct names are within the bound (then refused for what they are, not for
    // their number).
    let twenty: Vec<String> = (0..20).map(|i| format!("CHAIN-{i}")).collect();
    let (s, b) = post_as(
        &app,
        &u.token,
        "/v1/w3s/user/initialize",
        json!({ "idempotencyKey": key(), "blockchains": twenty }),
    )
    .await;
    assert_eq!((s, location(&b)), (400, "blockchains[0]"), "{b}");
    // No challenge was created by any of these.
    let (_, list, _) = app.get("/v1/w3s/user/challenges", Some(&u.token)).await;
    assert_eq!(list["data"]["challenges"], json!([]));

    // notificationTypes past the bound.
    let types: Vec<&str> = std::iter::repeat_n("challenges.*", 65).collect();
    let (s, b, _) = app
        .post(
            "/v2/notifications/subscriptions",
            None,
            json!({ "endpoint": "https://example.com/hook", "notificationTypes": types }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_i64(), location(&b)),
        (400, Some(2), "notificationTypes"),
        "{b}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_circle_shaped_413() {
    let app = spawn_app().await;
    let big = "x".repeat(latchkey_core::defaults::MAX_BODY_BYTES + 1);
    let (s, b, _) = app
        .post("/v1/w3s/users", None, json!({ "userId": big }))
        .await;
    assert_eq!((s, b["code"].as_i64()), (413, Some(413)), "{b}");
    assert!(b["message"].as_str().unwrap().contains("too large"), "{b}");
    // Just under the limit is read (and judged on its content).
    let (s, b, _) = app
        .post(
            "/v1/w3s/users",
            None,
            json!({ "userId": "x".repeat(60_000) }),
        )
        .await;
    assert_eq!((s, location(&b)), (400, "userId"), "{b}");
}
