//! The chain knobs of `latchkey serve`: which JSON-RPC node serves each blockchain's money
//! routes, and how it is used. Layered like every knob (flag > environment > TOML), a list
//! source replacing the lower ones whole: `--rpc` flags, else `LATCHKEY_RPC`, else `[rpc]`
//! (and likewise `--confirmations`, `--faucet-key`, `--gas-station-key` and `--paymaster`).

use clap::Args;
use latchkey_chains::Blockchain;
use latchkey_evm::RpcOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
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
    /// A file holding the private key of a funded account that drips test tokens on a
    /// testnet, as CHAIN=FILE (repeatable; env LATCHKEY_FAUCET_KEYS, comma-separated).
    #[arg(long = "faucet-key", value_name = "CHAIN=FILE")]
    pub faucet_keys: Vec<String>,
    /// A file holding the private key of the gas station that bundles SCA wallets'
    /// UserOperations and signs their sponsorship, as CHAIN=FILE (repeatable; env
    /// LATCHKEY_GAS_STATION_KEYS, comma-separated).
    #[arg(long = "gas-station-key", value_name = "CHAIN=FILE")]
    pub gas_station_keys: Vec<String>,
    /// The VerifyingPaymaster (EntryPoint v0.7) that trusts the gas station's key, as
    /// CHAIN=ADDRESS (repeatable; env LATCHKEY_PAYMASTERS, comma-separated).
    #[arg(long = "paymaster", value_name = "CHAIN=ADDRESS")]
    pub paymasters: Vec<String>,
    /// The genesis hash of a local Solana validator (e.g. `solana-test-validator`, whose
    /// cluster is new on every ledger) accepted for SOL and SOL-DEVNET as a local node, besides
    /// latchkey's test node's.
    #[arg(long, env = "LATCHKEY_SOLANA_LOCAL_GENESIS_HASH", value_name = "HASH")]
    pub solana_local_genesis_hash: Option<String>,
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
    /// `[faucet_keys]`: `"ETH-SEPOLIA" = "/run/secrets/faucet"`.
    pub faucet_keys: Option<BTreeMap<String, String>>,
    /// `[gas_station_keys]`: `"MATIC-AMOY" = "/run/secrets/station"`.
    pub gas_station_keys: Option<BTreeMap<String, String>>,
    /// `[paymasters]`: `"MATIC-AMOY" = "0x…"`.
    pub paymasters: Option<BTreeMap<String, String>>,
    /// `solana_local_genesis_hash`.
    pub solana_local_genesis_hash: Option<String>,
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
    /// The file of the chain's faucet key (`--faucet-key`), read at start-up.
    pub faucet_key_file: Option<PathBuf>,
    /// The file of the chain's gas-station key (`--gas-station-key`), read at start-up.
    pub gas_station_key_file: Option<PathBuf>,
    /// The chain's VerifyingPaymaster (`--paymaster`).
    pub paymaster: Option<latchkey_chains::Address>,
    /// A local Solana validator's genesis hash to accept (`--solana-local-genesis-hash`);
    /// Solana chains only.
    pub solana_local_genesis_hash: Option<String>,
}

/// Resolves the chains from the flags, the environment (`env` reads a variable; clap has
/// already applied the single-valued ones to `args`) and the file.
pub fn resolve(
    args: &ChainArgs,
    env: impl Fn(&str) -> Option<String>,
    file: FileChains,
) -> Result<Vec<ChainConfig>, String> {
    let rpc = layered(
        ("--rpc", &args.rpc),
        ("LATCHKEY_RPC", &env),
        ("[rpc]", file.rpc),
        |_, _, url| Ok(url.to_string()),
    )?;
    let count = |source: &str, chain: Blockchain, n: &str| -> Result<u64, String> {
        match n.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "{source} {chain}: confirmations must be a whole number greater than 0 (got {n:?})"
            )),
        }
    };
    let confirmations = layered(
        ("--confirmations", &args.confirmations),
        ("LATCHKEY_CONFIRMATIONS", &env),
        ("[confirmations]", file.confirmations),
        |source, c, n| count(source, c, n),
    )?;
    let faucet_keys = layered(
        ("--faucet-key", &args.faucet_keys),
        ("LATCHKEY_FAUCET_KEYS", &env),
        ("[faucet_keys]", file.faucet_keys),
        |source, chain, path| {
            if !chain.is_testnet() {
                return Err(format!(
                    "{source} {chain}: a faucet drips test tokens, and {chain} is not a testnet"
                ));
            }
            Ok(PathBuf::from(path))
        },
    )?;
    let sca_chain = |source: &str, chain: Blockchain| {
        if chain.supports_sca() {
            Ok(())
        } else {
            Err(format!(
                "{source} {chain}: a gas station serves SCA wallets, which {chain} does not have"
            ))
        }
    };
    let gas_station_keys = layered(
        ("--gas-station-key", &args.gas_station_keys),
        ("LATCHKEY_GAS_STATION_KEYS", &env),
        ("[gas_station_keys]", file.gas_station_keys),
        |source, chain, path| sca_chain(source, chain).map(|()| PathBuf::from(path)),
    )?;
    let paymasters = layered(
        ("--paymaster", &args.paymasters),
        ("LATCHKEY_PAYMASTERS", &env),
        ("[paymasters]", file.paymasters),
        |source, chain, address| {
            sca_chain(source, chain)?;
            address
                .trim()
                .parse::<latchkey_chains::Address>()
                .map_err(|_| format!("{source} {chain}: {address:?} is not an EVM address"))
        },
    )?;
    for (chain, _) in &paymasters {
        if !gas_station_keys.iter().any(|(b, _)| b == chain) {
            return Err(format!(
                "a paymaster is set for {chain}, which has no --gas-station-key to sign its \
                 sponsorships"
            ));
        }
    }
    let needs_node = confirmations
        .iter()
        .map(|(c, _)| (*c, "confirmations are"))
        .chain(faucet_keys.iter().map(|(c, _)| (*c, "a faucet key is")))
        .chain(
            gas_station_keys
                .iter()
                .map(|(c, _)| (*c, "a gas-station key is")),
        );
    for (chain, what) in needs_node {
        if !rpc.iter().any(|(b, _)| *b == chain) {
            return Err(format!(
                "{what} set for {chain}, which has no --rpc node configured"
            ));
        }
    }
    let local_genesis = args
        .solana_local_genesis_hash
        .clone()
        .or(file.solana_local_genesis_hash);
    if let Some(hash) = &local_genesis {
        // A genesis hash is 32 bytes in base58, as a public key is.
        if hash.parse::<latchkey_solana::pubkey::Pubkey>().is_err() {
            return Err(format!(
                "--solana-local-genesis-hash: {hash:?} is not a genesis hash (32 bytes in base58)"
            ));
        }
        if !rpc
            .iter()
            .any(|(b, _)| b.family() == latchkey_chains::Family::Solana)
        {
            return Err(
                "a Solana local genesis hash is set, but no --rpc node of SOL or SOL-DEVNET is \
                 configured"
                    .to_string(),
            );
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
            faucet_key_file: faucet_keys
                .iter()
                .find(|(b, _)| *b == blockchain)
                .map(|(_, p)| p.clone()),
            gas_station_key_file: gas_station_keys
                .iter()
                .find(|(b, _)| *b == blockchain)
                .map(|(_, p)| p.clone()),
            paymaster: paymasters
                .iter()
                .find(|(b, _)| *b == blockchain)
                .map(|(_, a)| *a),
            solana_local_genesis_hash: (blockchain.family() == latchkey_chains::Family::Solana)
                .then(|| local_genesis.clone())
                .flatten(),
        })
        .collect())
}

/// Reads an environment variable by name.
type EnvReader<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// A per-chain list knob from the first source that has it: the flags, else the environment
/// variable (comma-separated `CHAIN=VALUE`), else the TOML table. `value` parses one item,
/// given the source's name for its messages.
fn layered<T, V: ToString>(
    flags: (&str, &[String]),
    env: (&str, &EnvReader<'_>),
    table: (&str, Option<BTreeMap<String, V>>),
    value: impl Fn(&str, Blockchain, &str) -> Result<T, String>,
) -> Result<Vec<(Blockchain, T)>, String> {
    if !flags.1.is_empty() {
        return pairs(flags.0, flags.1, |c, v| value(flags.0, c, v));
    }
    let listed = (env.1)(env.0).map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    if let Some(list) = listed.filter(|l| !l.is_empty()) {
        return pairs(env.0, &list, |c, v| value(env.0, c, v));
    }
    table
        .1
        .unwrap_or_default()
        .into_iter()
        .map(|(chain, v)| {
            let b = blockchain(table.0, &chain)?;
            Ok((b, value(table.0, b, &v.to_string())?))
        })
        .collect()
}

/// A blockchain name from a setting: Circle's spelling, and a chain that can take a node.
fn blockchain(source: &str, name: &str) -> Result<Blockchain, String> {
    let chain = Blockchain::parse(name.trim()).ok_or_else(|| {
        format!(
            "{source}: unknown blockchain {:?} (Circle's names, such as ETH-SEPOLIA or MATIC-AMOY)",
            name.trim()
        )
    })?;
    if latchkey_solana::cluster_genesis_hash(chain).is_some() {
        return Ok(chain);
    }
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
#[path = "chain_config_tests.rs"]
mod tests;
