//! `GET /v1/w3s/config/entity`: the entity's App ID.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn entity_config_returns_app_id() {
    let app = spawn_app().await;
    let (s, body, _) = app.get("/v1/w3s/config/entity", None).await;
    assert_eq!(s, 200);
    assert_eq!(body, json!({ "data": { "appId": app.app_id } }));
}
