//! The real binary: start-up, clear failures, the CLI tools, and logs free of secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("latchkey-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("LATCHKEY_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

struct Server {
    child: Child,
    base: String,
    stdout: Vec<String>,
    stderr_path: PathBuf,
}

impl Server {
    fn start(dir: &Path, extra: &[&str], log: &str) -> Server {
        let stderr_path = dir.join(format!("stderr-{}.log", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--dev", "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("LATCHKEY_LOG", log)
            .env_remove("LATCHKEY_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            assert!(Instant::now() < deadline, "server did not start");
            let line = lines.next().expect("server exited").unwrap();
            stdout.push(line.clone());
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            stdout,
            stderr_path,
        }
    }

    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let mut s = String::new();
        std::fs::File::open(&self.stderr_path)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }
}

#[test]
fn first_start_creates_key_file_entity_and_prints_one_test_key() {
    let dir = temp_dir();
    let s = Server::start(&dir, &[], "info");
    let out = s.stdout.join("\n");
    assert!(out.contains("App ID:"), "{out}");
    assert!(out.contains("API key:    TEST_API_KEY:"), "{out}");
    let key_file = dir.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let stderr = s.stop();
    assert!(stderr.contains("DEV MODE"), "{stderr}");
    let again = Server::start(&dir, &[], "info");
    assert!(
        !again.stdout.join("\n").contains("API key:"),
        "the key is shown once"
    );
    again.stop();
}

#[test]
fn clear_errors_and_non_zero_exit() {
    let dir = temp_dir();
    let (code, _, err) = run(&["apikey", "create", "--database-url", "mysql://x/y"], &dir);
    assert_eq!(code, 1);
    assert!(
        err.trim()
            .starts_with("error: unsupported database URL scheme 'mysql'"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let (code, _, err) = run(
        &[
            "apikey",
            "create",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/none",
        ],
        &dir,
    );
    assert_eq!(code, 1);
    assert!(err.contains("error: cannot connect to PostgreSQL"), "{err}");
    assert!(!err.contains("panicked"));

    let bad = temp_dir();
    std::fs::write(bad.join("master.key"), "not a key").unwrap();
    let (code, _, err) = run(&["apikey", "create"], &bad);
    assert_eq!(code, 1);
    assert!(
        err.contains("master key file") && err.contains("does not hold 32 bytes"),
        "{err}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run(&["serve", "--listen", &port], &dir);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("error: cannot listen on {port}")),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<Value>) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let mut r = c.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap().json::<Value>().await.unwrap()
    })
}

#[test]
fn apikey_create_works_while_serving_and_logs_never_hold_secrets() {
    let dir = temp_dir();
    let s = Server::start(&dir, &[], "debug");
    let (code, out, _) = run(&["apikey", "create", "--name", "second"], &dir);
    assert_eq!(code, 0);
    let key = out.trim().lines().last().unwrap().to_string();
    assert!(key.starts_with("TEST_API_KEY:"), "{key}");
    let (code, out, _) = run(&["apikey", "create", "--live"], &dir);
    assert_eq!(code, 0);
    assert!(out
        .trim()
        .lines()
        .last()
        .unwrap()
        .starts_with("LIVE_API_KEY:"));

    let auth = format!("Bearer {key}");
    let app_id = http(
        "GET",
        &format!("{}/v1/w3s/config/entity", s.base),
        &[("authorization", &auth)],
        None,
    )["data"]["appId"]
        .as_str()
        .unwrap()
        .to_string();
    http(
        "POST",
        &format!("{}/v1/w3s/users", s.base),
        &[("authorization", &auth)],
        Some(json!({ "userId": "log-user-1" })),
    );
    let t = http(
        "POST",
        &format!("{}/v1/w3s/users/token", s.base),
        &[("authorization", &auth)],
        Some(json!({ "userId": "log-user-1" })),
    );
    let (token, enc) = (
        t["data"]["userToken"].as_str().unwrap().to_string(),
        t["data"]["encryptionKey"].as_str().unwrap().to_string(),
    );
    let challenge = |m: &str, p: &str| {
        http(
            m,
            &format!("{}{p}", s.base),
            &[("authorization", &auth), ("x-user-token", &token)],
            Some(json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string() })),
        )["data"]["challengeId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let execute = |id: &str, input: Value| -> (i32, Value) {
        let mut child = Command::new(BIN)
            .args([
                "challenge",
                "execute",
                "--url",
                &s.base,
                "--app-id",
                &app_id,
                "--user-token",
                &token,
                "--encryption-key",
                &enc,
                "--challenge-id",
                id,
                "--input",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().unwrap();
        let text = if code == 0 { out.stdout } else { out.stderr };
        (code, serde_json::from_slice(&text).unwrap_or(Value::Null))
    };
    let init = challenge("POST", "/v1/w3s/user/initialize");
    let (code, out) = execute(
        &init,
        json!({ "newPin": "159357", "securityQuestions": [
        { "question": "First pet?", "answer": "Zanzibar", "hint": "island" },
        { "question": "Birth city?", "answer": "Quixotic" } ] }),
    );
    assert_eq!(
        (code, out["data"]["status"].as_str()),
        (0, Some("COMPLETE")),
        "{out}"
    );
    let change = challenge("PUT", "/v1/w3s/user/pin");
    let (code, err) = execute(&change, json!({ "pin": "975318", "newPin": "246813" }));
    assert_eq!(
        (code, err["code"].as_i64(), err["attemptsLeft"].as_i64()),
        (1, Some(155112), Some(2)),
        "{err}"
    );
    let (code, _) = execute(&change, json!({ "pin": "159357", "newPin": "246813" }));
    assert_eq!(code, 0);
    let restore = challenge("POST", "/v1/w3s/user/pin/restore");
    let (code, _) = execute(
        &restore,
        json!({ "securityAnswers": ["zanzibar", "quixotic"], "newPin": "283746" }),
    );
    assert_eq!(code, 0);

    // Operator tools against the live database.
    let (code, out, _) = run(&["admin", "audit", "--user-id", "log-user-1"], &dir);
    assert_eq!(code, 0);
    assert!(
        out.contains("pin.restored") && out.contains("pin.attempt.failed"),
        "{out}"
    );
    let (code, _, _) = run(&["admin", "disable-user", "--user-id", "log-user-1"], &dir);
    assert_eq!(code, 0);
    let r = http(
        "GET",
        &format!("{}/v1/w3s/user", s.base),
        &[("authorization", &auth), ("x-user-token", &token)],
        None,
    );
    assert_eq!(r["code"], 155109);
    let (code, _, err) = run(
        &["admin", "enable-user", "--user-id", "nobody-at-all"],
        &dir,
    );
    assert_eq!(code, 1, "{err}");

    let (code, out2, _) = run(&["admin", "webhooks"], &dir);
    assert_eq!(code, 0);
    assert!(out2.starts_with("notificationId"), "{out2}");
    let (code, out3, _) = run(&["admin", "rotate-webhook-key"], &dir);
    assert_eq!(code, 0, "{out3}");
    let (code, _, err) = run(&["admin", "webhooks", "redeliver", "no-such-id"], &dir);
    assert_eq!(code, 1, "{err}");

    let logs = s.stop() + &out;
    let secret_part = key.rsplit(':').next().unwrap();
    for secret in [
        "159357",
        "975318",
        "246813",
        "283746",
        "Zanzibar",
        "zanzibar",
        "Quixotic",
        "quixotic",
        &token,
        &enc,
        secret_part,
    ] {
        assert!(
            !logs.contains(secret),
            "{secret} reached the logs or the audit log"
        );
    }
    assert!(
        logs.contains("/v1/w3s/sdk/challenges"),
        "debug logging was on: {logs}"
    );
}
