// CREATE_TRANSACTION on the hosted page: before the PIN is asked for, the review shows one
// sentence saying what goes where ("Send 1.5 USDC to 0x22222…22222"), the network, both full
// addresses, the fee level and the most the network fee can cost, as the server's `signing`
// object (TransferView) says. The server serves a local anvil as MATIC-AMOY (`--rpc`), the
// wallet is funded there, and the challenge is created with Circle's official Node SDK.
// The USDC transfer is then approved with the PIN (COMPLETE, one transaction id); the native
// one leaves the PIN screen unanswered.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { newUser } from '../../compat/lib/users.js';
import { CHAIN_IDS, callData, findAnvil, rpc, send, startAnvil, word } from '../../compat/lib/chain.js';
import { fillSample, launchBrowser, pw, pwText, sampleResult, shot, typePin, waitScreen } from '../lib/browser.js';

const PIN = '159357';
// Circle's MATIC-AMOY USDC (seeded in latchkey's registry); TestUsdc's code is put there.
const USDC = '0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582';
const USDC_ID = '36b6931a-873a-56a8-8a27-b706b17104ee';
const DEST = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const DEST_MASKED = '0x709…c79C8'; // its first and last 5 characters

let amoy;
let server;
let client;
let browser;
let page;
let user;
let wallet;

/** The user's side read of a challenge (GET /v1/w3s/sdk/challenges/{id}): what the page gets. */
async function userView(challengeId) {
  const res = await fetch(`${server.baseUrl}/v1/w3s/sdk/challenges/${challengeId}`, {
    headers: { 'X-App-Id': server.appId, 'X-User-Token': user.userToken, Accept: 'application/json' },
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function openInSample(challengeId) {
  await fillSample(page, { appId: server.appId, userToken: user.userToken, encryptionKey: user.encryptionKey, challengeId });
  await page.locator('#execute').click();
  await page.locator('iframe#latchkey-iframe').waitFor({ state: 'attached' });
  await waitScreen(page, 'review');
}

/** The review shows `sentence` and the fee cap, with no PIN field; Approve leads to the PIN. */
async function assertReview(challengeId, sentence, level) {
  const { signing } = (await userView(challengeId)).data;
  await openInSample(challengeId);
  assert.equal(await pwText(page, 'h1'), 'Send a transaction');
  assert.equal(await pw(page).locator('#screen input').count(), 0, 'no PIN field before the review is approved');
  assert.equal(await pwText(page, '#signing-summary'), sentence);
  assert.equal(await pwText(page, '#signing-network'), 'MATIC-AMOY');
  assert.equal(await pwText(page, '#signing-to'), DEST);
  assert.equal((await pwText(page, '#signing-from')).toLowerCase(), wallet.address.toLowerCase());
  assert.equal(await pwText(page, '#signing-fee-level'), level);
  const fee = await pwText(page, '#signing-max-fee');
  assert.ok(fee.startsWith(`${signing.maxNetworkFee} MATIC-AMOY`), `${fee} vs ${JSON.stringify(signing)}`);
  assert.match(signing.maxNetworkFee, /^0\.\d+$/);
  const technical = await pwText(page, '#signing-technical');
  assert.ok(technical.includes(signing.gasLimit) && technical.includes(`${signing.maxFee} gwei`), technical);
  await shot(page, `transfer-review-${level.toLowerCase()}`, { top: true });
  await pw(page).locator('#review-submit').click();
  await waitScreen(page, 'enter-pin');
  assert.equal(await pwText(page, 'h1'), 'Enter your PIN');
}

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'], accounts: 2 });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  user = await newUser(client, 'transfer', { server, pin: PIN, blockchains: ['MATIC-AMOY'] });
  const { data } = await client.listWallets({ userToken: user.userToken });
  [wallet] = data.wallets;
  const [acct0] = await rpc(amoy.rpcUrl, 'eth_accounts');
  await send(amoy.rpcUrl, { from: acct0, to: wallet.address, value: '0xde0b6b3a7640000' });
  const runtime = readFileSync(new URL('../../../contracts/out/TestUsdc.runtime.hex', import.meta.url), 'utf8');
  await rpc(amoy.rpcUrl, 'anvil_setCode', [USDC, runtime.trim()]);
  await send(amoy.rpcUrl, {
    from: acct0, to: USDC, data: callData('TestUsdc', 'mint(address,uint256)', [word(wallet.address), word(5_000_000)]),
  });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(`${server.baseUrl}/sample/`);
  await page.locator('body[data-state="idle"]').waitFor({ state: 'attached' });
});

// A test may leave the overlay open on the PIN screen: start the next one afresh.
afterEach(async () => {
  await page.reload();
  await page.locator('body[data-state="idle"]').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await amoy?.stop();
});

describe('CREATE_TRANSACTION review', () => {
  test('USDC: "Send 1.5 USDC to …", the network and the fee cap come before the PIN', async () => {
    const res = await client.createTransaction({
      userToken: user.userToken, walletId: wallet.id, tokenId: USDC_ID,
      destinationAddress: DEST, amounts: ['1.5'], fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
    });
    await assertReview(res.data.challengeId, `Send 1.5 USDC to ${DEST_MASKED}`, 'Medium');
    await typePin(page, 'pin', PIN);
    await pw(page).locator('#enter-pin-submit').click();
    const out = await sampleResult(page);
    assert.equal(out.result?.status, 'COMPLETE', JSON.stringify(out));
    const { data } = await client.getUserChallenge({ userToken: user.userToken, challengeId: res.data.challengeId });
    assert.equal(data.challenge.status, 'COMPLETE');
    assert.equal(data.challenge.correlationIds.length, 1, JSON.stringify(data));
  });

  test('the native coin at the HIGH level', async () => {
    const res = await client.createTransaction({
      userToken: user.userToken, walletId: wallet.id, tokenAddress: '', blockchain: 'MATIC-AMOY',
      destinationAddress: DEST, amounts: ['0.01'], fee: { type: 'level', config: { feeLevel: 'HIGH' } },
    });
    await assertReview(res.data.challengeId, `Send 0.01 MATIC-AMOY to ${DEST_MASKED}`, 'High');
  });
});
