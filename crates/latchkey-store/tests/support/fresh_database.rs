//! `fresh_database_url()`: one new, empty database per test, shared by the store's conformance
//! suite and the API's HTTP suite (each includes this file with `#[path]`).

use std::path::PathBuf;

/// A fresh database URL: a new PostgreSQL database on the server that
/// `LATCHKEY_TEST_DATABASE_URL` names, or by default a new SQLite file (its folder returned
/// too, so callers may reuse it).
pub async fn fresh_database_url() -> (String, Option<PathBuf>) {
    match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = std::env::temp_dir()
                .join(format!("latchkey-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("sqlite://{}", dir.join("latchkey.db").display()),
                Some(dir),
            )
        }
    }
}
