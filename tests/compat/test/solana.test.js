// Money on Solana through Circle's official Node SDK: a latchkey serving latchkey's local
// Solana node as SOL-DEVNET (`--rpc SOL-DEVNET=…`, `--dev`), `requestTestnetTokens` (an
// airdrop of SOL and 20 USDC from latchkey's local test mint), `getWalletTokenBalance` with
// Circle's token ids, `estimateTransferFee`, `createTransaction` approved with the PIN and
// followed by the server's engine to COMPLETE, and `listTransactions` showing the deposits and
// the transfers. A node that cannot start fails the file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  Error156001, initiateUserControlledWalletsClient,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { rpc, startSolanaNode } from '../lib/chain.js';
import { rejectsWith } from '../lib/helpers.js';
import { executeAs, newUser, PIN_A, show } from '../lib/users.js';

// Circle's SOL-DEVNET USDC id, and latchkey's id of the native SOL-DEVNET coin
// (token_uuid(SOL-DEVNET, native)).
const USDC_DEVNET = '8fb3cadb-0ef4-573d-8fcd-e194f961c728';
const SOL_DEVNET = '171a9bb5-8340-5a8f-9cda-7aa0c91e6405';
// A fresh recipient (any base58 address of 32 bytes that nobody holds).
const RECIPIENT = 'GsbwXfJraMomNxBcjYLcG3mxkBUiyWXAB32fGbSMQRdW';

let node;
let server;
let client;

before(async () => {
  node = await startSolanaNode();
  server = await startServer({ args: ['--rpc', `SOL-DEVNET=${node.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await node?.stop();
});

describe('requestTestnetTokens and getWalletTokenBalance on SOL-DEVNET', () => {
  let u;
  let wallet;

  before(async () => {
    u = await newUser(client, 'solana', { server, pin: PIN_A, blockchains: ['SOL-DEVNET'] });
    const { data } = await client.listWallets({ userToken: u.userToken });
    wallet = data.wallets[0];
  });

  const held = (data) => data.tokenBalances.map((b) => [b.token.id, b.amount]);

  test('a fresh wallet holds nothing', async () => {
    const res = await client.getWalletTokenBalance({ walletId: wallet.id, userToken: u.userToken });
    assert.deepEqual(res.data, { tokenBalances: [] });
  });

  test('a drip of SOL and USDC shows in the balances exactly', async () => {
    const drip = await client.requestTestnetTokens({
      address: wallet.address, blockchain: 'SOL-DEVNET', native: true, usdc: true,
    });
    assert.equal(drip.status, 204);
    const res = await client.getWalletTokenBalance({ walletId: wallet.id, userToken: u.userToken });
    assert.deepEqual(held(res.data), [[SOL_DEVNET, '0.01'], [USDC_DEVNET, '20']]);
    const [sol, usdc] = res.data.tokenBalances;
    assert.equal(sol.token.isNative, true);
    assert.equal(sol.token.decimals, 9);
    assert.equal(usdc.token.symbol, 'USDC');
    assert.equal(usdc.token.decimals, 6);
    assert.equal(usdc.token.blockchain, 'SOL-DEVNET');
  });

  test('the SDK\'s filters: name, pageSize', async () => {
    const base = { walletId: wallet.id, userToken: u.userToken };
    const cases = [
      [{ name: 'USD Coin' }, [[USDC_DEVNET, '20']]],
      [{ pageSize: 1 }, [[SOL_DEVNET, '0.01']]],
      [{ pageSize: 1, pageAfter: SOL_DEVNET }, [[USDC_DEVNET, '20']]],
    ];
    for (const [filters, want] of cases) {
      const res = await client.getWalletTokenBalance({ ...base, ...filters });
      assert.deepEqual(held(res.data), want, JSON.stringify(filters));
    }
  });

  test('another user\'s wallet is 156001', async () => {
    const other = await newUser(client, 'stranger');
    await rejectsWith(
      client.getWalletTokenBalance({ walletId: wallet.id, userToken: other.userToken }),
      Error156001, 156001, 404,
    );
  });

  test('estimateTransferFee prices three levels in SOL', async () => {
    const res = await client.estimateTransferFee({
      userToken: u.userToken, walletId: wallet.id, destinationAddress: RECIPIENT,
      amounts: ['1'], tokenId: USDC_DEVNET,
    });
    for (const level of ['low', 'medium', 'high']) {
      const fee = res.data[level];
      assert.equal(fee.baseFee, '0.000005', JSON.stringify(res.data));
      // The recipient's new USDC account's rent is part of what the transfer costs.
      assert.ok(Number(fee.networkFee) > 0.002, JSON.stringify(fee));
    }
  });

  /** Creates a transfer, approves it with the PIN, and polls it to `state`. */
  async function send(body, state) {
    const created = await client.createTransaction({
      userToken: u.userToken, walletId: wallet.id, idempotencyKey: randomUUID(),
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } }, ...body,
    });
    const { challengeId } = created.data;
    const r = await executeAs(server, u, challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId });
    const [id] = challenge.data.challenge.correlationIds;
    let last;
    for (let i = 0; i < 200; i++) {
      last = (await client.getTransaction({ userToken: u.userToken, id })).data.transaction;
      if (last.state === state || last.state === 'FAILED') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(last.state, state, JSON.stringify(last));
    return last;
  }

  test('createTransaction: SOL and USDC (the recipient\'s account created) reach COMPLETE', async () => {
    const sol = await send({
      destinationAddress: RECIPIENT, amounts: ['0.002'], tokenId: SOL_DEVNET, refId: 'compat-sol',
    }, 'COMPLETE');
    assert.equal(sol.refId, 'compat-sol');
    assert.equal(sol.blockchain, 'SOL-DEVNET');
    assert.match(sol.txHash, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    const usdc = await send({
      destinationAddress: RECIPIENT, amounts: ['1.5'], tokenId: USDC_DEVNET,
    }, 'COMPLETE');
    assert.deepEqual(usdc.amounts, ['1.5']);
    const res = await client.getWalletTokenBalance({ walletId: wallet.id, userToken: u.userToken });
    assert.deepEqual(res.data.tokenBalances.map((b) => [b.token.id, b.amount])[1], [USDC_DEVNET, '18.5']);
  });

  test('listTransactions: the drip\'s deposits and the two transfers', async () => {
    let inbound = [];
    for (let i = 0; i < 100 && inbound.length < 2; i++) {
      inbound = (await client.listTransactions({ userToken: u.userToken, txType: 'INBOUND' }))
        .data.transactions;
      if (inbound.length < 2) await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(inbound.map((t) => t.amounts[0]).sort(), ['0.01', '20']);
    const outbound = (await client.listTransactions({ userToken: u.userToken, txType: 'OUTBOUND' }))
      .data.transactions;
    assert.equal(outbound.length, 2);
    assert.ok(outbound.every((t) => t.state === 'COMPLETE'), JSON.stringify(outbound));
  });
});

describe('kill -9 of the server right after the PIN', () => {
  test('each transfer lands once, whatever the engine had done when the server died', async () => {
    const u = await newUser(client, 'crash', { server, pin: PIN_A, blockchains: ['SOL-DEVNET'] });
    const wallet = (await client.listWallets({ userToken: u.userToken })).data.wallets[0];
    await client.requestTestnetTokens({ address: wallet.address, blockchain: 'SOL-DEVNET', native: true });
    const recipient = 'Bu5tfAs8v9wzUCbzUJbnpiExhJwCEqyLqCZ3bWkHXy4r';
    const delays = [0, 40, 80, 120, 160, 400];
    const ids = [];
    for (const delay of delays) {
      const created = await client.createTransaction({
        userToken: u.userToken, walletId: wallet.id, idempotencyKey: randomUUID(),
        destinationAddress: recipient, amounts: ['0.001'], tokenId: SOL_DEVNET,
        fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      });
      const { challengeId } = created.data;
      const r = await executeAs(server, u, challengeId, { pin: PIN_A });
      assert.equal(r.code, 0, show(r, server));
      const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId });
      ids.push(challenge.data.challenge.correlationIds[0]);
      // The engine picks the transaction up within ~100 ms on a local node: these delays kill
      // the server before, around and after its send.
      await new Promise((res) => setTimeout(res, delay));
      await server.kill();
      server = await startServer({
        reuse: server, args: ['--rpc', `SOL-DEVNET=${node.rpcUrl}`],
      });
      client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
    }
    for (const id of ids) {
      let last;
      for (let i = 0; i < 200; i++) {
        last = (await client.getTransaction({ userToken: u.userToken, id })).data.transaction;
        if (last.state === 'COMPLETE' || last.state === 'FAILED') break;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.equal(last.state, 'COMPLETE', JSON.stringify(last));
    }
    // Sent once each: the recipient holds exactly the amounts, one signature each.
    const balance = await rpc(node.rpcUrl, 'getBalance', [recipient, { commitment: 'confirmed' }]);
    assert.equal(balance.value, delays.length * 1_000_000);
    const signatures = await rpc(node.rpcUrl, 'getSignaturesForAddress', [recipient, { commitment: 'confirmed' }]);
    assert.equal(signatures.length, delays.length);
  });
});
