// Transfers end to end with Circle's official Node SDK: createTransaction → the user approves
// with the PIN (the command-line executor) → the server's engine broadcasts the signed
// transaction to a local anvil with Circle's MATIC-AMOY chain id → getTransaction follows it to
// COMPLETE, and the chain shows the value moved.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, startAnvil } from '../lib/chain.js';
import { executeAs, newUser, PIN_A, show, WRONG_PIN } from '../lib/users.js';

const DEST = '0x2222222222222222222222222222222222222222';

let amoy;
let server;
let client;

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

async function fund(address, wei) {
  const [from] = await rpc('eth_accounts', []);
  await rpc('eth_sendTransaction', [{ from, to: address, value: `0x${wei.toString(16)}` }]);
}

async function balance(address) {
  return BigInt(await rpc('eth_getBalance', [address, 'latest']));
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

describe('createTransaction', () => {
  test('a native transfer approved with the PIN is broadcast and completes', async () => {
    const u = await newUser(client, 'sender', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const wallets = await client.listWallets({ userToken: u.userToken });
    const wallet = wallets.data.wallets[0];
    await fund(wallet.address, 10n ** 18n);
    const before = await balance(DEST);

    const created = await client.createTransaction({
      userToken: u.userToken,
      walletId: wallet.id,
      tokenAddress: '',
      blockchain: 'MATIC-AMOY',
      destinationAddress: DEST,
      amounts: ['0.25'],
      refId: 'compat-1',
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      idempotencyKey: randomUUID(),
    });
    const challengeId = created.data.challengeId;
    assert.ok(challengeId);

    const wrong = await executeAs(server, u, challengeId, { pin: WRONG_PIN });
    assert.equal(wrong.json?.code, 155112, show(wrong));
    const listed = await client.listTransactions({ userToken: u.userToken, txType: 'OUTBOUND' });
    assert.deepEqual(listed.data.transactions, [], 'a wrong PIN writes no transaction');
    // The funding itself is a deposit the server's follower records.
    let deposit;
    for (let i = 0; i < 150 && !deposit; i++) {
      const inbound = await client.listTransactions({ userToken: u.userToken, txType: 'INBOUND' });
      deposit = inbound.data.transactions.find((t) => t.state === 'COMPLETE');
      if (!deposit) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(deposit, 'the funding was recorded as an INBOUND transaction');
    assert.deepEqual(deposit.amounts, ['1']);
    assert.equal(deposit.walletId, wallet.id);

    const r = await executeAs(server, u, challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.json.data.type, 'CREATE_TRANSACTION', show(r));
    const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId });
    const [id] = challenge.data.challenge.correlationIds;
    assert.ok(id, JSON.stringify(challenge.data));

    const done = await until(u, id, 'COMPLETE');
    assert.equal(done.transactionType, 'OUTBOUND');
    assert.equal(done.operation, 'TRANSFER');
    assert.equal(done.refId, 'compat-1');
    assert.deepEqual(done.amounts, ['0.25']);
    assert.equal(done.destinationAddress, DEST);
    assert.match(done.txHash, /^0x[0-9a-f]{64}$/);
    assert.equal(await balance(DEST) - before, 25n * 10n ** 16n);
    const receipt = await rpc('eth_getTransactionReceipt', [done.txHash]);
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from.toLowerCase(), wallet.address.toLowerCase());
  });
});

describe('accelerateTransaction and cancelTransaction', () => {
  /** A funded user's transfer, approved and sent while the node mines nothing. */
  async function pendingTransfer(prefix) {
    const u = await newUser(client, prefix, { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const wallet = (await client.listWallets({ userToken: u.userToken })).data.wallets[0];
    await fund(wallet.address, 10n ** 18n);
    await rpc('evm_setAutomine', [false]);
    const created = await client.createTransaction({
      userToken: u.userToken,
      walletId: wallet.id,
      tokenAddress: '',
      blockchain: 'MATIC-AMOY',
      destinationAddress: DEST,
      amounts: ['0.1'],
      fee: { type: 'level', config: { feeLevel: 'LOW' } },
      idempotencyKey: randomUUID(),
    });
    const r = await executeAs(server, u, created.data.challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId: created.data.challengeId });
    const [id] = challenge.data.challenge.correlationIds;
    const sent = await until(u, id, 'SENT');
    return { u, wallet, id, sent };
  }

  /** Polls until the node holds a transaction other than `hash` for `id` (the replacement). */
  async function replaced(u, id, hash) {
    for (let i = 0; i < 150; i++) {
      const t = (await client.getTransaction({ userToken: u.userToken, id })).data.transaction;
      if (t.txHash !== hash) return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the replacement of ${id} was never sent`);
  }

  test('an accelerated transfer is mined once with the replacement hash', async () => {
    const { u, wallet, id, sent } = await pendingTransfer('accel');
    try {
      // The developer's view first: the wallet's lowest pending nonce and what accelerating costs.
      const lowest = await client.getLowestNonceTransaction({ walletId: wallet.id });
      assert.equal(lowest.data.transaction.id, id);
      const { newHighEstimatedFee, feeDifferenceAmount } = lowest.data.feeInfo;
      assert.ok(Number(newHighEstimatedFee.gasLimit) >= 21000, JSON.stringify(lowest.data.feeInfo));
      assert.ok(Number(newHighEstimatedFee.networkFee) > 0, JSON.stringify(lowest.data.feeInfo));
      assert.ok(Number(feeDifferenceAmount) > 0, JSON.stringify(lowest.data.feeInfo));
      const res = await client.accelerateTransaction({ userToken: u.userToken, id, idempotencyKey: randomUUID() });
      const r = await executeAs(server, u, res.data.challengeId, { pin: PIN_A });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.json.data.type, 'ACCELERATE_TRANSACTION', show(r));
      const now = await replaced(u, id, sent.txHash);
      await rpc('evm_mine', []);
      const done = await until(u, id, 'COMPLETE');
      assert.equal(done.txHash, now.txHash);
      const receipt = await rpc('eth_getTransactionReceipt', [done.txHash]);
      assert.equal(receipt.status, '0x1');
    } finally {
      await rpc('evm_setAutomine', [true]);
    }
  });

  test('a cancelled transfer ends CANCELLED and moves nothing', async () => {
    const { u, wallet, id, sent } = await pendingTransfer('cancel');
    try {
      const before = await balance(DEST);
      const res = await client.cancelTransaction({ userToken: u.userToken, id, idempotencyKey: randomUUID() });
      const r = await executeAs(server, u, res.data.challengeId, { pin: PIN_A });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.json.data.type, 'CANCEL_TRANSACTION', show(r));
      await replaced(u, id, sent.txHash);
      await rpc('evm_mine', []);
      const done = await until(u, id, 'CANCELLED');
      const receipt = await rpc('eth_getTransactionReceipt', [done.txHash]);
      assert.equal(receipt.to.toLowerCase(), wallet.address.toLowerCase());
      assert.equal(await balance(DEST), before);
    } finally {
      await rpc('evm_setAutomine', [true]);
    }
  });

  test('a transaction the user does not have is 156003', async () => {
    const other = await newUser(client, 'other', { server, pin: PIN_A });
    await assert.rejects(
      client.accelerateTransaction({ userToken: other.userToken, id: randomUUID(), idempotencyKey: randomUUID() }),
      (err) => err?.response?.status === 404 || err?.code === 156003 || /156003/.test(String(err?.message)),
    );
  });
});
