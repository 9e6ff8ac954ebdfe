// Money: the transaction, token and balance methods of Circle's official Node SDK against a
// latchkey serving local anvil nodes with Circle's chain ids (`--rpc MATIC-AMOY=…`).
// A missing anvil fails the file instead of skipping it: a silent skip would hide that no
// node ever ran.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Error156001, Error156027, initiateUserControlledWalletsClient,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, startAnvil } from '../lib/chain.js';
import { api, rejectsWith } from '../lib/helpers.js';
import { newUser, PIN_A } from '../lib/users.js';

let amoy;
let server;
let client;

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'], accounts: 2 });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

describe('validateAddress', () => {
  const cases = [
    ['ETH', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', true],
    ['MATIC-AMOY', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', true],
    ['ETH-SEPOLIA', '0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed', false], // bad EIP-55 checksum
    ['BASE', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA', false],
    ['SOL', 'So11111111111111111111111111111111111111112', true],
    ['SOL-DEVNET', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', false],
  ];
  for (const [blockchain, address, isValid] of cases) {
    test(`${blockchain} ${address} → isValid ${isValid}`, async () => {
      const response = await client.validateAddress({ address, blockchain });
      assert.deepEqual(response.data, { isValid });
    });
  }

  test('an unknown blockchain is a validation error naming the field', async () => {
    const res = await api(server.baseUrl, 'POST', '/v1/w3s/transactions/validateAddress', {
      apiKey: server.apiKey,
      body: { address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', blockchain: 'ETH-GOERLI' },
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.code, 2, res.text);
    assert.equal(res.json.errors[0].location, 'blockchain', res.text);
  });
});

describe('requestTestnetTokens and getWalletTokenBalance', () => {
  const USDC_AMOY = '36b6931a-873a-56a8-8a27-b706b17104ee';
  const POL_AMOY = '0c8f8485-f74f-5e28-80f2-3cc4e80ef71c';
  let u;
  let wallet;

  before(async () => {
    u = await newUser(client, 'balances', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const { data } = await client.listWallets({ userToken: u.userToken });
    wallet = data.wallets[0];
  });

  const held = (data) => data.tokenBalances.map((b) => [b.token.id, b.amount]);

  test('a fresh wallet holds nothing', async () => {
    const res = await client.getWalletTokenBalance({ walletId: wallet.id, userToken: u.userToken });
    assert.deepEqual(res.data, { tokenBalances: [] });
  });

  test('a drip of native and USDC shows in the balances exactly', async () => {
    const drip = await client.requestTestnetTokens({
      address: wallet.address, blockchain: 'MATIC-AMOY', native: true, usdc: true,
    });
    assert.equal(drip.status, 204);
    let res;
    for (let i = 0; i < 50; i += 1) {
      res = await client.getWalletTokenBalance({ walletId: wallet.id, userToken: u.userToken });
      if (res.data.tokenBalances.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(held(res.data), [[POL_AMOY, '0.2'], [USDC_AMOY, '20']]);
    const usdc = res.data.tokenBalances[1];
    assert.equal(usdc.token.tokenAddress, '0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582');
    assert.equal(usdc.token.decimals, 6);
    assert.equal(usdc.token.isNative, false);
    assert.ok(!Number.isNaN(Date.parse(usdc.updateDate)), usdc.updateDate);
  });

  test('the SDK\'s filters: tokenAddresses, standard, name, includeAll, pageSize', async () => {
    const base = { walletId: wallet.id, userToken: u.userToken };
    const cases = [
      [{ tokenAddresses: ['0x41E94EB019C0762F9BFCF9FB1E58725BFB0E7582'] }, [[USDC_AMOY, '20']]],
      [{ standard: 'ERC20' }, [[USDC_AMOY, '20']]],
      [{ name: 'USD Coin', includeAll: true }, [[USDC_AMOY, '20']]],
      [{ pageSize: 1 }, [[POL_AMOY, '0.2']]],
      [{ pageSize: 1, pageAfter: POL_AMOY }, [[USDC_AMOY, '20']]],
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

  test('a chain without a node is 156027', async () => {
    await rejectsWith(
      client.requestTestnetTokens({ address: wallet.address, blockchain: 'ETH-SEPOLIA', native: true }),
      Error156027, 156027, 400,
    );
  });
});
