// Tokens through Circle's official Node SDK: getToken (Circle's published ids, an alias, the
// SDK's typed errors) and the five monitored-token methods, with the list of a TEST key kept
// apart from the LIVE key of the same entity.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  initiateUserControlledWalletsClient,
  Error156002,
  Error156009,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { api, ISO_DATE, rejectsWith } from '../lib/helpers.js';

const USDC_AMOY = '36b6931a-873a-56a8-8a27-b706b17104ee';
const USDC_SEPOLIA = '5797fbd6-3795-519d-84ca-ec4c5f80c3b1';
const USDC_BASE = 'aa7bb533-aeb8-535c-bd65-354aed91ea3d';
const USDC_BASE_OLD = '915ce944-32df-5df5-a6b1-daa9b5069f96';
const POL_AMOY = '0c8f8485-f74f-5e28-80f2-3cc4e80ef71c';

let server;
let client;

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

const ids = (res) => res.data.tokens.map((t) => t.id);

describe('getToken', () => {
  test("Circle's USDC on MATIC-AMOY, with the SDK's Token fields", async () => {
    const res = await client.getToken({ id: USDC_AMOY });
    assert.equal(res.status, 200);
    const { token } = res.data;
    assert.deepEqual(
      { ...token, createDate: undefined, updateDate: undefined },
      {
        id: USDC_AMOY,
        blockchain: 'MATIC-AMOY',
        tokenAddress: '0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582',
        standard: 'ERC20',
        name: 'USD Coin',
        symbol: 'USDC',
        decimals: 6,
        isNative: false,
        createDate: undefined,
        updateDate: undefined,
      },
    );
    assert.match(token.createDate, ISO_DATE);
    assert.match(token.updateDate, ISO_DATE);
  });

  test('a native coin has no tokenAddress; an old id resolves to its token', async () => {
    const { data } = await client.getToken({ id: POL_AMOY });
    assert.equal(data.token.isNative, true);
    assert.equal(data.token.blockchain, 'MATIC-AMOY');
    assert.equal('tokenAddress' in data.token, false);
    const base = await client.getToken({ id: USDC_BASE_OLD });
    assert.equal(base.data.token.id, USDC_BASE);
  });

  test('unknown → Error156002 (404); not a UUID → Error156009 (400)', async () => {
    await rejectsWith(client.getToken({ id: randomUUID() }), Error156002, 156002, 404);
    await rejectsWith(client.getToken({ id: 'not-a-uuid' }), Error156009, 156009, 400);
  });
});

describe('monitored tokens', () => {
  test('create (201, then 200), list, update, scope and delete through the SDK', async () => {
    // Never configured: the server answers 204 with no body.
    const empty = await client.listMonitoredTokens();
    assert.equal(empty.status, 204);

    const created = await client.createMonitoredTokens({ tokenIds: [USDC_AMOY] });
    assert.equal(created.status, 201);
    assert.equal(created.data.scope, 'SELECTED');
    assert.deepEqual(ids(created), [USDC_AMOY]);
    const again = await client.createMonitoredTokens({ tokenIds: [USDC_AMOY] });
    assert.equal(again.status, 200);

    const updated = await client.updateMonitoredTokens({ tokenIds: [USDC_SEPOLIA, POL_AMOY] });
    assert.equal(updated.status, 200);
    assert.deepEqual(ids(updated), [POL_AMOY, USDC_SEPOLIA]);

    const amoy = await client.listMonitoredTokens({ blockchain: 'MATIC-AMOY' });
    assert.deepEqual(ids(amoy), [POL_AMOY]);
    const usdc = await client.listMonitoredTokens({ symbol: 'USDC' });
    assert.deepEqual(ids(usdc), [USDC_SEPOLIA]);
    const page = await client.listMonitoredTokens({ pageSize: 1 });
    assert.deepEqual(ids(page), [POL_AMOY]);
    const next = await client.listMonitoredTokens({ pageSize: 1, pageAfter: POL_AMOY });
    assert.deepEqual(ids(next), [USDC_SEPOLIA]);

    const scoped = await client.updateMonitoredTokensScope({ scope: 'MONITOR_ALL' });
    assert.equal(scoped.status, 200);
    assert.equal((await client.listMonitoredTokens()).data.scope, 'MONITOR_ALL');

    const deleted = await client.deleteMonitoredTokens({ tokenIds: [POL_AMOY] });
    assert.equal(deleted.status, 200);
    const left = await client.listMonitoredTokens();
    assert.deepEqual(ids(left), [USDC_SEPOLIA]);
  });

  test('an unknown token id → Error156002, and nothing is written', async () => {
    const before = ids(await client.listMonitoredTokens());
    await rejectsWith(client.createMonitoredTokens({ tokenIds: [randomUUID()] }), Error156002, 156002, 404);
    await rejectsWith(client.updateMonitoredTokens({ tokenIds: [randomUUID()] }), Error156002, 156002, 404);
    await rejectsWith(client.deleteMonitoredTokens({ tokenIds: [randomUUID()] }), Error156002, 156002, 404);
    assert.deepEqual(ids(await client.listMonitoredTokens()), before);
  });

  test("a LIVE key of the same entity has its own list", async () => {
    const created = await server.run(['apikey', 'create', '--live']);
    assert.equal(created.code, 0, created.stderr);
    const liveKey = created.stdout.trim().split(/\r?\n/).pop().trim();
    assert.match(liveKey, /^LIVE_API_KEY:/);
    const live = initiateUserControlledWalletsClient({ apiKey: liveKey, baseUrl: server.baseUrl });
    assert.equal((await live.listMonitoredTokens()).status, 204);
    await live.createMonitoredTokens({ tokenIds: [USDC_BASE] });
    assert.deepEqual(ids(await live.listMonitoredTokens()), [USDC_BASE]);
    assert.ok(!ids(await client.listMonitoredTokens()).includes(USDC_BASE));
    // The raw wire: the same answers without the SDK in between.
    const res = await api(server.baseUrl, 'GET', '/v1/w3s/config/entity/monitoredTokens', { apiKey: liveKey });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.data.tokens.map((t) => t.id), [USDC_BASE]);
  });
});
