//! Throttling in front of the routes: rate limits per API key and endpoint class (shaped like
//! Circle's: GET, POST, user token, signing), per client address on the end-user protocol
//! (`/v1/w3s/sdk/…`) and on failed authentication (401), plus the body-read and whole-request
//! timeouts, and the largest body read (413 past it, from the JSON extractor). Over a rate
//! limit the answer is 429 with `Retry-After` and Circle's error body.
//!
//! The limiters are GCRA (`governor`) keyed by a hash of the `Authorization` header or by the
//! client address (an IPv6 client counts as its /64). Their memory is bounded: idle keys are
//! forgotten at most every few seconds, and when `max_keys` are remembered and none is idle,
//! new keys are refused (429) rather than remembered. The client address comes from the
//! connection (`ConnectInfo`); behind a reverse proxy every client shares the proxy's address.

use crate::error::HttpError;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use latchkey_core::defaults;
use latchkey_core::ApiError;
use sha2::{Digest, Sha256};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::timeout::TimeoutBody;

/// The throttling knobs (documented in docs/configuration.md).
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Whether the rate limits apply at all (the timeouts always do).
    pub rate_limits: bool,
    /// Per API key, GET requests per second.
    pub get_per_second: u32,
    /// Per API key, POST/PUT/PATCH/DELETE requests per second (other than token and signing).
    pub post_per_second: u32,
    /// Per API key, `POST /v1/w3s/users/token` per second.
    pub token_per_second: u32,
    /// Per API key, `/v1/w3s/user/sign/*` per second.
    pub sign_per_second: u32,
    /// Per client address, end-user protocol requests per minute.
    pub sdk_per_minute: u32,
    /// Per client address, failed authentications (401) per minute.
    pub auth_failures_per_minute: u32,
    /// Keys each limiter remembers at most.
    pub max_keys: usize,
    /// Longest stall between two chunks of a request body.
    pub body_read_timeout: Duration,
    /// Longest time from a request's headers to its response.
    pub request_timeout: Duration,
    /// Largest request body read; a larger one is refused with 413.
    pub max_body_bytes: usize,
}

impl Default for LimitSettings {
    /// The defaults of a public deployment, with the rate limits off (the binary turns them on
    /// outside `--dev`).
    fn default() -> Self {
        Self {
            rate_limits: false,
            get_per_second: defaults::RATE_GET_PER_SECOND,
            post_per_second: defaults::RATE_POST_PER_SECOND,
            token_per_second: defaults::RATE_TOKEN_PER_SECOND,
            sign_per_second: defaults::RATE_SIGN_PER_SECOND,
            sdk_per_minute: defaults::RATE_SDK_PER_MINUTE,
            auth_failures_per_minute: defaults::RATE_AUTH_FAILURES_PER_MINUTE,
            max_keys: defaults::RATE_MAX_KEYS,
            body_read_timeout: Duration::from_secs(defaults::BODY_READ_TIMEOUT_SECONDS),
            request_timeout: Duration::from_secs(defaults::REQUEST_TIMEOUT_SECONDS),
            max_body_bytes: defaults::MAX_BODY_BYTES,
        }
    }
}

type Keyed<K> = RateLimiter<K, HashMapStateStore<K>, DefaultClock>;

/// A hash of the `Authorization` header: the limiter never holds the credential itself.
type KeyHash = [u8; 16];

/// How often, at most, idle keys are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

struct Limiters {
    settings: LimitSettings,
    get: Keyed<KeyHash>,
    post: Keyed<KeyHash>,
    token: Keyed<KeyHash>,
    sign: Keyed<KeyHash>,
    sdk: Keyed<IpAddr>,
    auth_failures: Keyed<IpAddr>,
    started: Instant,
    last_sweep_ms: AtomicU64,
}

fn per_second(n: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limiters {
    fn new(settings: LimitSettings) -> Self {
        Self {
            get: RateLimiter::hashmap(per_second(settings.get_per_second)),
            post: RateLimiter::hashmap(per_second(settings.post_per_second)),
            token: RateLimiter::hashmap(per_second(settings.token_per_second)),
            sign: RateLimiter::hashmap(per_second(settings.sign_per_second)),
            sdk: RateLimiter::hashmap(per_minute(settings.sdk_per_minute)),
            auth_failures: RateLimiter::hashmap(per_minute(settings.auth_failures_per_minute)),
            settings,
            started: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
        }
    }

    /// Forgets keys whose state is back to fresh, at most every [`SWEEP_EVERY`].
    fn sweep(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64;
        if due
            && self
                .last_sweep_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            for l in [&self.get, &self.post, &self.token, &self.sign] {
                l.retain_recent();
                l.shrink_to_fit();
            }
            for l in [&self.sdk, &self.auth_failures] {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }

    /// One request against `key`'s budget; `Err` carries how long to wait.
    fn check<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K>, key: &K) -> Result<(), Duration> {
        if limiter.len() >= self.settings.max_keys {
            // Full and nothing idle enough to forget: refuse rather than grow.
            return Err(SWEEP_EVERY);
        }
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    fn class_limiter(&self, method: &Method, path: &str) -> &Keyed<KeyHash> {
        if *method == Method::GET || *method == Method::HEAD {
            &self.get
        } else if *method == Method::POST && path == "/v1/w3s/users/token" {
            &self.token
        } else if path.starts_with("/v1/w3s/user/sign/") {
            &self.sign
        } else {
            &self.post
        }
    }
}

/// The client's address as a limiter key: IPv4 as is, IPv6 by its /64 (one subscriber's
/// allocation), IPv4-mapped IPv6 as the IPv4 address.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

fn api_key_hash(headers: &HeaderMap) -> Option<KeyHash> {
    let value = headers.get(header::AUTHORIZATION)?;
    let digest = Sha256::digest(value.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(digest.get(..16)?);
    Some(out)
}

/// 429 with `Retry-After` (whole seconds, at least 1) and Circle's body.
fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = HttpError(ApiError::too_many_requests()).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

async fn throttle(State(limits): State<Arc<Limiters>>, req: Request, next: Next) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_key(c.0.ip()));
    if limits.settings.rate_limits {
        limits.sweep();
        let path = req.uri().path();
        if let Some(key) = api_key_hash(req.headers()) {
            let limiter = limits.class_limiter(req.method(), path);
            if let Err(wait) = limits.check(limiter, &key) {
                return too_many(wait);
            }
        }
        if let (true, Some(ip)) = (path.starts_with("/v1/w3s/sdk/"), client) {
            if let Err(wait) = limits.check(&limits.sdk, &ip) {
                return too_many(wait);
            }
        }
    }
    let req = req.map(|body| Body::new(TimeoutBody::new(limits.settings.body_read_timeout, body)));
    let response = match tokio::time::timeout(limits.settings.request_timeout, next.run(req)).await
    {
        Ok(response) => response,
        Err(_) => return HttpError(ApiError::new(408, 408, "Request timed out.")).into_response(),
    };
    if limits.settings.rate_limits && response.status().as_u16() == 401 {
        if let Some(ip) = client {
            if let Err(wait) = limits.check(&limits.auth_failures, &ip) {
                return too_many(wait);
            }
        }
    }
    response
}

/// Puts the throttling and the body size limit in front of every route of `router`.
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &LimitSettings,
) -> Router<S> {
    let limits = Arc::new(Limiters::new(settings.clone()));
    router
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(limits, throttle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = client_key(
            "2001:db8:1:2:aaaa::1"
                .parse()
                .unwrap_or(IpAddr::from([0u8; 4])),
        );
        let b = client_key(
            "2001:db8:1:2:bbbb::9"
                .parse()
                .unwrap_or(IpAddr::from([0u8; 4])),
        );
        assert_eq!(a, b);
        let mapped = client_key("::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0u8; 4])));
        assert_eq!(mapped, IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn a_full_limiter_refuses_new_keys() {
        let limits = Limiters::new(LimitSettings {
            max_keys: 2,
            ..LimitSettings::default()
        });
        for i in 0..2u8 {
            assert!(limits.check(&limits.get, &[i; 16]).is_ok());
        }
        assert!(limits.check(&limits.get, &[9; 16]).is_err());
        assert!(limits.get.len() <= 2);
    }
}
