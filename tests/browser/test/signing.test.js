// Signing through the sample app (/sample/), the web SDK's overlay and the hosted page (/pw/)
// in Chromium. The developer side is Circle's official Node SDK. One user is initialized with
// an ETH-SEPOLIA wallet by the command-line executor, to save time (pin-journey.test.js covers
// INITIALIZE in the browser). Then, in the browser, the user runs SIGN_MESSAGE, SIGN_TYPEDDATA,
// SIGN_TRANSACTION and CREATE_WALLET. For each one the test checks that:
//   - the review step shows what is being signed before the page asks for the PIN;
//   - the PIN gives COMPLETE, and the sample app's #result carries the signature;
//   - ethers verifies the signature against the wallet's address;
//   - the REST challenge (getUserChallenge) and the user's side GET carry no signature.
// At the end it checks that no URL, request or console message carried a secret.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { ethers } from 'ethers';
import { startServer } from '../lib/server.js';
import { mailTypedData, newUser } from '../../compat/lib/users.js';
import {
  fillSample, launchBrowser, pw, pwText, record, sampleResult, shot, typePin, waitScreen,
} from '../lib/browser.js';

const PIN = '159357'; // no digit repeated throughout, no run of consecutive digits
const QUESTIONS = [
  { question: 'What was the name of your first pet?', answer: 'Pumpernickel Whiskerton' },
  { question: 'In what city were you born?', answer: 'Vladivostok Harbourside' },
];
const EVM_SIGNATURE = /^0x[0-9a-f]{130}$/i;

// What the user signs. The message has several lines, non-ASCII text and markup, which must
// show as text.
const MESSAGE = 'Sign in to Example Shop\n\nNonce: 7f3a9c\n<b>not bold</b> & ünïcödé ✓';
const TYPED = mailTypedData(); // tests/fixtures/eip712-mail.json, shared with the compat suite
const TX = {
  to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  value: '1000000000000000', // 0.001 ETH
  nonce: 3,
  gas: 21000,
  maxFeePerGas: '30000000000',
  maxPriorityFeePerGas: '1000000000',
  chainId: 11155111,
};

let server;
let client;
let browser;
let page;
let rec;
let user; // { userId, userToken, encryptionKey }
let wallet; // the ETH-SEPOLIA wallet created by INITIALIZE
const results = []; // the signing results the sample app received
const frameUrls = new Set();

async function challenge(challengeId) {
  const res = await client.getUserChallenge({ userToken: user.userToken, challengeId });
  return res.data.challenge;
}

/** The user's side read of a challenge (GET /v1/w3s/sdk/challenges/{id}). */
async function userView(challengeId) {
  const res = await fetch(`${server.baseUrl}/v1/w3s/sdk/challenges/${challengeId}`, {
    headers: { 'X-App-Id': server.appId, 'X-User-Token': user.userToken, Accept: 'application/json' },
  });
  assert.equal(res.status, 200);
  return res.json();
}

/** Opens challenge `challengeId` from the sample app. */
async function executeInSample(challengeId) {
  await fillSample(page, { appId: server.appId, userToken: user.userToken, encryptionKey: user.encryptionKey, challengeId });
  await page.locator('#execute').click();
  await page.locator('iframe#latchkey-iframe').waitFor({ state: 'attached' });
}

/**
 * On the review screen: checks that the page asks for no PIN yet and shows the wallet, then
 * approves, enters the PIN and returns the sample app's result.
 */
async function approveWithPin(title) {
  assert.equal(await pwText(page, 'h1'), title);
  assert.equal(await pw(page).locator('#screen input').count(), 0, 'no PIN field before the review is approved');
  const box = await pwText(page, '#signing');
  assert.ok(box.includes(wallet.address), `the review shows the wallet's address: ${box}`);
  assert.ok(box.includes('ETH-SEPOLIA'), `the review shows the network: ${box}`);
  assert.equal(await pwText(page, '#review-submit'), 'Approve');
  await pw(page).locator('#review-submit').click();

  await waitScreen(page, 'enter-pin');
  assert.equal(await pwText(page, 'h1'), 'Enter your PIN');
  await typePin(page, 'pin', PIN);
  await pw(page).locator('#enter-pin-submit').click();
  const out = await sampleResult(page);
  assert.ok(out.result, JSON.stringify(out));
  results.push(out.result.data);
  return out.result;
}

/** The REST challenge and the user's side GET are COMPLETE and carry none of `values`. */
async function assertNoResultOutside(challengeId, type, values) {
  const ch = await challenge(challengeId);
  assert.equal(ch.status, 'COMPLETE');
  assert.equal(ch.type, type);
  const rest = JSON.stringify(ch);
  const view = JSON.stringify(await userView(challengeId));
  for (const v of values) {
    assert.ok(!rest.includes(v), `getUserChallenge carries a signing result: ${rest}`);
    assert.ok(!view.includes(v), `GET /v1/w3s/sdk/challenges/{id} carries a signing result: ${view}`);
  }
  return ch;
}

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  // INITIALIZE with the command-line executor (docs/protocol.md §5).
  user = await newUser(client, 'signing', { server, pin: PIN, questions: QUESTIONS, blockchains: ['ETH-SEPOLIA'] });
  const ch = await challenge(user.pinChallengeId);
  assert.equal(ch.status, 'COMPLETE');
  assert.equal(ch.correlationIds.length, 1);
  wallet = (await client.getWallet({ userToken: user.userToken, id: ch.correlationIds[0] })).data.wallet;
  assert.equal(wallet.blockchain, 'ETH-SEPOLIA');

  browser = await launchBrowser();
  page = await browser.context.newPage();
  rec = record(page);
  page.on('framenavigated', (f) => frameUrls.add(f.url()));
  await page.goto(`${server.baseUrl}/sample/`);
  await page.locator('body[data-state="idle"]').waitFor({ state: 'attached' });
});

// A failed test leaves the overlay open: start the next one from a fresh sample app.
afterEach(async () => {
  if (!page || (await page.locator('body').getAttribute('data-state')) !== 'running') return;
  await page.reload();
  await page.locator('body[data-state="idle"]').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('signing through the sample app', () => {
  test('SIGN_MESSAGE: the review shows the message as text; ethers.verifyMessage recovers the wallet', async () => {
    const res = await client.signMessage({ userToken: user.userToken, walletId: wallet.id, message: MESSAGE });
    const { challengeId } = res.data;
    assert.equal((await challenge(challengeId)).status, 'PENDING');
    await executeInSample(challengeId);

    await waitScreen(page, 'review');
    // textContent of the <pre>: every line, the markup as text.
    assert.equal(await pwText(page, '#signing-message'), MESSAGE);
    assert.equal(await pw(page).locator('#signing-message b').count(), 0, 'markup is not rendered');
    await shot(page, 'sign-review-message', { top: true });
    // Back from the PIN goes to the review again.
    await pw(page).locator('#review-submit').click();
    await waitScreen(page, 'enter-pin');
    await pw(page).locator('#back').click();
    await waitScreen(page, 'review');
    assert.equal(await pwText(page, '#signing-message'), MESSAGE);

    const result = await approveWithPin('Sign a message');
    assert.equal(result.type, 'SIGN_MESSAGE');
    assert.equal(result.status, 'COMPLETE');
    assert.deepEqual(Object.keys(result.data), ['signature']);
    assert.match(result.data.signature, EVM_SIGNATURE);
    assert.equal(ethers.verifyMessage(MESSAGE, result.data.signature), wallet.address);
    await assertNoResultOutside(challengeId, 'SIGN_MESSAGE', [result.data.signature]);
  });

  test('SIGN_MESSAGE of text that looks like hex (encodedByHex false): the review shows the text that is signed', async () => {
    // "0x48656c6c6f" is the hex of "Hello", but without encodedByHex the text itself is signed.
    const message = '0x48656c6c6f';
    const res = await client.signMessage({ userToken: user.userToken, walletId: wallet.id, message });
    await executeInSample(res.data.challengeId);
    await waitScreen(page, 'review');
    assert.equal(await pwText(page, '#signing-message'), message);
    const result = await approveWithPin('Sign a message');
    assert.equal(ethers.verifyMessage(message, result.data.signature), wallet.address);
    assert.notEqual(ethers.verifyMessage('Hello', result.data.signature), wallet.address);
  });

  test('SIGN_MESSAGE with encodedByHex: the review shows the decoded text and the raw hex', async () => {
    const message = ethers.hexlify(ethers.toUtf8Bytes('Hello from hex ✓'));
    const res = await client.signMessage({ userToken: user.userToken, walletId: wallet.id, message, encodedByHex: true });
    await executeInSample(res.data.challengeId);
    await waitScreen(page, 'review');
    assert.equal(await pwText(page, '#signing-message'), 'Hello from hex ✓');
    assert.ok((await pwText(page, '#signing details')).includes(message), 'the raw hex is there too');
    const result = await approveWithPin('Sign a message');
    assert.equal(ethers.verifyMessage(ethers.getBytes(message), result.data.signature), wallet.address);
  });

  test('SIGN_TYPEDDATA: the review shows the domain, the primary type and the fields; ethers.verifyTypedData recovers the wallet', async () => {
    const res = await client.signTypedData({ userToken: user.userToken, walletId: wallet.id, data: TYPED.json });
    const { challengeId } = res.data;
    await executeInSample(challengeId);

    await waitScreen(page, 'review');
    const domain = await pwText(page, '#signing-domain');
    assert.ok(domain.includes('Ether Mail'), `domain: ${domain}`);
    assert.ok(domain.includes(TYPED.domain.verifyingContract), `domain: ${domain}`);
    assert.equal(await pwText(page, '#signing-primary-type'), 'Mail');
    const fields = await pwText(page, '#signing-fields');
    for (const s of ['Hello, Bob! ünïcödé ✓', 'Cow', 'Bob', '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB', '0x00ff10']) {
      assert.ok(fields.includes(s), `fields lack ${s}: ${fields}`);
    }
    // The fields keep their own names, not the labels of a transaction's fields ("to", not
    // "To"). The server sends no `types`, so the order is not the struct's: compare as sets.
    const names = await pw(page).locator('#signing-fields > dl > dt').allTextContents();
    assert.deepEqual(names.sort(), ['attachment', 'contents', 'from', 'to']);
    await shot(page, 'sign-review-typed-data', { top: true });

    const result = await approveWithPin('Sign typed data');
    assert.equal(result.type, 'SIGN_TYPEDDATA');
    assert.equal(result.status, 'COMPLETE');
    assert.match(result.data.signature, EVM_SIGNATURE);
    assert.equal(ethers.verifyTypedData(TYPED.domain, TYPED.types, TYPED.message, result.data.signature), wallet.address);
    await assertNoResultOutside(challengeId, 'SIGN_TYPEDDATA', [result.data.signature]);
  });

  test('SIGN_TYPEDDATA with a field named "address": shown as "address", not as "From"', async () => {
    const domain = { name: 'Allowlist', version: '1', chainId: 11155111 };
    const types = { Entry: [{ name: 'address', type: 'address' }, { name: 'walletId', type: 'string' }] };
    const message = { address: TX.to, walletId: 'not-a-wallet-id' };
    const EIP712Domain = [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }];
    const data = JSON.stringify({ types: { EIP712Domain, ...types }, primaryType: 'Entry', domain, message });
    const res = await client.signTypedData({ userToken: user.userToken, walletId: wallet.id, data });
    await executeInSample(res.data.challengeId);
    await waitScreen(page, 'review');
    assert.equal(await pwText(page, '#signing-primary-type'), 'Entry');
    const names = await pw(page).locator('#signing-fields > dl > dt').allTextContents();
    assert.deepEqual(names.sort(), ['address', 'walletId']);
    const result = await approveWithPin('Sign typed data');
    assert.equal(ethers.verifyTypedData(domain, types, message, result.data.signature), wallet.address);
  });

  test('SIGN_TRANSACTION: the review shows to and value (ETH and wei); the signed transaction is from the wallet', async () => {
    const res = await client.signTransaction({ userToken: user.userToken, walletId: wallet.id, transaction: JSON.stringify(TX) });
    const { challengeId } = res.data;
    await executeInSample(challengeId);

    await waitScreen(page, 'review');
    assert.equal(await pwText(page, '#signing-tx-to'), TX.to);
    const value = (await pwText(page, '#signing-tx-value')).replace(/\s+/g, ' ').trim();
    assert.equal(value, '0.001 ETH (1000000000000000 wei)');
    const box = await pwText(page, '#signing');
    for (const s of ['11155111', '21000', '30000000000', '1000000000']) assert.ok(box.includes(s), `review lacks ${s}: ${box}`);
    await shot(page, 'sign-review-transaction', { top: true });

    const result = await approveWithPin('Sign a transaction');
    assert.equal(result.type, 'SIGN_TRANSACTION');
    assert.equal(result.status, 'COMPLETE');
    const { signature, txHash, signedTransaction } = result.data;
    assert.match(signature, EVM_SIGNATURE);
    assert.match(txHash, /^0x[0-9a-f]{64}$/i);
    const tx = ethers.Transaction.from(signedTransaction);
    assert.equal(tx.from, wallet.address);
    assert.equal(tx.hash, txHash);
    assert.equal(tx.to, TX.to);
    assert.equal(tx.value, BigInt(TX.value));
    assert.equal(tx.chainId, 11155111n);
    assert.equal(tx.nonce, TX.nonce);
    assert.equal(tx.gasLimit, 21000n);
    const sig = ethers.Signature.from(signature);
    assert.equal(sig.r, tx.signature.r);
    assert.equal(sig.s, tx.signature.s);
    await assertNoResultOutside(challengeId, 'SIGN_TRANSACTION', [signature, txHash, signedTransaction]);
  });

  test('CREATE_WALLET: the PIN → COMPLETE, and the new wallet is listed', async () => {
    const res = await client.createWallet({ userToken: user.userToken, blockchains: ['BASE-SEPOLIA'], accountType: 'EOA' });
    const { challengeId } = res.data;
    await executeInSample(challengeId);

    // The server sends no `signing` for CREATE_WALLET (docs/protocol.md), so the page may go
    // straight to the PIN; if it shows a review, it must name the network.
    const screen = pw(page).locator('#screen[aria-busy="false"]:is([data-screen="review"], [data-screen="enter-pin"])');
    await screen.waitFor();
    if ((await screen.getAttribute('data-screen')) === 'review') {
      assert.ok((await pwText(page, '#signing')).includes('BASE-SEPOLIA'));
      await pw(page).locator('#review-submit').click();
      await waitScreen(page, 'enter-pin');
    }
    await typePin(page, 'pin', PIN);
    await pw(page).locator('#enter-pin-submit').click();
    const out = await sampleResult(page);
    assert.deepEqual(out, { result: { type: 'CREATE_WALLET', status: 'COMPLETE', data: {} } });

    const ch = await challenge(challengeId);
    assert.equal(ch.status, 'COMPLETE');
    assert.equal(ch.type, 'CREATE_WALLET');
    assert.equal(ch.correlationIds.length, 1);
    const { data } = await client.listWallets({ userToken: user.userToken, pageSize: 50 });
    assert.equal(data.wallets.length, 2);
    const created = data.wallets.find((w) => w.id === ch.correlationIds[0]);
    assert.ok(created, JSON.stringify(data.wallets));
    assert.equal(created.blockchain, 'BASE-SEPOLIA');
    assert.equal(created.accountType, 'EOA');
    assert.equal(created.state, 'LIVE');
    assert.equal(ethers.getAddress(created.address), created.address);
    assert.notEqual(created.address, wallet.address);
  });

  // ── What the browser sent during all of the above ─────────────────────────────────────
  test('no PIN, token, key or signing result in any URL; no signing result or PIN in any request', () => {
    assert.equal(results.length, 6);
    const signed = results.flatMap((d) => [d.signature, d.txHash, d.signedTransaction]).filter(Boolean);
    const secrets = [PIN, user.userToken, user.encryptionKey, encodeURIComponent(user.encryptionKey), ...signed];
    const urls = [...rec.requests.map((r) => r.url), ...frameUrls];
    assert.ok(urls.some((u) => u.includes('/pw/')), 'the hosted page was loaded');
    for (const url of urls) {
      const decoded = decodeURIComponent(url);
      for (const s of secrets) assert.ok(!url.includes(s) && !decoded.includes(s), `secret in URL ${url}`);
    }
    const executes = rec.requests.filter((r) => r.method === 'POST' && /\/v1\/w3s\/sdk\/challenges\/[^/]+\/execute$/.test(new URL(r.url).pathname));
    assert.equal(executes.length, 7, executes.map((r) => r.url).join('\n'));
    for (const r of executes) assert.deepEqual(Object.keys(JSON.parse(r.postData)), ['encrypted'], r.postData);
    for (const r of rec.requests) {
      for (const s of [PIN, user.encryptionKey, ...signed]) {
        assert.ok(!(r.postData ?? '').includes(s), `secret in the body of ${r.method} ${r.url}`);
        for (const [name, value] of Object.entries(r.headers)) assert.ok(!value.includes(s), `secret in header ${name} of ${r.url}`);
      }
    }
    for (const m of rec.console) {
      for (const s of [PIN, user.userToken, user.encryptionKey, ...signed]) assert.ok(!m.text.includes(s), `secret in console: ${m.text}`);
    }
    assert.deepEqual(rec.errors, []);
  });
});
