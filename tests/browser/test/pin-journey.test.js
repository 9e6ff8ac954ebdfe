// The whole PIN journey of one user, through the sample app (/sample/), the web SDK's overlay
// and the hosted page (/pw/) in Chromium, with the developer side on Circle's official Node
// SDK: INITIALIZE (PIN + security questions) → CHANGE_PIN → three wrong PINs and the lock →
// RESTORE_PIN with the answers. Every request, console message and the web storage are
// recorded and checked for secrets. Screenshots of each step go to screenshots/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { newUser, PIN_A, PIN_B } from '../../compat/lib/users.js';
import {
  chooseNewPin, enterPin, fillSample, launchBrowser, LOCALE, pw, pwText, record, sampleResult, shot, TIMEZONE, typePin, waitScreen,
} from '../lib/browser.js';

// PINs with no digit repeated throughout and no run of consecutive digits (and PIN_A, PIN_B).
const WRONG_PIN = '842915';
const PIN_D = '946172';
const PIN_TYPO = '370415'; // the new PIN typed during the failed CHANGE_PIN
const PINS = [PIN_A, PIN_B, WRONG_PIN, PIN_D, PIN_TYPO];

// Long, distinctive answers: a short one could turn up by chance inside base64 ciphertext.
const ANSWERS = ['Pumpernickel Whiskerton', 'Vladivostok Harbourside'];
const HINT = 'a bread and a cat';

let server;
let client;
let browser;
let page;
let rec;
let user; // { userId, userToken, encryptionKey }
let questions = []; // the two questions picked at INITIALIZE
const storageSnapshots = []; // web storage of the app and the hosted page, mid-flow
const frameUrls = new Set();

function secrets() {
  return [...PINS, ...ANSWERS, ...ANSWERS.map((a) => a.toLowerCase()), user.userToken, user.encryptionKey,
    encodeURIComponent(user.encryptionKey)];
}

async function challenge(challengeId) {
  const res = await client.getUserChallenge({ userToken: user.userToken, challengeId });
  return res.data.challenge;
}

async function userStatus() {
  const res = await client.getUserStatus({ userToken: user.userToken });
  return res.data;
}

/** Web storage of the sample app and of the hosted page (while it is open). */
async function snapshotStorage(label) {
  const read = () => ({
    local: Object.fromEntries(Object.entries(window.localStorage)),
    session: Object.fromEntries(Object.entries(window.sessionStorage)),
  });
  const snap = { label, app: await page.evaluate(read) };
  const frame = page.frames().find((f) => f.url().includes('/pw/'));
  if (frame) snap.pw = await frame.evaluate(read);
  storageSnapshots.push(snap);
}

/** Opens challenge `challengeId` from the sample app (the other three fields stay filled). */
async function executeInSample(challengeId) {
  await fillSample(page, { appId: server.appId, userToken: user.userToken, encryptionKey: user.encryptionKey, challengeId });
  await page.locator('#execute').click();
  await page.locator('iframe#latchkey-iframe').waitFor({ state: 'attached' });
}

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  user = await newUser(client, 'browser');

  browser = await launchBrowser();
  page = await browser.context.newPage();
  rec = record(page);
  page.on('framenavigated', (f) => frameUrls.add(f.url()));
  await page.goto(`${server.baseUrl}/sample/`);
  await page.locator('body[data-state="idle"]').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('PIN journey through the sample app', () => {
  test('INITIALIZE: PIN, PIN again, two security questions, acknowledgement → COMPLETE', async () => {
    const res = await client.createUserPinWithWallets({
      userToken: user.userToken, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA',
    });
    const challengeId = res.data.challengeId;
    assert.equal((await challenge(challengeId)).status, 'PENDING');

    await fillSample(page, { appId: server.appId, userToken: user.userToken, encryptionKey: user.encryptionKey, challengeId });
    await shot(page, '01-sample-filled');
    await page.locator('#execute').click();
    assert.equal(await page.locator('body').getAttribute('data-state'), 'running');

    await waitScreen(page, 'new-pin');
    assert.equal(await pwText(page, 'h1'), 'Create your PIN');
    assert.equal(await pw(page).locator('#new-pin').getAttribute('type'), 'password');
    await typePin(page, 'new-pin', PIN_A);
    assert.equal(await pw(page).locator('.dot.on').count(), 6);
    assert.equal(await pwText(page, '#step-error'), '');
    await shot(page, '02-initialize-new-pin', { top: true });
    await pw(page).locator('#new-pin-submit').click();

    await waitScreen(page, 'confirm-pin');
    await typePin(page, 'confirm-pin', PIN_A);
    await shot(page, '03-initialize-confirm-pin');
    await pw(page).locator('#confirm-pin-submit').click();

    await waitScreen(page, 'questions');
    // Pick two questions from the server's list (options 0 and 1 are the placeholder and the first).
    const options = await pw(page).locator('#question-0 option').allTextContents();
    assert.ok(options.length >= 4, `question list: ${JSON.stringify(options)}`);
    await pw(page).locator('#question-0').selectOption({ index: 1 });
    await pw(page).locator('#question-1').selectOption({ index: 3 });
    questions = [options[1], options[3]];
    // A question taken by the first select is disabled in the second.
    assert.equal(await pw(page).locator('#question-1 option[value="q:0"]').isDisabled(), true);
    await pw(page).locator('#answer-0').fill(ANSWERS[0]);
    await pw(page).locator('#hint-0').fill(HINT);
    await pw(page).locator('#answer-1').fill(ANSWERS[1]);
    await shot(page, '04-initialize-questions', { top: true });
    await pw(page).locator('#questions-submit').click();

    await waitScreen(page, 'security-confirm');
    const summary = await pwText(page, '#summary');
    assert.ok(summary.includes(questions[0]) && summary.includes(questions[1]) && summary.includes(HINT), summary);
    assert.ok(!summary.includes(ANSWERS[0]) && !summary.includes(ANSWERS[1]), 'the summary shows no answer');
    // Confirming without the acknowledgement is refused.
    await pw(page).locator('#security-confirm-submit').click();
    assert.match(await pwText(page, '#step-error'), /Tick the box/);
    await pw(page).locator('#ack').check();
    await shot(page, '05-initialize-acknowledge');
    await snapshotStorage('initialize, before submit');
    await pw(page).locator('#security-confirm-submit').click();

    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'INITIALIZE', status: 'COMPLETE', data: {} } });
    assert.equal(await page.locator('body').getAttribute('data-state'), 'done');
    await shot(page, '06-sample-result-initialize', { fullPage: true });

    const ch = await challenge(challengeId);
    assert.equal(ch.status, 'COMPLETE');
    assert.equal(ch.type, 'INITIALIZE');
    const st = await userStatus();
    assert.equal(st.pinStatus, 'ENABLED');
    assert.equal(st.securityQuestionStatus, 'ENABLED');
  });

  test('CHANGE_PIN: current PIN, new PIN twice → COMPLETE', async () => {
    const res = await client.updateUserPin({ userToken: user.userToken });
    const challengeId = res.data.challengeId;
    await executeInSample(challengeId);

    await waitScreen(page, 'enter-pin');
    assert.equal(await pwText(page, 'h1'), 'Enter your current PIN');
    assert.equal(await pwText(page, '#attempts-left'), '', 'no attempts notice before a wrong PIN');
    assert.equal(await pw(page).locator('#forgot-pin').isVisible(), true, 'the sample app sets setOnForgotPin');
    await typePin(page, 'pin', PIN_A);
    await shot(page, '07-change-pin-current', { top: true });
    // Show / hide.
    await pw(page).locator('#pin-toggle').click();
    assert.equal(await pw(page).locator('#pin').getAttribute('type'), 'text');
    await pw(page).locator('#pin-toggle').click();
    assert.equal(await pw(page).locator('#pin').getAttribute('type'), 'password');
    await pw(page).locator('#enter-pin-submit').click();

    await waitScreen(page, 'new-pin');
    assert.equal(await pwText(page, 'h1'), 'Create a new PIN');
    // The same PIN as the current one is refused as the user types.
    await typePin(page, 'new-pin', PIN_A);
    assert.equal(await pwText(page, '#step-error'), 'Your new PIN must be different from your current PIN.');
    await typePin(page, 'new-pin', PIN_B);
    assert.equal(await pwText(page, '#step-error'), '');
    await pw(page).locator('#new-pin-submit').click();

    await waitScreen(page, 'confirm-pin');
    assert.equal(await pwText(page, 'h1'), 'Confirm your new PIN');
    await typePin(page, 'confirm-pin', PIN_B);
    await snapshotStorage('change pin, before submit');
    await pw(page).locator('#confirm-pin-submit').click();

    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'CHANGE_PIN', status: 'COMPLETE', data: {} } });
    const ch = await challenge(challengeId);
    assert.equal(ch.status, 'COMPLETE');
    assert.equal(ch.type, 'CHANGE_PIN');
  });

  test('CHANGE_PIN with a wrong PIN three times: attempts left 2, 1, then the lock screen → FAILED 155119, LOCKED', async () => {
    const res = await client.updateUserPin({ userToken: user.userToken });
    const challengeId = res.data.challengeId;
    await executeInSample(challengeId);

    await enterPin(page, WRONG_PIN);
    await chooseNewPin(page, PIN_TYPO);

    // 1st wrong guess: back to the PIN, the rest kept.
    await waitScreen(page, 'enter-pin');
    assert.equal(await pwText(page, '#step-error'), 'That PIN is not correct.');
    assert.equal(await pwText(page, '#attempts-left'), '2 attempts left before your PIN is locked.');
    assert.equal(await pw(page).locator('#pin').inputValue(), '', 'the wrong PIN is cleared');
    assert.equal(await pw(page).locator('#pin').getAttribute('aria-invalid'), 'true');
    await shot(page, '08-wrong-pin-2-left');
    let ch = await challenge(challengeId);
    assert.equal(ch.status, 'IN_PROGRESS');

    // 2nd: submitted straight from the PIN screen (the new PIN is kept).
    await typePin(page, 'pin', WRONG_PIN);
    await pw(page).locator('#enter-pin-submit').click();
    await waitScreen(page, 'enter-pin');
    await pw(page).locator('#attempts-left', { hasText: '1 attempt left' }).waitFor();
    assert.equal(await pwText(page, '#attempts-left'), '1 attempt left before your PIN is locked.');
    await shot(page, '09-wrong-pin-1-left');

    // 3rd: locked.
    await typePin(page, 'pin', WRONG_PIN);
    await pw(page).locator('#enter-pin-submit').click();
    await waitScreen(page, 'locked');
    assert.equal(await pwText(page, 'h1'), 'Your PIN is locked');
    const until = pw(page).locator('#locked-until');
    const iso = await until.getAttribute('datetime');
    const shown = (await until.textContent()).replace(/\s/g, ' ');
    await shot(page, '10-pin-locked', { top: true });

    ch = await challenge(challengeId);
    assert.equal(ch.status, 'FAILED');
    assert.equal(ch.errorCode, 155119);
    const st = await userStatus();
    assert.equal(st.pinStatus, 'LOCKED');
    assert.equal(st.pinDetails.failedAttempts, 3);
    const lockedUntil = new Date(st.pinDetails.lockedExpiryDate);
    assert.equal(new Date(iso).getTime(), lockedUntil.getTime(), `datetime=${iso} vs ${st.pinDetails.lockedExpiryDate}`);
    const minutes = (lockedUntil.getTime() - Date.now()) / 60000;
    assert.ok(minutes > 25 && minutes <= 31, `locked for ${minutes} minutes`);
    // Shown in the browser's local time (Asia/Tokyo, UTC+9), not in UTC.
    const local = new Intl.DateTimeFormat(LOCALE, { timeStyle: 'short', timeZone: TIMEZONE }).format(lockedUntil).replace(/\s/g, ' ');
    const utc = new Intl.DateTimeFormat(LOCALE, { timeStyle: 'short', timeZone: 'UTC' }).format(lockedUntil).replace(/\s/g, ' ');
    assert.ok(shown.includes(local), `lock screen shows "${shown}", local time is "${local}"`);
    assert.ok(!shown.includes(utc), `lock screen shows UTC "${utc}"`);
    assert.match(shown, /in 30 minutes|in 29 minutes/);

    // Closing reports 155119 with the lock's end to the app.
    await pw(page).locator('#close').click();
    const out = await sampleResult(page);
    assert.equal(await page.locator('body').getAttribute('data-state'), 'failed');
    assert.equal(out.error.code, 155119);
    assert.equal(new Date(out.error.lockedExpiryDate).getTime(), lockedUntil.getTime());
    await shot(page, '11-sample-result-locked', { fullPage: true });
  });

  test('a new CHANGE_PIN while locked opens on the lock screen', async () => {
    const res = await client.updateUserPin({ userToken: user.userToken }).catch((e) => e);
    if (!res?.data?.challengeId) {
      // Refusing to create a PIN challenge while locked is acceptable too (docs/protocol.md).
      assert.equal(res?.code, 155119, String(res));
      return;
    }
    await executeInSample(res.data.challengeId);
    await waitScreen(page, 'locked');
    assert.ok(await pw(page).locator('#locked-until').getAttribute('datetime'));
    await pw(page).locator('#close').click();
    const out = await sampleResult(page);
    assert.equal(out.error.code, 155119);
    assert.equal(typeof out.error.lockedExpiryDate, 'string');
  });

  test('RESTORE_PIN: the answers (differently typed), new PIN twice → COMPLETE, PIN ENABLED again', async () => {
    const res = await client.restoreUserPin({ userToken: user.userToken });
    const challengeId = res.data.challengeId;
    await executeInSample(challengeId);

    await waitScreen(page, 'answers');
    assert.equal(await pwText(page, '#recover-question-0'), questions[0]);
    assert.equal(await pwText(page, '#recover-question-1'), questions[1]);
    assert.equal(await pwText(page, '#recover-hint-0'), `Hint: ${HINT}`);
    assert.equal(await pw(page).locator('#recover-hint-1').count(), 0);
    // Empty answers are refused on the page.
    await pw(page).locator('#answers-submit').click();
    assert.equal(await pwText(page, '#step-error'), 'Enter an answer.');
    // Normalised like the server does: case and spaces do not matter.
    await pw(page).locator('#recover-answer-0').fill(`  ${ANSWERS[0].toUpperCase().replace(' ', '   ')} `);
    await pw(page).locator('#recover-answer-1').fill(ANSWERS[1].toLowerCase());
    await shot(page, '12-restore-answers');
    await pw(page).locator('#answers-submit').click();

    await waitScreen(page, 'new-pin');
    await typePin(page, 'new-pin', PIN_D);
    await shot(page, '13-restore-new-pin');
    await pw(page).locator('#new-pin-submit').click();
    await waitScreen(page, 'confirm-pin');
    await typePin(page, 'confirm-pin', PIN_D);
    await snapshotStorage('restore pin, before submit');
    await pw(page).locator('#confirm-pin-submit').click();

    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'RESTORE_PIN', status: 'COMPLETE', data: {} } });
    assert.equal(await page.locator('#dev-status').textContent(), 'RESTORE_PIN complete.');
    await shot(page, '14-sample-result-restore', { fullPage: true });
    const ch = await challenge(challengeId);
    assert.equal(ch.status, 'COMPLETE');
    assert.equal(ch.type, 'RESTORE_PIN');
    const st = await userStatus();
    assert.equal(st.pinStatus, 'ENABLED');
    assert.equal(st.pinDetails.failedAttempts, 0);
    assert.equal(st.pinDetails.lockedExpiryDate ?? null, null);
  });

  test('the restored PIN works: CHANGE_PIN with it → COMPLETE', async () => {
    const res = await client.updateUserPin({ userToken: user.userToken });
    const challengeId = res.data.challengeId;
    await executeInSample(challengeId);
    await enterPin(page, PIN_D);
    await chooseNewPin(page, PIN_A);
    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'CHANGE_PIN', status: 'COMPLETE', data: {} } });
    assert.equal((await challenge(challengeId)).status, 'COMPLETE');
  });

  // ── What the browser saw during all of the above ──────────────────────────────────────
  test('no PIN, answer, userToken or encryptionKey in any URL', () => {
    assert.ok(rec.requests.length > 10, `recorded ${rec.requests.length} requests`);
    const urls = [...rec.requests.map((r) => r.url), ...frameUrls];
    assert.ok(urls.some((u) => u.includes('/pw/')), 'the hosted page was loaded');
    for (const url of urls) {
      const decoded = decodeURIComponent(url);
      for (const s of secrets()) {
        assert.ok(!url.includes(s) && !decoded.includes(s), `secret in URL ${url}`);
      }
    }
  });

  test('bodies POSTed to /execute are only {"encrypted": base64}; no plaintext anywhere in a request', () => {
    const executes = rec.requests.filter((r) => r.method === 'POST' && /\/v1\/w3s\/sdk\/challenges\/[^/]+\/execute$/.test(new URL(r.url).pathname));
    // INITIALIZE, CHANGE_PIN, 3 wrong PINs, RESTORE_PIN, CHANGE_PIN.
    assert.equal(executes.length, 7, executes.map((r) => r.url).join('\n'));
    for (const r of executes) {
      const body = JSON.parse(r.postData);
      assert.deepEqual(Object.keys(body), ['encrypted'], r.postData);
      assert.match(body.encrypted, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.ok(Buffer.from(body.encrypted, 'base64').length >= 12 + 16 + 10, 'nonce ‖ ciphertext ‖ tag');
      assert.equal(r.headers['x-user-token'], user.userToken, 'the token goes in a header');
      assert.equal(r.headers['x-app-id'], server.appId);
    }
    for (const r of rec.requests) {
      const where = `${r.method} ${r.url}`;
      for (const s of [...PINS, ...ANSWERS, ...ANSWERS.map((a) => a.toLowerCase()), user.encryptionKey]) {
        assert.ok(!(r.postData ?? '').includes(s), `plaintext secret in the body of ${where}`);
        for (const [name, value] of Object.entries(r.headers)) {
          assert.ok(!value.includes(s), `secret in header ${name} of ${where}`);
        }
      }
    }
  });

  test('the console never shows a PIN, an answer, the token or the key; no page errors', () => {
    for (const m of rec.console) {
      for (const s of secrets()) assert.ok(!m.text.includes(s), `secret in console ${m.type}: ${m.text}`);
    }
    assert.deepEqual(rec.errors, []);
  });

  test('localStorage, sessionStorage and cookies hold no secret', async () => {
    assert.equal(storageSnapshots.length, 3);
    for (const snap of storageSnapshots) {
      assert.ok(snap.pw, `hosted page open at "${snap.label}"`);
      const text = JSON.stringify(snap);
      for (const s of secrets()) assert.ok(!text.includes(s), `secret in web storage at ${snap.label}: ${text}`);
      assert.deepEqual(snap.pw, { local: {}, session: {} }, `hosted page storage at ${snap.label}`);
    }
    const cookies = JSON.stringify(await browser.context.cookies());
    for (const s of secrets()) assert.ok(!cookies.includes(s), 'secret in a cookie');
  });
});
