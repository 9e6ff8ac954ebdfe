// Unit tests of the headless executor: `node --test sdk/js/test/`.
// No latchkey server needed: the wire format is checked against node:crypto, and the HTTP
// exchange against a tiny in-process stand-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import {
  encryptPayload, executeChallenge, getChallenge, checkPin, normalizeAnswer,
  LatchkeyError, base64ToBytes, bytesToBase64,
} from '../headless.js';

const CHALLENGE_ID = '3f6c2a9e-5b1d-4c8e-9f7a-2d4b6e8c0a13';

function open(keyB64, aad, encryptedB64) {
  const raw = Buffer.from(encryptedB64, 'base64');
  // The body is standard base64 with padding.
  assert.equal(raw.toString('base64'), encryptedB64);
  const iv = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  const ct = raw.subarray(12, raw.length - 16);
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyB64, 'base64'), iv);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
}

test('wire format: base64(12-byte iv ‖ AES-256-GCM ciphertext ‖ 16-byte tag), AAD = challenge id', async () => {
  const key = randomBytes(32).toString('base64');
  const input = {
    newPin: '246813',
    securityQuestions: [
      { question: 'What was the name of your first pet?', answer: 'Rex', hint: 'furry' },
      { question: 'In which city were you born?', answer: 'Lyon' },
    ],
  };
  const enc = await encryptPayload(key, CHALLENGE_ID, input);
  const raw = Buffer.from(enc, 'base64');
  const plaintextLen = Buffer.byteLength(JSON.stringify(input));
  assert.equal(raw.length, 12 + plaintextLen + 16);
  assert.deepEqual(JSON.parse(open(key, CHALLENGE_ID, enc)), input);
});

test('a fresh nonce per encryption', async () => {
  const key = randomBytes(32).toString('base64');
  const a = Buffer.from(await encryptPayload(key, CHALLENGE_ID, { pin: '159357' }), 'base64');
  const b = Buffer.from(await encryptPayload(key, CHALLENGE_ID, { pin: '159357' }), 'base64');
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
});

test('the body is bound to the challenge id and to the key', async () => {
  const key = randomBytes(32).toString('base64');
  const enc = await encryptPayload(key, CHALLENGE_ID, { pin: '159357' });
  assert.throws(() => open(key, 'another-challenge', enc));
  assert.throws(() => open(randomBytes(32).toString('base64'), CHALLENGE_ID, enc));
});

test('string plaintext is sent as is; unicode survives', async () => {
  const key = randomBytes(32).toString('base64');
  const text = JSON.stringify({ securityAnswers: ['Zoë', '東京'] });
  const enc = await encryptPayload(key, CHALLENGE_ID, text);
  assert.equal(open(key, CHALLENGE_ID, enc), text);
});

test('a key that is not 32 bytes of base64 is refused with 155707', async () => {
  await assert.rejects(encryptPayload(randomBytes(16).toString('base64'), CHALLENGE_ID, {}),
    (e) => e instanceof LatchkeyError && e.code === 155707);
  await assert.rejects(encryptPayload('not base64!', CHALLENGE_ID, {}),
    (e) => e instanceof LatchkeyError && e.code === 155707);
});

test('base64 helpers round-trip and accept URL-safe input', () => {
  const bytes = new Uint8Array(randomBytes(100));
  const b64 = bytesToBase64(bytes);
  assert.equal(b64, Buffer.from(bytes).toString('base64'));
  assert.deepEqual(base64ToBytes(b64), bytes);
  assert.deepEqual(base64ToBytes(Buffer.from(bytes).toString('base64url')), bytes);
});

test('PIN rule matches docs/protocol.md', () => {
  for (const good of ['159357', '135790', '112233', '123457', '909090', '024680']) {
    assert.equal(checkPin(good), null, good);
  }
  for (const weak of ['000000', '999999', '123456', '654321', '345678', '987654', '012345', '543210']) {
    assert.equal(checkPin(weak)?.code, 155704, weak);
  }
  for (const bad of ['12345', '1234567', '12a456', '', '１２３４５６', ' 12345']) {
    assert.equal(checkPin(bad)?.code, 2, bad);
  }
});

test('answer normalisation matches the server', () => {
  assert.equal(normalizeAnswer('  Rex\t the   DOG '), 'rex the dog');
  assert.equal(normalizeAnswer('ｒｅｘ'), 'rex');
  assert.equal(normalizeAnswer('   '), '');
});

// An in-process stand-in for the two endpoints: checks headers, opens the body.
function standIn(key, handler) {
  return new Promise((resolve) => {
    const seen = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const [status, json] = handler(req, body);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(json));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() });
    });
  });
}

test('executeChallenge posts {encrypted} with X-App-Id / X-User-Token and returns data', async () => {
  const key = randomBytes(32).toString('base64');
  let opened;
  const srv = await standIn(key, (req, body) => {
    opened = JSON.parse(open(key, CHALLENGE_ID, JSON.parse(body).encrypted));
    return [200, { data: { type: 'CHANGE_PIN', status: 'COMPLETE', data: {} } }];
  });
  try {
    const out = await executeChallenge({
      serviceUrl: srv.url + '/', appId: 'app-1', userToken: 'tok', encryptionKey: key,
      challengeId: CHALLENGE_ID, input: { pin: '159357', newPin: '246813' },
    });
    assert.deepEqual(out, { type: 'CHANGE_PIN', status: 'COMPLETE', data: {} });
    assert.deepEqual(opened, { pin: '159357', newPin: '246813' });
    const [req] = srv.seen;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, `/v1/w3s/sdk/challenges/${CHALLENGE_ID}/execute`);
    assert.equal(req.headers['x-app-id'], 'app-1');
    assert.equal(req.headers['x-user-token'], 'tok');
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepEqual(Object.keys(JSON.parse(req.body)), ['encrypted']);
  } finally {
    srv.close();
  }
});

test('executeChallenge throws the service error with attemptsLeft / lockedExpiryDate', async () => {
  const key = randomBytes(32).toString('base64');
  const replies = [
    [400, { code: 155112, message: 'The user has inputted the incorrect pin.', attemptsLeft: 2 }],
    [400, { code: 155119, message: 'locked', attemptsLeft: 0, lockedExpiryDate: '2030-01-01T00:30:00Z' }],
    [429, {}],
  ];
  const srv = await standIn(key, () => replies.shift());
  const opts = { serviceUrl: srv.url, appId: 'a', userToken: 't', encryptionKey: key, challengeId: CHALLENGE_ID, input: { pin: '111112' } };
  try {
    await assert.rejects(executeChallenge(opts), (e) =>
      e instanceof LatchkeyError && e.code === 155112 && e.attemptsLeft === 2 && e.status === 400
      && e.message === 'The user has inputted the incorrect pin.');
    await assert.rejects(executeChallenge(opts), (e) =>
      e.code === 155119 && e.attemptsLeft === 0 && e.lockedExpiryDate === '2030-01-01T00:30:00Z');
    await assert.rejects(executeChallenge(opts), (e) => e.code === 429 && e.status === 429);
  } finally {
    srv.close();
  }
});

test('getChallenge sends the two headers and returns data', async () => {
  const srv = await standIn(null, () => [200, { data: { challenge: { id: CHALLENGE_ID, type: 'SET_PIN' } } }]);
  try {
    const data = await getChallenge({ serviceUrl: srv.url, appId: 'a', userToken: 't', challengeId: CHALLENGE_ID });
    assert.equal(data.challenge.type, 'SET_PIN');
    assert.equal(srv.seen[0].method, 'GET');
    assert.equal(srv.seen[0].url, `/v1/w3s/sdk/challenges/${CHALLENGE_ID}`);
    assert.equal(srv.seen[0].headers['x-user-token'], 't');
  } finally {
    srv.close();
  }
});

test('a network failure is 155706', async () => {
  const key = randomBytes(32).toString('base64');
  await assert.rejects(executeChallenge({
    serviceUrl: 'http://127.0.0.1:9', appId: 'a', userToken: 't', encryptionKey: key,
    challengeId: CHALLENGE_ID, input: { pin: '159357' },
  }), (e) => e.code === 155706);
});
