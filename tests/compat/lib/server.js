// Starts a latchkey binary for a test file, and drives its command-line tools.
//
//   const server = await startServer();
//   ... server.baseUrl, server.apiKey, server.appId ...
//   await server.stop();
//
// A restart on the same data: `await a.kill(); const b = await startServer({ reuse: a });`.
//
// Environment:
//   LATCHKEY_BIN                 the binary (default: <repo>/target/debug/latchkey)
//   LATCHKEY_TEST_DATABASE_URL   postgres://... to run against PostgreSQL: each server gets a
//                                fresh database latchkey_compat_<random> (dropped on stop).
//                                Unset: SQLite in the server's temporary data directory.
//   LATCHKEY_TEST_KEEP_DATA=1    keep data directories (and databases) after the run.
//   LATCHKEY_TEST_VERBOSE=1      copy the server's output to this process's stderr.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository's root (tests/compat/lib → ../../..). */
export const repoRoot = path.resolve(here, '..', '..', '..');

/** The latchkey binary under test. */
export const binPath = process.env.LATCHKEY_BIN
  ? path.resolve(process.env.LATCHKEY_BIN)
  : path.join(repoRoot, 'target', 'debug', 'latchkey');

const STARTUP_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 120_000;
const verbose = process.env.LATCHKEY_TEST_VERBOSE === '1';
const keepData = process.env.LATCHKEY_TEST_KEEP_DATA === '1';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Removes terminal colour codes (in case the binary colours its log lines). */
export function stripAnsi(text) {
  return text.replace(ANSI, '');
}

/**
 * Runs the binary once with `args`, feeding `input` (a string) on stdin.
 * Resolves to { code, stdout, stderr }; never rejects on a non-zero exit.
 */
export function runBinary(args, { input, env = {}, timeoutMs = COMMAND_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(binPath, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latchkey ${args.join(' ')} did not finish in ${timeoutMs} ms\n`
        + `stdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${binPath}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    // A command that does not read stdin may close it before we write: ignore EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** The database URL with its database name replaced. */
function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh PostgreSQL database next to `adminUrl`; returns its URL and name. */
async function createDatabase(adminUrl) {
  const name = `latchkey_compat_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return { name, url: withDatabase(adminUrl, name) };
}

async function dropDatabase(adminUrl, name) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch {
    // PostgreSQL < 13 has no WITH (FORCE); the server is stopped, so a plain drop works.
    await client.query(`DROP DATABASE IF EXISTS "${name}"`).catch(() => {});
  } finally {
    await client.end();
  }
}

/** The last non-empty line of `text`, trimmed. */
function lastLine(text) {
  const lines = stripAnsi(text).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}

/**
 * Starts `latchkey serve` on a free port with a fresh data directory (and database), after
 * creating an API key with `latchkey apikey create`.
 *
 * With `reuse`, the new server runs on the data directory (master key file included) and the
 * database of an earlier server, which must have exited (see `kill()`), and keeps its API key;
 * the new server then owns their clean-up.
 *
 * @param {object} [options]
 * @param {Record<string,string>} [options.env] extra environment for the server and its commands
 * @param {string[]} [options.args] extra arguments for `latchkey serve`
 * @param {object} [options.reuse] an earlier server returned by startServer, already exited
 */
export async function startServer({ env = {}, args = [], reuse = null } = {}) {
  const inherited = reuse ? reuse.detach() : null;
  const dataDir = inherited ? inherited.dataDir : await mkdtemp(path.join(os.tmpdir(), 'latchkey-compat-'));
  const adminUrl = process.env.LATCHKEY_TEST_DATABASE_URL ?? '';
  let database = inherited ? inherited.database : null;
  if (!inherited && /^postgres(ql)?:\/\//.test(adminUrl)) {
    database = await createDatabase(adminUrl);
  }
  const databaseUrl = database ? database.url : null;
  const common = ['--data-dir', dataDir, ...(databaseUrl ? ['--database-url', databaseUrl] : [])];

  // The data directory and database belong to this server until detach() hands them over.
  let owned = true;
  const cleanup = async () => {
    if (keepData || !owned) return;
    owned = false;
    await rm(dataDir, { recursive: true, force: true });
    if (database) await dropDatabase(adminUrl, database.name).catch(() => {});
  };

  const run = (cmdArgs, opts = {}) => runBinary([...cmdArgs, ...common], { ...opts, env: { ...env, ...(opts.env ?? {}) } });

  // 1. An API key (the last stdout line is exactly the key), unless reusing an earlier one.
  let apiKey;
  if (inherited) {
    apiKey = inherited.apiKey;
  } else {
    let created;
    try {
      created = await run(['apikey', 'create']);
    } catch (err) {
      await cleanup();
      throw err;
    }
    if (created.code !== 0) {
      await cleanup();
      throw new Error(`latchkey apikey create exited ${created.code}\nstdout: ${created.stdout}\nstderr: ${created.stderr}`);
    }
    apiKey = lastLine(created.stdout);
    if (!/^(TEST|LIVE)_API_KEY:[^:\s]+:[^:\s]+$/.test(apiKey)) {
      await cleanup();
      throw new Error(`latchkey apikey create: last stdout line is not an API key: ${JSON.stringify(apiKey)}\nstdout: ${created.stdout}`);
    }
  }

  // 2. The server.
  const child = spawn(binPath, ['serve', ...common, '--listen', '127.0.0.1:0', '--dev', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutLines = [];
  const stderrLines = [];
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  child.on('error', () => {});

  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`latchkey serve printed no "listening on http://..." line in ${STARTUP_TIMEOUT_MS} ms\n`
        + `stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderrLines.join('\n')}`));
    }, STARTUP_TIMEOUT_MS);
    const onLine = (into, echo) => {
      let buf = '';
      return (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = stripAnsi(buf.slice(0, nl).replace(/\r$/, ''));
          buf = buf.slice(nl + 1);
          into.push(line);
          if (verbose) process.stderr.write(`[latchkey ${echo}] ${line}\n`);
          if (into === stdoutLines) {
            const m = /listening on (http:\/\/\S+)/.exec(line);
            if (m) {
              clearTimeout(timer);
              resolve(m[1].replace(/[/.,;)]+$/, ''));
            }
          }
        }
      };
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onLine(stdoutLines, 'out'));
    child.stderr.on('data', onLine(stderrLines, 'err'));
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run ${binPath}: ${err.message}`)); });
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`latchkey serve exited (${code ?? signal}) before listening\n`
        + `stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderrLines.join('\n')}`));
    });
  }).catch(async (err) => {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    await cleanup();
    throw err;
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    await cleanup();
  };

  // Kills the server with SIGKILL (no shutdown at all) and keeps its data for `reuse`.
  const kill = async () => {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
  };

  // Hands the data directory, database and API key over to a new server (`reuse`).
  const detach = () => {
    if (!exited) throw new Error('test bug: reuse of a server that is still running');
    owned = false;
    stopped = true;
    return { dataDir, database, apiKey };
  };

  // 3. The App ID.
  let appId;
  try {
    const res = await fetch(`${baseUrl}/v1/w3s/config/entity`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    const body = await res.json();
    appId = body?.data?.appId;
    if (res.status !== 200 || typeof appId !== 'string') {
      throw new Error(`GET /v1/w3s/config/entity → ${res.status} ${JSON.stringify(body)}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    baseUrl,
    apiKey,
    appId,
    dataDir,
    databaseUrl,
    stdoutLines,
    stderrLines,
    process: child,
    stop,
    kill,
    detach,
    run,
  };
}

/** Parses the JSON a command printed: the whole text, else its last line that is JSON. */
export function parseJsonOutput(text) {
  const trimmed = stripAnsi(text).trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    const lines = trimmed.split(/\r?\n/).reverse();
    for (const line of lines) {
      try {
        const v = JSON.parse(line.trim());
        if (v && typeof v === 'object') return v;
      } catch {
        // not JSON: a log line
      }
    }
    return null;
  }
}

/**
 * Executes a challenge as the end user would, with `latchkey challenge execute`, feeding the
 * plaintext `input` (an object, see docs/protocol.md) as JSON on stdin.
 * Resolves to { code, json, stdout, stderr }: json is the parsed stdout on exit 0 and the
 * parsed stderr on exit 1.
 */
export async function executeChallenge({ baseUrl, appId, userToken, encryptionKey, challengeId, input }) {
  const { code, stdout, stderr } = await runBinary([
    'challenge', 'execute',
    '--url', baseUrl,
    '--app-id', appId,
    '--user-token', userToken,
    '--encryption-key', encryptionKey,
    '--challenge-id', challengeId,
    '--input', '-',
  ], { input: JSON.stringify(input) });
  const json = code === 0 ? parseJsonOutput(stdout) : parseJsonOutput(stderr);
  return { code, json, stdout, stderr };
}
