// The local chain of the transfer load: anvil (the binary of the npm package @foundry-rs/anvil,
// as tests/compat installs it, or $ANVIL_BIN) as Circle's MATIC-AMOY (chain id 80002), with
// automine, spoken to with plain JSON-RPC over fetch. No npm package is loaded from here.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Circle's MATIC-AMOY, the chain the transfers run on. */
export const BLOCKCHAIN = 'MATIC-AMOY';
export const CHAIN_ID = 80002;
/** Every transfer goes here: a fresh address, so its balance is the sum of what arrived. */
export const DESTINATION = '0x00000000000000000000000000000000c0ffee01';
/** What each sending wallet is given, once, by anvil's first account. */
export const FUNDING_WEI = 10n ** 18n;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLATFORM = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-amd64',
  'darwin-arm64': 'darwin-arm64',
};

/** The anvil binary: $ANVIL_BIN, else tests/compat's npm install. `{path}` or `{reason}`. */
export function findAnvil() {
  const candidates = [];
  if (process.env.ANVIL_BIN) candidates.push(path.resolve(process.env.ANVIL_BIN));
  const suffix = PLATFORM[`${process.platform}-${process.arch}`];
  if (suffix) {
    candidates.push(path.join(ROOT, 'tests', 'compat', 'node_modules', '@foundry-rs', `anvil-${suffix}`, 'bin', 'anvil'));
  }
  const tried = [];
  for (const c of candidates) {
    if (!existsSync(c)) {
      tried.push(`${c}: missing`);
      continue;
    }
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 15_000 });
    if (r.status === 0) return { path: c, version: r.stdout.split('\n')[0].trim() };
    tried.push(`${c}: ${r.error ? r.error.message : `exit ${r.status}`}`);
  }
  return {
    reason: `no anvil binary (${tried.join('; ') || `no package for ${process.platform}-${process.arch}`}). `
      + 'Run `npm ci` in tests/compat, or set ANVIL_BIN, or pass --no-chain to run without transfers.',
  };
}

/** One JSON-RPC call; throws on a transport error or an error object. */
export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(15_000),
  });
  const reply = await res.json();
  if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

/** A running anvil: `url`, `stop()`, `fund(address)`, and reads. */
export class Chain {
  constructor(child, url, output) {
    this.child = child;
    this.url = url;
    this.output = output;
    this.exited = false;
    this.funder = null;
    /** Funding goes one at a time from the one dev account. */
    this.queue = Promise.resolve();
    child.on('exit', () => { this.exited = true; });
  }

  /** Starts anvil on 127.0.0.1, a free port, chain id 80002, one funded account, automine. */
  static async start(bin) {
    const child = spawn(bin, ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(CHAIN_ID), '--accounts', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`anvil: no "Listening on" in 20 s\n${output.join('\n')}`)), 20_000);
      let buf = '';
      const onData = (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (output.length < 200) output.push(line);
          const m = /Listening on (\S+:\d+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(`http://${m[1]}`);
          }
        }
      };
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run ${bin}: ${err.message}`)); });
      child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`anvil exited (${code ?? signal})\n${output.join('\n')}`)); });
    });
    // Drain its output so that it never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    const chain = new Chain(child, url, output);
    const id = Number(await rpc(url, 'eth_chainId'));
    if (id !== CHAIN_ID) throw new Error(`anvil answers chain id ${id}, not ${CHAIN_ID}`);
    [chain.funder] = await rpc(url, 'eth_accounts');
    chain.destinationStart = await chain.balance(DESTINATION);
    return chain;
  }

  /** Sends FUNDING_WEI to `address` from the dev account and waits for its receipt (status 1). */
  fund(address) {
    const job = this.queue.then(async () => {
      const hash = await rpc(this.url, 'eth_sendTransaction',
        [{ from: this.funder, to: address, value: `0x${FUNDING_WEI.toString(16)}` }]);
      for (let i = 0; i < 200; i++) {
        const receipt = await rpc(this.url, 'eth_getTransactionReceipt', [hash]);
        if (receipt) {
          if (receipt.status !== '0x1') throw new Error(`funding ${address} reverted`);
          return;
        }
        await new Promise((r) => { setTimeout(r, 25); });
      }
      throw new Error(`funding ${address}: no receipt`);
    });
    this.queue = job.catch(() => {});
    return job;
  }

  async balance(address) {
    return BigInt(await rpc(this.url, 'eth_getBalance', [address, 'latest']));
  }

  async nonce(address) {
    return Number(await rpc(this.url, 'eth_getTransactionCount', [address, 'latest']));
  }

  receipt(hash) {
    return rpc(this.url, 'eth_getTransactionReceipt', [hash]);
  }

  transaction(hash) {
    return rpc(this.url, 'eth_getTransactionByHash', [hash]);
  }

  stop() {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

/** "0.001" (18 decimals) → wei. */
export function toWei(amount) {
  const m = /^(\d+)(?:\.(\d{1,18}))?$/.exec(String(amount));
  if (!m) throw new Error(`not an amount: ${amount}`);
  return BigInt(m[1]) * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0'));
}
