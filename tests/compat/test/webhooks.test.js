// Webhooks: subscriptions through the official SDK, notifications received by a real HTTP
// receiver, every signature checked the way Circle's documentation checks it, retries that keep
// the notificationId, the operator's commands, and a kill -9 in the middle of a delivery run.
//
// The server runs with LATCHKEY_WEBHOOK_RETRY_SCHEDULE set to short steps so that retries happen
// within seconds; the receiver is a node:http server on 127.0.0.1 (allowed by --dev).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID, verify } from 'node:crypto';
import {
  initiateUserControlledWalletsClient,
  HttpResponseError,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { describeError, ISO_DATE, UUID } from '../lib/helpers.js';
import {
  executeAs, newUser, PIN_A, PIN_B, PIN_C, QUESTIONS, setPin, show, WRONG_PIN,
} from '../lib/users.js';

const RETRY_SCHEDULE = '0,1s,1s,1s,1s'; // five attempts, one second apart
const ATTEMPTS = 5;

const SUBSCRIPTION_KEYS = [
  'createDate', 'enabled', 'endpoint', 'id', 'name', 'notificationTypes', 'restricted', 'updateDate',
];
const ENVELOPE_KEYS = ['notification', 'notificationId', 'notificationType', 'subscriptionId', 'timestamp', 'version'];
const CHALLENGE_NOTIFICATION_KEYS = ['correlationIds', 'errorCode', 'errorMessage', 'id', 'status', 'type', 'userId'];

const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Polls the async `fn` until it returns something truthy, which it returns. */
async function eventually(fn, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The receiver

/**
 * A webhook endpoint on 127.0.0.1 (random port). HEAD answers `headStatus`; every POST is
 * recorded (raw bytes and headers) and answered `status` (with `Retry-After: retryAfter` when
 * set and the status is not 2xx), or held open without an answer while `hang` is true.
 */
class Receiver {
  constructor() {
    this.status = 200;
    this.headStatus = 200;
    this.retryAfter = null;
    this.hang = false;
    /** @type {{path:string, headers:object, raw:Buffer, body:any, answered:number|'hang', at:number}[]} */
    this.posts = [];
    this.heads = [];
    this.held = [];
  }

  async start() {
    this.server = http.createServer((req, res) => this.#handle(req, res));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  url(p = '/hook') {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  #handle(req, res) {
    if (req.method === 'HEAD') {
      this.heads.push({ path: req.url, at: Date.now() });
      res.writeHead(this.headStatus);
      res.end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body;
      try { body = JSON.parse(raw.toString('utf8')); } catch { body = undefined; }
      const entry = { path: req.url, method: req.method, headers: req.headers, raw, body, at: Date.now() };
      if (this.hang) {
        entry.answered = 'hang';
        this.posts.push(entry);
        this.held.push(res);
        return;
      }
      entry.answered = this.status;
      this.posts.push(entry);
      const headers = {};
      if (this.retryAfter !== null && (this.status < 200 || this.status > 299)) headers['Retry-After'] = this.retryAfter;
      res.writeHead(this.status, headers);
      res.end();
    });
  }

  /** POSTs answered 2xx (notifications that arrived). */
  delivered(path) {
    return this.posts.filter((p) => typeof p.answered === 'number' && p.answered >= 200 && p.answered < 300
      && (path === undefined || p.path === path));
  }

  /** Every POST (answered or not) of one notificationId. */
  attemptsOf(notificationId) {
    return this.posts.filter((p) => p.body?.notificationId === notificationId);
  }

  /** Drops the held (unanswered) requests. */
  release() {
    for (const res of this.held.splice(0)) res.destroy();
  }

  summary() {
    return this.posts.map((p) => `${p.path} ${p.answered} ${p.body?.notificationType} ${p.body?.notificationId}`).join('\n');
  }

  /** Polls `pred` until it returns something truthy, which it returns. */
  async waitFor(pred, what, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this);
      if (v) return v;
      if (Date.now() > deadline) {
        assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; received:\n${this.summary()}`);
      }
      await sleep(50);
    }
  }

  async close() {
    this.release();
    this.server?.closeAllConnections?.();
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures

/**
 * Checks a received POST as Circle's documentation does: fetch the public key named by
 * X-Circle-Key-Id with getNotificationSignature, then ECDSA P-256 / SHA-256 over the body, both
 * the raw bytes and JSON.stringify(JSON.parse(body)). Keys are cached by id.
 */
async function assertSigned(client, post, keyCache) {
  const keyId = post.headers['x-circle-key-id'];
  const signature = post.headers['x-circle-signature'];
  assert.match(keyId ?? '', UUID, `X-Circle-Key-Id on ${post.body?.notificationType}`);
  assert.ok(signature, `X-Circle-Signature on ${post.body?.notificationType}`);
  assert.match(post.headers['content-type'] ?? '', /^application\/json/);
  let key = keyCache.get(keyId);
  if (!key) {
    const res = await client.getNotificationSignature(keyId);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.data).sort(), ['algorithm', 'createDate', 'id', 'publicKey']);
    assert.equal(res.data.id, keyId);
    assert.equal(res.data.algorithm, 'ECDSA_SHA_256');
    assert.match(res.data.createDate, ISO_DATE);
    key = Buffer.from(res.data.publicKey, 'base64');
    keyCache.set(keyId, key);
  }
  const publicKey = { key, format: 'der', type: 'spki', dsaEncoding: 'der' };
  const sig = Buffer.from(signature, 'base64');
  assert.ok(verify('sha256', post.raw, publicKey, sig), `signature over the raw body of ${post.raw}`);
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(post.raw.toString('utf8'))), 'utf8');
  assert.ok(verify('sha256', reserialised, publicKey, sig), 'signature over JSON.stringify(JSON.parse(body))');
  assert.ok(reserialised.equals(post.raw), `the body is compact JSON: ${post.raw}`);
  assert.ok(!verify('sha256', Buffer.concat([post.raw, Buffer.from(' ')]), publicKey, sig), 'a changed body fails');
}

/** The envelope's common shape (`subscriptionId` undefined: any UUID). */
function assertEnvelope(body, { subscriptionId, notificationType }) {
  assert.deepEqual(Object.keys(body).sort(), ENVELOPE_KEYS, JSON.stringify(body));
  assert.match(body.subscriptionId, UUID);
  if (subscriptionId !== undefined) assert.equal(body.subscriptionId, subscriptionId);
  assert.equal(body.notificationType, notificationType);
  assert.match(body.notificationId, UUID);
  assert.match(body.timestamp, ISO_DATE);
  assert.equal(body.version, 2);
}

function assertSubscription(s, { endpoint, notificationTypes, restricted, enabled = true, name = '' }) {
  assert.deepEqual(Object.keys(s).sort(), SUBSCRIPTION_KEYS, JSON.stringify(s));
  assert.match(s.id, UUID);
  assert.equal(s.endpoint, endpoint);
  assert.equal(s.name, name);
  assert.equal(s.enabled, enabled);
  assert.deepEqual(s.notificationTypes, notificationTypes);
  assert.equal(s.restricted, restricted);
  assert.match(s.createDate, ISO_DATE);
  assert.match(s.updateDate, ISO_DATE);
  assert.ok(Date.parse(s.updateDate) >= Date.parse(s.createDate));
}

/** An SDK call that must fail with HTTP `status` and error `code`. */
async function rejectsStatus(promise, status, code) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got ${res?.status} ${JSON.stringify(res?.data)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.equal(err.status, status, describeError(err));
  assert.equal(err.code, code, describeError(err));
  return err;
}

/** `latchkey admin webhooks` as rows { id, type, status, attempts, last, next, subscriptionId }. */
async function adminWebhooks(server) {
  const r = await server.run(['admin', 'webhooks', '--limit', '500']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => UUID.test(l.trim().split(/\s+/)[0] ?? ''));
  return lines.map((l) => {
    const [id, type, status, attempts, last, next, subscriptionId] = l.trim().split(/\s+/);
    return { id, type, status, attempts: Number(attempts), last, next, subscriptionId };
  });
}

// ---------------------------------------------------------------------------------------------
// End users

// =============================================================================================

describe('webhooks', () => {
  let server;
  let client;
  const keys = new Map();
  const receivers = [];

  async function receiver() {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  }

  before(async () => {
    server = await startServer({ env: { LATCHKEY_WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE } });
    client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  });

  after(async () => {
    await server?.stop();
    for (const r of receivers) await r.close();
  });

  // -------------------------------------------------------------------------------------------
  describe('a challenges.* subscription and the PIN guides', () => {
    let rx; // challenges.*
    let rxRestore; // challenges.restorePin only
    let sub;
    let restoreSub;
    let u;
    let initId;
    let wrongId;
    let restoreId;

    before(async () => {
      rx = await receiver();
      rxRestore = await receiver();
    });

    test('createSubscription({endpoint, notificationTypes: ["challenges.*"]}) → 201 Subscription, after a HEAD check', async () => {
      const res = await client.createSubscription({ endpoint: rx.url(), notificationTypes: ['challenges.*'] });
      assert.equal(res.status, 201);
      sub = res.data;
      assertSubscription(sub, { endpoint: rx.url(), notificationTypes: ['challenges.*'], restricted: true });
      assert.equal(rx.heads.length, 1, 'one HEAD request before the subscription was saved');
      assert.equal(rx.heads[0].path, '/hook');
    });

    test('a webhooks.test notification arrives, {"hello":"world"}, signed', async () => {
      const post = await rx.waitFor((r) => r.delivered()[0], 'webhooks.test');
      assert.equal(post.method, 'POST');
      assert.equal(post.path, '/hook');
      assertEnvelope(post.body, { notificationType: 'webhooks.test' });
      assert.deepEqual(post.body.notification, { hello: 'world' });
      assert.ok(Math.abs(Date.parse(post.body.timestamp) - Date.now()) < 60_000, post.body.timestamp);
      await assertSigned(client, post, keys);
    });

    // Circle's quickstart shows the test notification with zero UUIDs for subscriptionId and
    // notificationId; latchkey does the same.
    test('webhooks.test carries zero UUIDs for subscriptionId and notificationId, as Circle\'s does', async () => {
      const zero = '00000000-0000-0000-0000-000000000000';
      const post = rx.delivered()[0];
      assert.equal(post.body.subscriptionId, zero);
      assert.equal(post.body.notificationId, zero);
    });

    test('a subscription restricted to challenges.restorePin → restricted, and its own webhooks.test', async () => {
      const res = await client.createSubscription({ endpoint: rxRestore.url('/restore'), notificationTypes: ['challenges.restorePin'] });
      assert.equal(res.status, 201);
      restoreSub = res.data;
      assertSubscription(restoreSub, {
        endpoint: rxRestore.url('/restore'), notificationTypes: ['challenges.restorePin'], restricted: true,
      });
      const post = await rxRestore.waitFor((r) => r.delivered()[0], 'webhooks.test');
      assertEnvelope(post.body, { notificationType: 'webhooks.test' });
      await assertSigned(client, post, keys);
      // The test notification goes to the new subscription only.
      await sleep(600);
      assert.equal(rx.delivered().length, 1, rx.summary());
    });

    test('reset-PIN guide, INITIALIZE → challenges.initialize COMPLETE', async () => {
      u = await newUser(client, 'hook');
      const res = await client.createUserPinWithWallets({
        userToken: u.userToken, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA',
      });
      initId = res.data.challengeId;
      const r = await executeAs(server, u, initId, { newPin: PIN_A, securityQuestions: QUESTIONS });
      assert.equal(r.code, 0, show(r));

      const post = await rx.waitFor(
        (x) => x.delivered().find((p) => p.body?.notification?.id === initId),
        'challenges.initialize',
      );
      assertEnvelope(post.body, { subscriptionId: sub.id, notificationType: 'challenges.initialize' });
      const n = post.body.notification;
      assert.deepEqual(Object.keys(n).sort(), CHALLENGE_NOTIFICATION_KEYS, JSON.stringify(n));
      const c = (await client.getUserChallenge({ userToken: u.userToken, challengeId: initId })).data.challenge;
      assert.deepEqual(n, {
        id: initId,
        userId: u.userId,
        type: 'INITIALIZE',
        status: 'COMPLETE',
        correlationIds: c.correlationIds ?? [],
        errorCode: 0,
        errorMessage: '',
      });
      await assertSigned(client, post, keys);
    });

    test('reset-PIN guide, CHANGE_PIN → challenges.changePin COMPLETE', async () => {
      const res = await client.updateUserPin({ userToken: u.userToken });
      const changeId = res.data.challengeId;
      const r = await executeAs(server, u, changeId, { pin: PIN_A, newPin: PIN_B });
      assert.equal(r.code, 0, show(r));
      const post = await rx.waitFor(
        (x) => x.delivered().find((p) => p.body?.notification?.id === changeId),
        'challenges.changePin',
      );
      assertEnvelope(post.body, { subscriptionId: sub.id, notificationType: 'challenges.changePin' });
      assert.deepEqual(post.body.notification, {
        id: changeId,
        userId: u.userId,
        type: 'CHANGE_PIN',
        status: 'COMPLETE',
        correlationIds: [],
        errorCode: 0,
        errorMessage: '',
      });
      await assertSigned(client, post, keys);
    });

    test('three wrong PINs → one challenges.changePin FAILED with errorCode 155119', async () => {
      const res = await client.updateUserPin({ userToken: u.userToken });
      wrongId = res.data.challengeId;
      const codes = [];
      for (let i = 0; i < 3; i += 1) {
        const r = await executeAs(server, u, wrongId, { pin: WRONG_PIN, newPin: PIN_C });
        assert.equal(r.code, 1, show(r));
        codes.push(r.json?.code);
      }
      assert.deepEqual(codes, [155112, 155112, 155119]);
      const post = await rx.waitFor(
        (x) => x.delivered().find((p) => p.body?.notification?.id === wrongId),
        'challenges.changePin FAILED',
      );
      assertEnvelope(post.body, { subscriptionId: sub.id, notificationType: 'challenges.changePin' });
      const c = (await client.getUserChallenge({ userToken: u.userToken, challengeId: wrongId })).data.challenge;
      assert.equal(c.status, 'FAILED');
      const n = post.body.notification;
      assert.deepEqual(Object.keys(n).sort(), CHALLENGE_NOTIFICATION_KEYS, JSON.stringify(n));
      assert.equal(n.id, wrongId);
      assert.equal(n.userId, u.userId);
      assert.equal(n.type, 'CHANGE_PIN');
      assert.equal(n.status, 'FAILED');
      assert.deepEqual(n.correlationIds, []);
      assert.equal(n.errorCode, 155119);
      assert.equal(typeof n.errorMessage, 'string');
      assert.ok(n.errorMessage.length > 0);
      assert.equal(n.errorMessage, c.errorMessage, 'the same message as the REST challenge');
      assert.equal(c.errorCode, 155119);
      await assertSigned(client, post, keys);
      // The two wrong PINs before the lock leave the challenge open: no notification for them.
      await sleep(600);
      assert.equal(rx.delivered().filter((p) => p.body?.notification?.id === wrongId).length, 1, rx.summary());
    });

    test('RESTORE_PIN → challenges.restorePin COMPLETE, to both subscriptions', async () => {
      const res = await client.restoreUserPin({ userToken: u.userToken });
      restoreId = res.data.challengeId;
      const r = await executeAs(server, u, restoreId, { securityAnswers: ['Rex', 'Lyon'], newPin: PIN_C });
      assert.equal(r.code, 0, show(r));
      const expected = {
        id: restoreId,
        userId: u.userId,
        type: 'RESTORE_PIN',
        status: 'COMPLETE',
        correlationIds: [],
        errorCode: 0,
        errorMessage: '',
      };
      for (const [x, s] of [[rx, sub], [rxRestore, restoreSub]]) {
        const post = await x.waitFor(
          (y) => y.delivered().find((p) => p.body?.notification?.id === restoreId),
          `challenges.restorePin at ${s.endpoint}`,
        );
        assertEnvelope(post.body, { subscriptionId: s.id, notificationType: 'challenges.restorePin' });
        assert.deepEqual(post.body.notification, expected);
        await assertSigned(client, post, keys);
      }
    });

    test('the challenges.restorePin subscription received only its webhooks.test and the restorePin', async () => {
      await sleep(600);
      assert.deepEqual(
        rxRestore.delivered().map((p) => p.body.notificationType),
        ['webhooks.test', 'challenges.restorePin'],
        rxRestore.summary(),
      );
      assert.ok(rxRestore.delivered().every((p) => p.path === '/restore'));
    });

    test('the challenges.* subscription received every challenge notification once, each signed', async () => {
      const got = rx.delivered();
      assert.deepEqual(
        got.map((p) => [p.body.notificationType, p.body.notification.status ?? null]),
        [
          ['webhooks.test', null],
          ['challenges.initialize', 'COMPLETE'],
          ['challenges.changePin', 'COMPLETE'],
          ['challenges.changePin', 'FAILED'],
          ['challenges.restorePin', 'COMPLETE'],
        ],
        rx.summary(),
      );
      assert.equal(new Set(got.map((p) => p.body.notificationId)).size, got.length, 'distinct notificationIds');
      for (const post of got) await assertSigned(client, post, keys);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('subscription requests', () => {
    test('no notificationTypes, or "*" → unrestricted, notificationTypes ["*"]', async () => {
      const rx = await receiver();
      for (const types of [undefined, ['*'], ['*', 'challenges.setPin']]) {
        const input = { endpoint: rx.url() };
        if (types) input.notificationTypes = types;
        const res = await client.createSubscription(input);
        assert.equal(res.status, 201);
        assertSubscription(res.data, {
          endpoint: rx.url(), notificationTypes: types ?? ['*'], restricted: false,
        });
        assert.equal((await client.deleteSubscription(res.data.id)).status, 204);
      }
    });

    test('an unknown notification type → 400 (code 2), nothing saved, no HEAD', async () => {
      const rx = await receiver();
      const before = (await client.listSubscriptions()).data.length;
      for (const types of [['challenges.nope'], ['nope.*'], ['challenges.*', 'wallets.created'], ['']]) {
        const err = await rejectsStatus(
          client.createSubscription({ endpoint: rx.url(), notificationTypes: types }), 400, 2,
        );
        assert.ok(err instanceof HttpResponseError, describeError(err));
      }
      assert.equal(rx.heads.length, 0);
      assert.equal((await client.listSubscriptions()).data.length, before);
    });

    test('an endpoint answering HEAD with 404 → 400 (code 2), nothing saved, nothing POSTed', async () => {
      const rx = await receiver();
      rx.headStatus = 404;
      const before = (await client.listSubscriptions()).data.length;
      const err = await rejectsStatus(client.createSubscription({ endpoint: rx.url(), notificationTypes: ['challenges.*'] }), 400, 2);
      assert.match(err.error?.response?.data?.message ?? '', /404/, describeError(err));
      assert.equal(rx.heads.length, 1);
      assert.equal((await client.listSubscriptions()).data.length, before);
      await sleep(600);
      assert.equal(rx.posts.length, 0);
    });

    test('an endpoint that refuses connections, or is not a URL → 400 (code 2)', async () => {
      const rx = await receiver();
      const dead = rx.url();
      await rx.close();
      await rejectsStatus(client.createSubscription({ endpoint: dead }), 400, 2);
      await rejectsStatus(client.createSubscription({ endpoint: 'not a url' }), 400, 2);
      await rejectsStatus(client.createSubscription({ endpoint: 'ftp://127.0.0.1/x' }), 400, 2);
    });

    test('list / get / update (name, enabled) / delete through the SDK', async () => {
      const rx = await receiver();
      const created = (await client.createSubscription({ endpoint: rx.url('/crud'), notificationTypes: ['challenges.setPin'] })).data;
      await rx.waitFor((r) => r.delivered().length === 1, 'webhooks.test');
      assert.equal(rx.heads.length, 1);

      const list = await client.listSubscriptions();
      assert.equal(list.status, 200);
      assert.ok(Array.isArray(list.data));
      const listed = list.data.find((s) => s.id === created.id);
      assert.deepEqual(listed, created);
      for (const s of list.data) assert.deepEqual(Object.keys(s).sort(), SUBSCRIPTION_KEYS);

      const got = await client.getSubscription(created.id);
      assert.equal(got.status, 200);
      assert.deepEqual(got.data, created);

      // Disabling: no HEAD check, no webhooks.test, and nothing delivered while disabled.
      const disabled = await client.updateSubscription({ id: created.id, name: 'renamed', enabled: false });
      assert.equal(disabled.status, 200);
      assertSubscription(disabled.data, {
        endpoint: rx.url('/crud'), notificationTypes: ['challenges.setPin'], restricted: true, enabled: false, name: 'renamed',
      });
      assert.equal(disabled.data.id, created.id);
      assert.equal(disabled.data.createDate, created.createDate);
      assert.deepEqual((await client.getSubscription(created.id)).data, disabled.data);
      assert.equal(rx.heads.length, 1);
      const u = await newUser(client, 'crud');
      await setPin(client, server, u);
      await sleep(800);
      assert.equal(rx.posts.length, 1, rx.summary());

      // Re-enabling: a new HEAD check and a new webhooks.test (another notificationId).
      const enabled = await client.updateSubscription({ id: created.id, name: 'renamed', enabled: true });
      assert.equal(enabled.data.enabled, true);
      assert.equal(enabled.data.name, 'renamed');
      assert.equal(rx.heads.length, 2);
      const tests = await rx.waitFor((r) => (r.delivered().length === 2 ? r.delivered() : null), 'a second webhooks.test');
      assert.equal(tests[1].body.notificationType, 'webhooks.test');
      for (const p of tests) await assertSigned(client, p, keys);

      // Enabled again: a setPin arrives.
      const v = await newUser(client, 'crud');
      const setPinId = await setPin(client, server, v);
      const post = await rx.waitFor((r) => r.delivered().find((p) => p.body.notification?.id === setPinId), 'challenges.setPin');
      assertEnvelope(post.body, { subscriptionId: created.id, notificationType: 'challenges.setPin' });
      assert.equal(post.body.notification.type, 'SET_PIN');
      assert.equal(post.body.notification.status, 'COMPLETE');

      // An update that keeps it enabled re-checks the endpoint: HEAD 404 → 400, nothing changes.
      rx.headStatus = 404;
      await rejectsStatus(client.updateSubscription({ id: created.id, name: 'other', enabled: true }), 400, 2);
      assert.equal((await client.getSubscription(created.id)).data.name, 'renamed');
      rx.headStatus = 200;

      const del = await client.deleteSubscription(created.id);
      assert.equal(del.status, 204);
      assert.ok(del.data === '' || del.data === undefined || del.data === null, JSON.stringify(del.data));
      await rejectsStatus(client.getSubscription(created.id), 404, 404);
      await rejectsStatus(client.deleteSubscription(created.id), 404, 404);
      await rejectsStatus(client.updateSubscription({ id: created.id, name: 'x', enabled: false }), 404, 404);
      assert.ok(!(await client.listSubscriptions()).data.some((s) => s.id === created.id));

      // Deleted: nothing more arrives.
      const before = rx.posts.length;
      await setPin(client, server, await newUser(client, 'crud'));
      await sleep(800);
      assert.equal(rx.posts.length, before, rx.summary());
    });

    test('an unknown subscription id → 404; an unknown key id → 404', async () => {
      await rejectsStatus(client.getSubscription(randomUUID()), 404, 404);
      await rejectsStatus(client.getNotificationSignature(randomUUID()), 404, 404);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('delivery', () => {
    let rx;
    let sub;

    /** Completes a SET_PIN challenge for a new user; returns the challenge id. */
    async function notify() {
      return setPin(client, server, await newUser(client, 'retry'));
    }

    /** Every POST (answered or not) about challenge `challengeId`. */
    const about = (challengeId) => rx.posts.filter((p) => p.body?.notification?.id === challengeId);

    before(async () => {
      rx = await receiver();
      sub = (await client.createSubscription({ endpoint: rx.url('/retry'), notificationTypes: ['challenges.setPin'] })).data;
      await rx.waitFor((r) => r.delivered().length === 1, 'webhooks.test');
    });

    test('receiver down (500) then back: the notification arrives again, same notificationId and bytes', async () => {
      rx.status = 500;
      const challengeId = await notify();
      await rx.waitFor(() => about(challengeId).length >= 2, 'two failed attempts');
      rx.status = 200;
      const ok = await rx.waitFor(() => about(challengeId).find((p) => p.answered === 200), 'the attempt after the receiver came back');
      const id = ok.body.notificationId;
      assert.equal(ok.body.notificationType, 'challenges.setPin');
      const attempts = about(challengeId);
      assert.ok(attempts.length >= 3);
      assert.ok(attempts.slice(0, -1).every((p) => p.answered === 500));
      for (const p of attempts) {
        assert.equal(p.body.notificationId, id, 'the same notificationId on every attempt');
        assert.ok(p.raw.equals(ok.raw), 'every attempt sends the same bytes');
        await assertSigned(client, p, keys);
      }
      // About one second apart (the schedule's steps; the worker polls every 250 ms).
      for (let i = 1; i < attempts.length; i += 1) {
        const gap = attempts[i].at - attempts[i - 1].at;
        assert.ok(gap >= 900 && gap < 3000, `gap ${gap} ms`);
      }
      await sleep(1500);
      assert.equal(about(challengeId).length, attempts.length, 'nothing after the 2xx');

      const row = await eventually(
        async () => (await adminWebhooks(server)).find((d) => d.id === id && d.status !== 'PENDING'),
        'latchkey admin webhooks to list the delivery as done',
      );
      assert.equal(row.status, 'DELIVERED');
      assert.equal(row.type, 'challenges.setPin');
      assert.equal(row.attempts, attempts.length);
      assert.equal(row.last, '200');
      assert.equal(row.subscriptionId, sub.id);
    });

    test('Retry-After on a 503 postpones the next attempt beyond the schedule step', async () => {
      rx.status = 503;
      rx.retryAfter = '3';
      const challengeId = await notify();
      const first = await rx.waitFor(() => about(challengeId)[0], 'the first attempt');
      rx.status = 200;
      rx.retryAfter = null;
      const second = await rx.waitFor(() => about(challengeId)[1], 'the second attempt', 10_000);
      const gap = second.at - first.at;
      assert.ok(gap >= 2900, `Retry-After: 3 honoured (gap ${gap} ms, schedule step 1 s)`);
      assert.equal(second.answered, 200);
      assert.equal(second.body.notificationId, first.body.notificationId);
    });

    test('an exhausted schedule → FAILED; `latchkey admin webhooks redeliver ID` sends it again', async () => {
      rx.status = 500;
      const challengeId = await notify();
      await rx.waitFor(() => about(challengeId).length >= ATTEMPTS, `${ATTEMPTS} attempts`, 15_000);
      await sleep(2000);
      const attempts = about(challengeId);
      assert.equal(attempts.length, ATTEMPTS, `no attempt beyond the schedule\n${rx.summary()}`);
      const id = attempts[0].body.notificationId;
      const row = await eventually(
        async () => (await adminWebhooks(server)).find((d) => d.id === id && d.status !== 'PENDING'),
        'latchkey admin webhooks to list the delivery as done',
      );
      assert.equal(row.status, 'FAILED', JSON.stringify(row));
      assert.equal(row.attempts, ATTEMPTS);
      assert.equal(row.last, '500');

      rx.status = 200;
      const r = await server.run(['admin', 'webhooks', 'redeliver', id]);
      assert.equal(r.code, 0, show(r));
      const again = await rx.waitFor(() => about(challengeId).find((p) => p.answered === 200), 'the redelivery');
      assert.equal(again.body.notificationId, id);
      assert.ok(again.raw.equals(attempts[0].raw), 'the same notification');
      await assertSigned(client, again, keys);
      await eventually(
        async () => (await adminWebhooks(server)).find((d) => d.id === id && d.status === 'DELIVERED'),
        'the redelivery recorded as DELIVERED',
      );

      const missing = await server.run(['admin', 'webhooks', 'redeliver', randomUUID()]);
      assert.notEqual(missing.code, 0);
    });

    test('`latchkey admin rotate-webhook-key`: new notifications name the new key; the old one still resolves', async () => {
      const older = rx.delivered().at(-1);
      const oldKeyId = older.headers['x-circle-key-id'];
      const r = await server.run(['admin', 'rotate-webhook-key']);
      assert.equal(r.code, 0, show(r));
      const newKeyId = r.stdout.match(UUID_IN_TEXT)?.[0];
      assert.ok(newKeyId && newKeyId !== oldKeyId, r.stdout);

      const challengeId = await notify();
      const post = await rx.waitFor(() => about(challengeId).find((p) => p.answered === 200), 'a notification after the rotation');
      assert.equal(post.headers['x-circle-key-id'], newKeyId);
      await assertSigned(client, post, keys);

      const oldKey = await client.getNotificationSignature(oldKeyId);
      const newKey = await client.getNotificationSignature(newKeyId);
      assert.equal(oldKey.data.id, oldKeyId);
      assert.equal(newKey.data.id, newKeyId);
      assert.notEqual(oldKey.data.publicKey, newKey.data.publicKey);
      // A notification signed before the rotation still verifies with its (old) key.
      await assertSigned(client, older, keys);
      assert.ok(!verify(
        'sha256', post.raw,
        { key: Buffer.from(oldKey.data.publicKey, 'base64'), format: 'der', type: 'spki', dsaEncoding: 'der' },
        Buffer.from(post.headers['x-circle-signature'], 'base64'),
      ), 'the old key does not verify a new signature');
    });
  });
});

// =============================================================================================

describe('kill -9 in the middle of deliveries, restart on the same data', () => {
  // Long enough that nothing runs out of attempts while the server is down.
  const env = { LATCHKEY_WEBHOOK_RETRY_SCHEDULE: '0,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s' };
  let first;
  let second;
  let rx;
  const keys = new Map();

  before(async () => {
    first = await startServer({ env });
    rx = await new Receiver().start();
  });

  after(async () => {
    await second?.stop();
    await first?.stop();
    await rx?.close();
  });

  test('every notification queued before the crash arrives at least once after the restart', { timeout: 180_000 }, async () => {
    let client = initiateUserControlledWalletsClient({ apiKey: first.apiKey, baseUrl: first.baseUrl });

    // Two subscriptions (their webhooks.test delivered), then, while the receiver answers 500,
    // four SET_PIN challenges: eight notifications.
    const subs = [];
    for (const p of ['/a', '/b']) {
      subs.push((await client.createSubscription({ endpoint: rx.url(p), notificationTypes: ['challenges.*'] })).data);
    }
    await rx.waitFor((r) => r.delivered().length === 2, 'the two webhooks.test');
    rx.posts.length = 0;
    rx.status = 500;
    for (let i = 0; i < 4; i += 1) await setPin(client, first, await newUser(client, 'crash'));
    const expected = 4 * 2;
    await rx.waitFor(
      (r) => new Set(r.posts.map((p) => p.body?.notificationId)).size === expected,
      `a failed attempt for each of the ${expected} notifications`,
    );
    const ids = new Set(rx.posts.map((p) => p.body.notificationId));
    assert.equal(rx.delivered().length, 0);

    // Hold the next attempts open, so that some deliveries are claimed (in flight) at the kill.
    rx.hang = true;
    const heldBefore = rx.posts.length;
    await rx.waitFor((r) => r.posts.length > heldBefore, 'an attempt in flight', 10_000);
    await sleep(300);
    await first.kill();
    const inFlight = new Set(rx.posts.slice(heldBefore).map((p) => p.body.notificationId));
    assert.ok(inFlight.size >= 1);
    rx.hang = false;
    rx.release();

    second = await startServer({ env, reuse: first });
    client = initiateUserControlledWalletsClient({ apiKey: second.apiKey, baseUrl: second.baseUrl });
    rx.status = 200;

    // Deliveries that were merely pending arrive at once; those claimed by the dead process
    // come back when their lease (60 s) lapses.
    await rx.waitFor(
      (r) => new Set(r.delivered().map((p) => p.body.notificationId)).size === expected,
      `all ${expected} notifications delivered (${inFlight.size} were in flight at the kill)`,
      120_000,
    );
    const delivered = new Set(rx.delivered().map((p) => p.body.notificationId));
    assert.deepEqual([...delivered].sort(), [...ids].sort(), 'the same notificationIds as before the crash');
    const types = rx.delivered().map((p) => `${p.path} ${p.body.notificationType}`);
    for (const p of ['/a', '/b']) {
      assert.equal(new Set(rx.delivered(p).map((x) => x.body.notificationId)).size, 4, types.join('\n'));
      assert.ok(rx.delivered(p).every((x) => x.body.notificationType === 'challenges.setPin'));
    }
    for (const post of rx.delivered()) {
      assert.ok(subs.some((s) => s.id === post.body.subscriptionId && s.endpoint === rx.url(post.path)));
      await assertSigned(client, post, keys);
    }
    const rows = await eventually(async () => {
      const all = (await adminWebhooks(second)).filter((d) => ids.has(d.id));
      return all.every((d) => d.status === 'DELIVERED') ? all : null;
    }, 'every delivery recorded as DELIVERED');
    assert.equal(rows.length, expected);
  });
});
