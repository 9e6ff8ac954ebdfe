// Contract executions end to end with Circle's official Node SDK:
// createUserTransactionContractExecutionChallenge → the user approves with the PIN (the
// command-line executor) → the server's engine broadcasts the call to a local anvil with
// Circle's MATIC-AMOY chain id → getTransaction follows it to COMPLETE, and the token moved.
// A call whose estimate reverts is refused at creation with the SDK's typed 155208 error.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Interface } from 'ethers';
import { Error155208, initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { repoRoot, startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, startAnvil } from '../lib/chain.js';
import { errorBody, rejectsWith } from '../lib/helpers.js';
import { executeAs, newUser, PIN_A, show } from '../lib/users.js';

const DEST = '0x2222222222222222222222222222222222222222';

let amoy;
let server;
let client;

function artifact(name) {
  return JSON.parse(readFileSync(path.join(repoRoot, 'contracts', 'out', `${name}.json`), 'utf8'));
}
const usdc = new Interface(artifact('TestUsdc').abi);

async function rpc(method, params) {
  const res = await fetch(amoy.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  assert.ok(!body.error, JSON.stringify(body.error));
  return body.result;
}

/** Sends from anvil's first account and waits for the successful receipt. */
async function send(tx) {
  const [from] = await rpc('eth_accounts', []);
  const hash = await rpc('eth_sendTransaction', [{ from, ...tx }]);
  for (let i = 0; i < 100; i++) {
    const receipt = await rpc('eth_getTransactionReceipt', [hash]);
    if (receipt) {
      assert.equal(receipt.status, '0x1', JSON.stringify(receipt));
      return receipt;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no receipt for ${hash}`);
}

async function deploy(name) {
  const receipt = await send({ data: artifact(name).bytecode });
  return receipt.contractAddress;
}

async function tokenBalance(token, owner) {
  const data = usdc.encodeFunctionData('balanceOf', [owner]);
  return BigInt(await rpc('eth_call', [{ to: token, data }, 'latest']));
}

/** Polls getTransaction until `state` (the server's engine runs on its own). */
async function until(u, id, state) {
  let last;
  for (let i = 0; i < 150; i++) {
    const res = await client.getTransaction({ userToken: u.userToken, id });
    last = res.data.transaction;
    if (last.state === state) return last;
    if (['FAILED', 'CANCELLED', 'DENIED'].includes(last.state)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`transaction ${id} never reached ${state}: ${JSON.stringify(last)}`);
}

/** Approves `challengeId` with the PIN; returns the transaction id it names. */
async function approve(u, challengeId) {
  const r = await executeAs(server, u, challengeId, { pin: PIN_A });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.json.data.type, 'CONTRACT_EXECUTION', show(r));
  const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId });
  const [id] = challenge.data.challenge.correlationIds;
  assert.ok(id, JSON.stringify(challenge.data));
  return id;
}

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'] });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

describe('createUserTransactionContractExecutionChallenge', () => {
  test('token transfers by signature and by callData are broadcast and complete', async () => {
    const u = await newUser(client, 'caller', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const wallets = await client.listWallets({ userToken: u.userToken });
    const wallet = wallets.data.wallets[0];
    await send({ to: wallet.address, value: `0x${(10n ** 18n).toString(16)}` });
    const token = await deploy('TestUsdc');
    await send({ to: token, data: usdc.encodeFunctionData('mint', [wallet.address, 5_000_000n]) });

    const created = await client.createUserTransactionContractExecutionChallenge({
      userToken: u.userToken,
      walletId: wallet.id,
      contractAddress: token,
      abiFunctionSignature: 'transfer(address,uint256)',
      abiParameters: [DEST, '1500000'],
      refId: 'compat-call-1',
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      idempotencyKey: randomUUID(),
    });
    const first = await approve(u, created.data.challengeId);
    const done = await until(u, first, 'COMPLETE');
    assert.equal(done.transactionType, 'OUTBOUND');
    assert.equal(done.operation, 'CONTRACT_EXECUTION');
    assert.equal(done.refId, 'compat-call-1');
    assert.equal(done.contractAddress, token);
    assert.equal(done.destinationAddress, token);
    assert.equal(done.abiFunctionSignature, 'transfer(address,uint256)');
    assert.deepEqual(done.abiParameters, [DEST, '1500000']);
    assert.match(done.txHash, /^0x[0-9a-f]{64}$/);
    assert.equal(await tokenBalance(token, DEST), 1_500_000n);

    const byData = await client.createUserTransactionContractExecutionChallenge({
      userToken: u.userToken,
      walletAddress: wallet.address,
      blockchain: 'MATIC-AMOY',
      contractAddress: token,
      callData: usdc.encodeFunctionData('transfer', [DEST, 500_000n]),
      fee: { type: 'absolute', config: { gasLimit: '100000', maxFee: '50', priorityFee: '2' } },
      idempotencyKey: randomUUID(),
    });
    const second = await approve(u, byData.data.challengeId);
    const done2 = await until(u, second, 'COMPLETE');
    assert.equal(done2.operation, 'CONTRACT_EXECUTION');
    assert.equal(await tokenBalance(token, DEST), 2_000_000n);
    assert.equal(await tokenBalance(token, wallet.address), 3_000_000n);
    const receipt = await rpc('eth_getTransactionReceipt', [done2.txHash]);
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from.toLowerCase(), wallet.address.toLowerCase());
  });

  test('a call whose estimate reverts is refused with 155208 and its reason', async () => {
    const u = await newUser(client, 'reverts', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const wallets = await client.listWallets({ userToken: u.userToken });
    const wallet = wallets.data.wallets[0];
    await send({ to: wallet.address, value: `0x${(10n ** 18n).toString(16)}` });
    const reverter = await deploy('Reverter');
    const err = await rejectsWith(
      client.createUserTransactionContractExecutionChallenge({
        userToken: u.userToken,
        walletId: wallet.id,
        contractAddress: reverter,
        abiFunctionSignature: 'fail()',
        abiParameters: [],
        fee: { type: 'level', config: { feeLevel: 'LOW' } },
        idempotencyKey: randomUUID(),
      }),
      Error155208,
      155208,
      400,
    );
    assert.match(errorBody(err).message, /Reverter: always fails/);
  });
});
