// A local Ethereum node for the wallet tests: the anvil binary that the npm package
// @foundry-rs/anvil ships (in its platform package, e.g. @foundry-rs/anvil-linux-amd64/bin/anvil).
//
//   const found = findAnvil();            // { path } or { reason } when it is not installed
//   const node = await startAnvil(found.path);           // or (found.path, {chainId: 80002})
//   ... node.rpcUrl, node.chainId (31337 unless told) ...
//   await node.stop();
//
// Environment: ANVIL_BIN overrides the binary.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** anvil's chain id unless told otherwise. */
export const ANVIL_CHAIN_ID = 31337;
/** The private key of anvil's first default account (from the well-known test mnemonic). */
export const ANVIL_DEFAULT_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

const STARTUP_TIMEOUT_MS = 20_000;

const PLATFORM_ARCH = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-amd64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-amd64',
};

/**
 * Locates the anvil binary: $ANVIL_BIN, else the platform package of @foundry-rs/anvil, else
 * the wrapper's dist/ fallback. Runs `anvil --version` to be sure it executes here.
 * @returns {{path: string, version: string} | {reason: string}}
 */
export function findAnvil() {
  const candidates = [];
  if (process.env.ANVIL_BIN) candidates.push(path.resolve(process.env.ANVIL_BIN));
  const suffix = PLATFORM_ARCH[`${process.platform}-${process.arch}`];
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  if (suffix) {
    try {
      candidates.push(require.resolve(`@foundry-rs/anvil-${suffix}/bin/${exe}`));
    } catch {
      // the platform package is not installed
    }
  }
  try {
    const wrapper = path.dirname(require.resolve('@foundry-rs/anvil/package.json'));
    candidates.push(path.join(wrapper, '..', 'dist', exe));
  } catch {
    // the wrapper package is not installed
  }
  const tried = [];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) {
      tried.push(`${candidate}: missing`);
      continue;
    }
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 15_000 });
    if (r.status === 0) return { path: candidate, version: r.stdout.split('\n')[0].trim() };
    tried.push(`${candidate}: ${r.error ? r.error.message : `exit ${r.status} ${r.stderr.trim()}`}`);
  }
  if (!candidates.length) {
    return { reason: `no anvil binary: @foundry-rs/anvil is not installed for ${process.platform}-${process.arch} (npm install in tests/compat)` };
  }
  return { reason: `anvil does not run here: ${tried.join('; ')}` };
}

/** Circle's chain ids for the testnets the money tests run anvil as. */
export const CHAIN_IDS = { 'ETH-SEPOLIA': 11155111, 'MATIC-AMOY': 80002 };

/**
 * Starts anvil on 127.0.0.1 and a free port (by default chain id 31337 and one funded
 * default account).
 * @param {string} bin the binary from findAnvil()
 * @param {{chainId?: number, accounts?: number}} [options] e.g. `{chainId: CHAIN_IDS['MATIC-AMOY']}`
 * @returns {Promise<{rpcUrl: string, chainId: number, stop: () => Promise<void>, output: string[]}>}
 */
export async function startAnvil(bin, { chainId = ANVIL_CHAIN_ID, accounts = 1 } = {}) {
  const child = spawn(bin, [
    '--host', '127.0.0.1', '--port', '0',
    '--chain-id', String(chainId),
    '--accounts', String(accounts),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  child.on('error', () => {});

  const rpcUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`anvil printed no "Listening on" line in ${STARTUP_TIMEOUT_MS} ms\n${output.join('\n')}`));
    }, STARTUP_TIMEOUT_MS);
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        output.push(line);
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
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code ?? signal}) before listening\n${output.join('\n')}`));
    });
  }).catch(async (err) => {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    throw err;
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  return { rpcUrl, chainId, stop, output };
}

/**
 * One JSON-RPC call to `rpcUrl`; throws with the node's error object when it answers one.
 * @returns {Promise<any>} the `result`
 */
export async function rpc(rpcUrl, method, params = []) {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const reply = await res.json();
  if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

/**
 * Sends `tx` from an unlocked dev account (`eth_sendTransaction`; with anvil's automine it is
 * mined at once) and returns its receipt, which must report success.
 */
export async function send(rpcUrl, tx) {
  const hash = await rpc(rpcUrl, 'eth_sendTransaction', [tx]);
  for (let i = 0; i < 100; i += 1) {
    const receipt = await rpc(rpcUrl, 'eth_getTransactionReceipt', [hash]);
    if (receipt) {
      if (receipt.status !== '0x1') throw new Error(`transaction reverted: ${JSON.stringify(receipt)}`);
      return receipt;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no receipt for ${hash}`);
}

/**
 * The committed build output `contracts/out/<name>.json` (abi, bytecode, methodIdentifiers).
 */
export function artifact(name) {
  return JSON.parse(readFileSync(new URL(`../../../contracts/out/${name}.json`, import.meta.url), 'utf8'));
}

/** Deploys `contracts/out/<name>.json` from the first dev account; returns its address. */
export async function deploy(rpcUrl, name) {
  const [from] = await rpc(rpcUrl, 'eth_accounts');
  const receipt = await send(rpcUrl, { from, data: artifact(name).bytecode });
  return receipt.contractAddress.toLowerCase();
}

/** Calldata for `signature` of artifact `name`, given its ABI words (64 hex digits each). */
export function callData(name, signature, words = []) {
  const id = artifact(name).methodIdentifiers[signature];
  if (!id) throw new Error(`${name} has no function ${signature}`);
  return `0x${id}${words.join('')}`;
}

/** An address or a number as one ABI word (64 hex digits). */
export function word(value) {
  const hex = typeof value === 'string' && value.startsWith('0x')
    ? value.slice(2).toLowerCase()
    : BigInt(value).toString(16);
  return hex.padStart(64, '0');
}

/**
 * Starts latchkey's local Solana node (`tests/solana-node/start --port 0`: LiteSVM behind
 * JSON-RPC; its first start runs `npm ci` there). Its genesis hash is the one latchkey
 * recognises as a local node, so `--rpc SOL-DEVNET=<rpcUrl>` connects it as local.
 * @returns {Promise<{rpcUrl: string, stop: () => Promise<void>, output: string[]}>}
 */
export async function startSolanaNode(args = []) {
  const script = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'solana-node', 'start');
  const child = spawn(script, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  child.on('error', () => {});
  const rpcUrl = await new Promise((resolve, reject) => {
    // The first start on a fresh clone runs `npm ci`.
    const timer = setTimeout(() => {
      reject(new Error(`the Solana node printed no address in 300 s\n${output.join('\n')}`));
    }, 300_000);
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        output.push(line);
        const m = /^solana-node listening on (\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run ${script}: ${err.message}`)); });
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the Solana node exited (${code ?? signal}) before listening\n${output.join('\n')}`));
    });
  }).catch(async (err) => {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    throw err;
  });
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
    await exitPromise;
    clearTimeout(timer);
  };
  return { rpcUrl, stop, output };
}
