#!/usr/bin/env bash
# latchkey's benchmarks. Builds release binaries, starts the server on a fresh SQLite
# database (production Argon2id policy), then prints:
#   1. requests/s and p99 of GET /ping, POST /v1/w3s/users/token, GET /v1/w3s/user and
#      POST /v1/w3s/users at 64 connections (wrk), each as a ratio to GET /ping in this run;
#   2. the PIN-verification storm (latchkey-bench): server Argon2id rate against the raw rate
#      on the KDF pool's threads, and GET challenge p99 during the storm against at rest.
# Usage: bench/run.sh [seconds per HTTP run, default 10] [storm seconds, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
storm_secs=${2:-20}
out=bench/out
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked -p latchkey -p latchkey-bench >/dev/null 2>&1 || cargo build --release --locked -p latchkey -p latchkey-bench

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Rate limits stay on (their bookkeeping is on every request's path, so it is measured) with
# quotas far above what one machine can send: the figures are the server's, not the limiter's.
export LATCHKEY_RATE_LIMITS=true LATCHKEY_RATE_GET_PER_SECOND=10000000 \
  LATCHKEY_RATE_POST_PER_SECOND=10000000 LATCHKEY_RATE_TOKEN_PER_SECOND=10000000 \
  LATCHKEY_RATE_SIGN_PER_SECOND=10000000 LATCHKEY_RATE_SDK_PER_MINUTE=600000000 \
  LATCHKEY_RATE_AUTH_FAILURES_PER_MINUTE=600000000
target/release/latchkey serve --data-dir "$data" --listen "127.0.0.1:$port" >"$out/server.out" 2>"$out/server.err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$out/server.out" 2>/dev/null && break; sleep 0.1; done
key=$(awk '/API key:/ {print $3}' "$out/server.out")
[ -n "$key" ] || { echo "server did not start"; cat "$out/server.err"; exit 1; }

curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users" -d '{"userId":"bench-user"}' >/dev/null
token=$(curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users/token" -d '{"userId":"bench-user"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["userToken"])')

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

# Prints "rps p99_ms non2xx" for one wrk run.
measure() {
  local path=$1 script=${2:-}
  local args=(-t2 -c64 -d"${secs}s" --latency)
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

echo "HTTP at 64 connections, ${secs}s each, SQLite (synchronous=FULL), $(nproc) cores shared with wrk"
read -r ping_rps ping_p99 ping_bad <<<"$(measure /ping)"
read -r tok_rps tok_p99 tok_bad <<<"$(measure /v1/w3s/users/token "$out/token.lua")"
read -r usr_rps usr_p99 usr_bad <<<"$(measure /v1/w3s/user "$out/user.lua")"
read -r new_rps new_p99 new_bad <<<"$(measure /v1/w3s/users "$out/create.lua")"
python3 - <<PY
rows = [("GET /ping", $ping_rps, $ping_p99, $ping_bad, None),
        ("POST /v1/w3s/users/token", $tok_rps, $tok_p99, $tok_bad, ">= 10000 req/s"),
        ("GET /v1/w3s/user", $usr_rps, $usr_p99, $usr_bad, ">= 10000 req/s, p99 <= 10 ms"),
        ("POST /v1/w3s/users (durable)", $new_rps, $new_p99, $new_bad, ">= 2000 req/s")]
print(f"{'endpoint':32} {'req/s':>9} {'p99 ms':>8} {'x ping':>7} {'errors':>7}  target")
for name, rps, p99, bad, target in rows:
    print(f"{name:32} {rps:9.0f} {p99:8.2f} {rps / $ping_rps:7.2f} {bad:>7}  {target or ''}")
PY

echo
kdf_workers=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))
target/release/latchkey-bench --url "$base" --api-key "$key" --seconds "$storm_secs" --kdf-workers "$kdf_workers"
