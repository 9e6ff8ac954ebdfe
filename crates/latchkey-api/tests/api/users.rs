//! Developer-side users: create, get, list (pages, Link header, filters), disable.

use crate::support::*;
use latchkey_core::model::Environment;
use serde_json::{json, Value};

#[tokio::test]
async fn create_and_get_user() {
    let app = spawn_app().await;
    let (s, body, _) = app
        .post("/v1/w3s/users", None, json!({ "userId": "alice-01" }))
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
        .post("/v1/w3s/users", None, json!({ "userId": "alice-01" }))
        .await;
    assert_eq!((s, body["code"].as_i64()), (409, Some(155101)));

    let (s, body, _) = app.get("/v1/w3s/users/alice-01", None).await;
    assert_eq!(s, 200);
    assert_eq!(body["data"]["user"]["id"], "alice-01");
    let (s, body, _) = app.get("/v1/w3s/users/nobody-here", None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(155102)));
}

/// The `id`s of a user list page, in order.
fn user_ids(body: &Value) -> Vec<String> {
    body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

/// The Link header as `rel` -> URL.
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
    let (s, body, h) = app.get("/v1/w3s/users?pageSize=3", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        user_ids(&body),
        ["page-user-6", "page-user-5", "page-user-4"]
    );
    let l = links(&h);
    assert!(l.contains_key("self") && l.contains_key("first") && l.contains_key("next"));
    assert!(!l.contains_key("prev"), "first page has no prev");

    let next = l["next"].trim_start_matches(&app.base).to_string();
    let (_, body, h) = app.get(&next, None).await;
    assert_eq!(
        user_ids(&body),
        ["page-user-3", "page-user-2", "page-user-1"]
    );
    let l = links(&h);
    assert!(l.contains_key("prev") && l.contains_key("next"));

    let prev = l["prev"].trim_start_matches(&app.base).to_string();
    let (_, body, _) = app.get(&prev, None).await;
    assert_eq!(
        user_ids(&body),
        ["page-user-6", "page-user-5", "page-user-4"]
    );

    let (_, body, h) = app
        .get("/v1/w3s/users?pageSize=3&pageAfter=page-user-1", None)
        .await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 1);
    assert!(!links(&h).contains_key("next"), "last page has no next");

    let (_, body, _) = app.get("/v1/w3s/users?order=ASC&pageSize=2", None).await;
    assert_eq!(body["data"]["users"][0]["id"], "page-user-0");

    let (_, body, _) = app.get("/v1/w3s/users?pageSize=500", None).await;
    assert_eq!(
        body["data"]["users"].as_array().unwrap().len(),
        7,
        "clamped, not refused"
    );

    let (s, body, _) = app.get("/v1/w3s/users?pageAfter=no-such-user", None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156012)));
    let (s, body, _) = app
        .get("/v1/w3s/users?pageAfter=a&pageBefore=b", None)
        .await;
    assert_eq!((s, body["code"].as_i64()), (400, Some(156014)));
    for bad in [
        "pageSize=0",
        "pageSize=abc",
        "order=SIDEWAYS",
        "from=yesterday",
        "pinStatus=MAYBE",
    ] {
        let (s, body, _) = app.get(&format!("/v1/w3s/users?{bad}"), None).await;
        assert_eq!((s, body["code"].as_i64()), (400, Some(2)), "{bad}");
    }
    let (_, body, _) = app.get("/v1/w3s/users?pinStatus=ENABLED", None).await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 0);
    let (_, body, _) = app
        .get(
            "/v1/w3s/users?pinStatus=UNSET&securityQuestionStatus=UNSET",
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
    let (_, body, _) = app.get(&format!("/v1/w3s/users?from={cut}"), None).await;
    let users = body["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["id"], "later-user");
    let (_, body, _) = app
        .get(
            &format!("/v1/w3s/users?to={}", cut.replace(':', "%3A")),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["users"].as_array().unwrap().len(),
        2,
        "to is inclusive"
    );
}

#[tokio::test]
async fn disabled_users_are_refused_everywhere() {
    let app = spawn_app().await;
    let u = app.user().await;
    app.lk
        .set_user_disabled(&app.entity_id, Environment::Test, &u.user_id, true)
        .await
        .unwrap();
    let (s, b, _) = app
        .post("/v1/w3s/users/token", None, json!({ "userId": u.user_id }))
        .await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155109)));
    let (s, b, _) = app.get("/v1/w3s/user", Some(&u.token)).await;
    assert_eq!((s, b["code"].as_i64()), (409, Some(155109)));
    let (_, b, _) = app.get(&format!("/v1/w3s/users/{}", u.user_id), None).await;
    assert_eq!(b["data"]["user"]["status"], "DISABLED");
    app.lk
        .set_user_disabled(&app.entity_id, Environment::Test, &u.user_id, false)
        .await
        .unwrap();
    let (s, _, _) = app.get("/v1/w3s/user", Some(&u.token)).await;
    assert_eq!(s, 200);
}
