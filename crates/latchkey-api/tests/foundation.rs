//! Developer API through real HTTP: envelopes, codes, auth, pagination, sessions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn ping_needs_no_auth_and_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/ping", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "message": "pong" })
    );
    let r = app
        .http
        .get(format!("{}/ping", app.base))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    // Errors carry one too.
    let r = app
        .http
        .get(format!("{}/v1/w3s/users", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn api_key_errors() {
    let app = spawn_app().await;
    for bad in [
        None,
        Some("Basic abc"),
        Some("Bearer nonsense"),
        Some("Bearer TEST_API_KEY:onlyone"),
        Some("Bearer OTHER_KEY:a:b"),
    ] {
        let mut r = app.http.get(format!("{}/v1/w3s/users", app.base));
        if let Some(h) = bad {
            r = r.header("authorization", h);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], 401, "{bad:?}");
    }
    let (id, _) = app
        .api_key
        .split_once(':')
        .map(|(_, rest)| rest.split_once(':').unwrap())
        .unwrap();
    let wrong_secret = format!("Bearer TEST_API_KEY:{id}:{}", "0".repeat(32));
    let wrong_env = format!(
        "Bearer LIVE_API_KEY:{id}:{}",
        app.api_key.rsplit(':').next().unwrap()
    );
    for h in [
        wrong_secret,
        wrong_env,
        "Bearer TEST_API_KEY:unknown:secret".to_string(),
    ] {
        let r = app
            .http
            .get(format!("{}/v1/w3s/users", app.base))
            .header("authorization", &h)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], 156007);
    }
}

#[tokio::test]
async fn entity_config_returns_app_id() {
    let app = spawn_app().await;
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/config/entity", None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(body, json!({ "data": { "appId": app.app_id } }));
}

#[tokio::test]
async fn create_and_get_user() {
    let app = spawn_app().await;
    let (s, body, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users",
            None,
            Some(json!({ "userId": "alice-01" })),
        )
        .await;
    assert_eq!(s, 201);
    let u = &body["data"];
    assert_eq!(u["id"], "alice-01");
    assert_eq!(u["status"], "ENABLED");
    assert_eq!(u["pinStatus"], "UNSET");
    assert_eq!(u["securityQuestionStatus"], "UNSET");
    assert_eq!(u["pinDetails"], json!({ "failedAttempts": 0 }));
    assert_eq!(u["securityQuestionDetails"], json!({ "failedAttempts": 0 }));
    assert_eq!(u["authMode"], "PIN");
    let date = u["createDate"].as_str().unwrap();
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z'));

    let (s, body, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users",
            None,
            Some(json!({ "userId": "alice-01" })),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (409, Some(155101)));

    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/users/alice-01", None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["data"]["user"]["id"], "alice-01");
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/users/nobody-here", None, None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
}

#[tokio::test]
async fn bad_bodies_are_400_with_code_2_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(&str, &str)> = vec![
        ("{}", "userId"),
        (r#"{"userId":"abc"}"#, "userId"),
        (r#"{"userId":12345}"#, "userId"),
        (r#"{"userId":"x"#, "body"),
        ("[]", "body"),
        (
            r#"{"userId":"ok-user-but-way-too-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
            "userId",
        ),
    ];
    for (raw, field) in cases {
        for path in ["/v1/w3s/users", "/v1/w3s/users/token"] {
            let r = app
                .http
                .post(format!("{}{path}", app.base))
                .header("authorization", format!("Bearer {}", app.api_key))
                .header("content-type", "application/json")
                .body(raw.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            if path.ends_with("token")
                && field == "userId"
                && raw.contains('"')
                && !raw.contains("12345")
            {
                // A well-formed but unknown userId on the token call is 155102, not a 400.
                continue;
            }
            assert_eq!(status, 400, "{path} {raw}");
            assert_eq!(body["code"], 2, "{path} {raw}");
            let named = body["errors"][0]["location"].as_str().unwrap_or_default();
            assert_eq!(named, field, "{path} {raw}: {body}");
        }
    }
}

#[tokio::test]
async fn unknown_route_and_method_are_json() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["code"].is_number());
    let r = app
        .http
        .delete(format!("{}/v1/w3s/users", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.json::<Value>().await.unwrap()["code"].is_number());
}

fn links(h: &reqwest::header::HeaderMap) -> std::collections::HashMap<String, String> {
    h["link"]
        .to_str()
        .unwrap()
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; rel=").unwrap();
            (
                rel.trim_matches('"').to_string(),
                url.trim_matches(|c| c == '<' || c == '>').to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn list_users_pages_with_link_header() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.dev
            .create_user(&format!("page-user-{i}"))
            .await
            .unwrap();
        app.clock.advance_ms(1000);
    }
    let (s, body, h) = app
        .call(Method::GET, "/v1/w3s/users?pageSize=3", None, None)
        .await;
    assert_eq!(s, 200);
    let ids: Vec<_> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["page-user-6", "page-user-5", "page-user-4"]);
    let l = links(&h);
    assert!(l.contains_key("self") && l.contains_key("first") && l.contains_key("next"));
    assert!(!l.contains_key("prev"), "first page has no prev");

    let next = l["next"].trim_start_matches(&app.base).to_string();
    let (_, body, h) = app.call(Method::GET, &next, None, None).await;
    let ids: Vec<_> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["page-user-3", "page-user-2", "page-user-1"]);
    let l = links(&h);
    assert!(l.contains_key("prev") && l.contains_key("next"));

    let prev = l["prev"].trim_start_matches(&app.base).to_string();
    let (_, body, _) = app.call(Method::GET, &prev, None, None).await;
    let ids: Vec<_> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["page-user-6", "page-user-5", "page-user-4"]);

    let (_, body, h) = app
        .call(
            Method::GET,
            "/v1/w3s/users?pageSize=3&pageAfter=page-user-1",
            None,
            None,
        )
        .await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 1);
    assert!(!links(&h).contains_key("next"), "last page has no next");

    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/users?order=ASC&pageSize=2",
            None,
            None,
        )
        .await;
    assert_eq!(body["data"]["users"][0]["id"], "page-user-0");

    let (_, body, _) = app
        .call(Method::GET, "/v1/w3s/users?pageSize=500", None, None)
        .await;
    assert_eq!(
        body["data"]["users"].as_array().unwrap().len(),
        7,
        "clamped, not refused"
    );

    let (s, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/users?pageAfter=no-such-user",
            None,
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156012)));
    let (s, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/users?pageAfter=a&pageBefore=b",
            None,
            None,
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(156014)));
    for bad in [
        "pageSize=0",
        "pageSize=abc",
        "order=SIDEWAYS",
        "from=yesterday",
        "pinStatus=MAYBE",
    ] {
        let (s, body, _) = app
            .call(Method::GET, &format!("/v1/w3s/users?{bad}"), None, None)
            .await;
        assert_eq!((s, body["code"].as_i64()), (400, Some(2)), "{bad}");
    }
    let (_, body, _) = app
        .call(Method::GET, "/v1/w3s/users?pinStatus=ENABLED", None, None)
        .await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 0);
    let (_, body, _) = app
        .call(
            Method::GET,
            "/v1/w3s/users?pinStatus=UNSET&securityQuestionStatus=UNSET",
            None,
            None,
        )
        .await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn list_users_filters_by_date() {
    let app = spawn_app().await;
    app.dev.create_user("early-user").await.unwrap();
    app.clock.advance_ms(3_600_000);
    let cut = app.lk.now().iso();
    app.dev.create_user("later-user").await.unwrap();
    let (_, body, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/users?from={cut}"),
            None,
            None,
        )
        .await;
    let users = body["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["id"], "later-user");
    let (_, body, _) = app
        .call(
            Method::GET,
            &format!("/v1/w3s/users?to={}", cut.replace(':', "%3A")),
            None,
            None,
        )
        .await;
    assert_eq!(
        body["data"]["users"].as_array().unwrap().len(),
        2,
        "to is inclusive"
    );
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn user_token_has_circles_claims_and_works() {
    let app = spawn_app().await;
    let u = app.user().await;
    let c = claims(&u.token);
    assert_eq!(c["sub"], u.user_id.as_str());
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["entityId"], app.entity_id.as_str());
    for k in ["jti", "iss", "internalUserId", "developerEntityEnvironment"] {
        assert!(c[k].is_string(), "{k}");
    }
    let key = latchkey_core::crypto::b64_decode(&u.key).unwrap();
    assert_eq!(key.len(), 32);
    let status = app.dev.get_user_status(&u.token).await.unwrap();
    assert_eq!(status["data"]["id"], u.user_id.as_str());

    // A second token for the same user has its own key.
    let (_, key2) = app.dev.create_user_token(&u.user_id).await.unwrap();
    assert_ne!(key2, u.key);

    let (s, body, _) = app
        .call(
            Method::POST,
            "/v1/w3s/users/token",
            None,
            Some(json!({ "userId": "nobody-x" })),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
}

#[tokio::test]
async fn token_errors_missing_tampered_expired_foreign() {
    let app = spawn_app().await;
    let u = app.user().await;
    let (s, body, _) = app.call(Method::GET, "/v1/w3s/user", None, None).await;
    assert_eq!((s, body["code"].as_i64()), (401, Some(155103)));

    let mut parts: Vec<String> = u.token.split('.').map(str::to_string).collect();
    parts[2] = parts[2].chars().rev().collect();
    let tampered = parts.join(".");
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&tampered), None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));

    // A token of another deployment (another master key) is invalid here.
    let other = spawn_app().await;
    let ou = other.user().await;
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&ou.token), None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));

    app.clock.advance_ms(60 * 60 * 1000 + 1000);
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&u.token), None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155104)));
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    // Two entities on one server: B's key, users and tokens are invisible to A and back.
    let app = spawn_app().await;
    let b_entity = latchkey_core::model::Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "tenant-b".into(),
        created_at: app.lk.now(),
    };
    app.lk.store().insert_entity(&b_entity).await.unwrap();
    let b_key = app
        .lk
        .create_api_key(&b_entity.id, "b", latchkey_core::model::Environment::Test)
        .await
        .unwrap();
    let b = latchkey_client::DeveloperClient::new(&app.base, &b_key);
    assert_eq!(b.app_id().await.unwrap(), b_entity.app_id);
    b.create_user("shared-name").await.unwrap();
    app.dev.create_user("shared-name").await.unwrap();
    let (b_token, b_enc) = b.create_user_token("shared-name").await.unwrap();
    let a = app.user().await;

    // B's token with A's API key, and A's token with B's key: invalid.
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/user", Some(&b_token), None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (403, Some(155105)));
    let e = b.get_user_status(&a.token).await.unwrap_err();
    assert_eq!(api_code(&e), 155105);
    // A's key cannot read or issue tokens for B-only users.
    b.create_user("only-in-b").await.unwrap();
    let (s, body, _) = app
        .call(Method::GET, "/v1/w3s/users/only-in-b", None, None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
    let (_, body, _) = app
        .call(Method::GET, "/v1/w3s/users?pageSize=50", None, None)
        .await;
    assert!(!body.to_string().contains("only-in-b"));
    // B's token on the end-user side with A's App ID: invalid; with B's App ID: fine.
    let id = uuid::Uuid::new_v4().to_string();
    let wrong =
        latchkey_client::ChallengeExecutor::new(&app.base, &app.app_id, &b_token, &b_enc).unwrap();
    assert_eq!(api_code(&wrong.describe(&id).await.unwrap_err()), 155105);
    let right =
        latchkey_client::ChallengeExecutor::new(&app.base, &b_entity.app_id, &b_token, &b_enc)
            .unwrap();
    assert_eq!(api_code(&right.describe(&id).await.unwrap_err()), 155116);
    let unknown = latchkey_client::ChallengeExecutor::new(
        &app.base,
        &uuid::Uuid::new_v4().to_string(),
        &b_token,
        &b_enc,
    )
    .unwrap();
    assert_eq!(api_code(&unknown.describe(&id).await.unwrap_err()), 155114);
}

#[tokio::test]
async fn the_hosted_page_is_framable_only_by_origins_its_entity_allows() {
    let app = spawn_app().await;
    let csp = |query: String| {
        let (http, base) = (app.http.clone(), app.base.clone());
        async move {
            let r = http.get(format!("{base}/pw/{query}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["referrer-policy"], "no-referrer");
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    assert!(csp(String::new()).await.contains("frame-ancestors 'self'"));
    assert!(!csp(String::new()).await.contains("https://shop.example"));
    app.lk
        .store()
        .set_frame_ancestor(&app.entity_id, "https://shop.example", true)
        .await
        .unwrap();
    let with_app = csp(format!("?appId={}", app.app_id)).await;
    assert!(
        with_app.contains("frame-ancestors 'self' https://shop.example"),
        "{with_app}"
    );
    assert!(!with_app.contains("unsafe-inline"));
    let other_app = csp(format!("?appId={}", uuid::Uuid::new_v4())).await;
    assert!(
        !other_app.contains("https://shop.example"),
        "another App ID gets only the server's list"
    );
    assert!(!csp("?appId=%zz".into())
        .await
        .contains("https://shop.example"));
    app.lk
        .store()
        .set_frame_ancestor(&app.entity_id, "https://shop.example", false)
        .await
        .unwrap();
    assert!(!csp(format!("?appId={}", app.app_id))
        .await
        .contains("https://shop.example"));
}
