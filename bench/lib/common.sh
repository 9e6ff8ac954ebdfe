# Shared by bench/run.sh and bench/faults.sh (sourced, from the repository's root): wrk, the
# release binaries, and the server environment every benchmark runs with.

# wrk from Debian's packages when missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
}

# The release binaries (latchkey, latchkey-bench) unless LATCHKEY_BENCH_BIN_DIR names a
# directory holding them; sets $bin to that directory.
build_release() {
  if [ -z "${LATCHKEY_BENCH_BIN_DIR:-}" ]; then
    cargo build --release --locked -p latchkey -p latchkey-bench >/dev/null 2>&1 \
      || cargo build --release --locked -p latchkey -p latchkey-bench
  fi
  bin=${LATCHKEY_BENCH_BIN_DIR:-${CARGO_TARGET_DIR:-target}/release}
}

# The HTTP load of every table: wrk with 2 threads and 64 connections.
WRK_ARGS=(-t2 -c64)

# Rate limits stay on (their bookkeeping is on every request's path, so it is measured) with
# quotas far above what one machine can send: the figures are the server's, not the limiter's.
export LATCHKEY_RATE_LIMITS=true LATCHKEY_RATE_GET_PER_SECOND=10000000 \
  LATCHKEY_RATE_POST_PER_SECOND=10000000 LATCHKEY_RATE_TOKEN_PER_SECOND=10000000 \
  LATCHKEY_RATE_SIGN_PER_SECOND=10000000 LATCHKEY_RATE_SDK_PER_MINUTE=600000000 \
  LATCHKEY_RATE_AUTH_FAILURES_PER_MINUTE=600000000
