// The sample app's developer console (--dev): a user + token and each challenge in one click;
// the page's input rules as the user types (155704 weak PIN, 155703 mismatch, 155705 hint =
// answer); and "Forgot PIN?" wired through setOnForgotPin to a RESTORE_PIN challenge. The
// developer side checks each challenge with Circle's official Node SDK.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { PIN_A, PIN_B } from '../../compat/lib/users.js';
import {
  chooseNewPin, enterPin, launchBrowser, pw, pwText, record, sampleResult, shot, typePin, waitScreen,
} from '../lib/browser.js';

const MSG_155703 = 'The code you entered is not the same as the first one.';
const MSG_155704 = "Your PIN can't have repeating or consecutive numbers.";
const MSG_155705 = "Your hint can't be the same as the answer.";
const CUSTOM_QUESTION = 'Who was your <b>favourite</b> teacher?';

let server;
let client;
let browser;
let page;
let rec;
let user = {}; // filled from the console: { userId, userToken, encryptionKey }

async function challenge(challengeId) {
  const res = await client.getUserChallenge({ userToken: user.userToken, challengeId });
  return res.data.challenge;
}

/** Picks a challenge type in the console, creates it, returns its id (from the filled field). */
async function createChallenge(type) {
  const before = await page.locator('#challenge-id').inputValue();
  await page.locator('#dev-challenge-type').selectOption(type);
  await page.locator('#dev-create-challenge').click();
  await page.locator('#dev-status', { hasText: `Created a ${type} challenge` }).waitFor();
  const id = await page.locator('#challenge-id').inputValue();
  assert.notEqual(id, before);
  return id;
}

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  rec = record(page);
  await page.goto(`${server.baseUrl}/sample/`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('developer console of the sample app', () => {
  test('shown in --dev; "Create user + token" fills App ID, User Token and Encryption Key', async () => {
    await page.locator('#dev-console').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#app-id').inputValue(), '');
    await page.locator('#dev-create-user').click();
    await page.locator('#dev-status', { hasText: 'Created user' }).waitFor();
    user = {
      userId: await page.locator('#dev-user-id').inputValue(),
      userToken: await page.locator('#user-token').inputValue(),
      encryptionKey: await page.locator('#encryption-key').inputValue(),
    };
    assert.equal(await page.locator('#app-id').inputValue(), server.appId);
    assert.ok(user.userId, 'a generated user id');
    assert.match(user.userToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(Buffer.from(user.encryptionKey, 'base64').length, 32);
    assert.equal(await page.locator('#challenge-id').inputValue(), '');

    // The official SDK sees the user, and the token works for it.
    const got = await client.getUser({ userId: user.userId });
    assert.equal(got.data.user.id, user.userId);
    const status = await client.getUserStatus({ userToken: user.userToken });
    assert.equal(status.data.id, user.userId);
    assert.equal(status.data.pinStatus, 'UNSET');
  });

  test('"Create challenge" makes an INITIALIZE challenge and fills Challenge ID', async () => {
    assert.equal(await page.locator('#dev-challenge-type').inputValue(), 'INITIALIZE');
    const id = await createChallenge('INITIALIZE');
    const ch = await challenge(id);
    assert.equal(ch.type, 'INITIALIZE');
    assert.equal(ch.status, 'PENDING');
    await shot(page, 'dev-console-filled');
  });

  test('new PIN: the 155704 message appears as the user types a repeating or consecutive PIN', async () => {
    await page.locator('#execute').click();
    await waitScreen(page, 'new-pin');
    for (const weak of ['111111', '123456', '654321', '345678', '987654']) {
      const input = pw(page).locator('#new-pin');
      await input.fill('');
      await input.pressSequentially(weak.slice(0, 5));
      assert.equal(await pwText(page, '#step-error'), '', `no message before the 6th digit of ${weak}`);
      await input.pressSequentially(weak.slice(5));
      assert.equal(await pwText(page, '#step-error'), MSG_155704, weak);
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
    }
    await shot(page, 'rule-155704-weak-pin');
    // Continue is refused.
    await pw(page).locator('#new-pin-submit').click();
    await waitScreen(page, 'new-pin');
    // Letters are dropped, a good PIN clears the message.
    await typePin(page, 'new-pin', `15a9b357`);
    assert.equal(await pw(page).locator('#new-pin').inputValue(), PIN_A);
    assert.equal(await pwText(page, '#step-error'), '');
    await pw(page).locator('#new-pin-submit').click();
  });

  test('confirm PIN: the 155703 message appears as soon as the 6 digits differ', async () => {
    await waitScreen(page, 'confirm-pin');
    await typePin(page, 'confirm-pin', '159358');
    assert.equal(await pwText(page, '#step-error'), MSG_155703);
    await shot(page, 'rule-155703-mismatch');
    await pw(page).locator('#confirm-pin-submit').click();
    await waitScreen(page, 'confirm-pin');
    assert.equal(await pw(page).locator('#confirm-pin').inputValue(), '', 'cleared for a fresh try');
    assert.equal(await pwText(page, '#step-error'), MSG_155703);
    await typePin(page, 'confirm-pin', PIN_A);
    assert.equal(await pwText(page, '#step-error'), '');
    await pw(page).locator('#confirm-pin-submit').click();
  });

  test('questions: a hint equal to the answer shows the 155705 message; own question as text', async () => {
    await waitScreen(page, 'questions');
    await pw(page).locator('#question-0').selectOption('custom');
    await pw(page).locator('#custom-question-0').waitFor({ state: 'visible' });
    await pw(page).locator('#custom-question-0').fill(CUSTOM_QUESTION);
    await pw(page).locator('#answer-0').fill('Miss Honey');
    await pw(page).locator('#hint-0').pressSequentially('  miss   HONEY ');
    assert.equal(await pwText(page, '#hint-error-0'), MSG_155705);
    assert.equal(await pw(page).locator('#hint-0').getAttribute('aria-invalid'), 'true');
    // Changing the answer re-checks the hint.
    await pw(page).locator('#answer-0').fill('Mr Keating');
    assert.equal(await pwText(page, '#hint-error-0'), '');
    await pw(page).locator('#answer-0').fill('Miss Honey');
    assert.equal(await pwText(page, '#hint-error-0'), MSG_155705);
    await pw(page).locator('#question-1').selectOption({ index: 2 });
    await pw(page).locator('#answer-1').fill('Quokka Meadow');
    await shot(page, 'rule-155705-hint');
    await pw(page).locator('#questions-submit').click();
    await waitScreen(page, 'questions'); // refused
    await pw(page).locator('#hint-0').fill('Matilda');
    assert.equal(await pwText(page, '#hint-error-0'), '');
    await pw(page).locator('#questions-submit').click();

    await waitScreen(page, 'security-confirm');
    // Markup typed by the user is shown as text, not run.
    assert.ok((await pwText(page, '#summary')).includes(CUSTOM_QUESTION));
    assert.equal(await pw(page).locator('#summary b').count(), 0);
    await pw(page).locator('#ack').check();
    await pw(page).locator('#security-confirm-submit').click();

    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'INITIALIZE', status: 'COMPLETE', data: {} } });
    const id = await page.locator('#challenge-id').inputValue();
    const ch = await challenge(id);
    assert.equal(ch.status, 'COMPLETE');
    assert.equal(ch.type, 'INITIALIZE');
    // The console points at the next step.
    assert.equal(await page.locator('#dev-challenge-type').inputValue(), 'RESTORE_PIN');
  });

  test('"Forgot PIN?" on a CHANGE_PIN reaches setOnForgotPin: the app opens a RESTORE_PIN over it', async () => {
    const changeId = await createChallenge('CHANGE_PIN');
    await page.locator('#execute').click();
    await waitScreen(page, 'enter-pin');
    await pw(page).locator('#forgot-pin').click();

    // The sample app's callback created a RESTORE_PIN challenge and executed it, replacing the page.
    await page.locator('#dev-status', { hasText: 'Forgot PIN: created a RESTORE_PIN challenge.' }).waitFor();
    const restoreId = await page.locator('#challenge-id').inputValue();
    assert.notEqual(restoreId, changeId);
    await waitScreen(page, 'answers');
    assert.equal(await page.locator('iframe#latchkey-iframe').count(), 1);
    assert.equal(await pwText(page, '#recover-question-0'), CUSTOM_QUESTION);
    assert.equal(await pwText(page, '#recover-hint-0'), 'Hint: Matilda');
    assert.equal((await challenge(restoreId)).type, 'RESTORE_PIN');
    assert.equal((await challenge(changeId)).status, 'IN_PROGRESS', 'the CHANGE_PIN is left open');

    // A wrong answer first: attempts left are shown, the answers are asked again.
    await pw(page).locator('#recover-answer-0').fill('Miss Trunchbull');
    await pw(page).locator('#recover-answer-1').fill('Quokka Meadow');
    await pw(page).locator('#answers-submit').click();
    await chooseNewPin(page, PIN_B);
    await waitScreen(page, 'answers');
    assert.equal(await pwText(page, '#step-error'), 'Those answers are not correct.');
    assert.equal(await pwText(page, '#attempts-left'), '2 attempts left before your answers are locked.');
    await shot(page, 'restore-wrong-answers');

    await pw(page).locator('#recover-answer-0').fill('miss honey');
    await pw(page).locator('#recover-answer-1').fill('QUOKKA MEADOW');
    await pw(page).locator('#answers-submit').click(); // the new PIN is kept: submitted now
    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'RESTORE_PIN', status: 'COMPLETE', data: {} } });
    assert.equal((await challenge(restoreId)).status, 'COMPLETE');
    const st = await client.getUserStatus({ userToken: user.userToken });
    assert.equal(st.data.pinStatus, 'ENABLED');
    // The wrong answers still count: wrong guesses since the last lock (docs/security.md).
    assert.equal(st.data.securityQuestionDetails.failedAttempts, 1);
  });

  test('a CHANGE_PIN with the restored PIN → COMPLETE', async () => {
    const id = await createChallenge('CHANGE_PIN');
    await page.locator('#execute').click();
    await enterPin(page, PIN_B);
    await chooseNewPin(page, PIN_A);
    const out = await sampleResult(page);
    assert.equal(out.result?.status, 'COMPLETE', JSON.stringify(out));
    assert.equal((await challenge(id)).status, 'COMPLETE');
  });

  test('nothing secret in URLs or the console; execute bodies are encrypted only', () => {
    const secrets = [PIN_A, PIN_B, 'Miss Honey', 'miss honey', 'Quokka Meadow', 'Miss Trunchbull', user.userToken, user.encryptionKey];
    for (const r of rec.requests) {
      for (const s of secrets) assert.ok(!decodeURIComponent(r.url).includes(s), `secret in ${r.url}`);
      if (/\/execute$/.test(new URL(r.url).pathname)) {
        assert.deepEqual(Object.keys(JSON.parse(r.postData)), ['encrypted']);
      }
      for (const s of secrets.slice(0, 5)) assert.ok(!(r.postData ?? '').includes(s), `plaintext in ${r.url}`);
    }
    for (const m of rec.console) for (const s of secrets) assert.ok(!m.text.includes(s), m.text);
    assert.deepEqual(rec.errors, []);
  });
});
