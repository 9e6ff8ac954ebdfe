// Smart-contract account wallets (accountType SCA) through the official SDK: Circle's sample
// backend's sign-up call, `createUserPinWithWallets({ blockchains: ['MATIC-AMOY'],
// accountType: 'SCA' })`, approved with the PIN, gives an SCA wallet whose fields listWallets
// shows as Circle's; one chain per SCA create call (Error155508); signing a raw transaction
// from an SCA is refused (Error155515). Then, against anvil with Amoy's chain id and the gas
// station `--dev` deploys: an SCA that holds no native coin sends USDC (a sponsored ERC-4337
// UserOperation that deploys its Safe), estimateTransferFee answers the ERC-4337 fields,
// explicit fees are Error155232, accelerateTransaction of a pending operation completes it
// by the station's re-signed bundle, and cancelTransaction ends one CANCELLED with the
// account's nonce spent by a no-op. The on-chain checks of SCA signatures
// (ERC-6492 before deployment, ERC-1271 after) run against anvil in
// crates/latchkey-api/tests/api/sca_wallets.rs, and through the SDK with viem's verifiers in
// sca-signatures.test.js.

import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initiateUserControlledWalletsClient,
  Error155507,
  Error155508,
  Error155515,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, rpc, startAnvil } from '../lib/chain.js';
import { rejectsWith, UUID } from '../lib/helpers.js';
import { executeAs, newUser, PIN_A, QUESTIONS, show } from '../lib/users.js';

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

let server;
let client;

before(async () => {
  server = await startServer();
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

describe('SCA wallets', () => {
  let user;
  let wallet;

  test("Circle's sample sign-up: createUserPinWithWallets with SCA on MATIC-AMOY", async () => {
    user = await newUser(client, 'sca');
    const res = await client.createUserPinWithWallets({
      userToken: user.userToken, blockchains: ['MATIC-AMOY'], accountType: 'SCA',
    });
    assert.match(res.data.challengeId, UUID);
    const r = await executeAs(server, user, res.data.challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.json?.data?.status, 'COMPLETE', show(r));

    const { data } = await client.listWallets({ userToken: user.userToken });
    assert.equal(data.wallets.length, 1);
    wallet = data.wallets[0];
    assert.equal(wallet.accountType, 'SCA');
    assert.equal(wallet.scaCore, 'latchkey_safe_v141_4337_v030');
    assert.equal(wallet.blockchain, 'MATIC-AMOY');
    assert.equal(wallet.state, 'LIVE');
    assert.equal(wallet.custodyType, 'ENDUSER');
    assert.equal(wallet.userId, user.userId);
    assert.match(wallet.address, EVM_ADDRESS);
    assert.match(wallet.id, UUID);

    const byCore = await client.listWallets({ userToken: user.userToken, scaCore: 'latchkey_safe_v141_4337_v030' });
    assert.deepEqual(byCore.data.wallets.map((w) => w.id), [wallet.id]);
    const otherCore = await client.listWallets({ userToken: user.userToken, scaCore: 'circle_6900_singleowner_v2' });
    assert.equal(otherCore.data.wallets.length, 0);
  });

  test('CREATE_WALLET with SCA: one chain per call (Error155508), SCA chains only (Error155507)', async () => {
    await rejectsWith(
      client.createWallet({ userToken: user.userToken, blockchains: ['ETH-SEPOLIA', 'BASE-SEPOLIA'], accountType: 'SCA' }),
      Error155508, 155508, 400,
    );
    await rejectsWith(
      client.createWallet({ userToken: user.userToken, blockchains: ['SOL-DEVNET'], accountType: 'SCA' }),
      Error155507, 155507, 400,
    );
    const res = await client.createWallet({ userToken: user.userToken, blockchains: ['ETH-SEPOLIA'], accountType: 'SCA' });
    const r = await executeAs(server, user, res.data.challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const { data } = await client.listWallets({ userToken: user.userToken, blockchain: 'ETH-SEPOLIA' });
    assert.equal(data.wallets.length, 1);
    assert.equal(data.wallets[0].accountType, 'SCA');
    // Each wallet has its own key, so its own Safe (latchkey's EOA wallets are the same).
    assert.notEqual(data.wallets[0].address, wallet.address);
  });

  test('a raw transaction from an SCA → Error155515; a transfer without a node → 156027', async () => {
    await rejectsWith(
      client.signTransaction({
        userToken: user.userToken,
        walletId: wallet.id,
        transaction: JSON.stringify({ to: wallet.address, value: '1', nonce: 0, gas: 21000, gasPrice: '1', chainId: 80002 }),
      }),
      Error155515, 155515, 400,
    );
    await rejectsWith(
      client.createTransaction({
        userToken: user.userToken,
        walletId: wallet.id,
        tokenId: '36b6931a-873a-56a8-8a27-b706b17104ee',
        destinationAddress: '0x000000000000000000000000000000000000dEaD',
        amounts: ['1'],
        fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      }),
      Error, 156027, 400,
    );
  });

  test('signMessage from an SCA without a node: an ERC-6492 signature of its Safe', async () => {
    const res = await client.signMessage({ userToken: user.userToken, walletId: wallet.id, message: 'hello from a Safe' });
    const r = await executeAs(server, user, res.data.challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const sig = r.json.data.data.signature;
    assert.match(sig, /^0x[0-9a-f]+$/);
    assert.ok(sig.endsWith('6492'.repeat(16)), sig);
  });
});

describe('SCA transfers: sponsored UserOperations on anvil', () => {
  const USDC_ID = '36b6931a-873a-56a8-8a27-b706b17104ee';
  const DEST = '0x4444444444444444444444444444444444444444';
  let amoy;
  let chainServer;
  let c;
  let u;
  let sca;

  before(async () => {
    const found = findAnvil();
    assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
    amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'] });
    chainServer = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
    c = initiateUserControlledWalletsClient({ apiKey: chainServer.apiKey, baseUrl: chainServer.baseUrl });
    u = await newUser(c, 'sca-money');
    const res = await c.createUserPinWithWallets({ userToken: u.userToken, blockchains: ['MATIC-AMOY'], accountType: 'SCA' });
    const r = await executeAs(chainServer, u, res.data.challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS });
    assert.equal(r.code, 0, show(r));
    sca = (await c.listWallets({ userToken: u.userToken })).data.wallets[0];
    const drip = await c.requestTestnetTokens({ address: sca.address, blockchain: 'MATIC-AMOY', usdc: true });
    assert.equal(drip.status, 204);
  });

  after(async () => {
    await chainServer?.stop();
    await amoy?.stop();
  });

  test('estimateTransferFee: the three levels and the ERC-4337 fields', async () => {
    const res = await c.estimateTransferFee({
      userToken: u.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amount: ['1'],
    });
    assert.equal(res.data.verificationGasLimit, '600000', JSON.stringify(res.data));
    assert.ok(Number(res.data.callGasLimit) > 40000, JSON.stringify(res.data));
    assert.ok(Number(res.data.preVerificationGas) > 31000, JSON.stringify(res.data));
    for (const level of ['low', 'medium', 'high']) assert.ok(Number(res.data[level].gasLimit) > 700000);
  });

  test('explicit fees from an SCA → Error155232', async () => {
    await rejectsWith(
      c.createTransaction({
        userToken: u.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amounts: ['1'],
        fee: { type: 'custom', config: { gasLimit: '300000', maxFee: '50', priorityFee: '2' } },
      }),
      Error, 155232, 400,
    );
  });

  test('a USDC transfer with feeLevel from an SCA holding no native coin reaches COMPLETE', async () => {
    assert.equal(BigInt(await rpc(amoy.rpcUrl, 'eth_getBalance', [sca.address, 'latest'])), 0n);
    assert.equal(await rpc(amoy.rpcUrl, 'eth_getCode', [sca.address, 'latest']), '0x');
    const res = await c.createTransaction({
      userToken: u.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amounts: ['2.5'],
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
    });
    const r = await executeAs(chainServer, u, res.data.challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const { data: challenge } = await c.getUserChallenge({ userToken: u.userToken, challengeId: res.data.challengeId });
    const id = challenge.challenge.correlationIds[0];
    let t;
    for (let i = 0; i < 150; i++) {
      t = (await c.getTransaction({ userToken: u.userToken, id })).data.transaction;
      if (['COMPLETE', 'FAILED'].includes(t.state)) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    assert.equal(t.state, 'COMPLETE', JSON.stringify(t));
    assert.match(t.userOpHash, /^0x[0-9a-f]{64}$/);
    assert.match(t.txHash, /^0x[0-9a-f]{64}$/);
    assert.notEqual(await rpc(amoy.rpcUrl, 'eth_getCode', [sca.address, 'latest']), '0x');
    assert.equal(BigInt(await rpc(amoy.rpcUrl, 'eth_getBalance', [sca.address, 'latest'])), 0n);
    const balances = await c.getWalletTokenBalance({ userToken: u.userToken, walletId: sca.id });
    const usdc = balances.data.tokenBalances.find((b) => b.token.id === USDC_ID);
    assert.equal(usdc.amount, '17.5');
  });

  test('accelerateTransaction of a pending SCA transfer: the station re-signs the bundle, COMPLETE', async () => {
    await rpc(amoy.rpcUrl, 'evm_setAutomine', [false]);
    try {
      const res = await c.createTransaction({
        userToken: u.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amounts: ['0.5'],
        fee: { type: 'level', config: { feeLevel: 'LOW' } },
      });
      const r = await executeAs(chainServer, u, res.data.challengeId, { pin: PIN_A });
      assert.equal(r.code, 0, show(r));
      const { data: challenge } = await c.getUserChallenge({ userToken: u.userToken, challengeId: res.data.challengeId });
      const id = challenge.challenge.correlationIds[0];
      const until = async (want, hash) => {
        let t;
        for (let i = 0; i < 150; i++) {
          t = (await c.getTransaction({ userToken: u.userToken, id })).data.transaction;
          if (t.state === want && (hash === undefined || t.txHash !== hash)) return t;
          await new Promise((done) => setTimeout(done, 200));
        }
        assert.fail(`${id} never reached ${want}: ${JSON.stringify(t)}`);
      };
      const sent = await until('SENT');
      const acc = await c.accelerateTransaction({ userToken: u.userToken, id, idempotencyKey: randomUUID() });
      const ra = await executeAs(chainServer, u, acc.data.challengeId, { pin: PIN_A });
      assert.equal(ra.code, 0, show(ra));
      assert.equal(ra.json.data.type, 'ACCELERATE_TRANSACTION', show(ra));
      const faster = await until('SENT', sent.txHash);
      await rpc(amoy.rpcUrl, 'evm_mine', []);
      const done = await until('COMPLETE');
      assert.equal(done.txHash, faster.txHash);
      const mined = await rpc(amoy.rpcUrl, 'eth_getTransactionByHash', [done.txHash]);
      const first = await rpc(amoy.rpcUrl, 'eth_getTransactionByHash', [sent.txHash]);
      assert.equal(first, null, 'the first bundle was replaced');
      assert.ok(BigInt(mined.maxFeePerGas) > 0n);
      const balances = await c.getWalletTokenBalance({ userToken: u.userToken, walletId: sca.id });
      assert.equal(balances.data.tokenBalances.find((b) => b.token.id === USDC_ID).amount, '17');
    } finally {
      await rpc(amoy.rpcUrl, 'evm_setAutomine', [true]);
    }
  });

  test('cancelTransaction of a pending SCA transfer: CANCELLED, nothing sent, the nonce spent', async () => {
    const entryPoint = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
    // EntryPoint.getNonce(account, 0).
    const nonceOf = async () => BigInt(await rpc(amoy.rpcUrl, 'eth_call', [{
      to: entryPoint, data: `0x35567e1a${sca.address.slice(2).toLowerCase().padStart(64, '0')}${'0'.repeat(64)}`,
    }, 'latest']));
    const state = async (id, want, hash) => {
      let t;
      for (let i = 0; i < 150; i++) {
        t = (await c.getTransaction({ userToken: u.userToken, id })).data.transaction;
        if (t.state === want && (hash === undefined || t.txHash !== hash)) return t;
        await new Promise((done) => setTimeout(done, 200));
      }
      assert.fail(`${id} never reached ${want}: ${JSON.stringify(t)}`);
    };
    const nonce = await nonceOf();
    await rpc(amoy.rpcUrl, 'evm_setAutomine', [false]);
    try {
      const res = await c.createTransaction({
        userToken: u.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amounts: ['1'],
        fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      });
      const r = await executeAs(chainServer, u, res.data.challengeId, { pin: PIN_A });
      assert.equal(r.code, 0, show(r));
      const { data: challenge } = await c.getUserChallenge({ userToken: u.userToken, challengeId: res.data.challengeId });
      const id = challenge.challenge.correlationIds[0];
      const sent = await state(id, 'SENT');
      const cancel = await c.cancelTransaction({ userToken: u.userToken, id, idempotencyKey: randomUUID() });
      const rc = await executeAs(chainServer, u, cancel.data.challengeId, { pin: PIN_A });
      assert.equal(rc.code, 0, show(rc));
      assert.equal(rc.json.data.type, 'CANCEL_TRANSACTION', show(rc));
      await state(id, 'SENT', sent.txHash);
      await rpc(amoy.rpcUrl, 'evm_mine', []);
      const done = await state(id, 'CANCELLED');
      const receipt = await rpc(amoy.rpcUrl, 'eth_getTransactionReceipt', [done.txHash]);
      assert.equal(receipt.status, '0x1');
      assert.equal(await nonceOf(), nonce + 1n);
      const balances = await c.getWalletTokenBalance({ userToken: u.userToken, walletId: sca.id });
      assert.equal(balances.data.tokenBalances.find((b) => b.token.id === USDC_ID).amount, '17');
    } finally {
      await rpc(amoy.rpcUrl, 'evm_setAutomine', [true]);
    }
  });
});
