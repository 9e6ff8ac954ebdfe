//! The real binary: start-up, clear failures, the CLI tools, and logs free of secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

#[path = "../../latchkey-api/tests/api/support/anvil.rs"]
#[allow(dead_code)]
mod anvil;

#[path = "../../latchkey-api/tests/api/support/solana_node.rs"]
mod solana_node;

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
        Self::start_with_env(dir, extra, &[("LATCHKEY_LOG", log)])
    }

    fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::launch(dir, &[&["--dev"], extra].concat(), env)
    }

    /// A server without `--dev` (an operator's configuration).
    fn launch(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        // Beside the data dir, not in it: some tests start on a directory that does not exist yet.
        let stderr_path = std::env::temp_dir().join(format!(
            "latchkey-cli-stderr-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("LATCHKEY_LOG", "warn")
            .envs(env.iter().copied())
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
            let Some(Ok(line)) = lines.next() else {
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!("server exited: {stderr}");
            };
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

    // Origins allowed to frame the hosted page: added, listed, refused when not an origin,
    // removed, and removing again says it was not there.
    let origin = "https://app.example.com";
    let (code, _, err) = run(&["admin", "allow-origin", origin], &dir);
    assert_eq!(code, 0, "{err}");
    let (code, listed, _) = run(&["admin", "origins"], &dir);
    assert_eq!((code, listed.trim()), (0, origin));
    let (code, _, err) = run(&["admin", "allow-origin", "https://x.example/path"], &dir);
    assert!(code == 1 && err.contains("origin"), "{err}");
    let (code, _, err) = run(&["admin", "disallow-origin", origin], &dir);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["admin", "disallow-origin", origin], &dir);
    assert!(code == 1 && err.contains("was not allowed"), "{err}");
    let (code, listed, _) = run(&["admin", "origins"], &dir);
    assert_eq!((code, listed.trim()), (0, ""));

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

/// The API key printed at first start.
fn printed_api_key(s: &Server) -> String {
    s.stdout
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("API key:")
                .map(|k| k.trim().to_string())
        })
        .expect("first start prints a key")
}

/// Sends `count` requests; returns (status, Retry-After, body) of each.
fn burst(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    count: usize,
) -> Vec<(u16, Option<String>, Value)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..count {
            let mut r = c.request(method.parse().unwrap(), url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let retry = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body = resp.json::<Value>().await.unwrap_or(Value::Null);
            out.push((status, retry, body));
        }
        out
    })
}

fn assert_throttled(results: &[(u16, Option<String>, Value)], allowed: usize, what: &str) {
    for (i, (status, retry, body)) in results.iter().enumerate() {
        if i < allowed {
            assert_ne!(
                *status, 429,
                "{what}: request {i} is within the limit: {body}"
            );
        } else {
            assert_eq!(
                *status, 429,
                "{what}: request {i} is over the limit: {body}"
            );
            let secs: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
            assert!(secs >= 1, "{what}: Retry-After {secs}");
            assert_eq!(body["code"], 429, "{what}: {body}");
            assert!(body["message"]
                .as_str()
                .unwrap()
                .contains("Too many requests"));
        }
    }
}

#[test]
fn rate_limits_answer_429_with_retry_after_and_circles_body() {
    let dir = temp_dir();
    let s = Server::start(
        &dir,
        &[
            "--rate-limits",
            "--rate-get-per-second",
            "3",
            "--rate-sdk-per-minute",
            "2",
            "--rate-auth-failures-per-minute",
            "100",
        ],
        "warn",
    );
    let key = printed_api_key(&s);
    let auth = format!("Bearer {key}");
    let wallets = format!("{}/v1/w3s/wallets", s.base);
    assert_throttled(
        &burst("GET", &wallets, &[("authorization", &auth)], 5),
        3,
        "GET per API key",
    );
    // Another class of the same key has its own budget (POST: 5 a second).
    let users = burst(
        "POST",
        &format!("{}/v1/w3s/users", s.base),
        &[("authorization", &auth)],
        1,
    );
    assert_ne!(users[0].0, 429);
    let sdk = burst(
        "GET",
        &format!("{}/v1/w3s/sdk/challenges/{}", s.base, uuid::Uuid::new_v4()),
        &[],
        3,
    );
    assert_throttled(&sdk, 2, "end-user protocol per address");
    s.stop();

    // The same, configured from the environment: failed authentication per address.
    let s = Server::start_with_env(
        &dir,
        &[],
        &[
            ("LATCHKEY_RATE_LIMITS", "true"),
            ("LATCHKEY_RATE_AUTH_FAILURES_PER_MINUTE", "2"),
        ],
    );
    let bad = burst(
        "POST",
        &format!("{}/v1/w3s/users", s.base),
        &[("authorization", "Bearer TEST_API_KEY:nope:nope")],
        4,
    );
    assert_eq!(bad[0].0, 401);
    assert_throttled(&bad, 2, "failed authentication per address");
    s.stop();

    // --dev leaves them off unless asked.
    let dev = Server::start(&dir, &["--rate-get-per-second", "1"], "warn");
    let open = burst(
        "GET",
        &format!("{}/v1/w3s/wallets", dev.base),
        &[("authorization", &auth)],
        5,
    );
    assert!(open.iter().all(|(st, _, _)| *st != 429), "{open:?}");
    dev.stop();
}

fn connect(base: &str) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads until the connection closes or a whole response head and `{"message":"pong"}` came.
fn read_some(stream: &mut std::net::TcpStream) -> std::io::Result<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(String::from_utf8_lossy(&got).into());
        }
        got.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&got).contains("pong") {
            return Ok(String::from_utf8_lossy(&got).into());
        }
    }
}

const PING: &[u8] = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn slow_headers_and_idle_connections_are_closed() {
    let dir = temp_dir();
    let s = Server::start(&dir, &["--header-read-timeout-seconds", "1"], "warn");
    // Half a request head, then silence: closed after the timeout.
    let mut slow = connect(&s.base);
    slow.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let got = read_some(&mut slow).expect("closed, not timed out on our side");
    assert!(!got.contains("pong"), "{got}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A kept-alive connection with nothing more to ask is closed too.
    let mut idle = connect(&s.base);
    idle.write_all(PING).unwrap();
    assert!(read_some(&mut idle).unwrap().contains("pong"));
    let started = Instant::now();
    let rest = read_some(&mut idle).expect("closed, not timed out on our side");
    assert!(rest.is_empty() || !rest.contains("pong"), "{rest}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    s.stop();
}

#[test]
fn the_connection_cap_holds_and_the_server_keeps_answering() {
    let dir = temp_dir();
    let s = Server::start(
        &dir,
        &[
            "--max-connections",
            "2",
            "--header-read-timeout-seconds",
            "30",
        ],
        "warn",
    );
    let mut first = connect(&s.base);
    let second = connect(&s.base);
    // Both places are taken; the server still answers on them.
    first.write_all(PING).unwrap();
    assert!(read_some(&mut first).unwrap().contains("pong"));

    // A third client waits: connected (the backlog) but not served.
    let mut third = connect(&s.base);
    third.write_all(PING).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let waited = read_some(&mut third);
    assert!(
        waited.as_ref().map_or(true, |g| !g.contains("pong")),
        "served beyond the cap: {waited:?}"
    );
    // A place frees up: the waiting client is served.
    drop(second);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(read_some(&mut third).unwrap().contains("pong"));
    first.write_all(PING).unwrap();
    assert!(read_some(&mut first).unwrap().contains("pong"));
    s.stop();
}

#[cfg(unix)]
#[test]
fn data_dir_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let parent = temp_dir();
    let data = parent.join("data");
    let s = Server::start(&data, &[], "warn");
    // A write, so that the WAL and its index exist.
    let key = printed_api_key(&s);
    let created = http(
        "POST",
        &format!("{}/v1/w3s/users", s.base),
        &[("authorization", &format!("Bearer {key}"))],
        Some(json!({ "userId": "private-files" })),
    );
    assert!(created["data"].is_object(), "{created}");
    assert_eq!(mode(&data), 0o700);
    for file in [
        "latchkey.db",
        "latchkey.db-wal",
        "latchkey.db-shm",
        "master.key",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let stderr = s.stop();
    assert!(!stderr.contains("readable by other users"), "{stderr}");

    // An existing directory that others can read: one warning line at start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let again = Server::start(&data, &[], "warn");
    let stderr = again.stop();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("readable by other users"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(&data.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn stalled_and_drip_fed_bodies_are_cut_off() {
    let dir = temp_dir();
    let s = Server::start(
        &dir,
        &[
            "--body-read-timeout-seconds",
            "1",
            "--request-timeout-seconds",
            "3",
        ],
        "warn",
    );
    let key = printed_api_key(&s);
    let head = format!(
        "POST /v1/w3s/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"userId\""
    );
    // A body that stops: answered (not 2xx) or closed within a few seconds.
    let mut stalled = connect(&s.base);
    stalled.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let got = read_some(&mut stalled).expect("answered or closed, not left open");
    assert!(!got.starts_with("HTTP/1.1 2"), "{got}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A body drip-fed faster than the stall timeout: 408 at the request timeout.
    let mut drip = connect(&s.base);
    drip.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let mut buf = [0u8; 1024];
    drip.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    while started.elapsed() < Duration::from_secs(8) {
        if drip.write_all(b" ").is_err() {
            break;
        }
        match drip.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.push_str(&String::from_utf8_lossy(&buf[..n]));
                if answer.contains("\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("\"code\":408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    s.stop();
}

#[test]
fn admin_user_commands_name_the_environment() {
    // The same userId in TEST and in LIVE is two users: the operator's commands act on the
    // TEST one unless told `--live`.
    let dir = temp_dir();
    let s = Server::start(&dir, &[], "warn");
    let test_key = printed_api_key(&s);
    let (code, out, _) = run(&["apikey", "create", "--live"], &dir);
    assert_eq!(code, 0);
    let live_key = out.trim().lines().last().unwrap().to_string();
    let user = |key: &str, user_id: &str| -> String {
        let auth = format!("Bearer {key}");
        let url = |p: &str| format!("{}{p}", s.base);
        let body = json!({ "userId": user_id });
        http(
            "POST",
            &url("/v1/w3s/users"),
            &[("authorization", &auth)],
            Some(body.clone()),
        );
        let t = http(
            "POST",
            &url("/v1/w3s/users/token"),
            &[("authorization", &auth)],
            Some(body),
        );
        t["data"]["userToken"].as_str().unwrap().to_string()
    };
    let (test_token, live_token) = (
        user(&test_key, "twin-user-1"),
        user(&live_key, "twin-user-1"),
    );
    let me = |key: &str, token: &str| -> Value {
        http(
            "GET",
            &format!("{}/v1/w3s/user", s.base),
            &[
                ("authorization", &format!("Bearer {key}")),
                ("x-user-token", token),
            ],
            None,
        )
    };
    let disabled = || {
        [(&test_key, &test_token), (&live_key, &live_token)]
            .map(|(k, t)| me(k, t)["code"] == 155109)
    };
    assert_eq!(disabled(), [false, false]);

    let (code, _, err) = run(&["admin", "disable-user", "--user-id", "twin-user-1"], &dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(disabled(), [true, false]);
    let (code, _, err) = run(&["admin", "enable-user", "--user-id", "twin-user-1"], &dir);
    assert_eq!(code, 0, "{err}");
    let args = [
        "admin",
        "disable-user",
        "--user-id",
        "twin-user-1",
        "--live",
    ];
    let (code, _, err) = run(&args, &dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(disabled(), [false, true]);

    // Each environment's audit trail is its own user's.
    let (code, test_log, _) = run(&["admin", "audit", "--user-id", "twin-user-1"], &dir);
    assert_eq!(code, 0);
    assert!(test_log.contains("user.enabled"), "{test_log}");
    let args = ["admin", "audit", "--user-id", "twin-user-1", "--live"];
    let (code, live_log, _) = run(&args, &dir);
    assert_eq!(code, 0);
    assert!(
        live_log.contains("user.disabled") && !live_log.contains("user.enabled"),
        "{live_log}"
    );

    // A userId that exists only in LIVE is unknown to the TEST default.
    user(&live_key, "only-live-user");
    let (code, _, err) = run(&["admin", "unlock", "--user-id", "only-live-user"], &dir);
    assert_eq!(code, 1, "{err}");
    let args = ["admin", "unlock", "--user-id", "only-live-user", "--live"];
    let (code, out, err) = run(&args, &dir);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("LIVE"), "{out}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rpc_nodes_are_checked_at_start() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let other = rt.block_on(anvil::Anvil::start(31_337));
    let amoy = rt.block_on(anvil::Anvil::start(80_002));
    let dir = temp_dir();
    let refused = |args: &[&str]| {
        let (code, _, err) = run(
            &[&["serve", "--listen", "127.0.0.1:0"], args].concat(),
            &dir,
        );
        assert_eq!(code, 1, "{err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
        errors[0].to_string()
    };
    let wrong = format!("MATIC-AMOY={}", other.url);
    assert_eq!(
        refused(&["--rpc", &wrong]),
        format!(
            "error: --rpc MATIC-AMOY: the node at {} is chain 31337, MATIC-AMOY is chain 80002",
            other.url
        )
    );
    assert!(refused(&["--rpc", "ETH-GOERLI=http://127.0.0.1:1"])
        .starts_with("error: --rpc: unknown blockchain \"ETH-GOERLI\""));
    assert!(refused(&["--rpc", "EVM-TESTNET=http://127.0.0.1:1"])
        .starts_with("error: --rpc EVM-TESTNET: latchkey moves no money on EVM-TESTNET"));
    let dead = refused(&["--rpc", "ETH-SEPOLIA=http://127.0.0.1:1/v2/SECRET"]);
    assert!(
        dead.starts_with(
            "error: --rpc ETH-SEPOLIA: the node at http://127.0.0.1:1/*** cannot be reached"
        ),
        "{dead}"
    );

    // A matching node, from the environment, with an operator's confirmation count.
    let s = Server::start_with_env(
        &dir,
        &["--confirmations", "MATIC-AMOY=3"],
        &[
            (
                "LATCHKEY_RPC",
                &format!("MATIC-AMOY={}/?key=SECRET", amoy.url),
            ),
            ("LATCHKEY_LOG", "info"),
        ],
    );
    let stderr = s.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("chain connected"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for part in [
        "blockchain=MATIC-AMOY",
        "chain_id=80002",
        "local=true",
        "confirmations=3",
        &format!("url={}?***", amoy.url),
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    assert!(!stderr.contains("SECRET"), "{stderr}");
}

#[test]
fn solana_nodes_are_checked_at_start() {
    // Testnet's genesis hash: a real cluster, but not devnet's.
    let testnet = "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY";
    let other = solana_node::SolanaNode::start(&["--genesis-hash", testnet]);
    let local = solana_node::SolanaNode::start(&[]);
    let dir = temp_dir();
    let refused = |args: &[&str]| {
        let (code, _, err) = run(
            &[&["serve", "--listen", "127.0.0.1:0"], args].concat(),
            &dir,
        );
        assert_eq!(code, 1, "{err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
        errors[0].to_string()
    };
    let wrong = refused(&["--rpc", &format!("SOL-DEVNET={}", other.url)]);
    assert!(
        wrong.starts_with(&format!(
            "error: --rpc SOL-DEVNET: the node at {} serves the cluster with genesis hash \
             {testnet}, SOL-DEVNET is EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG",
            other.url
        )),
        "{wrong}"
    );
    let dead = refused(&["--rpc", "SOL=http://127.0.0.1:1/SECRET"]);
    assert!(
        dead.starts_with("error: --rpc SOL: the node at http://127.0.0.1:1/*** cannot be reached"),
        "{dead}"
    );
    let good = format!("SOL-DEVNET={}", local.url);
    assert!(
        refused(&["--rpc", &good, "--confirmations", "SOL-DEVNET=3"])
            .starts_with("error: --confirmations SOL-DEVNET: a Solana transaction's depth"),
    );

    // A local validator of another cluster is accepted when the operator names its genesis
    // hash; a value that is not one is refused.
    let not_a_hash = refused(&[
        "--rpc",
        &format!("SOL-DEVNET={}", other.url),
        "--solana-local-genesis-hash",
        "not-base58!",
    ]);
    assert!(
        not_a_hash.starts_with("error: --solana-local-genesis-hash: \"not-base58!\" is not"),
        "{not_a_hash}"
    );
    let s = Server::start_with_env(
        &dir,
        &[
            "--rpc",
            &format!("SOL-DEVNET={}", other.url),
            "--solana-local-genesis-hash",
            testnet,
        ],
        &[("LATCHKEY_LOG", "info")],
    );
    let stderr = s.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("chain connected"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for part in [
        "blockchain=SOL-DEVNET",
        &format!("genesis_hash={testnet}"),
        "local=true",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }

    // latchkey's local test node, from the environment: connected as a local node.
    let s = Server::start_with_env(
        &dir,
        &[],
        &[("LATCHKEY_RPC", &good), ("LATCHKEY_LOG", "info")],
    );
    let stderr = s.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("chain connected"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for part in [
        "blockchain=SOL-DEVNET",
        "genesis_hash=5cr6Q9j5Q1k94VRmCW7v51dcoDMmNGW25jJ6cciVLzGJ",
        "local=true",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
}

#[test]
fn gas_stations_are_checked_at_start_and_dev_deploys_one_on_a_local_node() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let amoy = rt.block_on(anvil::Anvil::start(80_002));
    let dir = temp_dir();
    let rpc = format!("MATIC-AMOY={}", amoy.url);
    // A fixed test key (its account, 0x2b59…6e44, holds nothing on anvil).
    let key_file = dir.join("station.key");
    std::fs::write(
        &key_file,
        "59c6995e998f97a5a0044966f0945389dc9c86dae88c7a8412f4603b6b78690d\n",
    )
    .unwrap();
    let station = format!("MATIC-AMOY={}", key_file.display());
    let refused = |args: &[&str]| {
        let (code, _, err) = run(
            &[&["serve", "--listen", "127.0.0.1:0", "--rpc", &rpc], args].concat(),
            &dir,
        );
        assert_eq!(code, 1, "{err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(!err.contains("59c6995e"), "{err}");
        errors[0].to_string()
    };
    let no_paymaster = refused(&["--gas-station-key", &station]);
    assert!(
        no_paymaster.contains("also set --paymaster MATIC-AMOY=ADDRESS"),
        "{no_paymaster}"
    );
    let not_one = refused(&[
        "--gas-station-key",
        &station,
        "--paymaster",
        "MATIC-AMOY=0x000000000000000000000000000000000000dEaD",
    ]);
    assert!(
        not_one.contains("is not a VerifyingPaymaster trusting the gas station's key"),
        "{not_one}"
    );

    // --dev on the local node: the contracts, a station key kept in the data dir, a paymaster.
    let configured = |stderr: &str| -> String {
        stderr
            .lines()
            .find(|l| l.contains("gas station configured"))
            .unwrap_or_else(|| panic!("{stderr}"))
            .to_string()
    };
    let s = Server::start_with_env(&dir, &["--rpc", &rpc], &[("LATCHKEY_LOG", "info")]);
    let first = configured(&s.stop());
    let kept = dir.join("gas-station-MATIC-AMOY.key");
    assert!(kept.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let s = Server::start_with_env(&dir, &["--rpc", &rpc], &[("LATCHKEY_LOG", "info")]);
    let again = configured(&s.stop());
    let tail = |l: &str| l[l.find("station=").unwrap()..].to_string();
    assert_eq!(tail(&first), tail(&again), "a restart keeps the station");

    // The funds watch: an operator's station (the key above) and a VerifyingPaymaster
    // trusting it, deployed as the operator would, with a deposit of 0.001 and the station's
    // balance set to 0.002: both are warned about at start, with how to refill them.
    let station_address = "0x2b5907E591D106e1954B05dC9CA52c4322836e44";
    let paymaster = rt.block_on(async {
        let chain = latchkey_evm::connect(
            latchkey_chains::Blockchain::MaticAmoy,
            &amoy.url,
            &latchkey_evm::RpcOptions::default(),
        )
        .await
        .unwrap();
        let node = chain.node.as_ref();
        let from = node.accounts().await.unwrap()[0];
        let aa = latchkey_evm::aa_deploy::deploy_aa_contracts(
            node,
            from,
            station_address.parse().unwrap(),
        )
        .await
        .unwrap();
        latchkey_evm::aa_deploy::fund_paymaster(
            node,
            from,
            aa.entry_point,
            aa.paymaster,
            latchkey_chains::U256::from(1_000_000_000_000_000u64),
        )
        .await
        .unwrap();
        aa.paymaster
    });
    rt.block_on(amoy.rpc(
        "anvil_setBalance",
        json!([station_address, "0x71afd498d0000"]),
    ));
    let paymaster_arg = format!("MATIC-AMOY={paymaster}");
    let s = Server::launch(
        &dir,
        &[
            "--rpc",
            &rpc,
            "--gas-station-key",
            &station,
            "--paymaster",
            &paymaster_arg,
        ],
        &[("LATCHKEY_LOG", "warn")],
    );
    // The first check runs at start, just after the listening line.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(&s.stderr_path)
        .unwrap_or_default()
        .contains("balance is low")
    {
        assert!(Instant::now() < deadline, "no low-funds warning");
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = s.stop();
    let line = |what: &str| {
        log.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{log}"))
            .to_string()
    };
    let deposit = line("deposit is low");
    assert!(deposit.contains("deposit=0.001 "), "{deposit}");
    assert!(
        deposit.contains("EntryPoint.depositTo(paymaster)"),
        "{deposit}"
    );
    let balance = line("balance is low");
    assert!(balance.contains("balance=0.002 "), "{balance}");
    assert!(!log.contains("59c6995e"), "{log}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_paymaster_policy_sets_lists_and_resets_a_chains_sponsorship() {
    // A mainnet is sponsored only once its operator sets an active policy: until then its SCA
    // wallets are refused (155509); a reset brings the default (none) back.
    let dir = temp_dir();
    let s = Server::start(&dir, &[], "warn");
    let (code, out, _) = run(&["apikey", "create", "--live"], &dir);
    assert_eq!(code, 0);
    let live_key = out.trim().lines().last().unwrap().to_string();
    let auth = format!("Bearer {live_key}");
    let url = |p: &str| format!("{}{p}", s.base);
    let body = json!({ "userId": "policy-user-1" });
    http(
        "POST",
        &url("/v1/w3s/users"),
        &[("authorization", &auth)],
        Some(body.clone()),
    );
    let t = http(
        "POST",
        &url("/v1/w3s/users/token"),
        &[("authorization", &auth)],
        Some(body),
    );
    let token = t["data"]["userToken"].as_str().unwrap().to_string();
    let sca_on_eth = || {
        let body = json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(),
            "blockchains": ["ETH"], "accountType": "SCA" });
        let r = http(
            "POST",
            &url("/v1/w3s/user/initialize"),
            &[("authorization", &auth), ("x-user-token", &token)],
            Some(body),
        );
        r["code"].as_i64().unwrap_or(0)
    };
    assert_eq!(sca_on_eth(), 155509);

    let (code, out, err) = run(&["admin", "paymaster-policy"], &dir);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no policies set"), "{out}");
    let set = [
        "admin",
        "paymaster-policy",
        "set",
        "--blockchain",
        "ETH",
        "--max-native-daily",
        "0.5",
        "--max-ops-daily",
        "10",
    ];
    let (code, out, err) = run(&set, &dir);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("ETH active: per day 0.5 ETH (used 0 ETH), per operation none, operations per day 10 (used 0)"),
        "{out}"
    );
    assert_eq!(sca_on_eth(), 0);
    let (code, listed, _) = run(&["admin", "paymaster-policy"], &dir);
    assert_eq!((code, listed.trim()), (0, out.trim()));

    // Bad input: not an SCA chain, not a chain, not an amount.
    for args in [
        &["admin", "paymaster-policy", "set", "--blockchain", "SOL"][..],
        &["admin", "paymaster-policy", "set", "--blockchain", "DOGE"][..],
        &[
            "admin",
            "paymaster-policy",
            "set",
            "--blockchain",
            "ETH",
            "--max-native-daily",
            "1e3",
        ][..],
    ] {
        let (code, _, err) = run(args, &dir);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?}");
    }

    let reset = ["admin", "paymaster-policy", "reset", "--blockchain", "ETH"];
    let (code, out, err) = run(&reset, &dir);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("not sponsored"), "{out}");
    assert_eq!(sca_on_eth(), 155509);
    let (code, _, err) = run(&reset, &dir);
    assert_eq!(code, 1, "{err}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
