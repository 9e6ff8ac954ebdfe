// Signatures from an SCA wallet, checked the way a dApp checks them: viem's `verifyMessage` and
// `verifyTypedData`, its ERC-6492 universal verifier (ERC-6492 for an account not deployed yet,
// ERC-1271 once it is, and ECDSA for an EOA), run against anvil with Amoy's chain id.
//
// The signatures go through the official SDK (`signMessage`, `signTypedData`) and are approved
// with the PIN by `latchkey challenge execute`. Before the account's first UserOperation, the
// Safe has no code and latchkey answers an ERC-6492-wrapped signature. A first sponsored USDC
// transfer then deploys the Safe (as in sca.test.js), and latchkey answers the Safe's plain
// ERC-1271 signature. Both must verify. The signatures wrapped earlier must also still verify
// once the Safe is deployed. A tampered message or typed data must not verify.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { createPublicClient, http, size } from 'viem';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, findAnvil, rpc, startAnvil } from '../lib/chain.js';
import { executeAs, mailTypedData, newUser, PIN_A, QUESTIONS, show } from '../lib/users.js';

const USDC_ID = '36b6931a-873a-56a8-8a27-b706b17104ee';
const DEST = '0x6666666666666666666666666666666666666666';
/** The suffix of an ERC-6492 signature (32 bytes of 0x6492). */
const ERC6492_SUFFIX = '6492'.repeat(16);

let amoy;
let server;
let client;
let viem;
let user;
let sca;

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'] });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  // No `chain`: viem then verifies with its deployless universal validator (one eth_call),
  // not with a verifier contract that a chain definition may name and anvil does not have.
  viem = createPublicClient({ transport: http(amoy.rpcUrl) });

  user = await newUser(client, 'sca-sig');
  const res = await client.createUserPinWithWallets({ userToken: user.userToken, blockchains: ['MATIC-AMOY'], accountType: 'SCA' });
  const r = await executeAs(server, user, res.data.challengeId, { newPin: PIN_A, securityQuestions: QUESTIONS });
  assert.equal(r.code, 0, show(r));
  sca = (await client.listWallets({ userToken: user.userToken })).data.wallets[0];
  assert.equal(sca.accountType, 'SCA');
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

/** signMessage through the SDK, approved with the PIN; returns the signature. */
async function signMessage(message) {
  const res = await client.signMessage({ userToken: user.userToken, walletId: sca.id, message });
  const r = await executeAs(server, user, res.data.challengeId, { pin: PIN_A });
  assert.equal(r.code, 0, show(r));
  return r.json.data.data.signature;
}

/** signTypedData (the EIP-712 "Ether Mail" fixture) through the SDK; returns the signature. */
async function signMail() {
  const res = await client.signTypedData({ userToken: user.userToken, walletId: sca.id, data: mailTypedData().json });
  const r = await executeAs(server, user, res.data.challengeId, { pin: PIN_A });
  assert.equal(r.code, 0, show(r));
  return r.json.data.data.signature;
}

/** viem's verifyTypedData of the mail fixture, with `message` replaced when given. */
function verifyMail(signature, message) {
  const { domain, types, message: original } = mailTypedData();
  return viem.verifyTypedData({
    address: sca.address, domain, types, primaryType: 'Mail', message: message ?? original, signature,
  });
}

/**
 * A copy of `sig` with one byte of the owner's `r` flipped. In an ERC-6492 signature the owner's
 * 65 bytes are the last ABI field before the suffix, padded to 96 bytes.
 */
function flipByte(sig) {
  const hex = sig.slice(2);
  const at = hex.endsWith(ERC6492_SUFFIX) ? hex.length - ERC6492_SUFFIX.length - 192 + 10 : 10;
  const b = (parseInt(hex.slice(at, at + 2), 16) ^ 0xff).toString(16).padStart(2, '0');
  return `0x${hex.slice(0, at)}${b}${hex.slice(at + 2)}`;
}

describe('SCA signatures verified with viem (ERC-6492 universal verifier)', () => {
  const message = 'hello from a Safe, verified by viem';
  let wrappedMessageSig;
  let wrappedMailSig;

  test('before deployment: ERC-6492-wrapped signatures verify; a tampered message or typed data does not', async () => {
    assert.equal(await rpc(amoy.rpcUrl, 'eth_getCode', [sca.address, 'latest']), '0x');

    wrappedMessageSig = await signMessage(message);
    assert.ok(wrappedMessageSig.endsWith(ERC6492_SUFFIX), wrappedMessageSig);
    assert.equal(await viem.verifyMessage({ address: sca.address, message, signature: wrappedMessageSig }), true);
    assert.equal(await viem.verifyMessage({ address: sca.address, message: `${message}!`, signature: wrappedMessageSig }), false);
    assert.equal(await viem.verifyMessage({ address: sca.address, message, signature: flipByte(wrappedMessageSig) }), false);

    wrappedMailSig = await signMail();
    assert.ok(wrappedMailSig.endsWith(ERC6492_SUFFIX), wrappedMailSig);
    assert.equal(await verifyMail(wrappedMailSig), true);
    const tampered = { ...mailTypedData().message, contents: 'Hello, Mallory!' };
    assert.equal(await verifyMail(wrappedMailSig, tampered), false);

    // Verifying ran the Safe's deployment inside an eth_call only: still no code on chain.
    assert.equal(await rpc(amoy.rpcUrl, 'eth_getCode', [sca.address, 'latest']), '0x');
  });

  test('a first sponsored transfer deploys the Safe', async () => {
    const drip = await client.requestTestnetTokens({ address: sca.address, blockchain: 'MATIC-AMOY', usdc: true });
    assert.equal(drip.status, 204);
    const res = await client.createTransaction({
      userToken: user.userToken, walletId: sca.id, tokenId: USDC_ID, destinationAddress: DEST, amounts: ['1'],
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
    });
    const r = await executeAs(server, user, res.data.challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const { data: challenge } = await client.getUserChallenge({ userToken: user.userToken, challengeId: res.data.challengeId });
    const id = challenge.challenge.correlationIds[0];
    let t;
    for (let i = 0; i < 150; i++) {
      t = (await client.getTransaction({ userToken: user.userToken, id })).data.transaction;
      if (['COMPLETE', 'FAILED'].includes(t.state)) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    assert.equal(t.state, 'COMPLETE', JSON.stringify(t));
    assert.notEqual(await rpc(amoy.rpcUrl, 'eth_getCode', [sca.address, 'latest']), '0x');
  });

  test('after deployment: plain ERC-1271 signatures verify; a tampered message or typed data does not', async () => {
    const sig = await signMessage(message);
    assert.equal(size(sig), 65, sig);
    assert.equal(await viem.verifyMessage({ address: sca.address, message, signature: sig }), true);
    assert.equal(await viem.verifyMessage({ address: sca.address, message: `${message}!`, signature: sig }), false);
    assert.equal(await viem.verifyMessage({ address: sca.address, message, signature: flipByte(sig) }), false);

    const mailSig = await signMail();
    assert.equal(size(mailSig), 65, mailSig);
    assert.equal(await verifyMail(mailSig), true);
    assert.equal(await verifyMail(mailSig, { ...mailTypedData().message, contents: 'Hello, Mallory!' }), false);
  });

  test('the signatures wrapped before deployment still verify once the Safe is deployed', async () => {
    assert.equal(await viem.verifyMessage({ address: sca.address, message, signature: wrappedMessageSig }), true);
    assert.equal(await verifyMail(wrappedMailSig), true);
    assert.equal(await viem.verifyMessage({ address: sca.address, message: `${message}!`, signature: wrappedMessageSig }), false);
  });
});
