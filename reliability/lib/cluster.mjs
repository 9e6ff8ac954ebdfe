// The system under test: the database (a SQLite data directory, a fresh database on the shared
// PostgreSQL, or a private PostgreSQL cluster that may be restarted), the master key, and one
// or two `latchkey serve` processes that are killed with SIGKILL and started again.

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { call, sleep } from './http.mjs';

const STARTUP_TIMEOUT_MS = 60_000;
const SHARED_PG = { host: '127.0.0.1', port: 5432 };

/** Runs a program; resolves to { code, stdout, stderr } (never rejects on a non-zero exit). */
export function run(file, args, { env = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
  });
}

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function psql(pg, sql) {
  const r = await run('psql', ['-h', pg.host, '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres',
    '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
  if (r.code !== 0) throw new Error(`psql ${sql}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The bin directory of the newest installed PostgreSQL (initdb, pg_ctl). */
function pgBinDir() {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * A PostgreSQL cluster of this run only (never the shared one on 5432, which other tests use):
 * `initdb` as user postgres into a temporary directory, served on a free port. `outage(ms)`
 * stops it (immediate mode: like a crash) and starts it again after `ms`.
 */
class PrivatePostgres {
  constructor(dir, port) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
    this.port = port;
    this.host = '127.0.0.1';
    this.restarts = 0;
  }

  static async create() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-crash-pg-'));
    const pw = await run('getent', ['passwd', 'postgres']);
    const [, , uid, gid] = pw.stdout.split(':').map((x, i) => (i === 2 || i === 3 ? Number(x) : x));
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
    const me = new PrivatePostgres(dir, await freePort());
    const init = await me.asPostgres(path.join(pgBinDir(), 'initdb'), ['-D', me.data, '-A', 'trust', '-U', 'postgres']);
    if (init.code !== 0) throw new Error(`initdb: ${init.stderr}`);
    await me.start();
    return me;
  }

  asPostgres(file, args) {
    const asRoot = process.getuid && process.getuid() === 0;
    return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  }

  async pgCtl(...args) {
    const r = await this.asPostgres(path.join(pgBinDir(), 'pg_ctl'),
      ['-D', this.data, '-o', `-p ${this.port} -k ${this.dir}`, '-l', path.join(this.dir, 'log'), '-w', ...args]);
    if (r.code !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
  }

  start() { return this.pgCtl('start'); }

  /** The database goes away for `ms` milliseconds (stopped in immediate mode), then comes back. */
  async outage(ms) {
    await this.pgCtl('-m', 'immediate', 'stop');
    await sleep(ms);
    await this.start();
    this.restarts += 1;
  }

  async destroy() {
    await this.pgCtl('-m', 'immediate', 'stop').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One `latchkey serve` process, restartable on the same storage. */
class Instance {
  constructor(cluster, index) {
    this.cluster = cluster;
    this.index = index;
    this.dataDir = path.join(cluster.dir, `instance-${index}`);
    this.log = path.join(cluster.dir, `instance-${index}.log`);
    this.child = null;
    this.url = null;
    this.port = null;
    this.starts = 0;
  }

  /** Starts the server (on its previous port when it can) and waits for "listening on". */
  async start() {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.port === null || attempt > 0) this.port = await freePort();
      try {
        await this.spawnOnce();
        this.starts += 1;
        return;
      } catch (err) {
        if (attempt === 2) throw err;
      }
    }
  }

  spawnOnce() {
    const args = ['serve', ...this.cluster.storageArgs(this), '--listen', `127.0.0.1:${this.port}`,
      ...(this.cluster.dev ? ['--dev'] : []),
      // The engine runs in every instance (and every restart) that has a chain.
      ...(this.cluster.rpcUrl ? ['--rpc', `MATIC-AMOY=${this.cluster.rpcUrl}`] : [])];
    const child = spawn(this.cluster.bin, args, { env: this.cluster.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.url = null;
    appendFileSync(this.log, `--- start ${new Date().toISOString()} port ${this.port}\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${this.index}: no "listening on" in ${STARTUP_TIMEOUT_MS} ms (log: ${this.log})`)), STARTUP_TIMEOUT_MS);
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk) => appendFileSync(this.log, chunk));
      child.stdout.on('data', (chunk) => {
        appendFileSync(this.log, chunk);
        buf += chunk;
        const m = /listening on (http:\/\/[^\s,;)]+)/.exec(buf);
        if (m && this.url === null) {
          this.url = m[1].replace(/[/.]+$/, '');
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (this.url === null) {
          clearTimeout(timer);
          reject(new Error(`instance ${this.index} exited (${code ?? signal}) before listening (log: ${this.log})`));
        }
      });
    });
  }

  /** Whether requests should go here. */
  get up() { return this.child !== null && this.url !== null; }

  /** SIGKILL: no shutdown at all. Resolves once the process is gone. */
  kill() {
    const child = this.child;
    if (!child) return Promise.resolve();
    this.url = null;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * The whole deployment: `db` is 'sqlite' or 'postgres'; `privatePostgres` runs a cluster of
 * its own (needed to restart the database); `instances` is 1 or 2; `rpcUrl` the local chain.
 * `dev` (default true) starts the servers with `--dev` (the fast PIN-hashing preset; the
 * benchmarks turn it off to measure the production one); `extraEnv` is added to their
 * environment.
 */
export class Cluster {
  constructor({ bin, db, instances, privatePostgres, rpcUrl = null, dev = true, extraEnv = {} }) {
    this.bin = bin;
    this.dev = dev;
    this.extraEnv = extraEnv;
    /** anvil's JSON-RPC URL, given to every server as MATIC-AMOY (null: no chain). */
    this.rpcUrl = rpcUrl;
    this.db = db;
    this.privatePostgres = privatePostgres;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-crash-'));
    this.keyFile = path.join(this.dir, 'master.key');
    this.instances = Array.from({ length: instances }, (_, i) => new Instance(this, i));
    this.pg = null;
    this.databaseName = null;
    this.databaseUrl = null;
    this.apiKey = null;
    this.appId = null;
  }

  /** Creates the storage, the master key and the API key, and starts every instance. */
  async setUp() {
    writeFileSync(this.keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    if (this.db === 'postgres') {
      this.pg = this.privatePostgres ? await PrivatePostgres.create() : SHARED_PG;
      this.databaseName = `latchkey_crash_${randomBytes(5).toString('hex')}`;
      await psql(this.pg, `CREATE DATABASE "${this.databaseName}"`);
      this.databaseUrl = `postgres://postgres@${this.pg.host}:${this.pg.port}/${this.databaseName}`;
    }
    const created = await this.admin(['apikey', 'create']);
    if (created.code !== 0) throw new Error(`latchkey apikey create: ${created.stderr}`);
    this.apiKey = created.stdout.trim().split(/\r?\n/).pop().trim();
    await Promise.all(this.instances.map((i) => i.start()));
    const res = await call(this.instances[0].url, 'GET', '/v1/w3s/config/entity', { apiKey: this.apiKey });
    this.appId = res.json?.data?.appId;
    if (res.status !== 200 || typeof this.appId !== 'string') {
      throw new Error(`GET /v1/w3s/config/entity → ${res.status} ${JSON.stringify(res.json)}`);
    }
  }

  /** The environment of every server and command. */
  env() {
    return {
      LATCHKEY_MASTER_KEY_FILE: this.keyFile,
      // A short retry schedule: a delivery cut by a kill is retried within seconds, not hours.
      LATCHKEY_WEBHOOK_RETRY_SCHEDULE: '0,1s,2s,5s,10s,20s,30s,60s',
      LATCHKEY_LOG: process.env.LATCHKEY_LOG ?? 'info,sqlx=warn',
      ...this.extraEnv,
    };
  }

  /** `--data-dir` (per instance; SQLite lives in instance 0's) and `--database-url`. */
  storageArgs(instance = this.instances[0]) {
    const dataDir = this.db === 'sqlite' ? this.instances[0].dataDir : instance.dataDir;
    return ['--data-dir', dataDir, ...(this.databaseUrl ? ['--database-url', this.databaseUrl] : [])];
  }

  /** Runs `latchkey ARGS` on this deployment's storage. */
  admin(args) {
    return run(this.bin, [...args, ...this.storageArgs()], { env: this.env() });
  }

  /** The live instances' base URLs. */
  liveUrls() {
    return this.instances.filter((i) => i.up).map((i) => i.url);
  }

  /** Base URL of a random live instance, or null while none is up. */
  anyUrl() {
    const urls = this.liveUrls();
    return urls.length ? urls[Math.floor(Math.random() * urls.length)] : null;
  }

  /** Stops every instance and removes the storage (unless `keep`). */
  async tearDown({ keep = false } = {}) {
    await Promise.all(this.instances.map((i) => i.kill()));
    if (keep) return;
    if (this.pg && this.databaseName && !this.privatePostgres) {
      await psql(this.pg, `DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`).catch(() => {});
    }
    if (this.pg && this.privatePostgres) await this.pg.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
