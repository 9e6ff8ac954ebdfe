//! The hosted PIN page's headers: framing allowed only to the entity's origins.

use crate::support::*;
use reqwest::Method;

#[tokio::test]
async fn the_hosted_page_is_framable_only_by_origins_its_entity_allows() {
    let app = spawn_app().await;
    let csp = |query: String| {
        let app = &app;
        async move {
            let r = app
                .bare(Method::GET, &format!("/pw/{query}"))
                .send()
                .await
                .unwrap();
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
