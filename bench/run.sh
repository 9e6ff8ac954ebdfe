#!/usr/bin/env bash
# latchkey's benchmarks. Builds release binaries, starts the server on a fresh SQLite
# database (production Argon2id policy), then prints:
#   1. requests/s and p99 of GET /ping, POST /v1/w3s/users/token, GET /v1/w3s/user and
#      POST /v1/w3s/users at 64 connections (wrk), each as a ratio to GET /ping in this run;
#   2. the PIN-verification storm (latchkey-bench): server Argon2id rate against the raw rate
#      on the KDF pool's threads, and GET challenge p99 during the storm against at rest.
#   3. the HTTP table again on PostgreSQL (a fresh database on $PG_BASE_URL, default the local
#      server), with pgbench -S (select-only, prepared, 64 clients) as the anchor.
# Usage: bench/run.sh [seconds per HTTP run, default 10] [storm seconds, default 20]
# LATCHKEY_BENCH_BIN_DIR=DIR runs the binaries in DIR instead of building (to compare builds);
# BENCH_POSTGRES=0 skips PostgreSQL; BENCH_SQLITE=0 skips SQLite (its table and the storm).
# LATCHKEY_DB_MAX_CONNECTIONS and the other server knobs pass through to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
storm_secs=${2:-20}
out=bench/out
mkdir -p "$out"

. bench/lib/common.sh
ensure_wrk
build_release

pg_base=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
run_id=$(date +%s)
data=
server=
pg_db=
anvil=
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  [ -n "$anvil" ] && { kill "$anvil" 2>/dev/null; wait "$anvil" 2>/dev/null || true; }
  [ -n "$data" ] && rm -rf "$data"
  if [ -n "$pg_db" ]; then
    psql "$pg_base" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    psql "$pg_base" -qc "DROP DATABASE IF EXISTS ${pg_db}_pgbench WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# Starts a server on a fresh data dir (and database, when $1 is a PostgreSQL URL); sets
# $server, $base, $key and $token (a user's token for the user routes).
start_server() {
  local db_args=()
  [ -n "${1:-}" ] && db_args=(--database-url "$1")
  [ -n "${anvil_url:-}" ] && db_args+=(--rpc "MATIC-AMOY=$anvil_url")
  data=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  "$bin/latchkey" serve --data-dir "$data" "${db_args[@]}" --listen "127.0.0.1:$port" >"$out/server.out" 2>"$out/server.err" &
  server=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$out/server.out" 2>/dev/null && break; sleep 0.1; done
  key=$(awk '/API key:/ {print $3}' "$out/server.out")
  [ -n "$key" ] || { echo "server did not start"; cat "$out/server.err"; exit 1; }
  curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users" -d '{"userId":"bench-user"}' >/dev/null
  token=$(curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users/token" -d '{"userId":"bench-user"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["userToken"])')
  write_scripts
}

stop_server() {
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  server=
  rm -rf "$data"; data=
}

write_scripts() {
cat >"$out/token.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"userId":"bench-user"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
cat >"$out/user.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["X-User-Token"] = "$token"
LUA
cat >"$out/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
local run = "$(date +%s%N)"
counter = 0
setup = function(thread) thread:set("tid", tostring(math.random(1, 1e9))) end
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"userId":"b' .. run .. '-' .. tid .. '-' .. counter .. '"}')
end
LUA
}

# Prints "rps p99_ms non2xx" for one wrk run.
measure() {
  local path=$1 script=${2:-}
  local args=("${WRK_ARGS[@]}" -d"${secs}s" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  wrk "${args[@]}" "$base$path" >"$out/wrk.txt"
  python3 - "$out/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{rps:.0f} {p99:.2f} {bad.group(1) if bad else 0}")
PY
}

# Prints the HTTP table of the running server; $1 names the database, $2 (optional) is an
# anchor "name rps" the GET /v1/w3s/user rate is also compared with.
http_table() {
  local label=$1 anchor=${2:-}
  echo "HTTP at 64 connections, ${secs}s each, $label, $(nproc) cores shared with wrk"
  read -r ping_rps ping_p99 ping_bad <<<"$(measure /ping)"
  read -r tok_rps tok_p99 tok_bad <<<"$(measure /v1/w3s/users/token "$out/token.lua")"
  read -r usr_rps usr_p99 usr_bad <<<"$(measure /v1/w3s/user "$out/user.lua")"
  read -r new_rps new_p99 new_bad <<<"$(measure /v1/w3s/users "$out/create.lua")"
  python3 - "$anchor" <<PY
import sys
rows = [("GET /ping", $ping_rps, $ping_p99, $ping_bad, None),
        ("POST /v1/w3s/users/token", $tok_rps, $tok_p99, $tok_bad, ">= 10000 req/s"),
        ("GET /v1/w3s/user", $usr_rps, $usr_p99, $usr_bad, ">= 10000 req/s, p99 <= 10 ms"),
        ("POST /v1/w3s/users (durable)", $new_rps, $new_p99, $new_bad, ">= 2000 req/s")]
print(f"{'endpoint':32} {'req/s':>9} {'p99 ms':>8} {'x ping':>7} {'errors':>7}  target")
for name, rps, p99, bad, target in rows:
    print(f"{name:32} {rps:9.0f} {p99:8.2f} {rps / $ping_rps:7.2f} {bad:>7}  {target or ''}")
if sys.argv[1]:
    name, rps = sys.argv[1].rsplit(" ", 1)
    print(f"anchor: {name} {float(rps):.0f} tps; GET /v1/w3s/user is {$usr_rps / float(rps):.2f}x of it")
PY
}

# A local anvil as MATIC-AMOY (chain id 80002, automine) for the transfers phase: the binary
# the compat suite installs (npm ci in tests/compat), or $ANVIL_BIN.
anvil_bin=${ANVIL_BIN:-tests/compat/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
anvil_url=
bench_args=()
if [ -x "$anvil_bin" ]; then
  anvil_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$anvil_bin" --host 127.0.0.1 --port "$anvil_port" --chain-id 80002 --accounts 1 --balance 1000000 >"$out/anvil.out" 2>&1 &
  anvil=$!
  anvil_url="http://127.0.0.1:$anvil_port"
  for _ in $(seq 1 100); do grep -q "Listening on" "$out/anvil.out" 2>/dev/null && break; sleep 0.1; done
  bench_args=(--anvil "$anvil_url")
else
  echo "(no anvil at $anvil_bin: the transfers phase is skipped; npm ci in tests/compat installs it)"
fi

if [ "${BENCH_SQLITE:-1}" = 1 ]; then
  start_server ""
  http_table "SQLite (synchronous=FULL)"

  echo
  kdf_workers=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))
  "$bin/latchkey-bench" --url "$base" --api-key "$key" --seconds "$storm_secs" --kdf-workers "$kdf_workers" "${bench_args[@]}"
  stop_server
fi
anvil_url=

if [ "${BENCH_POSTGRES:-1}" = 1 ] && psql "$pg_base" -qAtc 'select 1' >/dev/null 2>&1; then
  echo
  pg_db="lk_bench_$run_id"
  psql "$pg_base" -qc "CREATE DATABASE $pg_db" >/dev/null
  psql "$pg_base" -qc "CREATE DATABASE ${pg_db}_pgbench" >/dev/null
  pgbench_url="${pg_base%/*}/${pg_db}_pgbench"
  pgbench -q -i -s 10 "$pgbench_url" >/dev/null 2>&1
  # The anchor: PostgreSQL's own select-only benchmark, prepared statements, 64 clients.
  pg_tps=$(pgbench -S -M prepared -c 64 -j 2 -T "$secs" "$pgbench_url" 2>/dev/null \
    | awk '/^tps/ {print int($3); exit}')
  start_server "${pg_base%/*}/$pg_db"
  http_table "PostgreSQL (same machine)" "pgbench -S -M prepared -c 64 ${pg_tps:-0}"
  stop_server
fi
