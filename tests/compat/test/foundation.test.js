// Foundation: users, user tokens, developer auth, request ids, validation, paging — through
// Circle's official Node SDK (and raw HTTP where the SDK hides the wire).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  initiateUserControlledWalletsClient,
  Error155101,
  Error155102,
  Error155105,
  Error156007,
  Error156012,
  Error156014,
  HttpResponseError,
  UnauthorizedError,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import {
  api, decodeJwt, errorBody, ISO_DATE, msFromNow, parseLink, rejectsWith, uid, UUID, UUID_V4,
} from '../lib/helpers.js';

const MALFORMED_AUTH = {
  code: 401,
  message: 'Malformed authorization. Are the credentials properly encoded?',
};

/** What a user who has done nothing yet looks like. */
function freshEndUser(userId, createDate) {
  return {
    id: userId,
    createDate,
    status: 'ENABLED',
    pinStatus: 'UNSET',
    securityQuestionStatus: 'UNSET',
    pinDetails: { failedAttempts: 0 },
    securityQuestionDetails: { failedAttempts: 0 },
    authMode: 'PIN',
  };
}

/** Asserts a createDate is Circle-formatted and recent. */
function assertRecentDate(date) {
  assert.match(date, ISO_DATE);
  assert.ok(Math.abs(msFromNow(date)) < 5 * 60_000, `createDate ${date} is not close to now`);
}

/** A code-2 validation error whose message or errors[] names `field`. */
function assertFieldError(res, field) {
  assert.equal(res.status, 400, res.text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(res.json?.code, 2, res.text);
  assert.equal(typeof res.json.message, 'string');
  const named = res.json.message.includes(field)
    || (Array.isArray(res.json.errors) && res.json.errors.some((e) => JSON.stringify(e).includes(field)));
  assert.ok(named, `the error does not name ${field}: ${res.text}`);
}

let server;
let client;

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

describe('service basics', () => {
  test('GET /ping answers {"message":"pong"} without auth', async () => {
    const res = await api(server.baseUrl, 'GET', '/ping');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { message: 'pong' });
  });

  test('GET /v1/w3s/config/entity gives the App ID', async () => {
    const res = await api(server.baseUrl, 'GET', '/v1/w3s/config/entity', { apiKey: server.apiKey });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { data: { appId: server.appId } });
    assert.match(server.appId, UUID);
  });

  test('X-Request-Id is echoed when sent', async () => {
    const id = randomUUID();
    const ping = await api(server.baseUrl, 'GET', '/ping', { headers: { 'X-Request-Id': id } });
    assert.equal(ping.headers.get('x-request-id'), id);

    const userId = uid('reqid');
    await client.createUser({ userId });
    const viaSdk = await client.getUser({ userId, xRequestId: id });
    assert.equal(viaSdk.headers['x-request-id'], id);

    const failed = await api(server.baseUrl, 'GET', `/v1/w3s/users/${uid('nobody')}`, {
      apiKey: server.apiKey, headers: { 'X-Request-Id': id },
    });
    assert.equal(failed.status, 404);
    assert.equal(failed.headers.get('x-request-id'), id);
  });

  test('X-Request-Id is a generated UUID v4 when not sent, on success and on error', async () => {
    const ping = await api(server.baseUrl, 'GET', '/ping');
    assert.match(ping.headers.get('x-request-id') ?? '', UUID_V4);
    const ok = await api(server.baseUrl, 'GET', '/v1/w3s/users', { apiKey: server.apiKey });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('x-request-id') ?? '', UUID_V4);
    const unauth = await api(server.baseUrl, 'GET', '/v1/w3s/users');
    assert.equal(unauth.status, 401);
    assert.match(unauth.headers.get('x-request-id') ?? '', UUID_V4);
    assert.notEqual(ping.headers.get('x-request-id'), ok.headers.get('x-request-id'));
  });
});

describe('developer authentication', () => {
  test('a wrong secret for a real key id → 156007 (401)', async () => {
    const [prefix, keyId] = server.apiKey.split(':');
    const bad = initiateUserControlledWalletsClient({
      apiKey: `${prefix}:${keyId}:${'0'.repeat(32)}`, baseUrl: server.baseUrl,
    });
    await rejectsWith(bad.listUsers({}), Error156007, 156007, 401);
  });

  test('an unknown key id → 156007 (401)', async () => {
    const [prefix, , secret] = server.apiKey.split(':');
    const bad = initiateUserControlledWalletsClient({
      apiKey: `${prefix}:${randomUUID()}:${secret}`, baseUrl: server.baseUrl,
    });
    await rejectsWith(bad.getUser({ userId: 'whoever' }), Error156007, 156007, 401);
  });

  test('a malformed key through the SDK → UnauthorizedError, code 401', async () => {
    const bad = initiateUserControlledWalletsClient({ apiKey: 'not-an-api-key', baseUrl: server.baseUrl });
    await rejectsWith(bad.listUsers({}), UnauthorizedError, 401, 401);
  });

  for (const [label, value] of [
    ['missing', undefined],
    ['not Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['Bearer garbage', 'Bearer garbage'],
    ['two parts', 'Bearer TEST_API_KEY:onlyid'],
    ['empty secret', 'Bearer TEST_API_KEY:someid:'],
    ['unknown prefix', 'Bearer PROD_API_KEY:someid:somesecret'],
    ['empty bearer', 'Bearer '],
  ]) {
    test(`Authorization ${label} → HTTP 401 {code:401, message}`, async () => {
      const headers = value === undefined ? {} : { Authorization: value };
      const res = await api(server.baseUrl, 'GET', '/v1/w3s/users', { headers });
      assert.equal(res.status, 401, res.text);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.deepEqual(res.json, MALFORMED_AUTH);
    });
  }

  test('`latchkey apikey create` works while the server runs, and the new key authenticates', async () => {
    const out = await server.run(['apikey', 'create']);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split(/\r?\n/);
    const newKey = lines[lines.length - 1].trim();
    assert.match(newKey, /^TEST_API_KEY:[^:\s]+:[^:\s]+$/);
    assert.notEqual(newKey, server.apiKey);

    const other = initiateUserControlledWalletsClient({ apiKey: newKey, baseUrl: server.baseUrl });
    const userId = uid('newkey');
    const created = await other.createUser({ userId });
    assert.equal(created.status, 201);
    // Same entity: the first key sees the user, and the App ID is the same.
    const seen = await client.getUser({ userId });
    assert.equal(seen.data.user.id, userId);
    const entity = await api(server.baseUrl, 'GET', '/v1/w3s/config/entity', { apiKey: newKey });
    assert.deepEqual(entity.json, { data: { appId: server.appId } });
  });
});

describe('users', () => {
  test('createUser → 201 {data: EndUser}', async () => {
    const userId = uid('create');
    const res = await client.createUser({ userId });
    assert.equal(res.status, 201);
    assertRecentDate(res.data.createDate);
    assert.deepEqual(res.data, freshEndUser(userId, res.data.createDate));
  });

  test('createUser twice → Error155101 (409)', async () => {
    const userId = uid('dup');
    await client.createUser({ userId });
    const err = await rejectsWith(client.createUser({ userId }), Error155101, 155101, 409);
    assert.equal(errorBody(err).message, 'Existing user already created with the provided userId.');
  });

  test('userId of exactly 5 and exactly 50 characters is accepted', async () => {
    const five = `u${randomUUID().slice(0, 4)}`;
    const fifty = `u-${randomUUID().replace(/-/g, '')}`.padEnd(50, 'x');
    assert.equal(five.length, 5);
    assert.equal(fifty.length, 50);
    assert.equal((await client.createUser({ userId: five })).status, 201);
    assert.equal((await client.createUser({ userId: fifty })).status, 201);
    assert.equal((await client.getUser({ userId: fifty })).data.user.id, fifty);
  });

  test('getUser → {data:{user: EndUser}}', async () => {
    const userId = uid('get');
    const created = await client.createUser({ userId });
    const res = await client.getUser({ userId });
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, { user: freshEndUser(userId, created.data.createDate) });
    assertRecentDate(res.data.user.createDate);
  });

  test('getUser of an unknown user → Error155102 (404)', async () => {
    const err = await rejectsWith(client.getUser({ userId: uid('ghost') }), Error155102, 155102, 404);
    assert.equal(errorBody(err).message, 'Cannot find the user id in the system.');
  });

  test('listUsers pages by the developer\'s userIds: the Link header\'s cursors work', async () => {
    for (let i = 0; i < 3; i += 1) await client.createUser({ userId: uid('linkwalk') });
    let res = await api(server.baseUrl, 'GET', '/v1/w3s/users?pageSize=1', { apiKey: server.apiKey });
    const seen = [];
    for (let i = 0; i < 3; i += 1) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.data.users.length, 1);
      seen.push(res.json.data.users[0].id);
      const links = parseLink(res.headers.get('link'), server.baseUrl);
      assert.ok(links.next, `no next link: ${res.headers.get('link')}`);
      res = await api(server.baseUrl, 'GET', links.next, { apiKey: server.apiKey });
    }
    assert.equal(new Set(seen).size, 3, `pages repeat: ${seen}`);
  });

  test('listUsers → {data:{users:[EndUser]}}, filters by pinStatus / securityQuestionStatus', async () => {
    const userId = uid('listme');
    const created = await client.createUser({ userId });
    const res = await client.listUsers({ pageSize: 50 });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.data), ['users']);
    assert.ok(Array.isArray(res.data.users));
    const mine = res.data.users.find((u) => u.id === userId);
    assert.deepEqual(mine, freshEndUser(userId, created.data.createDate));

    const unset = await client.listUsers({ pinStatus: 'UNSET', pageSize: 50 });
    assert.ok(unset.data.users.length > 0);
    assert.ok(unset.data.users.every((u) => u.pinStatus === 'UNSET'));
    assert.ok(unset.data.users.some((u) => u.id === userId));

    const enabled = await client.listUsers({ pinStatus: 'ENABLED' });
    assert.deepEqual(enabled.data, { users: [] });
    const sqUnset = await client.listUsers({ securityQuestionStatus: 'UNSET', pageSize: 50 });
    assert.ok(sqUnset.data.users.some((u) => u.id === userId));
    const sqLocked = await client.listUsers({ securityQuestionStatus: 'LOCKED' });
    assert.deepEqual(sqLocked.data, { users: [] });
  });
});

describe('user tokens', () => {
  test('createUserToken → {userToken (JWT), encryptionKey (32 bytes, base64)}', async () => {
    const userId = uid('token');
    await client.createUser({ userId });
    const before = Math.floor(Date.now() / 1000);
    const res = await client.createUserToken({ userId });
    assert.ok([200, 201].includes(res.status), `status ${res.status}`);
    assert.deepEqual(Object.keys(res.data).sort(), ['encryptionKey', 'userToken']);

    const { userToken, encryptionKey } = res.data;
    const { parts, payload } = decodeJwt(userToken);
    assert.equal(parts.length, 3);
    assert.equal(payload.sub, userId);
    assert.equal(typeof payload.iat, 'number');
    assert.ok(Math.abs(payload.iat - before) <= 60, `iat ${payload.iat} vs now ${before}`);
    assert.equal(payload.exp, payload.iat + 3600);
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length > 0);
    assert.equal(typeof payload.iss, 'string');
    assert.ok(payload.iss.length > 0);
    assert.equal(typeof payload.entityId, 'string');
    assert.ok(payload.entityId.length > 0);
    assert.match(payload.internalUserId, UUID);

    const key = Buffer.from(encryptionKey, 'base64');
    assert.equal(key.length, 32);
    assert.equal(key.toString('base64'), encryptionKey, 'standard base64 with padding');

    // Every issue is a new pair.
    const again = await client.createUserToken({ userId });
    assert.notEqual(again.data.userToken, userToken);
    assert.notEqual(again.data.encryptionKey, encryptionKey);
    assert.notEqual(decodeJwt(again.data.userToken).payload.jti, payload.jti);
    assert.equal(decodeJwt(again.data.userToken).payload.internalUserId, payload.internalUserId);
  });

  test('createUserToken for an unknown user → Error155102 (404)', async () => {
    await rejectsWith(client.createUserToken({ userId: uid('ghost') }), Error155102, 155102, 404);
  });

  test('getUserStatus with the userToken → {data: EndUser}', async () => {
    const userId = uid('status');
    await client.createUser({ userId });
    const { data: { userToken } } = await client.createUserToken({ userId });
    const res = await client.getUserStatus({ userToken });
    assert.equal(res.status, 200);
    const byId = await client.getUser({ userId });
    assert.deepEqual(res.data, byId.data.user);
  });

  test('a tampered or forged userToken → Error155105 (403)', async () => {
    const userId = uid('tamper');
    const otherId = uid('victim');
    await client.createUser({ userId });
    await client.createUser({ userId: otherId });
    const { data: { userToken } } = await client.createUserToken({ userId });
    const [h, p, s] = userToken.split('.');

    // One signature character changed (in the middle: every bit there is signature data).
    const i = Math.floor(s.length / 2);
    const badSig = `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    // The payload rewritten to name another user, the signature kept.
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const badPayload = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: otherId })).toString('base64url')}.${s}`;
    // alg "none".
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;

    for (const [label, token] of [
      ['signature', badSig], ['payload', badPayload], ['alg none', none], ['garbage', 'not.a.jwt'],
    ]) {
      const err = await rejectsWith(client.getUserStatus({ userToken: token }), Error155105, 155105, 403)
        .catch((e) => { e.message = `${label}: ${e.message}`; throw e; });
      assert.equal(errorBody(err).message, 'The userToken is invalid.', label);
    }
  });

  test('no X-User-Token on an end-user endpoint → 155103 (401)', async () => {
    const res = await api(server.baseUrl, 'GET', '/v1/w3s/user', { apiKey: server.apiKey });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.code, 155103, res.text);
  });
});

describe('request validation', () => {
  const usersPath = '/v1/w3s/users';

  test('malformed JSON body → 400 code 2', async () => {
    const res = await api(server.baseUrl, 'POST', usersPath, { apiKey: server.apiKey, body: '{"userId": ' });
    assert.equal(res.status, 400, res.text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.json?.code, 2, res.text);
    assert.equal(typeof res.json.message, 'string');
  });

  test('missing userId → 400 code 2 naming userId', async () => {
    assertFieldError(await api(server.baseUrl, 'POST', usersPath, { apiKey: server.apiKey, body: {} }), 'userId');
  });

  test('userId shorter than 5 characters → 400 code 2 naming userId', async () => {
    assertFieldError(await api(server.baseUrl, 'POST', usersPath, { apiKey: server.apiKey, body: { userId: 'abcd' } }), 'userId');
  });

  test('userId longer than 50 characters → 400 code 2 naming userId', async () => {
    assertFieldError(await api(server.baseUrl, 'POST', usersPath, { apiKey: server.apiKey, body: { userId: 'x'.repeat(51) } }), 'userId');
  });

  test('userId of the wrong type → 400 code 2 naming userId', async () => {
    assertFieldError(await api(server.baseUrl, 'POST', usersPath, { apiKey: server.apiKey, body: { userId: 12345 } }), 'userId');
  });

  test('users/token without userId → 400 code 2 naming userId', async () => {
    assertFieldError(await api(server.baseUrl, 'POST', '/v1/w3s/users/token', { apiKey: server.apiKey, body: {} }), 'userId');
  });

  test('through the SDK: HttpResponseError with code 2 and status 400', async () => {
    const err = await rejectsWith(client.createUser({ userId: 'abc' }), HttpResponseError, 2, 400);
    const body = errorBody(err);
    assert.equal(body.code, 2);
    const named = body.message.includes('userId') || (body.errors ?? []).some((e) => JSON.stringify(e).includes('userId'));
    assert.ok(named, JSON.stringify(body));
  });
});

describe('listUsers paging (a server of its own)', () => {
  const TOTAL = 55;
  let paging;
  let pclient;
  let ids;

  before(async () => {
    paging = await startServer();
    pclient = initiateUserControlledWalletsClient({ apiKey: paging.apiKey, baseUrl: paging.baseUrl });
    // UUID-shaped userIds, so that they are valid page cursors however the server reads them.
    ids = [];
    for (let i = 0; i < TOTAL; i += 1) {
      const userId = randomUUID();
      await pclient.createUser({ userId });
      ids.push(userId);
    }
  });

  after(async () => {
    await paging?.stop();
  });

  /** Every page of a listing, following pageAfter. */
  async function walk(order, pageSize) {
    const pages = [];
    let pageAfter;
    for (let guard = 0; guard < 20; guard += 1) {
      const res = await pclient.listUsers({ order, pageSize, pageAfter });
      const users = res.data.users;
      if (users.length === 0) break;
      pages.push(users.map((u) => u.id));
      pageAfter = users[users.length - 1].id;
      if (users.length < pageSize) break;
    }
    return pages;
  }

  const listRaw = (query) => api(paging.baseUrl, 'GET', `/v1/w3s/users${query}`, { apiKey: paging.apiKey });
  const getRaw = (url) => api(paging.baseUrl, 'GET', url, { apiKey: paging.apiKey });
  const idsOf = (res) => res.json.data.users.map((u) => u.id);

  test('default: 10 users, newest first', async () => {
    const res = await pclient.listUsers({});
    assert.equal(res.data.users.length, 10);
    const dates = res.data.users.map((u) => u.createDate);
    for (let i = 1; i < dates.length; i += 1) assert.ok(dates[i - 1] >= dates[i], `not newest first: ${dates}`);
    for (const u of res.data.users) assert.ok(ids.includes(u.id));
  });

  test('pageSize above 50 is clamped to 50', async () => {
    const res = await pclient.listUsers({ pageSize: 100 });
    assert.equal(res.data.users.length, 50);
  });

  test('pageAfter walks every user exactly once, in both orders', async () => {
    const desc = await walk('DESC', 20);
    assert.deepEqual(desc.map((p) => p.length), [20, 20, 15]);
    const flat = desc.flat();
    assert.equal(new Set(flat).size, TOTAL);
    assert.deepEqual([...flat].sort(), [...ids].sort());

    const asc = await walk('ASC', 20);
    assert.deepEqual(asc.map((p) => p.length), [20, 20, 15]);
    assert.deepEqual(asc.flat(), [...flat].reverse(), 'ASC is the reverse of DESC');
  });

  test('pageBefore returns the page before an item', async () => {
    const pages = await walk('DESC', 20);
    const res = await pclient.listUsers({ pageSize: 20, pageBefore: pages[2][0] });
    assert.deepEqual(res.data.users.map((u) => u.id), pages[1]);
    const first = await pclient.listUsers({ pageSize: 20, pageBefore: pages[1][0] });
    assert.deepEqual(first.data.users.map((u) => u.id), pages[0]);
  });

  test('Link header: self, first, next (not on the last page), prev (not on the first)', async () => {
    const pages = await walk('DESC', 20);

    const p1 = await listRaw('?pageSize=20');
    assert.equal(p1.status, 200);
    assert.deepEqual(idsOf(p1), pages[0]);
    const l1 = parseLink(p1.headers.get('link'), paging.baseUrl);
    assert.ok(l1.self, `no rel="self" in ${p1.headers.get('link')}`);
    assert.ok(l1.first, `no rel="first" in ${p1.headers.get('link')}`);
    assert.ok(l1.next, `no rel="next" in ${p1.headers.get('link')}`);
    assert.equal(l1.prev, undefined, `rel="prev" on the first page: ${p1.headers.get('link')}`);

    const p2 = await getRaw(l1.next);
    assert.equal(p2.status, 200, p2.text);
    assert.deepEqual(idsOf(p2), pages[1]);
    const l2 = parseLink(p2.headers.get('link'), paging.baseUrl);
    assert.ok(l2.self && l2.first && l2.next && l2.prev, `middle page links: ${p2.headers.get('link')}`);

    const p3 = await getRaw(l2.next);
    assert.deepEqual(idsOf(p3), pages[2]);
    const l3 = parseLink(p3.headers.get('link'), paging.baseUrl);
    assert.ok(l3.self && l3.first && l3.prev, `last page links: ${p3.headers.get('link')}`);
    assert.equal(l3.next, undefined, `rel="next" on the last page: ${p3.headers.get('link')}`);

    assert.deepEqual(idsOf(await getRaw(l3.prev)), pages[1]);
    assert.deepEqual(idsOf(await getRaw(l3.first)), pages[0]);
    assert.deepEqual(idsOf(await getRaw(l2.self)), pages[1]);
    assert.deepEqual(idsOf(await getRaw(l2.prev)), pages[0]);
  });

  test('filters and dates narrow the listing', async () => {
    assert.equal((await pclient.listUsers({ pinStatus: 'UNSET', pageSize: 50 })).data.users.length, 50);
    assert.deepEqual((await pclient.listUsers({ pinStatus: 'ENABLED' })).data.users, []);
    assert.deepEqual((await pclient.listUsers({ pinStatus: 'LOCKED' })).data.users, []);
    assert.deepEqual((await pclient.listUsers({ from: '2999-01-01T00:00:00Z' })).data.users, []);
    assert.deepEqual((await pclient.listUsers({ to: '2000-01-01T00:00:00Z' })).data.users, []);
    const all = await pclient.listUsers({ from: '2000-01-01T00:00:00Z', to: '2999-01-01T00:00:00Z', pageSize: 50 });
    assert.equal(all.data.users.length, 50);
  });

  test('a cursor that cannot name a user → Error156014 (400)', async () => {
    // Users are named by the developer's userId (5–50 characters, not necessarily a UUID), so
    // a cursor that cannot be a userId at all is malformed.
    const tooLong = 'x'.repeat(51);
    await rejectsWith(pclient.listUsers({ pageAfter: tooLong }), Error156014, 156014, 400);
    await rejectsWith(pclient.listUsers({ pageBefore: tooLong }), Error156014, 156014, 400);
  });

  test('a non-UUID cursor naming no user → 156014 (400) or 156012 (404)', async () => {
    // Circle's table says 156014 for non-UUID cursors; a server that pages users by userId may
    // instead look it up and answer 156012. Either is an error the SDK maps to its class.
    let err;
    try {
      await pclient.listUsers({ pageAfter: 'not-a-uuid' });
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'a bogus cursor was accepted');
    assert.ok(
      (err instanceof Error156014 && err.status === 400) || (err instanceof Error156012 && err.status === 404),
      `code=${err.code} status=${err.status}`,
    );
  });

  test('bad pageSize or order → 400 code 2 naming the parameter', async () => {
    for (const [query, field] of [['?pageSize=0', 'pageSize'], ['?pageSize=ten', 'pageSize'], ['?order=UP', 'order']]) {
      assertFieldError(await listRaw(query), field);
    }
  });

  test('pageBefore and pageAfter together → an error', async () => {
    await assert.rejects(pclient.listUsers({ pageAfter: ids[0], pageBefore: ids[1] }), (err) => {
      assert.ok([400].includes(err.status), `status ${err.status}`);
      return true;
    });
  });

  test('a UUID cursor naming no item → Error156012 (404)', async () => {
    await rejectsWith(pclient.listUsers({ pageAfter: randomUUID() }), Error156012, 156012, 404);
    await rejectsWith(pclient.listUsers({ pageBefore: randomUUID() }), Error156012, 156012, 404);
  });

  test('a userToken issued by another latchkey → Error155105 (403)', async () => {
    const { data: { userToken } } = await pclient.createUserToken({ userId: ids[0] });
    await rejectsWith(client.getUserStatus({ userToken }), Error155105, 155105, 403);
  });

  test('each server has its own users', async () => {
    await rejectsWith(client.getUser({ userId: ids[0] }), Error155102, 155102, 404);
  });
});
