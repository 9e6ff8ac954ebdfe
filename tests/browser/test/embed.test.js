// A third-party app on another origin (a tiny page served here by node:http) imports
// <server>/sdk/w3s.js and embeds the hosted page: setOnForgotPin reports "Forgot PIN?" (with
// and without closing the page), the × button cancels with 155701, a whole CHANGE_PIN works
// across origins, and the page refuses a parent it was not told about or one that the
// server's frame-ancestors does not allow.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { executeChallenge } from '../../../sdk/js/headless.js';
import { startServer } from '../lib/server.js';
import { newUser, PIN_A, PIN_B } from '../../compat/lib/users.js';
import {
  chooseNewPin, enterPin, launchBrowser, pw, pwText, record, shot, waitScreen,
} from '../lib/browser.js';

let server;
let client;
let browser;
let app; // { port, close() }
let user;

/** The third-party page: imports the SDK from the latchkey server, exposes helpers to the test. */
function appHtml(baseUrl) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Third-party wallet app</title></head>
<body>
<h1>Third-party wallet app</h1>
<p>Embeds latchkey's hosted page with <code>${baseUrl}/sdk/w3s.js</code>.</p>
<script type="module">
import { W3SSdk } from '${baseUrl}/sdk/w3s.js';
window.events = [];
window.run = ({ appId, userToken, encryptionKey, challengeId, forgot }) => {
  const sdk = new W3SSdk({ appSettings: { appId }, authentication: { userToken, encryptionKey } });
  if (forgot) sdk.setOnForgotPin(() => window.events.push({ forgotPin: true }), forgot === 'close');
  // JSON round trip: an undefined argument leaves no key.
  sdk.execute(challengeId, (error, result) => window.events.push(JSON.parse(JSON.stringify({ error, result }))));
  window.sdk = sdk;
  return sdk.serviceUrl;
};
window.frameWithOrigin = (origin) => {
  const f = document.createElement('iframe');
  f.id = 'latchkey-iframe';
  f.src = '${baseUrl}/pw/#origin=' + encodeURIComponent(origin);
  f.style.width = '420px';
  f.style.height = '400px';
  document.body.append(f);
};
window.sdkLoaded = true;
</script>
</body>
</html>`;
}

/** Serves the app page on 127.0.0.1 and [::1] (same port), loopback only. */
async function startApp(baseUrl) {
  const handler = (req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(appHtml(baseUrl));
  };
  const v4 = http.createServer(handler);
  await new Promise((resolve, reject) => v4.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = v4.address();
  const v6 = http.createServer(handler);
  await new Promise((resolve, reject) => v6.listen(port, '::1', resolve).once('error', reject));
  return {
    port,
    close: () => Promise.all([v4, v6].map((s) => new Promise((resolve) => {
      s.closeAllConnections?.();
      s.close(() => resolve());
    }))),
  };
}

async function openApp(host) {
  const page = await browser.context.newPage();
  const rec = record(page);
  await page.goto(`http://${host}:${app.port}/`);
  await page.waitForFunction(() => window.sdkLoaded === true);
  return { page, rec };
}

async function changePinChallenge() {
  const res = await client.updateUserPin({ userToken: user.userToken });
  return res.data.challengeId;
}

function params(challengeId, forgot) {
  return { appId: server.appId, userToken: user.userToken, encryptionKey: user.encryptionKey, challengeId, forgot };
}

const events = (page) => page.evaluate(() => window.events);

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  user = await newUser(client, 'embed');
  // Set the PIN and questions without a browser, with the headless executor.
  const init = await client.createUserPinWithWallets({ userToken: user.userToken, blockchains: ['ETH-SEPOLIA'], accountType: 'EOA' });
  const done = await executeChallenge({
    serviceUrl: server.baseUrl, appId: server.appId, ...user, challengeId: init.data.challengeId,
    input: { newPin: PIN_A, securityQuestions: [
      { question: 'What was the name of your first pet?', answer: 'Biscuit Thundertail' },
      { question: 'In which city were you born?', answer: 'Timbuktu Oldtown' },
    ] },
  });
  assert.equal(done.status, 'COMPLETE');
  app = await startApp(server.baseUrl);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await server?.stop();
});

describe('the web SDK on a third-party origin', () => {
  test('the SDK loaded from <server>/sdk/w3s.js knows its server', async () => {
    const { page } = await openApp('127.0.0.1');
    const serviceUrl = await page.evaluate((p) => window.run(p), params(await changePinChallenge()));
    assert.equal(serviceUrl, server.baseUrl);
    await waitScreen(page, 'enter-pin');
    await page.close();
  });

  test('setOnForgotPin: "Forgot PIN?" calls back and the page stays open; close() → 155701', async () => {
    const { page } = await openApp('127.0.0.1');
    const challengeId = await changePinChallenge();
    await page.evaluate((p) => window.run(p), params(challengeId, 'keep'));
    await waitScreen(page, 'enter-pin');
    await shot(page, 'embed-forgot-pin-link');
    await pw(page).locator('#forgot-pin').click();
    await page.waitForFunction(() => window.events.length > 0);
    assert.deepEqual(await events(page), [{ forgotPin: true }]);
    await waitScreen(page, 'enter-pin'); // still open
    assert.equal(await page.locator('[data-latchkey-overlay]').count(), 1);

    await page.evaluate(() => window.sdk.close());
    assert.deepEqual(await events(page), [{ forgotPin: true }, { error: { code: 155701, message: 'User canceled' } }]);
    assert.equal(await page.locator('[data-latchkey-overlay]').count(), 0);
    const ch = await client.getUserChallenge({ userToken: user.userToken, challengeId });
    assert.equal(ch.data.challenge.status, 'IN_PROGRESS');
    await page.close();
  });

  test('setOnForgotPin(cb, true) from http://localhost: the page closes first, no other callback', async () => {
    const { page } = await openApp('localhost');
    await page.evaluate((p) => window.run(p), params(await changePinChallenge(), 'close'));
    await waitScreen(page, 'enter-pin');
    await pw(page).locator('#forgot-pin').click();
    await page.waitForFunction(() => window.events.length > 0);
    await page.locator('[data-latchkey-overlay]').waitFor({ state: 'detached' });
    await page.waitForTimeout(300);
    assert.deepEqual(await events(page), [{ forgotPin: true }]);
    await page.close();
  });

  test('without setOnForgotPin there is no "Forgot PIN?"; the × button cancels with 155701', async () => {
    const { page } = await openApp('127.0.0.1');
    await page.evaluate((p) => window.run(p), params(await changePinChallenge(), undefined));
    await waitScreen(page, 'enter-pin');
    assert.equal(await pw(page).locator('#forgot-pin').count(), 0);
    await pw(page).locator('#cancel').click();
    await page.waitForFunction(() => window.events.length > 0);
    assert.deepEqual(await events(page), [{ error: { code: 155701, message: 'User canceled' } }]);
    assert.equal(await page.locator('[data-latchkey-overlay]').count(), 0);
    await page.close();
  });

  test('a whole CHANGE_PIN across origins → COMPLETE; no secret in URLs or console', async () => {
    const { page, rec } = await openApp('127.0.0.1');
    const challengeId = await changePinChallenge();
    await page.evaluate((p) => window.run(p), params(challengeId, undefined));
    await enterPin(page, PIN_A);
    await chooseNewPin(page, PIN_B);
    await page.waitForFunction(() => window.events.length > 0);
    assert.deepEqual(await events(page), [{ result: { type: 'CHANGE_PIN', status: 'COMPLETE', data: {} } }]);
    const ch = await client.getUserChallenge({ userToken: user.userToken, challengeId });
    assert.equal(ch.data.challenge.status, 'COMPLETE');
    for (const r of rec.requests) {
      for (const s of [PIN_A, PIN_B, user.userToken, user.encryptionKey]) {
        assert.ok(!decodeURIComponent(r.url).includes(s), `secret in ${r.url}`);
      }
    }
    for (const m of rec.console) for (const s of [PIN_A, PIN_B, user.userToken]) assert.ok(!m.text.includes(s), m.text);
    // The app's own page got no referrer from the hosted page's requests.
    for (const r of rec.requests.filter((q) => q.url.startsWith(server.baseUrl) && q.frameUrl.includes('/pw/'))) {
      assert.ok(!r.headers.referer, `Referer ${r.headers.referer} sent with ${r.url}`);
    }
    await page.close();
  });

  test('the hosted page refuses a parent other than the origin it was told', async () => {
    const { page } = await openApp('127.0.0.1');
    await page.evaluate(() => window.frameWithOrigin('http://127.0.0.1:1'));
    await page.frameLocator('#latchkey-iframe').locator('#screen[data-screen="error"]').waitFor();
    assert.equal(await pwText(page, '#error-message'), 'This page was opened by a different site than it expected.');
    assert.equal(await pw(page).locator('input').count(), 0);
    await page.close();
  });

  test('an origin outside frame-ancestors (http://[::1]) cannot frame the page: 155706 after the timeout', async () => {
    const { page, rec } = await openApp('[::1]');
    await page.evaluate((p) => window.run(p), params(await changePinChallenge(), undefined));
    await page.waitForFunction(() => window.events.length > 0, null, { timeout: 25_000 });
    const got = await events(page);
    assert.equal(got.length, 1);
    assert.equal(got[0].error?.code, 155706, JSON.stringify(got));
    assert.ok(rec.console.some((m) => /frame-ancestors/.test(m.text)), JSON.stringify(rec.console));
    await page.close();
  });
});
