//! Tokens: Circle's published tokens by id and alias, 156002 / 156009, and the monitored-token
//! configuration (every endpoint and status, filters and paging), owned by one entity and one
//! environment: another entity's key, or the same entity's other environment, never sees or
//! changes it.

use crate::support::*;
use latchkey_core::model::{Entity, Environment};
use serde_json::{json, Value};

const USDC_AMOY: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
const USDC_SEPOLIA: &str = "5797fbd6-3795-519d-84ca-ec4c5f80c3b1";
const USDC_BASE: &str = "aa7bb533-aeb8-535c-bd65-354aed91ea3d";
const USDC_BASE_OLD: &str = "915ce944-32df-5df5-a6b1-daa9b5069f96";
const POL_AMOY: &str = "0c8f8485-f74f-5e28-80f2-3cc4e80ef71c";
const ETH_SEPOLIA: &str = "bb410366-c799-5fd4-94d6-498344acf435";
const MONITORED: &str = "/v1/w3s/config/entity/monitoredTokens";

fn ids(body: &Value) -> Vec<String> {
    body["data"]["tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// A key of a second entity on the same server.
async fn other_entity(app: &TestApp) -> TestApp {
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "other".into(),
        created_at: app.lk.now(),
    };
    app.lk.store().insert_entity(&e).await.unwrap();
    let mut other = app.with_key_of(Environment::Test).await;
    other.api_key = app
        .lk
        .create_api_key(&e.id, "other", Environment::Test)
        .await
        .unwrap();
    other.dev = latchkey_client::DeveloperClient::new(&app.base, &other.api_key);
    other.entity_id = e.id;
    other.app_id = e.app_id;
    other
}

#[tokio::test]
async fn published_tokens_by_id_and_alias() {
    let app = spawn_app().await;
    let (s, b, _) = app.get(&format!("/v1/w3s/tokens/{USDC_AMOY}"), None).await;
    assert_eq!(s, 200, "{b}");
    let t = &b["data"]["token"];
    assert_eq!(t["blockchain"], "MATIC-AMOY");
    assert_eq!(
        t["tokenAddress"],
        "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582"
    );
    assert_eq!(
        (
            &t["symbol"],
            &t["name"],
            &t["decimals"],
            &t["standard"],
            &t["isNative"]
        ),
        (
            &json!("USDC"),
            &json!("USD Coin"),
            &json!(6),
            &json!("ERC20"),
            &json!(false)
        )
    );
    assert!(t["createDate"].is_string() && t["updateDate"].is_string());

    // Native coins: Circle's id where published, latchkey's UUIDv5 elsewhere; no address.
    for (id, chain, symbol) in [
        (POL_AMOY, "MATIC-AMOY", "MATIC-AMOY"),
        (ETH_SEPOLIA, "ETH-SEPOLIA", "ETH-SEPOLIA"),
    ] {
        let (s, b, _) = app.get(&format!("/v1/w3s/tokens/{id}"), None).await;
        assert_eq!(s, 200, "{b}");
        let t = &b["data"]["token"];
        assert_eq!(
            (t["isNative"].as_bool(), t["blockchain"].as_str()),
            (Some(true), Some(chain))
        );
        assert_eq!(
            (t["symbol"].as_str(), t["decimals"].as_i64()),
            (Some(symbol), Some(18))
        );
        assert!(
            t.get("tokenAddress").is_none() && t.get("standard").is_none(),
            "{t}"
        );
    }

    // BASE USDC's old id resolves to the current one; upper case ids too.
    let (s, b, _) = app
        .get(&format!("/v1/w3s/tokens/{USDC_BASE_OLD}"), None)
        .await;
    assert_eq!(
        (s, b["data"]["token"]["id"].as_str()),
        (200, Some(USDC_BASE))
    );
    let upper = USDC_SEPOLIA.to_ascii_uppercase();
    let (s, b, _) = app.get(&format!("/v1/w3s/tokens/{upper}"), None).await;
    assert_eq!(
        (s, b["data"]["token"]["id"].as_str()),
        (200, Some(USDC_SEPOLIA))
    );

    // Unknown → 156002/404; not a UUID → 156009/400; no key → 401.
    let unknown = uuid::Uuid::new_v4();
    let (s, b, _) = app.get(&format!("/v1/w3s/tokens/{unknown}"), None).await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156002)), "{b}");
    let (s, b, _) = app.get("/v1/w3s/tokens/not-a-uuid", None).await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156009)), "{b}");
    let r = app
        .bare(reqwest::Method::GET, &format!("/v1/w3s/tokens/{USDC_AMOY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn monitored_tokens_every_endpoint_and_status() {
    let app = spawn_app().await;
    // Never configured: 204, no body.
    let (s, b, _) = app.get(MONITORED, None).await;
    assert_eq!((s, b), (204, Value::Null));

    // POST adds (201), again is no change (200), an alias is its token.
    let (s, b, _) = app
        .post(MONITORED, None, json!({ "tokenIds": [USDC_AMOY] }))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["data"]["scope"], "SELECTED");
    assert_eq!(ids(&b), [USDC_AMOY]);
    assert_eq!(b["data"]["tokens"][0]["symbol"], "USDC");
    let (s, b, _) = app
        .post(
            MONITORED,
            None,
            json!({ "tokenIds": [USDC_AMOY, USDC_AMOY] }),
        )
        .await;
    assert_eq!((s, ids(&b)), (200, vec![USDC_AMOY.to_string()]));
    let (s, b, _) = app
        .post(MONITORED, None, json!({ "tokenIds": [USDC_BASE_OLD] }))
        .await;
    assert_eq!(
        (s, ids(&b)),
        (201, vec![USDC_BASE.into(), USDC_AMOY.into()])
    );

    // GET: the scope and the list, newest first, with a Link header.
    let (s, b, h) = app.get(MONITORED, None).await;
    assert_eq!((s, b["data"]["scope"].as_str()), (200, Some("SELECTED")));
    assert_eq!(ids(&b), [USDC_BASE, USDC_AMOY]);
    assert!(h.contains_key("link"));

    // PUT replaces the list (200).
    let (s, b, _) = app
        .put(
            MONITORED,
            None,
            json!({ "tokenIds": [USDC_SEPOLIA, POL_AMOY] }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ids(&b), [POL_AMOY, USDC_SEPOLIA]);

    // Scope: 200 with no body; GET shows it, the list is kept.
    let (s, b, _) = app
        .put(
            &format!("{MONITORED}/scope"),
            None,
            json!({ "scope": "MONITOR_ALL" }),
        )
        .await;
    assert_eq!((s, b), (200, Value::Null));
    let (_, b, _) = app.get(MONITORED, None).await;
    assert_eq!(b["data"]["scope"], "MONITOR_ALL");
    assert_eq!(ids(&b).len(), 2);
    // Adding something already listed still changes the scope back: 201.
    let (s, b, _) = app
        .post(MONITORED, None, json!({ "tokenIds": [POL_AMOY] }))
        .await;
    assert_eq!((s, b["data"]["scope"].as_str()), (201, Some("SELECTED")));

    // Delete: 200 with no body; ids not listed are ignored.
    let (s, b, _) = app
        .post(
            &format!("{MONITORED}/delete"),
            None,
            json!({ "tokenIds": [POL_AMOY, USDC_BASE] }),
        )
        .await;
    assert_eq!((s, b), (200, Value::Null));
    let (_, b, _) = app.get(MONITORED, None).await;
    assert_eq!(ids(&b), [USDC_SEPOLIA]);
    // PUT with no ids empties the list; the configuration stays (200, not 204).
    let (s, b, _) = app.put(MONITORED, None, json!({})).await;
    assert_eq!((s, ids(&b).len()), (200, 0));
    let (s, _, _) = app.get(MONITORED, None).await;
    assert_eq!(s, 200);

    // Bad input: unknown token 156002 (nothing written), not a UUID / missing / too many /
    // bad scope → code 2 naming the field.
    let unknown = uuid::Uuid::new_v4().to_string();
    for (method, path) in [
        (reqwest::Method::POST, MONITORED.to_string()),
        (reqwest::Method::PUT, MONITORED.to_string()),
        (reqwest::Method::POST, format!("{MONITORED}/delete")),
    ] {
        let body = json!({ "tokenIds": [USDC_AMOY, unknown] });
        let (s, b, _) = app.call(method.clone(), &path, None, Some(body)).await;
        assert_eq!(
            (s, b["code"].as_i64()),
            (404, Some(156002)),
            "{method} {path}: {b}"
        );
        let body = json!({ "tokenIds": ["nope"] });
        let (s, b, _) = app.call(method.clone(), &path, None, Some(body)).await;
        assert_eq!((s, b["code"].as_i64()), (400, Some(2)), "{b}");
        assert_eq!(b["errors"][0]["location"], "tokenIds[0]");
        let many: Vec<String> = (0..101).map(|_| USDC_AMOY.to_string()).collect();
        let (s, b, _) = app
            .call(
                method.clone(),
                &path,
                None,
                Some(json!({ "tokenIds": many })),
            )
            .await;
        assert_eq!(
            (s, b["errors"][0]["location"].as_str()),
            (400, Some("tokenIds"))
        );
    }
    let (_, b, _) = app.get(MONITORED, None).await;
    assert!(ids(&b).is_empty(), "a refused request wrote nothing: {b}");
    for (path, body, location) in [
        (MONITORED.to_string(), json!({}), "tokenIds"),
        (format!("{MONITORED}/delete"), json!({}), "tokenIds"),
    ] {
        let (s, b, _) = app.post(&path, None, body).await;
        assert_eq!(
            (s, b["errors"][0]["location"].as_str()),
            (400, Some(location)),
            "{b}"
        );
    }
    for scope in [json!({}), json!({ "scope": "ALL" })] {
        let (s, b, _) = app.put(&format!("{MONITORED}/scope"), None, scope).await;
        assert_eq!(
            (s, b["errors"][0]["location"].as_str()),
            (400, Some("scope")),
            "{b}"
        );
    }
    // Every route needs the API key.
    for (method, path) in [
        (reqwest::Method::GET, MONITORED.to_string()),
        (reqwest::Method::POST, MONITORED.to_string()),
        (reqwest::Method::PUT, format!("{MONITORED}/scope")),
    ] {
        let r = app
            .bare(method, &path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test]
async fn monitored_tokens_filters_and_paging() {
    let app = spawn_app().await;
    let all = [USDC_AMOY, POL_AMOY, USDC_SEPOLIA, ETH_SEPOLIA, USDC_BASE];
    for id in all {
        // One at a time, so that each has its own place in the list.
        let (s, _, _) = app.post(MONITORED, None, json!({ "tokenIds": [id] })).await;
        assert_eq!(s, 201);
    }
    let list = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let (s, b, h) = app.get(&format!("{MONITORED}?{q}"), None).await;
            assert_eq!(s, 200, "{q}: {b}");
            (ids(&b), h)
        }
    };
    assert_eq!(list("blockchain=MATIC-AMOY").await.0, [POL_AMOY, USDC_AMOY]);
    assert_eq!(
        list("symbol=USDC").await.0,
        [USDC_BASE, USDC_SEPOLIA, USDC_AMOY]
    );
    assert_eq!(
        list("tokenAddress=0x1C7D4B196Cb0C7B01d743Fbc6116a902379C7238")
            .await
            .0,
        [USDC_SEPOLIA]
    );
    assert_eq!(
        list("blockchain=ETH-SEPOLIA&symbol=ETH-SEPOLIA").await.0,
        [ETH_SEPOLIA]
    );
    assert!(list("blockchain=ETH").await.0.is_empty());

    // Pages of two, following the Link header's next, then back with prev.
    let (first, h) = list("pageSize=2").await;
    assert_eq!(first, [USDC_BASE, ETH_SEPOLIA]);
    let link = h["link"].to_str().unwrap().to_string();
    assert!(link.contains(&format!("pageAfter={ETH_SEPOLIA}")), "{link}");
    let (second, _) = list(&format!("pageSize=2&pageAfter={ETH_SEPOLIA}")).await;
    assert_eq!(second, [USDC_SEPOLIA, POL_AMOY]);
    let (third, h) = list(&format!("pageSize=2&pageAfter={POL_AMOY}")).await;
    assert_eq!(third, [USDC_AMOY]);
    assert!(!h["link"].to_str().unwrap().contains("rel=\"next\""));
    let (back, _) = list(&format!("pageSize=2&pageBefore={USDC_SEPOLIA}")).await;
    assert_eq!(back, [USDC_BASE, ETH_SEPOLIA]);
    let (asc, _) = list("order=ASC&pageSize=1").await;
    assert_eq!(asc, [USDC_AMOY]);

    // Bad queries: an unknown blockchain or empty constrained value → 2, a cursor that is
    // not a UUID → 156014, one that names no listed token → 156012.
    for (q, code) in [
        ("blockchain=NOPE", 2),
        ("blockchain=", 2),
        ("pageSize=0", 2),
        ("pageAfter=nope", 156014),
        (&*format!("pageAfter={}", uuid::Uuid::new_v4()), 156012),
    ] {
        let (s, b, _) = app.get(&format!("{MONITORED}?{q}"), None).await;
        assert_eq!(b["code"].as_i64(), Some(code), "{q}: {s} {b}");
    }
}

#[tokio::test]
async fn monitored_lists_are_per_entity_and_environment() {
    let app = spawn_app().await;
    let live = app.with_key_of(Environment::Live).await;
    let other = other_entity(&app).await;
    let (s, _, _) = app
        .post(MONITORED, None, json!({ "tokenIds": [USDC_AMOY] }))
        .await;
    assert_eq!(s, 201);

    // Neither the LIVE key of the same entity nor another entity sees the list…
    for view in [&live, &other] {
        let (s, _, _) = view.get(MONITORED, None).await;
        assert_eq!(s, 204);
        assert!(app
            .lk
            .token_visibility(&view.entity_id, view.environment())
            .await
            .unwrap()
            .allows(USDC_SEPOLIA));
    }
    // …nor changes it: their writes land in their own lists.
    let (s, b, _) = other
        .put(MONITORED, None, json!({ "tokenIds": [USDC_SEPOLIA] }))
        .await;
    assert_eq!((s, ids(&b)), (200, vec![USDC_SEPOLIA.to_string()]));
    let (s, _, _) = other
        .post(
            &format!("{MONITORED}/delete"),
            None,
            json!({ "tokenIds": [USDC_AMOY] }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _, _) = live
        .put(
            &format!("{MONITORED}/scope"),
            None,
            json!({ "scope": "MONITOR_ALL" }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b, _) = live.get(MONITORED, None).await;
    assert_eq!(
        (s, b["data"]["scope"].as_str(), ids(&b).len()),
        (200, Some("MONITOR_ALL"), 0)
    );

    let (_, b, _) = app.get(MONITORED, None).await;
    assert_eq!(
        (b["data"]["scope"].as_str(), ids(&b)),
        (Some("SELECTED"), vec![USDC_AMOY.into()])
    );
    let (_, b, _) = other.get(MONITORED, None).await;
    assert_eq!(ids(&b), [USDC_SEPOLIA]);

    // Visibility: the TEST list filters, the LIVE MONITOR_ALL does not.
    let test = app
        .lk
        .token_visibility(&app.entity_id, Environment::Test)
        .await
        .unwrap();
    assert!(test.allows(USDC_AMOY) && !test.allows(USDC_SEPOLIA));
    let all = app
        .lk
        .token_visibility(&app.entity_id, Environment::Live)
        .await
        .unwrap();
    assert!(all.allows(USDC_SEPOLIA));
}
