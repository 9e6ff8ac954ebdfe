//! The chain knobs of `latchkey serve`: which JSON-RPC node serves each blockchain's money
//! routes, and how it is used. Layered like every knob (flag > environment > TOML), a list
//! source replacing the lower ones whole: `--rpc` flags, else `LATCHKEY_RPC`, else `[rpc]`.

use clap::Args;
use latchkey_chains::Blockchain;
use latchkey_evm::RpcOptions;
use std::collections::BTreeMap;
use std::time::Duration;

/// Chain flags of `latchkey serve` (docs/configuration.md, "Chains").
#[derive(Debug, Clone, Default, Args)]
pub struct ChainArgs {
    /// A JSON-RPC node for a blockchain's money routes, as CHAIN=URL (repeatable; env
    /// LATCHKEY_RPC, comma-separated).
    #[arg(long = "rpc", value_name = "CHAIN=URL")]
    pub rpc: Vec<String>,
    /// Seconds a JSON-RPC call may take.
    #[arg(long, env = "LATCHKEY_RPC_TIMEOUT_SECONDS")]
    pub rpc_timeout_seconds: Option<u64>,
    /// Retries of a rate-limited JSON-RPC call.
    #[arg(long, env = "LATCHKEY_RPC_RETRIES")]
    pub rpc_retries: Option<u32>,
    /// Confirmations before a transaction is COMPLETE, as CHAIN=N (repeatable; env
    /// LATCHKEY_CONFIRMATIONS, comma-separated).
    #[arg(long = "confirmations", value_name = "CHAIN=N")]
    pub confirmations: Vec<String>,
    /// Seconds a broadcast transaction may wait for a receipt before it is STUCK.
    #[arg(long, env = "LATCHKEY_STUCK_AFTER_SECONDS")]
    pub stuck_after_seconds: Option<u64>,
}

/// The chain keys of the TOML file.
#[derive(Debug, Clone, Default)]
pub struct FileChains {
    /// `[rpc]`: `"MATIC-AMOY" = "https://…"`.
    pub rpc: Option<BTreeMap<String, String>>,
    /// `rpc_timeout_seconds`.
    pub rpc_timeout_seconds: Option<u64>,
    /// `rpc_retries`.
    pub rpc_retries: Option<u32>,
    /// `[confirmations]`: `"MATIC-AMOY" = 5`.
    pub confirmations: Option<BTreeMap<String, u64>>,
    /// `stuck_after_seconds`.
    pub stuck_after_seconds: Option<u64>,
}

/// One configured chain, ready for `latchkey_evm::connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    /// The blockchain.
    pub blockchain: Blockchain,
    /// The node's URL (secret: print it only through `redact_rpc_url`).
    pub url: String,
    /// Timeouts, retries and the per-chain overrides.
    pub options: RpcOptions,
}

/// Resolves the chains from the flags, the environment (`env` reads a variable; clap has
/// already applied the single-valued ones to `args`) and the file.
pub fn resolve(
    args: &ChainArgs,
    env: impl Fn(&str) -> Option<String>,
    file: FileChains,
) -> Result<Vec<ChainConfig>, String> {
    let listed = |name: &str| {
        env(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
    };
    let rpc: Vec<(Blockchain, String)> = if !args.rpc.is_empty() {
        pairs("--rpc", &args.rpc, |_, url| Ok(url.to_string()))?
    } else if let Some(list) = listed("LATCHKEY_RPC") {
        pairs("LATCHKEY_RPC", &list, |_, url| Ok(url.to_string()))?
    } else {
        let table = file.rpc.unwrap_or_default();
        table
            .into_iter()
            .map(|(chain, url)| Ok((blockchain("[rpc]", &chain)?, url)))
            .collect::<Result<_, String>>()?
    };
    let count = |source: &str, chain: Blockchain, n: &str| -> Result<u64, String> {
        match n.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{source} {chain}: confirmations must be a whole number greater than 0 (got {n:?})"
            )),
        }
    };
    let confirmations: Vec<(Blockchain, u64)> = if !args.confirmations.is_empty() {
        pairs("--confirmations", &args.confirmations, |c, n| {
            count("--confirmations", c, n)
        })?
    } else if let Some(list) = listed("LATCHKEY_CONFIRMATIONS") {
        pairs("LATCHKEY_CONFIRMATIONS", &list, |c, n| {
            count("LATCHKEY_CONFIRMATIONS", c, n)
        })?
    } else {
        let table = file.confirmations.unwrap_or_default();
        table
            .into_iter()
            .map(|(chain, n)| {
                let b = blockchain("[confirmations]", &chain)?;
                Ok((b, count("[confirmations]", b, &n.to_string())?))
            })
            .collect::<Result<_, String>>()?
    };
    for (chain, _) in &confirmations {
        if !rpc.iter().any(|(b, _)| b == chain) {
            return Err(format!(
                "confirmations are set for {chain}, which has no --rpc node configured"
            ));
        }
    }
    let timeout = args
        .rpc_timeout_seconds
        .or(file.rpc_timeout_seconds)
        .unwrap_or(10);
    if timeout == 0 {
        return Err("rpc_timeout_seconds must be greater than 0 (got 0)".to_string());
    }
    let stuck_after = args.stuck_after_seconds.or(file.stuck_after_seconds);
    if stuck_after == Some(0) {
        return Err("stuck_after_seconds must be greater than 0 (got 0)".to_string());
    }
    let base = RpcOptions {
        timeout: Duration::from_secs(timeout),
        retries: args.rpc_retries.or(file.rpc_retries).unwrap_or(3),
        confirmations: None,
        stuck_after: stuck_after.map(Duration::from_secs),
    };
    Ok(rpc
        .into_iter()
        .map(|(blockchain, url)| ChainConfig {
            blockchain,
            url,
            options: RpcOptions {
                confirmations: confirmations
                    .iter()
                    .find(|(b, _)| *b == blockchain)
                    .map(|(_, n)| *n),
                ..base.clone()
            },
        })
        .collect())
}

/// A blockchain name from a setting: Circle's spelling, and a chain that can take a node.
fn blockchain(source: &str, name: &str) -> Result<Blockchain, String> {
    let chain = Blockchain::parse(name.trim()).ok_or_else(|| {
        format!(
            "{source}: unknown blockchain {:?} (Circle's names, such as ETH-SEPOLIA or MATIC-AMOY)",
            name.trim()
        )
    })?;
    latchkey_evm::check_blockchain(chain).map_err(|e| e.to_string())?;
    Ok(chain)
}

/// `CHAIN=VALUE` items, split at the first `=` (a URL's query string has more), each chain
/// once.
fn pairs<T>(
    source: &str,
    items: &[String],
    value: impl Fn(Blockchain, &str) -> Result<T, String>,
) -> Result<Vec<(Blockchain, T)>, String> {
    let mut out: Vec<(Blockchain, T)> = Vec::new();
    for item in items {
        let Some((name, v)) = item.split_once('=') else {
            // The item may be a bare URL with a key in it: do not echo it.
            return Err(format!(
                "{source} takes CHAIN=VALUE, such as MATIC-AMOY=http://127.0.0.1:8545"
            ));
        };
        let chain = blockchain(source, name)?;
        if out.iter().any(|(b, _)| *b == chain) {
            return Err(format!("{source}: {chain} is given twice"));
        }
        if v.trim().is_empty() {
            return Err(format!("{source} {chain}: the value is empty"));
        }
        out.push((chain, value(chain, v.trim())?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        chains: ChainArgs,
    }

    fn flags(args: &[&str]) -> ChainArgs {
        let argv = std::iter::once("serve").chain(args.iter().copied());
        Cli::try_parse_from(argv)
            .map(|c| c.chains)
            .unwrap_or_default()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn urls(r: &Result<Vec<ChainConfig>, String>) -> Vec<(String, String)> {
        r.as_ref()
            .map(|v| {
                v.iter()
                    .map(|c| (c.blockchain.to_string(), c.url.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn table<V: Clone, W: From<V>>(rows: &[(&str, V)]) -> Option<BTreeMap<String, W>> {
        Some(
            rows.iter()
                .map(|(k, v)| (k.to_string(), W::from(v.clone())))
                .collect(),
        )
    }

    #[test]
    fn flags_win_over_env_over_file_and_urls_keep_their_equals_signs() {
        let keyed = "https://node.example/v2/k?apikey=a=b&x=1";
        let file = || FileChains {
            rpc: table(&[("ETH-SEPOLIA", "http://file")]),
            ..Default::default()
        };
        let env = |name: &str| {
            (name == "LATCHKEY_RPC").then(|| format!("MATIC-AMOY={keyed}, ETH-SEPOLIA=http://env"))
        };
        let flag = format!("MATIC-AMOY={keyed}");
        let from_flags = resolve(&flags(&["--rpc", &flag]), env, file());
        assert_eq!(urls(&from_flags), [("MATIC-AMOY".into(), keyed.into())]);
        let from_env = resolve(&flags(&[]), env, file());
        assert_eq!(
            urls(&from_env),
            [
                ("MATIC-AMOY".into(), keyed.into()),
                ("ETH-SEPOLIA".into(), "http://env".into())
            ]
        );
        let from_file = resolve(&flags(&[]), no_env, file());
        assert_eq!(
            urls(&from_file),
            [("ETH-SEPOLIA".into(), "http://file".into())]
        );
        assert_eq!(
            urls(&resolve(&flags(&[]), no_env, FileChains::default())),
            []
        );
    }

    #[test]
    fn options_and_their_defaults() {
        let args = flags(&[
            "--rpc",
            "MATIC-AMOY=http://a",
            "--rpc",
            "ETH-SEPOLIA=http://b",
            "--confirmations",
            "MATIC-AMOY=3",
            "--rpc-timeout-seconds",
            "4",
        ]);
        let file = FileChains {
            rpc_retries: Some(0),
            stuck_after_seconds: Some(30),
            confirmations: table(&[("ETH-SEPOLIA", 7u64)]),
            ..Default::default()
        };
        let chains = resolve(&args, no_env, file).unwrap_or_default();
        let amoy = &chains[0].options;
        assert_eq!(amoy.timeout, Duration::from_secs(4));
        assert_eq!(amoy.retries, 0);
        assert_eq!(amoy.stuck_after, Some(Duration::from_secs(30)));
        // The flag list replaces the file's table whole.
        assert_eq!(amoy.confirmations, Some(3));
        assert_eq!(chains[1].options.confirmations, None);

        let env = |n: &str| (n == "LATCHKEY_CONFIRMATIONS").then(|| "ETH-SEPOLIA=2".to_string());
        let chains = resolve(
            &flags(&["--rpc", "ETH-SEPOLIA=http://b"]),
            env,
            FileChains::default(),
        )
        .unwrap_or_default();
        assert_eq!(chains[0].options.confirmations, Some(2));
        assert_eq!(chains[0].options.timeout, Duration::from_secs(10));
        assert_eq!(chains[0].options.retries, 3);
        assert_eq!(chains[0].options.stuck_after, None);
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let err = |args: &[&str], file: FileChains| {
            resolve(&flags(args), no_env, file)
                .err()
                .unwrap_or_default()
        };
        let none = FileChains::default;
        for (args, file, expected) in [
            (
                vec!["--rpc", "ETH-GOERLI=http://a"],
                none(),
                "--rpc: unknown blockchain \"ETH-GOERLI\"",
            ),
            (
                vec![
                    "--rpc",
                    "MATIC-AMOY=http://a",
                    "--rpc",
                    "MATIC-AMOY=http://b",
                ],
                none(),
                "--rpc: MATIC-AMOY is given twice",
            ),
            (
                vec!["--rpc", "EVM=http://a"],
                none(),
                "--rpc EVM: latchkey moves no money on EVM",
            ),
            (
                vec!["--rpc", "NEAR=http://a"],
                none(),
                "--rpc NEAR: latchkey moves no money",
            ),
            (
                vec!["--rpc", "SOL-DEVNET=http://a"],
                none(),
                "--rpc SOL-DEVNET: SOL-DEVNET is not an EVM chain",
            ),
            (
                vec!["--rpc", "ARC=http://a"],
                none(),
                "--rpc ARC: the chain id of ARC",
            ),
            (
                vec!["--rpc", "http://key@x"],
                none(),
                "--rpc takes CHAIN=VALUE",
            ),
            (
                vec!["--rpc", "MATIC-AMOY="],
                none(),
                "--rpc MATIC-AMOY: the value is empty",
            ),
            (
                vec![
                    "--rpc",
                    "MATIC-AMOY=http://a",
                    "--confirmations",
                    "MATIC-AMOY=0",
                ],
                none(),
                "--confirmations MATIC-AMOY: confirmations must be",
            ),
            (
                vec!["--rpc", "MATIC-AMOY=http://a", "--confirmations", "ETH=2"],
                none(),
                "confirmations are set for ETH",
            ),
            (
                vec![],
                FileChains {
                    rpc: table(&[("matic-amoy", "http://a")]),
                    ..Default::default()
                },
                "[rpc]: unknown blockchain \"matic-amoy\"",
            ),
            (
                vec!["--rpc", "MATIC-AMOY=http://a", "--rpc-timeout-seconds", "0"],
                none(),
                "rpc_timeout_seconds must be",
            ),
        ] {
            let e = err(&args, file);
            assert!(e.starts_with(expected), "{args:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(!e.contains("key@"), "{e}");
        }
    }
}
