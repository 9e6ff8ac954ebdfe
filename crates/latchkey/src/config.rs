//! Configuration: command-line flags over `LATCHKEY_*` environment variables over an optional
//! TOML file (`--config`) over defaults. Every knob is documented in docs/configuration.md.

use crate::chain_config::{self, ChainArgs, ChainConfig, FileChains};
use clap::Args;
use latchkey_api::limits::LimitSettings;
use latchkey_core::crypto::KdfParams;
use latchkey_core::defaults;
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::store::LockPolicy;
use latchkey_core::webhooks::RetrySchedule;
use latchkey_core::Settings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the data lives; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Data directory (master key file, SQLite database).
    #[arg(long, env = "LATCHKEY_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "LATCHKEY_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "LATCHKEY_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

/// Flags of `latchkey serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "LATCHKEY_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Emulator mode: fast PIN hashing, dev-only helper endpoints. Never with real users.
    #[arg(long, env = "LATCHKEY_DEV")]
    pub dev: bool,
    /// Open (PENDING or IN_PROGRESS) challenges a user may have at once.
    #[arg(long, env = "LATCHKEY_MAX_OPEN_CHALLENGES")]
    pub max_open_challenges: Option<u32>,
    /// Days a delivered webhook delivery is kept before it is pruned.
    #[arg(long, env = "LATCHKEY_WEBHOOK_RETENTION_DAYS")]
    pub webhook_retention_days: Option<u32>,
    #[command(flatten)]
    pub throttle: ThrottleArgs,
    #[command(flatten)]
    pub chains: ChainArgs,
}

/// Throttling and connection hygiene flags of `latchkey serve` (each also an environment
/// variable and a TOML key; docs/configuration.md).
#[derive(Debug, Clone, Default, Args)]
pub struct ThrottleArgs {
    /// Rate limits on or off (default: on, off with --dev).
    #[arg(long, env = "LATCHKEY_RATE_LIMITS", num_args = 0..=1, default_missing_value = "true")]
    pub rate_limits: Option<bool>,
    /// Per API key: GET requests per second.
    #[arg(long, env = "LATCHKEY_RATE_GET_PER_SECOND")]
    pub rate_get_per_second: Option<u32>,
    /// Per API key: POST, PUT, PATCH, DELETE requests per second (other than token and signing).
    #[arg(long, env = "LATCHKEY_RATE_POST_PER_SECOND")]
    pub rate_post_per_second: Option<u32>,
    /// Per API key: `POST /v1/w3s/users/token` requests per second.
    #[arg(long, env = "LATCHKEY_RATE_TOKEN_PER_SECOND")]
    pub rate_token_per_second: Option<u32>,
    /// Per API key: `/v1/w3s/user/sign/*` requests per second.
    #[arg(long, env = "LATCHKEY_RATE_SIGN_PER_SECOND")]
    pub rate_sign_per_second: Option<u32>,
    /// Per client address: end-user protocol (`/v1/w3s/sdk/…`) requests per minute.
    #[arg(long, env = "LATCHKEY_RATE_SDK_PER_MINUTE")]
    pub rate_sdk_per_minute: Option<u32>,
    /// Per client address: failed authentications (401) per minute.
    #[arg(long, env = "LATCHKEY_RATE_AUTH_FAILURES_PER_MINUTE")]
    pub rate_auth_failures_per_minute: Option<u32>,
    /// Keys (API keys, client addresses) each rate limiter remembers at most.
    #[arg(long, env = "LATCHKEY_RATE_MAX_KEYS")]
    pub rate_max_keys: Option<usize>,
    /// Seconds to send a request's headers (also the idle keep-alive timeout).
    #[arg(long, env = "LATCHKEY_HEADER_READ_TIMEOUT_SECONDS")]
    pub header_read_timeout_seconds: Option<u64>,
    /// Seconds a request body may stall between two chunks.
    #[arg(long, env = "LATCHKEY_BODY_READ_TIMEOUT_SECONDS")]
    pub body_read_timeout_seconds: Option<u64>,
    /// Seconds from a request's headers to its response.
    #[arg(long, env = "LATCHKEY_REQUEST_TIMEOUT_SECONDS")]
    pub request_timeout_seconds: Option<u64>,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "LATCHKEY_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Largest request body read, in bytes (larger: 413).
    #[arg(long, env = "LATCHKEY_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
}

/// The TOML file: the same knobs as the flags and environment, snake_case.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    dev: Option<bool>,
    public_url: Option<String>,
    master_key_file: Option<PathBuf>,
    token_ttl_minutes: Option<i64>,
    challenge_ttl_minutes: Option<i64>,
    pin_max_attempts: Option<i64>,
    pin_lock_minutes: Option<i64>,
    answer_max_attempts: Option<i64>,
    answer_lock_minutes: Option<i64>,
    kdf_memory_kib: Option<u32>,
    kdf_iterations: Option<u32>,
    kdf_parallelism: Option<u32>,
    kdf_workers: Option<usize>,
    kdf_queue: Option<usize>,
    db_max_connections: Option<u32>,
    db_acquire_timeout_ms: Option<u64>,
    max_open_challenges: Option<u32>,
    webhook_retention_days: Option<u32>,
    max_body_bytes: Option<usize>,
    frame_ancestors: Option<Vec<String>>,
    webhook_retry_schedule: Option<String>,
    webhook_timeout_seconds: Option<u64>,
    webhook_allow_http: Option<bool>,
    webhook_allow_loopback: Option<bool>,
    rate_limits: Option<bool>,
    rate_get_per_second: Option<u32>,
    rate_post_per_second: Option<u32>,
    rate_token_per_second: Option<u32>,
    rate_sign_per_second: Option<u32>,
    rate_sdk_per_minute: Option<u32>,
    rate_auth_failures_per_minute: Option<u32>,
    rate_max_keys: Option<usize>,
    header_read_timeout_seconds: Option<u64>,
    body_read_timeout_seconds: Option<u64>,
    request_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    rpc: Option<BTreeMap<String, String>>,
    rpc_timeout_seconds: Option<u64>,
    rpc_retries: Option<u32>,
    confirmations: Option<BTreeMap<String, u64>>,
    stuck_after_seconds: Option<u64>,
    faucet_keys: Option<BTreeMap<String, String>>,
    gas_station_keys: Option<BTreeMap<String, String>>,
    paymasters: Option<BTreeMap<String, String>>,
    solana_local_genesis_hash: Option<String>,
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Emulator mode.
    pub dev: bool,
    /// Externally visible base URL (for `Link` headers behind a proxy).
    pub public_url: Option<String>,
    /// Master key file (when `LATCHKEY_MASTER_KEY` is not set).
    pub master_key_file: PathBuf,
    /// Service settings.
    pub settings: Settings,
    /// Argon2id threads.
    pub kdf_workers: usize,
    /// Argon2id waiting callers before 429.
    pub kdf_queue: usize,
    /// PostgreSQL pool size.
    pub db_max_connections: u32,
    /// Longest wait for a PostgreSQL connection (then 503).
    pub db_acquire_timeout: Duration,
    /// Origins allowed to frame the hosted page.
    pub frame_ancestors: Vec<String>,
    /// Webhook delivery.
    pub webhooks: latchkey_webhooks::WebhookSettings,
    /// Rate limits and the body and request timeouts.
    pub limits: LimitSettings,
    /// Time to send a request's headers (and idle keep-alive timeout).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The chains with a JSON-RPC node (money routes), in the order configured.
    pub chains: Vec<ChainConfig>,
}

fn env<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a valid value")),
        _ => Ok(None),
    }
}

fn positive(name: &str, v: i64) -> Result<i64, String> {
    if v > 0 {
        Ok(v)
    } else {
        Err(format!("{name} must be greater than 0 (got {v})"))
    }
}

impl Config {
    /// Resolves the configuration (flags > environment > file > defaults).
    pub fn resolve(storage: &StorageArgs, serve: Option<&ServeArgs>) -> Result<Self, String> {
        let file: FileConfig = match &storage.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| format!("invalid config file {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let dev = serve.is_some_and(|s| s.dev) || file.dev.unwrap_or(false);
        let throttle = serve.map(|s| s.throttle.clone()).unwrap_or_default();
        let hygiene = resolve_throttle(&throttle, &file, dev)?;
        // Only `serve` talks to nodes: the other commands ignore the chain settings.
        let chains = match serve {
            Some(s) => chain_config::resolve(
                &s.chains,
                |name| std::env::var(name).ok(),
                FileChains {
                    rpc: file.rpc.clone(),
                    rpc_timeout_seconds: file.rpc_timeout_seconds,
                    rpc_retries: file.rpc_retries,
                    confirmations: file.confirmations.clone(),
                    stuck_after_seconds: file.stuck_after_seconds,
                    faucet_keys: file.faucet_keys.clone(),
                    gas_station_keys: file.gas_station_keys.clone(),
                    paymasters: file.paymasters.clone(),
                    solana_local_genesis_hash: file.solana_local_genesis_hash.clone(),
                },
            )?,
            None => Vec::new(),
        };
        let data_dir = storage
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
        let database_url = storage
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}",
                    data_dir.join(defaults::SQLITE_FILE).display()
                )
            });
        let listen = serve
            .and_then(|s| s.listen)
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(defaults::LISTEN));
        let master_key_file = env::<PathBuf>("LATCHKEY_MASTER_KEY_FILE")?
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join(defaults::MASTER_KEY_FILE));
        let minutes = |env_name: &str, file_v: Option<i64>, default: i64| -> Result<i64, String> {
            let v = env::<i64>(env_name)?.or(file_v).unwrap_or(default);
            Ok(positive(env_name, v)? * 60_000)
        };
        let count = |env_name: &str, file_v: Option<i64>, default: i64| -> Result<i64, String> {
            positive(
                env_name,
                env::<i64>(env_name)?.or(file_v).unwrap_or(default),
            )
        };
        let preset = if dev {
            KdfParams::DEV
        } else {
            KdfParams::PRODUCTION
        };
        let kdf = KdfParams {
            m_kib: env("LATCHKEY_KDF_MEMORY_KIB")?
                .or(file.kdf_memory_kib)
                .unwrap_or(preset.m_kib),
            t: env("LATCHKEY_KDF_ITERATIONS")?
                .or(file.kdf_iterations)
                .unwrap_or(preset.t),
            p: env("LATCHKEY_KDF_PARALLELISM")?
                .or(file.kdf_parallelism)
                .unwrap_or(preset.p),
        };
        if kdf.p == 0 || kdf.t == 0 || kdf.m_kib < 8 * kdf.p {
            return Err(format!(
                "invalid Argon2id parameters m={}KiB t={} p={}",
                kdf.m_kib, kdf.t, kdf.p
            ));
        }
        let settings = Settings {
            token_ttl_ms: minutes(
                "LATCHKEY_TOKEN_TTL_MINUTES",
                file.token_ttl_minutes,
                defaults::TOKEN_TTL_MINUTES,
            )?,
            challenge_ttl_ms: minutes(
                "LATCHKEY_CHALLENGE_TTL_MINUTES",
                file.challenge_ttl_minutes,
                defaults::CHALLENGE_TTL_MINUTES,
            )?,
            pin_policy: LockPolicy {
                max_attempts: count(
                    "LATCHKEY_PIN_MAX_ATTEMPTS",
                    file.pin_max_attempts,
                    defaults::PIN_MAX_ATTEMPTS,
                )?,
                lock_ms: minutes(
                    "LATCHKEY_PIN_LOCK_MINUTES",
                    file.pin_lock_minutes,
                    defaults::PIN_LOCK_MINUTES,
                )?,
            },
            answer_policy: LockPolicy {
                max_attempts: count(
                    "LATCHKEY_ANSWER_MAX_ATTEMPTS",
                    file.answer_max_attempts,
                    defaults::ANSWER_MAX_ATTEMPTS,
                )?,
                lock_ms: minutes(
                    "LATCHKEY_ANSWER_LOCK_MINUTES",
                    file.answer_lock_minutes,
                    defaults::ANSWER_LOCK_MINUTES,
                )?,
            },
            kdf,
            dev,
            default_questions: latchkey_core::rules::default_questions(),
            max_open_challenges: knob(
                "max_open_challenges",
                serve.and_then(|s| s.max_open_challenges),
                file.max_open_challenges,
                defaults::MAX_OPEN_CHALLENGES,
            )?,
        };
        let retention_days = knob(
            "webhook_retention_days",
            serve.and_then(|s| s.webhook_retention_days),
            file.webhook_retention_days,
            defaults::WEBHOOK_RETENTION_DAYS,
        )?;
        let mut frame_ancestors: Vec<String> = match env::<String>("LATCHKEY_FRAME_ANCESTORS")? {
            Some(list) => list
                .split([',', ' '])
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect(),
            None => file.frame_ancestors.unwrap_or_default(),
        };
        for origin in &frame_ancestors {
            if !latchkey_core::rules::is_origin(origin) {
                return Err(format!(
                    "frame ancestor {origin:?} must be an origin such as https://app.example.com"
                ));
            }
        }
        if dev {
            frame_ancestors.extend([
                "http://localhost:*".to_string(),
                "http://127.0.0.1:*".to_string(),
            ]);
        }
        let schedule_text =
            env::<String>("LATCHKEY_WEBHOOK_RETRY_SCHEDULE")?.or(file.webhook_retry_schedule);
        let schedule = match schedule_text {
            Some(t) => RetrySchedule::parse(&t).ok_or_else(|| {
                format!("webhook retry schedule {t:?} must be durations starting with 0 (the immediate first attempt), like 0,5s,5m,30m,2h")
            })?,
            None => RetrySchedule::default(),
        };
        let webhooks = latchkey_webhooks::WebhookSettings {
            schedule,
            timeout: std::time::Duration::from_secs(
                env::<u64>("LATCHKEY_WEBHOOK_TIMEOUT_SECONDS")?
                    .or(file.webhook_timeout_seconds)
                    .unwrap_or(defaults::WEBHOOK_TIMEOUT_SECONDS)
                    .max(1),
            ),
            allow_http: dev
                || env::<bool>("LATCHKEY_WEBHOOK_ALLOW_HTTP")?
                    .or(file.webhook_allow_http)
                    .unwrap_or(false),
            allow_loopback: dev
                || env::<bool>("LATCHKEY_WEBHOOK_ALLOW_LOOPBACK")?
                    .or(file.webhook_allow_loopback)
                    .unwrap_or(false),
            retention: Duration::from_secs(u64::from(retention_days) * 86_400),
            ..Default::default()
        };
        Ok(Self {
            chains,
            limits: hygiene.limits,
            header_read_timeout: hygiene.header_read_timeout,
            max_connections: hygiene.max_connections,
            webhooks,
            frame_ancestors,
            listen,
            data_dir,
            database_url,
            dev,
            public_url: env::<String>("LATCHKEY_PUBLIC_URL")?.or(file.public_url),
            master_key_file,
            settings,
            kdf_workers: env("LATCHKEY_KDF_WORKERS")?
                .or(file.kdf_workers)
                .unwrap_or_else(KdfPool::default_workers)
                .max(1),
            kdf_queue: env("LATCHKEY_KDF_QUEUE")?
                .or(file.kdf_queue)
                .unwrap_or(defaults::KDF_QUEUE),
            db_max_connections: env("LATCHKEY_DB_MAX_CONNECTIONS")?
                .or(file.db_max_connections)
                .unwrap_or(defaults::DB_MAX_CONNECTIONS)
                .max(1),
            db_acquire_timeout: Duration::from_millis(knob(
                "LATCHKEY_DB_ACQUIRE_TIMEOUT_MS",
                env("LATCHKEY_DB_ACQUIRE_TIMEOUT_MS")?,
                file.db_acquire_timeout_ms,
                defaults::DB_ACQUIRE_TIMEOUT_MS,
            )?),
        })
    }
}

/// The throttling knobs, resolved.
struct Hygiene {
    limits: LimitSettings,
    header_read_timeout: Duration,
    max_connections: usize,
}

/// Flag (or its environment variable, read by clap) over the TOML value over the default;
/// zero is refused: every throttling knob is a positive amount.
fn knob<T: Copy + PartialOrd + Default + std::fmt::Display>(
    name: &str,
    flag: Option<T>,
    file: Option<T>,
    default: T,
) -> Result<T, String> {
    let v = flag.or(file).unwrap_or(default);
    if v > T::default() {
        Ok(v)
    } else {
        Err(format!("{name} must be greater than 0 (got {v})"))
    }
}

fn resolve_throttle(t: &ThrottleArgs, file: &FileConfig, dev: bool) -> Result<Hygiene, String> {
    let seconds =
        |name, flag, file, default| knob(name, flag, file, default).map(Duration::from_secs);
    Ok(Hygiene {
        limits: LimitSettings {
            // Off in --dev (the test suites run thousands of requests a second) unless asked.
            rate_limits: t.rate_limits.or(file.rate_limits).unwrap_or(!dev),
            get_per_second: knob(
                "rate_get_per_second",
                t.rate_get_per_second,
                file.rate_get_per_second,
                defaults::RATE_GET_PER_SECOND,
            )?,
            post_per_second: knob(
                "rate_post_per_second",
                t.rate_post_per_second,
                file.rate_post_per_second,
                defaults::RATE_POST_PER_SECOND,
            )?,
            token_per_second: knob(
                "rate_token_per_second",
                t.rate_token_per_second,
                file.rate_token_per_second,
                defaults::RATE_TOKEN_PER_SECOND,
            )?,
            sign_per_second: knob(
                "rate_sign_per_second",
                t.rate_sign_per_second,
                file.rate_sign_per_second,
                defaults::RATE_SIGN_PER_SECOND,
            )?,
            sdk_per_minute: knob(
                "rate_sdk_per_minute",
                t.rate_sdk_per_minute,
                file.rate_sdk_per_minute,
                defaults::RATE_SDK_PER_MINUTE,
            )?,
            auth_failures_per_minute: knob(
                "rate_auth_failures_per_minute",
                t.rate_auth_failures_per_minute,
                file.rate_auth_failures_per_minute,
                defaults::RATE_AUTH_FAILURES_PER_MINUTE,
            )?,
            max_keys: knob(
                "rate_max_keys",
                t.rate_max_keys,
                file.rate_max_keys,
                defaults::RATE_MAX_KEYS,
            )?,
            body_read_timeout: seconds(
                "body_read_timeout_seconds",
                t.body_read_timeout_seconds,
                file.body_read_timeout_seconds,
                defaults::BODY_READ_TIMEOUT_SECONDS,
            )?,
            request_timeout: seconds(
                "request_timeout_seconds",
                t.request_timeout_seconds,
                file.request_timeout_seconds,
                defaults::REQUEST_TIMEOUT_SECONDS,
            )?,
            max_body_bytes: knob(
                "max_body_bytes",
                t.max_body_bytes,
                file.max_body_bytes,
                defaults::MAX_BODY_BYTES,
            )?,
        },
        header_read_timeout: seconds(
            "header_read_timeout_seconds",
            t.header_read_timeout_seconds,
            file.header_read_timeout_seconds,
            defaults::HEADER_READ_TIMEOUT_SECONDS,
        )?,
        max_connections: knob(
            "max_connections",
            t.max_connections,
            file.max_connections,
            defaults::MAX_CONNECTIONS,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::FileConfig;

    #[test]
    fn the_chain_tables_parse_from_toml() {
        let file: FileConfig = toml::from_str(
            "rpc_timeout_seconds = 4\nrpc_retries = 0\nstuck_after_seconds = 30\n\
             [rpc]\n\"MATIC-AMOY\" = \"https://node.example/?apikey=a=b\"\n\
             [confirmations]\n\"MATIC-AMOY\" = 2\n",
        )
        .unwrap();
        let rpc = file.rpc.unwrap();
        assert_eq!(rpc["MATIC-AMOY"], "https://node.example/?apikey=a=b");
        assert_eq!(file.confirmations.unwrap()["MATIC-AMOY"], 2);
        assert_eq!(
            (
                file.rpc_timeout_seconds,
                file.rpc_retries,
                file.stuck_after_seconds
            ),
            (Some(4), Some(0), Some(30))
        );
    }
}
