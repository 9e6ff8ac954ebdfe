// Circle's public sample backend (circlefin/w3s-sample-user-controlled-server-node) drives
// the official SDK with a fixed set of calls; this test makes the same calls, in the same
// order and with the same arguments, against latchkey and an anvil with MATIC-AMOY's chain id
// 80002 (`--dev`: the faucet and the gas station are the local node's). Its sign-up creates an
// SCA wallet; the USDC transfer is a sponsored UserOperation from a wallet with no native coin.
// (The sample's code is not copied here: only the sequence of SDK calls it makes.)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, rpc, startAnvil } from '../lib/chain.js';
import { executeAs, PIN_A, QUESTIONS, show } from '../lib/users.js';

const USDC_ID = '36b6931a-873a-56a8-8a27-b706b17104ee';
const DEST = '0x5555555555555555555555555555555555555555';

let amoy;
let server;
let sdk;

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'] });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  sdk = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

describe("Circle's sample backend's journey", () => {
  test('sign-up, sign-in, wallet, faucet, balances, token, a gasless USDC transfer, history, PIN restore', async () => {
    // Sign-up: a new user, its token, and INITIALIZE with an SCA wallet on MATIC-AMOY.
    const userId = randomUUID();
    await sdk.createUser({ userId });
    const token = (await sdk.createUserToken({ userId })).data;
    const signUp = await sdk.createUserPinWithWallets({ userId, blockchains: ['MATIC-AMOY'], accountType: 'SCA' });
    assert.ok(signUp.data.challengeId);
    // The end user sets the PIN in Circle's web SDK; here the command-line executor.
    const user = { userId, userToken: token.userToken, encryptionKey: token.encryptionKey };
    const r = await executeAs(server, user, signUp.data.challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS });
    assert.equal(r.code, 0, show(r));

    // Sign-in: a fresh token; the user has its PIN and questions, so no new challenge.
    const signIn = (await sdk.createUserToken({ userId })).data;
    const userToken = signIn.userToken;
    const me = (await sdk.getUser({ userId })).data.user;
    assert.equal(me.pinStatus, 'ENABLED');
    assert.equal(me.securityQuestionStatus, 'ENABLED');

    // Wallets.
    const wallets = (await sdk.listWallets({ userToken })).data.wallets;
    assert.equal(wallets.length, 1);
    const wallet = wallets[0];
    assert.equal(wallet.accountType, 'SCA');
    assert.equal((await sdk.getWallet({ userToken, id: wallet.id })).data.wallet.id, wallet.id);

    // The faucet (USDC only, as the sample asks), then the balances and the token.
    await sdk.requestTestnetTokens({ address: wallet.address, blockchain: 'MATIC-AMOY', usdc: true });
    let balances;
    for (let i = 0; i < 50; i++) {
      balances = (await sdk.getWalletTokenBalance({ userToken, walletId: wallet.id })).data.tokenBalances;
      if (balances.length) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    assert.deepEqual(balances.map((b) => [b.token.id, b.amount]), [[USDC_ID, '20']]);
    const usdc = (await sdk.getToken({ id: USDC_ID })).data.token;
    assert.equal(usdc.symbol, 'USDC');

    // The fee estimate, then a USDC transfer with a fee level.
    const estimate = (await sdk.estimateTransferFee({
      userToken, walletId: wallet.id, tokenId: USDC_ID, destinationAddress: DEST, amount: ['3'],
    })).data;
    assert.ok(estimate.medium.gasLimit, JSON.stringify(estimate));
    assert.ok(estimate.callGasLimit, JSON.stringify(estimate));
    const created = (await sdk.createTransaction({
      userToken,
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      idempotencyKey: randomUUID(),
      refId: 'sample-journey',
      amounts: ['3'],
      destinationAddress: DEST,
      tokenId: USDC_ID,
      walletId: wallet.id,
    })).data;
    const approved = await executeAs(server, { ...user, userToken, encryptionKey: signIn.encryptionKey },
      created.challengeId, { pin: PIN_A });
    assert.equal(approved.code, 0, show(approved));

    // The history: the list, then the transaction until COMPLETE.
    let list;
    for (let i = 0; i < 50; i++) {
      list = (await sdk.listTransactions({ userToken })).data.transactions;
      if (list.some((t) => t.refId === 'sample-journey')) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    const listed = list.find((t) => t.refId === 'sample-journey');
    assert.ok(listed, JSON.stringify(list));
    let t;
    for (let i = 0; i < 150; i++) {
      t = (await sdk.getTransaction({ userToken, id: listed.id })).data.transaction;
      if (['COMPLETE', 'FAILED'].includes(t.state)) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    assert.equal(t.state, 'COMPLETE', JSON.stringify(t));
    assert.equal(BigInt(await rpc(amoy.rpcUrl, 'eth_getBalance', [wallet.address, 'latest'])), 0n);

    // Address validation and the PIN restore challenge.
    const valid = (await sdk.validateAddress({ address: DEST, blockchain: 'MATIC-AMOY' })).data;
    assert.equal(valid.isValid, true);
    const restore = (await sdk.restoreUserPin({ userToken })).data;
    assert.ok(restore.challengeId);
  });
});
