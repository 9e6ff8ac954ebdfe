//! The audit log: append-only in the database itself.

use crate::support::*;

#[tokio::test]
async fn audit_log_is_append_only() {
    let app = spawn_app().await;
    app.initialized_user(PIN).await;
    let url = app.database_url.clone();
    let result = if url.starts_with("sqlite") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET action = 'x'")
            .execute(&mut c)
            .await
            .map(|_| ())
    } else {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut c)
            .await
            .map(|_| ())
    };
    assert!(result.is_err(), "the audit log refused the change");
}
