//! A local Ethereum node for the money tests: `Anvil::start(chain_id)` runs the anvil binary
//! that `tests/compat` installs from npm (`@foundry-rs/anvil`, the platform package's
//! `bin/anvil`), found the way `tests/compat/lib/chain.js` finds it (`ANVIL_BIN` first). It
//! listens on 127.0.0.1 on a port of its own choosing, uses the given chain id (Circle's:
//! 11155111 for ETH-SEPOLIA, 80002 for MATIC-AMOY) and two funded, unlocked dev accounts, and
//! is killed when the `Anvil` is dropped.
//!
//! A missing binary is installed (`npm ci` in tests/compat, once per test run); when that is
//! impossible the test fails instead of skipping: a silent skip would turn CI green without a
//! node ever running.
//!
//! Also here: plain JSON-RPC (`rpc`), and deployment of the committed test contracts from
//! `contracts/out` (`deploy`).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long anvil may take to print its `Listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running anvil, killed on drop.
pub struct Anvil {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The chain id it was started with (what `eth_chainId` answers).
    pub chain_id: u64,
    child: Child,
    http: reqwest::Client,
}

impl Anvil {
    /// Starts anvil with this chain id; panics (fails the test) when it cannot.
    pub async fn start(chain_id: u64) -> Anvil {
        let bin = anvil_binary();
        let (child, url) = tokio::task::spawn_blocking(move || spawn(&bin, chain_id))
            .await
            .unwrap();
        Anvil {
            url,
            chain_id,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// A JSON-RPC call; `Err` carries the node's `error` object.
    pub async fn try_rpc(&self, method: &str, params: Value) -> Result<Value, Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let reply: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method}: anvil at {} unreachable: {e}", self.url))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method}: anvil answered non-JSON: {e}"));
        match reply.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(reply["result"].clone()),
        }
    }

    /// A JSON-RPC call that must succeed.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    /// The unlocked dev accounts (`eth_accounts`), lowercase `0x` hex.
    pub async fn accounts(&self) -> Vec<String> {
        let v = self.rpc("eth_accounts", json!([])).await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_lowercase())
            .collect()
    }

    /// Sends `tx` from an unlocked account (`eth_sendTransaction`) and returns its receipt,
    /// which must report success. With automine (anvil's default) it is mined at once.
    pub async fn send(&self, tx: Value) -> Value {
        let hash = self.rpc("eth_sendTransaction", json!([tx])).await;
        for _ in 0..100 {
            let receipt = self.rpc("eth_getTransactionReceipt", json!([hash])).await;
            if !receipt.is_null() {
                assert_eq!(receipt["status"], "0x1", "transaction reverted: {receipt}");
                return receipt;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no receipt for {hash}");
    }

    /// Deploys the committed artifact `contracts/out/<name>.json` from the first dev account
    /// and returns the contract's address (lowercase `0x` hex).
    pub async fn deploy(&self, name: &str) -> String {
        let from = self.accounts().await.remove(0);
        let bytecode = artifact(name)["bytecode"].as_str().unwrap().to_owned();
        let receipt = self.send(json!({"from": from, "data": bytecode})).await;
        receipt["contractAddress"].as_str().unwrap().to_lowercase()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The committed build output `contracts/out/<name>.json` (abi, bytecode, methodIdentifiers).
pub fn artifact(name: &str) -> Value {
    let path = repo_root()
        .join("contracts/out")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run contracts/build)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The 4-byte selector of `signature` in artifact `name`, as `0x` + 8 hex digits.
pub fn selector(name: &str, signature: &str) -> String {
    let ids = &artifact(name)["methodIdentifiers"];
    let id = ids[signature]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no function {signature}: {ids}"));
    format!("0x{id}")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `ANVIL_BIN`, else the platform package under tests/compat/node_modules, installed with
/// `npm ci` there when missing; panics with what to do when that fails.
fn anvil_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ANVIL_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "ANVIL_BIN={} does not exist", bin.display());
        return bin;
    }
    let os = match std::env::consts::OS {
        "windows" => "win32",
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let exe = if os == "win32" { "anvil.exe" } else { "anvil" };
    let modules = repo_root().join("tests/compat/node_modules/@foundry-rs");
    let candidates = [
        modules.join(format!("anvil-{os}-{arch}/bin/{exe}")),
        modules.join(format!("anvil/dist/{exe}")),
    ];
    let found = || candidates.iter().find(|p| p.is_file()).cloned();
    if let Some(bin) = found() {
        return bin;
    }
    // A fresh clone: install tests/compat's pinned packages (anvil among them) once, so that
    // `cargo test --workspace` needs nothing run before it but Node and npm on the PATH.
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if !*installed && found().is_none() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(repo_root().join("tests/compat"))
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "no anvil binary (looked for {}) and `npm ci` in tests/compat failed ({status:?}): \
             install Node 20+ and npm, or set ANVIL_BIN",
            candidates[0].display()
        );
        *installed = true;
    }
    found().unwrap_or_else(|| {
        panic!(
            "no anvil binary after npm ci in tests/compat (looked for {}); set ANVIL_BIN",
            candidates[0].display()
        )
    })
}

/// Spawns anvil and waits for its `Listening on HOST:PORT` line. Its output keeps being
/// drained afterwards so that a full pipe never blocks it.
fn spawn(bin: &Path, chain_id: u64) -> (Child, String) {
    let mut child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", "0", "--accounts", "2"])
        .args(["--chain-id", &chain_id.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    let stderr = child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    for stream in [stdout, stderr].into_iter().flatten() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                // The receiver goes away once anvil is listening; keep draining regardless.
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let deadline = std::time::Instant::now() + STARTUP_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                    return (child, format!("http://{}", addr.trim()));
                }
                seen.push(line);
            }
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "anvil ({}) did not start ({e:?}, {status:?}); it printed:\n{}",
                    bin.display(),
                    seen.join("\n")
                );
            }
        }
    }
}
