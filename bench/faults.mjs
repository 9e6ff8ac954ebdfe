// bench/faults.mjs, run by bench/faults.sh: the HTTP benchmark's read endpoints measured with
// wrk while a fault happens, against the same endpoints at idle, in one run. See
// bench/README.md ("Load with faults").
//
// The deployment is the crash rounds' (reliability/lib/cluster.mjs): a private PostgreSQL
// cluster and two `latchkey serve` instances on it, here without --dev (the production
// Argon2id policy) and with the benchmarks' rate-limit environment. wrk always loads
// instance 0; the faults are
//   - storm:   latchkey-bench --storm-only (BENCH_STORM_USERS, default 8, users changing their
//              PIN in a loop) on instance 0;
//   - crash:   the crash rounds' mixed load (reliability/lib/load.mjs) on instance 1, which is
//              killed with SIGKILL and started again every 0.2-2 s;
//   - pg:      PostgreSQL stopped in immediate mode 1 s into each measurement, for OUTAGE
//              seconds, then started again (the crash rounds' PrivatePostgres.outage).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from '../reliability/lib/cluster.mjs';
import { call, randInt, sleep } from '../reliability/lib/http.mjs';
import { Ledger, Load } from '../reliability/lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const secs = Number(process.argv[2] ?? 10);
const outageSecs = Number(process.env.BENCH_OUTAGE_SECONDS ?? Math.max(1, Math.min(5, secs - 4)));
const bin = process.env.LATCHKEY_BENCH_BIN;
const wrkArgs = (process.env.BENCH_WRK_ARGS ?? '-t2 -c64').split(/\s+/).filter(Boolean);
if (!bin || !Number.isFinite(secs) || secs < 3) {
  console.error('usage: bench/faults.sh [seconds per measurement, >= 3, default 10]');
  process.exit(2);
}

const ENDPOINTS = ['/v1/w3s/user', '/v1/w3s/wallets'];
// Fewer than bench/run.sh's 32: one KDF thread keeps 2 Argon2id per user queued, and with wrk
// on the same cores 32 users' queue outlasts the server's 30 s request timeout (408). Any
// queue keeps the KDF pool saturated, which is the fault.
const stormUsers = Number(process.env.BENCH_STORM_USERS ?? 8);

/** Runs `cmd args`, resolves to { code, stdout, stderr }. */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One wrk run of `seconds` against `url`; the FAULTS line of bench/lib/faults.lua, parsed. */
async function wrk(url, auth, seconds) {
  const r = await run('wrk', [...wrkArgs, `-d${seconds}s`, '--latency', '--timeout', '30s',
    '-s', path.join(here, 'lib', 'faults.lua'), url], { LK_API_KEY: auth.apiKey, LK_USER_TOKEN: auth.userToken });
  const line = r.stdout.split('\n').find((l) => l.startsWith('FAULTS '));
  if (r.code !== 0 || !line) throw new Error(`wrk ${url}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const f = Object.fromEntries(line.slice(7).trim().split(' ').map((kv) => kv.split('=')));
  const n = (k) => Number(f[k]);
  return {
    rps: n('requests') / n('seconds'), p50: n('p50_us') / 1000, p99: n('p99_us') / 1000, max: n('max_us') / 1000,
    ok: n('ok'), c503: n('c503'), other: n('other'), statuses: f.statuses,
    socket: n('connect') + n('read') + n('write') + n('timeout'),
  };
}

/** Every endpoint measured in turn, each for `secs`; `during(i)` runs beside measurement i. */
async function measureAll(target, auth, during = async () => {}) {
  const out = [];
  for (let i = 0; i < ENDPOINTS.length; i++) {
    const [res] = await Promise.all([wrk(`${target.url}${ENDPOINTS[i]}`, auth, secs), during(i)]);
    out.push(res);
  }
  return out;
}

/** The PIN storm on `url` for `seconds`: resolves once its users are set up, with a stop(). */
function startStorm(url, apiKey, seconds) {
  const child = spawn(path.join(path.dirname(bin), 'latchkey-bench'),
    ['--url', url, '--api-key', apiKey, '--storm-only', '--seconds', String(seconds), '--concurrency', String(stormUsers)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('storm running')) {
        resolve({
          async finished() {
            const code = await exited;
            const rate = /under the storm: ([\d.]+)/.exec(out)?.[1];
            if (code !== 0 || !rate) throw new Error(`latchkey-bench --storm-only: exit ${code}\n${out}`);
            return Number(rate);
          },
        });
      }
    });
    exited.then((code) => reject(new Error(`latchkey-bench --storm-only exited (${code}) before the storm\n${out}`)));
  });
}

/** Every live instance answers 200 again; resolves to the milliseconds it took (or null). */
async function recovery(cluster, from, ms = 60_000) {
  for (const inst of cluster.instances.filter((i) => i.up)) {
    for (;;) {
      const res = await call(inst.url, 'GET', '/v1/w3s/config/entity', { apiKey: cluster.apiKey });
      if (res.status === 200) break;
      if (Date.now() - from > ms) return null;
      await sleep(100);
    }
  }
  return Date.now() - from;
}

async function main() {
  const extraEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('LATCHKEY_RATE')));
  const cluster = new Cluster({ bin, db: 'postgres', instances: 2, privatePostgres: true, dev: false, extraEnv });
  let load = null;
  try {
    await cluster.setUp();
    const [target, victim] = cluster.instances;
    const apiKey = cluster.apiKey;
    const created = await call(target.url, 'POST', '/v1/w3s/users', { apiKey, body: { userId: 'bench-user' } });
    const token = await call(target.url, 'POST', '/v1/w3s/users/token', { apiKey, body: { userId: 'bench-user' } });
    if (created.status !== 201 || token.status !== 200) throw new Error(`set-up: ${created.status} / ${token.status}`);
    const auth = { apiKey, userToken: token.json.data.userToken };
    console.log(`faults: private PostgreSQL on port ${cluster.pg.port}, two instances (production Argon2id), `
      + `wrk ${wrkArgs.join(' ')} -d${secs}s on instance 0, outage ${outageSecs} s`);
    const rows = [];

    console.log('idle...');
    rows.push(['idle', await measureAll(target, auth), '']);

    console.log('PIN storm...');
    const storm = await startStorm(target.url, apiKey, secs * ENDPOINTS.length + 2);
    const during = await measureAll(target, auth);
    rows.push([`PIN storm (${stormUsers} users)`, during, `${(await storm.finished()).toFixed(2)} PIN verifications/s`]);

    console.log('kill -9 of instance 1 under the crash rounds\' load...');
    const ledger = new Ledger();
    load = new Load({ anyUrl: () => (victim.up ? victim.url : null), apiKey, appId: cluster.appId }, ledger,
      { concurrency: 2 });
    load.start();
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        await sleep(randInt(200, 2000));
        if (!killing) break;
        await victim.kill();
        kills += 1;
        await sleep(randInt(0, 200));
        await victim.start();
      }
    })();
    const crash = await measureAll(target, auth);
    killing = false;
    await killer;
    await load.stop();
    load = null;
    const ops = Object.values(ledger.done).reduce((a, b) => a + b, 0);
    rows.push(['kill -9 of instance 1', crash, `${kills} kills, ${ops} load operations on instance 1`]);

    console.log('PostgreSQL restarts...');
    const recoveries = [];
    const pg = await measureAll(target, auth, async () => {
      await sleep(1000);
      const from = Date.now();
      await cluster.pg.outage(outageSecs * 1000);
      recoveries.push(await recovery(cluster, from));
    });
    rows.push([`PostgreSQL restart (${outageSecs} s away)`, pg,
      `back to 200 after ${recoveries.map((r) => (r === null ? 'never' : `${(r / 1000).toFixed(1)} s`)).join(', ')} from the stop`]);

    printTable(rows);
    const bad = rows.some(([, res]) => res.some((r) => r.other > 0)) || recoveries.includes(null);
    process.exitCode = bad ? 1 : 0;
  } finally {
    if (load) await load.stop();
    await cluster.tearDown();
  }
}

function printTable(rows) {
  const idle = rows[0][1];
  console.log(`\nRead endpoints under faults: wrk ${wrkArgs.join(' ')}, ${secs} s per cell, on instance 0 of two `
    + 'on one PostgreSQL; ratios to idle in this run');
  const head = `${'endpoint'.padEnd(18)} ${'during'.padEnd(28)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(8)} `
    + `${'p99 ms'.padStart(8)} ${'p50 x'.padStart(6)} ${'p99 x'.padStart(6)} ${'2xx'.padStart(7)} `
    + `${'503 Circle'.padStart(10)} ${'other'.padStart(6)} ${'socket err'.padStart(10)}`;
  console.log(head);
  for (let e = 0; e < ENDPOINTS.length; e++) {
    for (const [label, res] of rows) {
      const r = res[e];
      const i = idle[e];
      console.log(`${`GET ${ENDPOINTS[e].replace('/v1/w3s', '')}`.padEnd(18)} ${label.padEnd(28)} `
        + `${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} `
        + `${(r.p50 / i.p50).toFixed(2).padStart(6)} ${(r.p99 / i.p99).toFixed(2).padStart(6)} `
        + `${String(r.ok).padStart(7)} ${String(r.c503).padStart(10)} `
        + `${`${r.other}${r.other ? ` (${r.statuses})` : ''}`.padStart(6)} ${String(r.socket).padStart(10)}`);
    }
  }
  for (const [label, , note] of rows) if (note) console.log(`${label}: ${note}`);
  console.log('"503 Circle": 503 with a Circle-shaped body ({"code": n, "message": "..."}), expected while the '
    + 'database is away; "other": every other non-2xx (must be 0); "socket err": wrk\'s connect/read/write/timeout errors.');
}

main().catch((err) => {
  console.error(`faults: ${err.stack ?? err}`);
  process.exitCode = 2;
});
