#!/usr/bin/env bash
# Where GET /v1/w3s/user spends its CPU on PostgreSQL: for each build given (a directory holding
# the `latchkey` binary; default: this tree's release build), starts the server on a fresh
# database of $PG_BASE_URL (default the local server, user postgres), loads GET /v1/w3s/user with
# wrk (2 threads, 64 connections) and prints requests/s, p99, and the CPU time per request of
# the server process and of all PostgreSQL processes (from /proc, so it needs the server on
# this machine). Builds are measured in turns, ROUNDS times (default 2), so that two builds
# are compared in one sitting on a shared machine.
# Usage: bench/cpu_per_request.sh [seconds, default 8] [BIN_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
shift || true
. bench/lib/common.sh
ensure_wrk
dirs=("$@")
if [ ${#dirs[@]} = 0 ]; then
  build_release
  dirs=("$bin")
fi
pg_base=${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
hz=$(getconf CLK_TCK)
server=
db=
data=
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  [ -n "$db" ] && psql "$pg_base" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "$data" ] && rm -rf "$data"
  server= db= data=
}
trap cleanup EXIT

# CPU seconds of every PostgreSQL process so far.
pg_cpu() {
  for p in $(pgrep -u postgres 2>/dev/null || pgrep postgres); do
    awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true
  done | awk -v hz="$hz" '{s += $1} END {printf "%.3f\n", s / hz}'
}

measure() {
  local dir=$1 port base key token out
  db="lk_cpu_$(date +%s%N)"
  psql "$pg_base" -qc "CREATE DATABASE $db" >/dev/null
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  "$dir/latchkey" serve --data-dir "$data" --database-url "${pg_base%/*}/$db" --listen "127.0.0.1:$port" \
    >"$data/out" 2>"$data/err" &
  server=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$data/out" 2>/dev/null && break; sleep 0.1; done
  key=$(awk '/API key:/ {print $3}' "$data/out")
  [ -n "$key" ] || { echo "server did not start"; cat "$data/err"; exit 1; }
  curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users" -d '{"userId":"bench-user"}' >/dev/null
  token=$(curl -sf -H "Authorization: Bearer $key" -X POST "$base/v1/w3s/users/token" -d '{"userId":"bench-user"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["userToken"])')
  printf 'wrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["X-User-Token"] = "%s"\n' "$key" "$token" >"$data/user.lua"
  wrk "${WRK_ARGS[@]}" -d2s -s "$data/user.lua" "$base/v1/w3s/user" >/dev/null # warm the pool
  local s0 p0 s1 p1
  s0=$(awk '{print $14 + $15}' "/proc/$server/stat"); p0=$(pg_cpu)
  out=$(wrk "${WRK_ARGS[@]}" -d"${secs}s" --latency -s "$data/user.lua" "$base/v1/w3s/user")
  s1=$(awk '{print $14 + $15}' "/proc/$server/stat"); p1=$(pg_cpu)
  python3 - "$dir" "$secs" "$hz" "$s0" "$s1" "$p0" "$p1" <<PY
import re, sys
d, secs, hz, s0, s1, p0, p1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
t = """$out"""
n = int(re.search(r"(\d+) requests in", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{d:40} {n / secs:9.0f} {p99:8.2f} {(s1 - s0) / hz / n * 1e6:10.1f} {(p1 - p0) / n * 1e6:12.1f} {bad.group(1) if bad else 0:>7}")
PY
  cleanup
}

echo "GET /v1/w3s/user on PostgreSQL, wrk ${WRK_ARGS[*]}, ${secs}s each, $(nproc) cores shared"
printf '%-40s %9s %8s %10s %12s %7s\n' build "req/s" "p99 ms" "server us" "postgres us" errors
for _ in $(seq 1 "${ROUNDS:-2}"); do
  for d in "${dirs[@]}"; do measure "$d"; done
done
