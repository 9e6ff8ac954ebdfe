//! A local Solana node for the money tests: `SolanaNode::start(&[])` runs
//! `tests/solana-node/start --port 0` (LiteSVM behind JSON-RPC; its first start on a fresh
//! clone runs `npm ci` there), reads the address from its first line and kills it on drop, as
//! [`super::anvil`] does for anvil. A node that cannot start fails the test (no silent skip).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the node may take to print its address (the first start runs `npm ci`).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// A running local Solana node, killed on drop.
pub struct SolanaNode {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    child: Child,
}

impl SolanaNode {
    /// Starts a node with these extra options (`--genesis-hash HASH`, `--slot-ms MS`…);
    /// panics (fails the test) when it cannot.
    pub fn start(args: &[&str]) -> SolanaNode {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join("tests/solana-node/start");
        let mut child = Command::new(&script)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let streams = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let tx = tx.clone();
            // Keeps draining after start-up so that a full pipe never blocks the node.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
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
                    if let Some(url) = line.trim().strip_prefix("solana-node listening on ") {
                        return SolanaNode {
                            url: url.to_string(),
                            child,
                        };
                    }
                    seen.push(line);
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "tests/solana-node did not start ({e:?}, {status:?}); it printed:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
    }
}

impl Drop for SolanaNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
