#!/usr/bin/env bash
# Load with faults: wrk on the read endpoints (GET /v1/w3s/user, GET /v1/w3s/wallets) of one
# of two latchkey instances on one private PostgreSQL cluster, at idle, during the PIN storm,
# during kill -9 and restart of the other instance under the crash rounds' load, and during a
# PostgreSQL restart; one table of p50/p99 (and ratios to idle) and answers by kind.
# Usage: bench/faults.sh [seconds per measurement, default 10]
# BENCH_OUTAGE_SECONDS sets how long PostgreSQL stays away (default min(5, seconds - 4)).
# LATCHKEY_BENCH_BIN_DIR=DIR runs the binaries in DIR instead of building. Needs Node 20, wrk
# (installed when missing), and initdb/pg_ctl run as root or postgres (the crash rounds' private
# cluster: the shared PostgreSQL on 5432 is never restarted). Details: bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
ensure_wrk
build_release
LATCHKEY_BENCH_BIN="$(cd "$bin" && pwd)/latchkey"
BENCH_WRK_ARGS="${WRK_ARGS[*]}"
export LATCHKEY_BENCH_BIN BENCH_WRK_ARGS
exec node bench/faults.mjs "${1:-10}"
