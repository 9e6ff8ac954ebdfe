//! Every configuration default, defined once. The binary's configuration (flags, environment,
//! TOML) falls back to these, and so do the services' `Default` implementations; the operator's
//! documentation (docs/configuration.md) lists the same values.

/// Address the server listens on: loopback only, so a fresh install is not exposed.
pub const LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);
/// Data directory (master key file, SQLite database), relative to the working directory.
pub const DATA_DIR: &str = "./latchkey-data";
/// SQLite database file name inside the data directory.
pub const SQLITE_FILE: &str = "latchkey.db";
/// Master key file name inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Lifetime of an end user's token, in minutes.
pub const TOKEN_TTL_MINUTES: i64 = 60;
/// Lifetime of a challenge, in minutes.
pub const CHALLENGE_TTL_MINUTES: i64 = 15;
/// Wrong PINs since the last lock that lock the PIN again.
pub const PIN_MAX_ATTEMPTS: i64 = 3;
/// How long a locked PIN stays locked, in minutes.
pub const PIN_LOCK_MINUTES: i64 = 30;
/// Wrong security answers since the last lock that lock recovery again.
pub const ANSWER_MAX_ATTEMPTS: i64 = 3;
/// How long locked security answers stay locked, in minutes.
pub const ANSWER_LOCK_MINUTES: i64 = 30;

/// Callers waiting for an Argon2id thread before the server answers 429.
pub const KDF_QUEUE: usize = 64;
/// The longest a PIN request may expect to wait for the Argon2id work queued before it, in
/// milliseconds, before the server answers 429 (a third of the default request timeout; the
/// server sets a third of its configured one).
pub const KDF_MAX_WAIT_MS: u64 = REQUEST_TIMEOUT_SECONDS * 1000 / 3;
/// PostgreSQL pool size.
pub const DB_MAX_CONNECTIONS: u32 = 16;
/// Longest wait for a PostgreSQL connection, in milliseconds: past it the request answers
/// 503 (the database is down, refusing connections, or every connection is busy that long).
pub const DB_ACQUIRE_TIMEOUT_MS: u64 = 3_000;
/// A pooled PostgreSQL connection idle at least this long (milliseconds) is pinged before it
/// is handed out; one used more recently is handed out as is (a ping is a round trip, and on
/// a busy server connections are idle for microseconds). A connection cut within this time of
/// its last use fails its next query once (503) and is dropped; after an outage longer than
/// this, every stale connection is pinged and replaced.
pub const DB_PING_IF_IDLE_MS: u64 = 1_000;
/// Challenges a user may have open (PENDING or IN_PROGRESS, not expired) at once; one more
/// is refused with 429 until some complete, fail or expire.
pub const MAX_OPEN_CHALLENGES: u32 = 100;
/// Days a delivered (or finally failed) webhook delivery is kept before it is pruned.
pub const WEBHOOK_RETENTION_DAYS: u32 = 30;
/// Largest request body read, in bytes; a larger one is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Timeout of one webhook HEAD check or delivery, in seconds.
pub const WEBHOOK_TIMEOUT_SECONDS: u64 = 10;
/// How long a claimed webhook delivery stays with its worker, in milliseconds.
pub const WEBHOOK_LEASE_MS: i64 = 60_000;
/// How often an idle webhook worker looks for due deliveries, in milliseconds.
pub const WEBHOOK_POLL_INTERVAL_MS: u64 = 250;
/// Webhook deliveries claimed (and sent concurrently) at once.
pub const WEBHOOK_BATCH: u32 = 32;

/// Developer requests per second per API key on GET routes (Circle's figure).
pub const RATE_GET_PER_SECOND: u32 = 20;
/// Developer requests per second per API key on `POST /v1/w3s/users/token` (Circle's figure).
pub const RATE_TOKEN_PER_SECOND: u32 = 10;
/// Developer requests per second per API key on `/v1/w3s/user/sign/*` (Circle's figure).
pub const RATE_SIGN_PER_SECOND: u32 = 10;
/// Developer requests per second per API key on other POST, PUT, PATCH and DELETE routes
/// (Circle's figure).
pub const RATE_POST_PER_SECOND: u32 = 5;
/// Requests per minute per client address on the end-user protocol (`/v1/w3s/sdk/…`).
pub const RATE_SDK_PER_MINUTE: u32 = 120;
/// Failed authentications (401) per minute per client address before 429.
pub const RATE_AUTH_FAILURES_PER_MINUTE: u32 = 30;
/// Keys (API keys, client addresses) each limiter remembers at most; beyond it the limiter
/// forgets idle keys, and refuses new ones if none are idle.
pub const RATE_MAX_KEYS: usize = 100_000;

/// Seconds a client has to send a request's headers (also closes idle keep-alive
/// connections waiting for the next request).
pub const HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
/// Seconds a request body may stall between two chunks.
pub const BODY_READ_TIMEOUT_SECONDS: u64 = 10;
/// Seconds from a request's headers to its response, body reading included: a body drip-fed
/// faster than the stall timeout still cannot hold a connection longer.
pub const REQUEST_TIMEOUT_SECONDS: u64 = 30;
/// Connections served at once; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long an idempotency key is honoured, in milliseconds (48 h; Circle promises at
/// least 24 h). Not a knob: a shorter window would break Circle's promise.
pub const IDEMPOTENCY_RETENTION_MS: i64 = 48 * 60 * 60 * 1000;
