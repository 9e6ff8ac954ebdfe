// Money on Solana (slice 1) through Circle's official Node SDK: a latchkey serving latchkey's
// local Solana node as SOL-DEVNET (`--rpc SOL-DEVNET=…`, `--dev`), `requestTestnetTokens`
// (an airdrop of SOL and 20 USDC from latchkey's local test mint) and `getWalletTokenBalance`
// with Circle's token ids. A node that cannot start fails the file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  Error156001, Error156027, initiateUserControlledWalletsClient,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { startSolanaNode } from '../lib/chain.js';
import { rejectsWith } from '../lib/helpers.js';
import { newUser, PIN_A } from '../lib/users.js';

// Circle's SOL-DEVNET USDC id, and latchkey's id of the native SOL-DEVNET coin
// (token_uuid(SOL-DEVNET, native)).
const USDC_DEVNET = '8fb3cadb-0ef4-573d-8fcd-e194f961c728';
const SOL_DEVNET = '171a9bb5-8340-5a8f-9cda-7aa0c91e6405';

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

  test('a Solana transfer is not available yet: 156027 saying so', async () => {
    await rejectsWith(
      client.createTransaction({
        userToken: u.userToken, walletId: wallet.id, destinationAddress: wallet.address,
        amounts: ['0.001'], tokenId: SOL_DEVNET, fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
        idempotencyKey: randomUUID(),
      }),
      Error156027, 156027, 400,
    );
  });
});
