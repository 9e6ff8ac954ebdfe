// Money: the transaction, token and balance methods of Circle's official Node SDK against a
// latchkey serving local anvil nodes with Circle's chain ids (`--rpc MATIC-AMOY=…`).
// A missing anvil fails the file instead of skipping it: a silent skip would hide that no
// node ever ran.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, startAnvil } from '../lib/chain.js';
import { api } from '../lib/helpers.js';

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
