// PIN custody: Circle's "reset PIN" and "recover PIN" guides, locks, preconditions,
// idempotency, isolation and the operator's commands — the developer side through the official
// SDK, the end user's side through `latchkey challenge execute` (docs/protocol.md).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  initiateUserControlledWalletsClient,
  Error155106,
  Error155107,
  Error155109,
  Error155110,
  Error155111,
  Error155116,
  Error155119,
  Error156020,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { ISO_DATE, msFromNow, rejectsWith, UUID } from '../lib/helpers.js';
import {
  executeAs, newUser, PIN_A, PIN_B, PIN_C, PIN_D, QUESTIONS, show, WRONG_PIN,
} from '../lib/users.js';

const ALL_PINS = [PIN_A, PIN_B, PIN_C, PIN_D, WRONG_PIN];

let server;
let client;

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers

/** Runs `latchkey challenge execute` as user `u`. */
function exec(u, challengeId, input) {
  return executeAs(server, u, challengeId, input);
}

/** The executor succeeded and the challenge is COMPLETE. */
function assertComplete(r, type) {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.json?.data?.status, 'COMPLETE', show(r));
  if (type) assert.equal(r.json.data.type, type, show(r));
}

/** The executor failed with error `code`. */
function assertExecError(r, code) {
  assert.equal(r.code, 1, show(r));
  assert.equal(r.json?.code, code, show(r));
  assert.equal(typeof r.json.message, 'string', show(r));
}

async function challenge(u, challengeId) {
  const res = await client.getUserChallenge({ userToken: u.userToken, challengeId });
  assert.equal(res.status, 200);
  return res.data.challenge;
}

async function status(u) {
  const res = await client.getUserStatus({ userToken: u.userToken });
  assert.equal(res.status, 200);
  return res.data;
}

/** A CHANGE_PIN challenge id. */
async function changePinChallenge(u) {
  const res = await client.updateUserPin({ userToken: u.userToken });
  assert.match(res.data.challengeId, UUID);
  return res.data.challengeId;
}

/** Three wrong PINs on one CHANGE_PIN challenge; returns { challengeId, locked } (the 3rd result). */
async function lockPin(u) {
  const challengeId = await changePinChallenge(u);
  const r1 = await exec(u, challengeId, { pin: WRONG_PIN, newPin: PIN_D });
  assertExecError(r1, 155112);
  assert.equal(r1.json.attemptsLeft, 2, show(r1));
  const r2 = await exec(u, challengeId, { pin: WRONG_PIN, newPin: PIN_D });
  assertExecError(r2, 155112);
  assert.equal(r2.json.attemptsLeft, 1, show(r2));
  const r3 = await exec(u, challengeId, { pin: WRONG_PIN, newPin: PIN_D });
  assertExecError(r3, 155119);
  return { challengeId, locked: r3 };
}

// ---------------------------------------------------------------------------------------------

describe('reset-PIN guide', () => {
  let u;
  let initId;
  let currentPin;

  before(async () => {
    u = await newUser(client, 'guide');
  });

  test('createUserPinWithWallets → 201 {challengeId}, a PENDING INITIALIZE challenge', async () => {
    const res = await client.createUserPinWithWallets({
      userToken: u.userToken, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA',
    });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.data), ['challengeId']);
    assert.match(res.data.challengeId, UUID);
    initId = res.data.challengeId;

    const c = await challenge(u, initId);
    assert.equal(c.id, initId);
    assert.equal(c.type, 'INITIALIZE');
    assert.equal(c.status, 'PENDING');
    assert.equal(c.errorCode, undefined);
  });

  test('executing it with a new PIN and two questions → COMPLETE', async () => {
    const r = await exec(u, initId, { newPin: PIN_A, securityQuestions: QUESTIONS });
    assertComplete(r, 'INITIALIZE');
    currentPin = PIN_A;

    const c = await challenge(u, initId);
    assert.equal(c.status, 'COMPLETE');
    assert.equal(c.type, 'INITIALIZE');
    assert.equal(c.errorCode, undefined);
    assert.equal(c.errorMessage, undefined);

    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.securityQuestionStatus, 'ENABLED');
    assert.deepEqual(s.pinDetails, { failedAttempts: 0 });
    assert.deepEqual(s.securityQuestionDetails, { failedAttempts: 0 });
  });

  test('the INITIALIZE challenge names the ETH-SEPOLIA EOA wallet it created', async () => {
    const c = await challenge(u, initId);
    assert.equal(c.correlationIds?.length, 1, JSON.stringify(c));
    const res = await client.listWallets({ userToken: u.userToken });
    assert.equal(res.data.wallets.length, 1, JSON.stringify(res.data));
    const [w] = res.data.wallets;
    assert.equal(w.id, c.correlationIds[0]);
    assert.equal(w.blockchain, 'ETH-SEPOLIA');
    assert.equal(w.accountType, 'EOA');
    assert.equal(w.custodyType, 'ENDUSER');
    assert.equal(w.state, 'LIVE');
    assert.equal(w.userId, u.userId);
    assert.match(w.address, /^0x[0-9a-fA-F]{40}$/);
  });

  test('initializing again → Error155106 (409)', async () => {
    await rejectsWith(
      client.createUserPinWithWallets({ userToken: u.userToken, blockchains: ['ETH-SEPOLIA'] }),
      Error155106, 155106, 409,
    );
  });

  test('createUserPin when the PIN is set → Error155107 (409)', async () => {
    await rejectsWith(client.createUserPin({ userToken: u.userToken }), Error155107, 155107, 409);
  });

  let changeId;
  test('updateUserPin → CHANGE_PIN; a wrong PIN → 155112, attemptsLeft 2, challenge IN_PROGRESS', async () => {
    changeId = await changePinChallenge(u);
    const c = await challenge(u, changeId);
    assert.equal(c.type, 'CHANGE_PIN');
    assert.equal(c.status, 'PENDING');

    const r = await exec(u, changeId, { pin: WRONG_PIN, newPin: PIN_B });
    assertExecError(r, 155112);
    assert.equal(r.json.attemptsLeft, 2, show(r));

    const after1 = await challenge(u, changeId);
    assert.equal(after1.status, 'IN_PROGRESS');
    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.pinDetails.failedAttempts, 1);
  });

  // latchkey deviates from Circle here (docs/security.md, "Guess limits"): a success gives back
  // only its own attempt, so failedAttempts counts wrong PINs since the last lock, not
  // consecutive ones. A reset would let guesses made during the user's entries go unlimited.
  test('the right PIN and a new PIN → COMPLETE; the earlier wrong PIN still counts', async () => {
    const r = await exec(u, changeId, { pin: currentPin, newPin: PIN_B });
    assertComplete(r, 'CHANGE_PIN');
    currentPin = PIN_B;
    assert.equal((await challenge(u, changeId)).status, 'COMPLETE');
    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.pinDetails.failedAttempts, 1);
  });

  test('executing the COMPLETE challenge again → 155122', async () => {
    const r = await exec(u, changeId, { pin: currentPin, newPin: PIN_C });
    assertExecError(r, 155122);
    assert.equal((await challenge(u, changeId)).status, 'COMPLETE');
  });

  test('on a fresh CHANGE_PIN the old PIN fails and the new one works', async () => {
    const id = await changePinChallenge(u);
    const old = await exec(u, id, { pin: PIN_A, newPin: PIN_C });
    assertExecError(old, 155112);
    const ok = await exec(u, id, { pin: currentPin, newPin: PIN_C });
    assertComplete(ok, 'CHANGE_PIN');
    currentPin = PIN_C;
  });
});

describe('recovery guide', () => {
  let u;
  let restoreId;

  before(async () => {
    u = await newUser(client, 'recover', { server, pin: PIN_A });
  });

  test('SET_PIN with questions set both the PIN and the questions', async () => {
    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.securityQuestionStatus, 'ENABLED');
  });

  test('restoreUserPin → RESTORE_PIN; wrong answers → 155115 with attemptsLeft 2', async () => {
    const res = await client.restoreUserPin({ userToken: u.userToken });
    assert.equal(res.status, 201);
    restoreId = res.data.challengeId;
    assert.equal((await challenge(u, restoreId)).type, 'RESTORE_PIN');

    const r = await exec(u, restoreId, { securityAnswers: ['Max', 'Paris'], newPin: PIN_B });
    assertExecError(r, 155115);
    assert.equal(r.json.attemptsLeft, 2, show(r));
    assert.equal((await challenge(u, restoreId)).status, 'IN_PROGRESS');
    const s = await status(u);
    assert.equal(s.securityQuestionDetails.failedAttempts, 1);
    assert.equal(s.pinStatus, 'ENABLED');
  });

  test('the right answers (any case, stray spaces) and a new PIN → COMPLETE', async () => {
    const r = await exec(u, restoreId, { securityAnswers: [' rex ', 'LYON'], newPin: PIN_B });
    assertComplete(r, 'RESTORE_PIN');
    assert.equal((await challenge(u, restoreId)).status, 'COMPLETE');
    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.securityQuestionStatus, 'ENABLED');
    // Wrong answers since the last lock (not consecutive ones, as Circle counts).
    assert.equal(s.securityQuestionDetails.failedAttempts, 1);
  });

  test('afterwards the new PIN works and the old one does not', async () => {
    const id = await changePinChallenge(u);
    assertExecError(await exec(u, id, { pin: PIN_A, newPin: PIN_C }), 155112);
    assertComplete(await exec(u, id, { pin: PIN_B, newPin: PIN_C }), 'CHANGE_PIN');
  });
});

describe('PIN lock', () => {
  let u;
  let lockedExpiry;

  before(async () => {
    u = await newUser(client, 'lock', { server, pin: PIN_A });
  });

  test('three wrong PINs: 155112, 155112, then 155119 with lockedExpiryDate; the challenge FAILS', async () => {
    const { challengeId, locked } = await lockPin(u);
    lockedExpiry = locked.json.lockedExpiryDate;
    assert.match(lockedExpiry ?? '', ISO_DATE, show(locked));
    const ahead = msFromNow(lockedExpiry);
    assert.ok(ahead > 60_000 && ahead <= 31 * 60_000, `lockedExpiryDate ${lockedExpiry} is not ~30 minutes ahead`);

    const c = await challenge(u, challengeId);
    assert.equal(c.status, 'FAILED');
    assert.equal(c.errorCode, 155119);
    assert.equal(typeof c.errorMessage, 'string');
  });

  test('getUserStatus: pinStatus LOCKED, failedAttempts 3, lock dates', async () => {
    const s = await status(u);
    assert.equal(s.pinStatus, 'LOCKED');
    assert.equal(s.pinDetails.failedAttempts, 3);
    assert.match(s.pinDetails.lockedDate ?? '', ISO_DATE);
    assert.equal(s.pinDetails.lockedExpiryDate, lockedExpiry);
    assert.equal(s.securityQuestionStatus, 'ENABLED');

    const locked = await client.listUsers({ pinStatus: 'LOCKED', pageSize: 50 });
    assert.ok(locked.data.users.some((x) => x.id === u.userId));
    assert.ok(locked.data.users.every((x) => x.pinStatus === 'LOCKED'));
  });

  test('while locked even the right PIN is refused with 155119', async () => {
    let id;
    try {
      id = await changePinChallenge(u);
    } catch (err) {
      // Refusing to open a PIN challenge while locked is acceptable too.
      assert.ok(err instanceof Error155119, `unexpected ${err?.code}: ${err?.message}`);
      return;
    }
    assertExecError(await exec(u, id, { pin: PIN_A, newPin: PIN_B }), 155119);
    assert.equal((await status(u)).pinStatus, 'LOCKED');
  });

  test('a RESTORE_PIN clears the lock', async () => {
    const res = await client.restoreUserPin({ userToken: u.userToken });
    const r = await exec(u, res.data.challengeId, { securityAnswers: ['Rex', 'Lyon'], newPin: PIN_B });
    assertComplete(r, 'RESTORE_PIN');
    const s = await status(u);
    assert.equal(s.pinStatus, 'ENABLED');
    assert.equal(s.pinDetails.failedAttempts, 0);
    assert.ok(!s.pinDetails.lockedExpiryDate || msFromNow(s.pinDetails.lockedExpiryDate) <= 0,
      `lock still reported: ${JSON.stringify(s.pinDetails)}`);
    const id = await changePinChallenge(u);
    assertComplete(await exec(u, id, { pin: PIN_B, newPin: PIN_C }), 'CHANGE_PIN');
  });
});

describe('preconditions and input rules', () => {
  test('updateUserPin without a PIN → Error155110 (400)', async () => {
    const u = await newUser(client, 'nopin');
    await rejectsWith(client.updateUserPin({ userToken: u.userToken }), Error155110, 155110, 400);
  });

  test('restoreUserPin without security questions → Error155111 (400)', async () => {
    const u = await newUser(client, 'noqs');
    await rejectsWith(client.restoreUserPin({ userToken: u.userToken }), Error155111, 155111, 400);
  });

  test('weak PINs → 155704, and the challenge stays open', async () => {
    const u = await newUser(client, 'weak');
    const { data: { challengeId } } = await client.createUserPin({ userToken: u.userToken });
    for (const weak of ['000000', '123456', '654321', '345678', '987654']) {
      const r = await exec(u, challengeId, { newPin: weak, securityQuestions: QUESTIONS });
      assertExecError(r, 155704);
    }
    // Not 6 digits at all: 155704, or the generic validation code 2 naming newPin.
    for (const malformed of ['12345', '1593570', '12a456']) {
      const r = await exec(u, challengeId, { newPin: malformed, securityQuestions: QUESTIONS });
      assert.equal(r.code, 1, show(r));
      assert.ok([155704, 2].includes(r.json?.code), show(r));
      if (r.json.code === 2) assert.match(JSON.stringify(r.json), /newPin/, show(r));
    }
    assert.equal((await status(u)).pinStatus, 'UNSET');
    assertComplete(await exec(u, challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS }), 'SET_PIN');
  });

  test('a hint equal to its answer → 155705; fewer than two questions → code 2', async () => {
    const u = await newUser(client, 'hint');
    const { data: { challengeId } } = await client.createUserPin({ userToken: u.userToken });
    const hinted = [{ ...QUESTIONS[0], hint: ' REX ' }, QUESTIONS[1]];
    assertExecError(await exec(u, challengeId, { newPin: PIN_A, securityQuestions: hinted }), 155705);
    assertExecError(await exec(u, challengeId, { newPin: PIN_A, securityQuestions: [QUESTIONS[0]] }), 2);
    assert.equal((await status(u)).securityQuestionStatus, 'UNSET');
  });

  test('CHANGE_PIN to the same PIN → code 2, no guess counted', async () => {
    const u = await newUser(client, 'same', { server, pin: PIN_A });
    const id = await changePinChallenge(u);
    assertExecError(await exec(u, id, { pin: PIN_A, newPin: PIN_A }), 2);
    assert.equal((await status(u)).pinDetails.failedAttempts, 0);
  });
});

describe('idempotency', () => {
  test('same idempotencyKey and same request → the same challenge (201, then 200)', async () => {
    const u = await newUser(client, 'idem');
    const idempotencyKey = randomUUID();
    const first = await client.createUserPinWithWallets({
      userToken: u.userToken, idempotencyKey, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA',
    });
    assert.equal(first.status, 201);
    const replay = await client.createUserPinWithWallets({
      userToken: u.userToken, idempotencyKey, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA',
    });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.data, first.data);

    const all = await client.listUserChallenges({ userToken: u.userToken });
    assert.equal(all.data.challenges.filter((c) => c.type === 'INITIALIZE').length, 1);
  });

  test('same idempotencyKey with another request → Error156020 (403)', async () => {
    const u = await newUser(client, 'idem2');
    const idempotencyKey = randomUUID();
    await client.createUserPinWithWallets({ userToken: u.userToken, idempotencyKey, blockchains: ['ETH-SEPOLIA'] });
    await rejectsWith(
      client.createUserPinWithWallets({ userToken: u.userToken, idempotencyKey, blockchains: ['AVAX-FUJI'] }),
      Error156020, 156020, 403,
    );
  });
});

describe('isolation', () => {
  test("a user's token cannot read or execute another user's challenge → 155116", async () => {
    const a = await newUser(client, 'alice');
    const b = await newUser(client, 'bobby');
    const { data: { challengeId } } = await client.createUserPin({ userToken: a.userToken });
    await rejectsWith(client.getUserChallenge({ userToken: b.userToken, challengeId }), Error155116, 155116, 404);
    assertExecError(await exec(b, challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS }), 155116);
    await rejectsWith(client.getUserChallenge({ userToken: a.userToken, challengeId: randomUUID() }), Error155116, 155116, 404);
    assert.equal((await challenge(a, challengeId)).status, 'PENDING');
  });

  test('the encryption key of another token → 155118, nothing counted', async () => {
    const u = await newUser(client, 'keys', { server, pin: PIN_A });
    const second = await client.createUserToken({ userId: u.userId });
    const id = await changePinChallenge(u);
    const mixed = { ...u, encryptionKey: second.data.encryptionKey };
    assertExecError(await exec(mixed, id, { pin: PIN_A, newPin: PIN_B }), 155118);
    const c = await challenge(u, id);
    assert.ok(['PENDING', 'IN_PROGRESS'].includes(c.status), c.status);
    assert.equal((await status(u)).pinDetails.failedAttempts, 0);
    // Each pair works on its own.
    assertComplete(await exec({ ...u, userToken: second.data.userToken, encryptionKey: second.data.encryptionKey },
      id, { pin: PIN_A, newPin: PIN_B }), 'CHANGE_PIN');
  });
});

describe('listUserChallenges', () => {
  test('lists the user\'s challenges, filtered by status', async () => {
    const u = await newUser(client, 'chlist', { server, pin: PIN_A });
    const setId = u.pinChallengeId;
    const changeId = await changePinChallenge(u);

    const all = await client.listUserChallenges({ userToken: u.userToken });
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.data), ['challenges']);
    const byId = Object.fromEntries(all.data.challenges.map((c) => [c.id, c]));
    assert.equal(byId[setId]?.status, 'COMPLETE');
    assert.equal(byId[setId]?.type, 'SET_PIN');
    assert.equal(byId[changeId]?.status, 'PENDING');
    assert.equal(byId[changeId]?.type, 'CHANGE_PIN');

    const pending = await client.listUserChallenges({ userToken: u.userToken, challengeStatus: 'PENDING' });
    assert.deepEqual(pending.data.challenges.map((c) => c.id), [changeId]);

    const inProgress = await client.listUserChallenges({ userToken: u.userToken, challengeStatus: 'IN_PROGRESS' });
    assert.deepEqual(inProgress.data.challenges, []);

    assertExecError(await exec(u, changeId, { pin: WRONG_PIN, newPin: PIN_B }), 155112);
    const nowInProgress = await client.listUserChallenges({ userToken: u.userToken, challengeStatus: 'IN_PROGRESS' });
    assert.deepEqual(nowInProgress.data.challenges.map((c) => c.id), [changeId]);
    const nonePending = await client.listUserChallenges({ userToken: u.userToken, challengeStatus: 'PENDING' });
    assert.deepEqual(nonePending.data.challenges, []);

    // Another user sees none of them.
    const other = await newUser(client, 'chlist2');
    assert.deepEqual((await client.listUserChallenges({ userToken: other.userToken })).data.challenges, []);
  });
});

describe('operator commands', () => {
  test('admin disable-user → 155109 on token creation and end-user calls; enable-user restores', async () => {
    const u = await newUser(client, 'disable');
    const off = await server.run(['admin', 'disable-user', '--user-id', u.userId]);
    assert.equal(off.code, 0, off.stderr);

    await rejectsWith(client.createUserToken({ userId: u.userId }), Error155109, 155109, 409);
    await rejectsWith(client.getUserStatus({ userToken: u.userToken }), Error155109, 155109, 409);
    assert.equal((await client.getUser({ userId: u.userId })).data.user.status, 'DISABLED');

    const on = await server.run(['admin', 'enable-user', '--user-id', u.userId]);
    assert.equal(on.code, 0, on.stderr);
    const token = await client.createUserToken({ userId: u.userId });
    assert.ok(token.data.userToken);
    assert.equal((await client.getUser({ userId: u.userId })).data.user.status, 'ENABLED');
    assert.equal((await status(u)).status, 'ENABLED');
  });

  describe('a locked user, unlocked by the operator, and the audit log', () => {
    let u;

    before(async () => {
      u = await newUser(client, 'unlock', { server, pin: PIN_A });
      await lockPin(u);
    });

    test('admin unlock --pin lifts the lock and records lastLockOverrideDate', async () => {
      assert.equal((await status(u)).pinStatus, 'LOCKED');
      const out = await server.run(['admin', 'unlock', '--user-id', u.userId, '--pin']);
      assert.equal(out.code, 0, out.stderr);

      const s = await status(u);
      assert.equal(s.pinStatus, 'ENABLED');
      assert.equal(s.pinDetails.failedAttempts, 0);
      assert.match(s.pinDetails.lastLockOverrideDate ?? '', ISO_DATE, JSON.stringify(s.pinDetails));
      assert.ok(Math.abs(msFromNow(s.pinDetails.lastLockOverrideDate)) < 5 * 60_000);

      const id = await changePinChallenge(u);
      assertComplete(await exec(u, id, { pin: PIN_A, newPin: PIN_B }), 'CHANGE_PIN');
    });

    test('admin audit prints JSON lines with no PIN, answer or token', async () => {
      const out = await server.run(['admin', 'audit', '--user-id', u.userId]);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      assert.ok(lines.length >= 3, `expected the user's events, got:\n${out.stdout}`);
      for (const line of lines) {
        const event = JSON.parse(line);
        assert.equal(typeof event, 'object');
        assert.equal(typeof event.action, 'string', line);
      }
      const text = out.stdout + out.stderr;
      for (const pin of ALL_PINS) assert.ok(!text.includes(pin), `the audit log contains PIN ${pin}`);
      assert.ok(!text.includes(u.userToken), 'the audit log contains the userToken');
      assert.ok(!text.includes(u.userToken.split('.')[2]), 'the audit log contains the token signature');
      assert.ok(!text.includes(u.encryptionKey), 'the audit log contains the encryption key');
      assert.doesNotMatch(text, /\b(rex|lyon)\b/i, 'the audit log contains a security answer');
    });
  });
});
