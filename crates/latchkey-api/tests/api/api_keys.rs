//! The developer API key: every malformed, unknown or wrong key is a 401.

use crate::support::*;
use reqwest::Method;
use serde_json::Value;

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
        let mut r = app.bare(Method::GET, "/v1/w3s/users");
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
            .bare(Method::GET, "/v1/w3s/users")
            .header("authorization", &h)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], 156007);
    }
}
