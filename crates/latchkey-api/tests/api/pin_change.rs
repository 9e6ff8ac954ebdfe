//! CHANGE_PIN: the reset-PIN guide.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn reset_pin_guide() {
    let app = spawn_app().await;
    let u = app.user().await;
    let init = app.initialize(&u, PIN).await;
    let c = app.challenge_status(&u, &init).await;
    assert_eq!(
        (c["type"].as_str(), c["status"].as_str()),
        (Some("INITIALIZE"), Some("COMPLETE"))
    );
    assert_eq!(c["correlationIds"], json!([]));
    let status = app.dev.get_user_status(&u.token).await.unwrap();
    assert_eq!(status["data"]["pinStatus"], "ENABLED");
    assert_eq!(status["data"]["securityQuestionStatus"], "ENABLED");

    let id = app.challenge(&u, Method::PUT, "/v1/w3s/user/pin").await;
    assert_eq!(app.challenge_status(&u, &id).await["status"], "PENDING");
    let out = app
        .executor(&u)
        .execute(&id, &json!({ "pin": PIN, "newPin": NEW_PIN }))
        .await
        .unwrap();
    assert_eq!(
        out,
        json!({ "data": { "type": "CHANGE_PIN", "status": "COMPLETE", "data": {} } })
    );
    let c = app.challenge_status(&u, &id).await;
    assert_eq!(
        (c["type"].as_str(), c["status"].as_str()),
        (Some("CHANGE_PIN"), Some("COMPLETE"))
    );

    // The old PIN no longer opens anything; the new one does.
    let err = app.change_pin(&u, PIN, "135792").await.unwrap_err();
    assert_eq!(api_code(&err), 155112);
    app.change_pin(&u, NEW_PIN, "135792").await.unwrap();
}
