//! `latchkey serve`.

use crate::chain_config::ChainConfig;
use crate::config::{Config, ServeArgs, StorageArgs};
use crate::{bootstrap, gas_station, listen};
use latchkey_api::{AppParts, AppState};
use latchkey_chains::Family;
use latchkey_core::model::Environment;
use latchkey_core::money::engine::{Engine, EngineSettings};
use latchkey_core::money::{ChainSet, OperatorKey};
use latchkey_core::redact::{redact_rpc_url, redact_url};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Runs the server until SIGINT / SIGTERM.
pub async fn run(storage: &StorageArgs, args: &ServeArgs) -> Result<ExitCode, String> {
    let config = Config::resolve(storage, Some(args))?;
    if config.dev {
        eprintln!(
            "\n  !!! DEV MODE: PINs are hashed with a fast Argon2id preset (m={} KiB, t={}): anyone with the\n  !!! database and the master key can brute-force them. Dev-only endpoints are enabled without an\n  !!! API key. Use only for development and tests, never with real users.\n",
            config.settings.kdf.m_kib, config.settings.kdf.t
        );
        tracing::warn!("dev mode: fast KDF preset and unauthenticated dev endpoints");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let opened = bootstrap::open(&config).await?;
    crate::at_rest::warn_if_wide(&opened.widely_readable);
    let chains = connect_chains(&config).await?;
    let lk = opened.lk.clone().with_chains(chains);
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "latchkey {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "  database:   {}", redact_url(&config.database_url));
    let _ = writeln!(out, "  data dir:   {}", config.data_dir.display());
    let _ = writeln!(out, "  App ID:     {}", opened.entity.app_id);
    if opened.first_start {
        let key = lk
            .create_api_key(&opened.entity.id, "first-start", Environment::Test)
            .await
            .map_err(|e| e.message.to_string())?;
        let _ = writeln!(out, "  API key:    {key}");
        let _ = writeln!(
            out,
            "              (shown once: store it now; `latchkey apikey create` makes more)"
        );
    }
    let _ = writeln!(out, "listening on http://{addr}");
    let _ = out.flush();
    drop(out);

    let purge_lk = lk.clone();
    let purge = tokio::spawn(async move {
        let lk = purge_lk;
        loop {
            if let Err(e) = lk.purge_expired_idempotency_keys().await {
                tracing::warn!(code = e.code, "idempotency purge failed");
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    let webhooks = latchkey_webhooks::Webhooks::try_new(lk.clone(), config.webhooks.clone())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(webhooks.clone().run_worker(wait_for(stopped.clone())));
    // The outbound engine: only chains with a node have transactions to move.
    let engine = (!lk.chains().is_empty()).then(|| {
        let engine = Engine::new(lk.clone(), EngineSettings::default());
        tokio::spawn(engine.run(wait_for(stopped.clone())))
    });
    // The gas stations' funds (SCA chains with a station only).
    let stations: Vec<_> = lk
        .chains()
        .iter()
        .filter(|c| c.gas_station.is_some())
        .cloned()
        .collect();
    let funds_watch = (!stations.is_empty())
        .then(|| tokio::spawn(gas_station::watch(stations, config.dev, stopped)));
    let state = AppState::new(AppParts {
        lk: lk.clone(),
        public_url: config.public_url.clone(),
        frame_ancestors: config.frame_ancestors.clone(),
        webhooks,
    });
    let app = latchkey_api::router_with_limits(state, &config.limits);
    let limits = listen::ConnectionLimits {
        header_read_timeout: config.header_read_timeout,
        max_connections: config.max_connections,
    };
    listen::serve(listener, app, limits, shutdown_signal()).await;
    purge.abort();
    let _ = stop.send(true);
    let _ = worker.await;
    if let Some(engine) = engine {
        let _ = engine.await;
    }
    if let Some(watch) = funds_watch {
        let _ = watch.await;
    }
    lk.flush_audit().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Connects every configured chain: each node must answer with its blockchain's chain id, or
/// start-up stops with that chain's one-line error.
async fn connect_chains(config: &Config) -> Result<ChainSet, String> {
    let mut set = ChainSet::new();
    for c in &config.chains {
        if c.blockchain.family() == Family::Solana {
            set.insert_solana(connect_solana(c).await?);
            continue;
        }
        let mut chain = latchkey_evm::connect(c.blockchain, &c.url, &c.options)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(path) = &c.faucet_key_file {
            let key = load_operator_key(path)
                .map_err(|why| format!("--faucet-key {}: {why}", c.blockchain))?;
            tracing::info!(blockchain = %c.blockchain, account = %key.address(), "faucet key loaded");
            chain.faucet_key = Some(std::sync::Arc::new(key));
        }
        let station_key = match &c.gas_station_key_file {
            Some(path) => Some(
                load_operator_key(path)
                    .map_err(|why| format!("--gas-station-key {}: {why}", c.blockchain))?,
            ),
            None => None,
        };
        let settings = gas_station::StationSettings {
            key: station_key,
            paymaster: c.paymaster,
            dev: config.dev,
            data_dir: &config.data_dir,
        };
        chain.gas_station = gas_station::configure(&chain, settings)
            .await?
            .map(std::sync::Arc::new);
        tracing::info!(
            blockchain = %chain.info.blockchain,
            chain_id = chain.info.chain_id,
            url = %redact_rpc_url(&c.url),
            local = chain.info.is_local,
            confirmations = chain.info.confirmations,
            "chain connected"
        );
        set.insert(chain);
    }
    Ok(set)
}

/// Connects a Solana chain (`latchkey_solana::connect`: the node's genesis hash must be the
/// cluster's, latchkey's local test node's, or `--solana-local-genesis-hash`). The EVM-only knobs are refused for it in one
/// line rather than ignored.
async fn connect_solana(c: &ChainConfig) -> Result<latchkey_core::money::SolanaChain, String> {
    let chain = c.blockchain;
    if c.options.confirmations.is_some() {
        return Err(format!(
            "--confirmations {chain}: a Solana transaction's depth is its commitment \
             (finalized), not a number of confirmations"
        ));
    }
    if c.gas_station_key_file.is_some() || c.paymaster.is_some() {
        return Err(format!(
            "--gas-station-key {chain}: a gas station serves SCA wallets on EVM chains"
        ));
    }
    if c.faucet_key_file.is_some() {
        return Err(format!(
            "--faucet-key {chain}: faucet keys are for EVM testnets; on Solana latchkey drips \
             only from a local node with --dev"
        ));
    }
    let options = latchkey_solana::RpcOptions {
        timeout: c.options.timeout,
        retries: c.options.retries,
        local_genesis_hash: c.solana_local_genesis_hash.clone(),
    };
    let connected = latchkey_solana::connect(chain, &c.url, &options)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        blockchain = %chain,
        genesis_hash = %connected.info.genesis_hash,
        url = %redact_rpc_url(&c.url),
        local = connected.info.is_local,
        "chain connected"
    );
    Ok(connected.into_money_chain())
}

/// An operator key from its file (hex, as `cast wallet new` prints it); a file others can
/// read is warned about, as the master key file is.
fn load_operator_key(path: &std::path::Path) -> Result<OperatorKey, String> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    let mut wide = Vec::new();
    crate::at_rest::note_if_wide(path, &mut wide);
    crate::at_rest::warn_if_wide(&wide);
    OperatorKey::from_hex(&text).map_err(|e| format!("{} is not a key file: {e}", path.display()))
}

async fn wait_for(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
