//! How many challenges a user may hold and how they are listed: open challenges are capped
//! per user (429, Circle's 155713), and `GET /v1/w3s/user/challenges` is paged like the other
//! lists (`pageSize`, `pageAfter`/`pageBefore`, `Link`) instead of silently cut short.

use crate::support::{spawn_app, spawn_app_with, test_settings, TestApp, TestUser};
use latchkey_core::Settings;
use serde_json::{json, Value};
use std::collections::HashSet;

/// Creates a SET_PIN challenge for `u`; the status and body.
async fn create(app: &TestApp, u: &TestUser, key: &str) -> (u16, Value) {
    let (s, b, _) = app
        .post(
            "/v1/w3s/user/pin",
            Some(&u.token),
            json!({ "idempotencyKey": key }),
        )
        .await;
    (s, b)
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The `rel` link of a `Link` header, as a path and query on the test server.
fn link(headers: &reqwest::header::HeaderMap, rel: &str) -> Option<String> {
    let value = headers.get("link")?.to_str().ok()?;
    value.split(", ").find_map(|part| {
        let (url, r) = part.split_once(">; rel=")?;
        (r.trim_matches('"') == rel).then(|| {
            let url = url.trim_start_matches('<');
            url.split_once("://")
                .map_or(url, |(_, rest)| rest)
                .split_once('/')
                .map_or(String::new(), |(_, path)| format!("/{path}"))
        })
    })
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_challenge_list_is_paged_never_truncated() {
    let app = spawn_app().await;
    let u = app.user().await;
    let mut created = Vec::new();
    for _ in 0..60 {
        let (s, b) = create(&app, &u, &new_key()).await;
        assert_eq!(s, 201, "{b}");
        created.push(b["data"]["challengeId"].as_str().unwrap().to_string());
    }
    // No paging asked (the official SDK's call): the largest page, and a link to the rest.
    let (s, first, headers) = app.get("/v1/w3s/user/challenges", Some(&u.token)).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(ids(&first).len(), 50);
    let next = link(&headers, "next").expect("a next link");
    assert!(link(&headers, "prev").is_none());
    let (s, second, headers) = app.get(&next, Some(&u.token)).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(ids(&second).len(), 10);
    assert!(
        link(&headers, "next").is_none(),
        "the last page has no next"
    );
    let prev = link(&headers, "prev").expect("a prev link");
    let (_, back, _) = app.get(&prev, Some(&u.token)).await;
    assert_eq!(ids(&back), ids(&first));

    // Walking small pages visits every challenge once, in one order, forwards and back.
    let mut seen = Vec::new();
    let mut path = "/v1/w3s/user/challenges?pageSize=7&status=PENDING".to_string();
    loop {
        let (s, page, headers) = app.get(&path, Some(&u.token)).await;
        assert_eq!(s, 200, "{page}");
        let page_ids = ids(&page);
        assert!(page_ids.len() <= 7);
        seen.extend(page_ids);
        match link(&headers, "next") {
            Some(n) => path = n,
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique, created.iter().collect::<HashSet<_>>());
    let (_, asc, _) = app
        .get(
            "/v1/w3s/user/challenges?pageSize=50&order=ASC",
            Some(&u.token),
        )
        .await;
    let mut reversed = seen.clone();
    reversed.reverse();
    assert_eq!(ids(&asc), reversed[..50].to_vec());

    // Cursors: not a UUID → 156014; not one of this user's challenges → 156012.
    let (s, b, _) = app
        .get("/v1/w3s/user/challenges?pageAfter=nope", Some(&u.token))
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156014)), "{b}");
    let other = app.user().await;
    let (s, b, _) = app
        .get(
            &format!("/v1/w3s/user/challenges?pageAfter={}", created[0]),
            Some(&other.token),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156012)), "{b}");
}

fn capped(max_open: u32) -> Settings {
    Settings {
        max_open_challenges: max_open,
        ..test_settings()
    }
}

#[tokio::test]
async fn open_challenges_per_user_are_capped_with_a_circle_shaped_429() {
    let app = spawn_app_with(capped(3)).await;
    let u = app.user().await;
    let mut keys = Vec::new();
    for _ in 0..3 {
        let key = new_key();
        let (s, b) = create(&app, &u, &key).await;
        assert_eq!(s, 201, "{b}");
        keys.push((key, b["data"]["challengeId"].clone()));
    }
    let (s, b) = create(&app, &u, &new_key()).await;
    assert_eq!((s, b["code"].as_i64()), (429, Some(155713)), "{b}");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .starts_with("Too many requests"));
    // A replay of a request already made still answers its challenge.
    let (s, b) = create(&app, &u, &keys[0].0).await;
    assert_eq!((s, &b["data"]["challengeId"]), (200, &keys[0].1), "{b}");
    // The cap is per user.
    let other = app.user().await;
    assert_eq!(create(&app, &other, &new_key()).await.0, 201);
    // Expired challenges are not open: once they lapse the user may start again.
    app.clock.advance_ms(app.lk.settings().challenge_ttl_ms + 1);
    assert_eq!(create(&app, &u, &new_key()).await.0, 201);
}

#[tokio::test]
async fn the_cap_holds_under_concurrent_creations() {
    let app = std::sync::Arc::new(spawn_app_with(capped(3)).await);
    let u = std::sync::Arc::new(app.user().await);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (app, u) = (app.clone(), u.clone());
        tasks.push(tokio::spawn(
            async move { create(&app, &u, &new_key()).await.0 },
        ));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        9,
        "{statuses:?}"
    );
    let (_, list, _) = app
        .get("/v1/w3s/user/challenges?status=PENDING", Some(&u.token))
        .await;
    assert_eq!(ids(&list).len(), 3);
}
