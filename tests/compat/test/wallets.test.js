// Wallets and signing: wallets created and managed through the official SDK, challenges
// executed both by the command-line executor (`latchkey challenge execute`) and by the headless
// JS executor (sdk/js/headless.js), and every signature checked by independent libraries:
// ethers (EVM messages, EIP-712, transactions), tweetnacl + bs58 and @solana/web3.js (Solana),
// and a local anvil node that accepts the signed transactions.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  initiateUserControlledWalletsClient,
  Error155119,
  Error155507,
  Error155511,
  Error156001,
  Error156006,
  Error156023,
} from '@circle-fin/user-controlled-wallets';
import { ethers } from 'ethers';
import nacl from 'tweetnacl';
import bs58 from 'bs58';
import { startServer } from '../lib/server.js';
import { ANVIL_DEFAULT_KEY, findAnvil, startAnvil } from '../lib/chain.js';
import { describeError, rejectsWith, UUID } from '../lib/helpers.js';
import {
  executeAs, mailTypedData, newUser, PIN_A, PIN_B, PIN_C, QUESTIONS, show, WRONG_PIN,
} from '../lib/users.js';
import { executeChallenge as headlessExecute } from '../../../sdk/js/headless.js';

const SOLANA_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;
const EVM_SIGNATURE = /^0x[0-9a-f]{130}$/i;

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

/**
 * Executes a challenge as user `u`, through the command-line executor (`via` 'cli') or the
 * headless JS executor ('headless'). Resolves to { ok, result, error, text }: on success
 * `result` is {type, status, data}; on failure `error` is {code, message, attemptsLeft?, ...}.
 * `text` is everything the executor returned, for assertions and for leak checks.
 */
async function execute(u, challengeId, input, via = 'cli') {
  if (via === 'cli') {
    const r = await executeAs(server, u, challengeId, input);
    const text = show(r);
    if (r.code === 0) {
      assert.ok(r.json?.data, text);
      return { ok: true, result: r.json.data, text };
    }
    assert.equal(r.code, 1, text);
    assert.equal(typeof r.json?.code, 'number', text);
    return { ok: false, error: r.json, text };
  }
  try {
    const result = await headlessExecute({
      serviceUrl: server.baseUrl,
      appId: server.appId,
      userToken: u.userToken,
      encryptionKey: u.encryptionKey,
      challengeId,
      input,
    });
    return { ok: true, result, text: JSON.stringify(result) };
  } catch (err) {
    if (typeof err?.code !== 'number') throw err;
    const error = typeof err.toJSON === 'function' ? err.toJSON() : { code: err.code, message: err.message };
    return { ok: false, error, text: JSON.stringify(error) };
  }
}

/** Executes and expects COMPLETE of `type`; returns the result's `data`. */
async function complete(u, challengeId, input, type, via = 'cli') {
  const r = await execute(u, challengeId, input, via);
  assert.ok(r.ok, `${via}: ${r.text}`);
  assert.equal(r.result.status, 'COMPLETE', r.text);
  assert.equal(r.result.type, type, r.text);
  return r.result.data ?? {};
}

/** Executes and expects error `code`; returns the executor's result. */
async function fails(u, challengeId, input, code, via = 'cli') {
  const r = await execute(u, challengeId, input, via);
  assert.equal(r.ok, false, `${via}: expected error ${code}, got ${r.text}`);
  assert.equal(r.error.code, code, r.text);
  assert.equal(typeof r.error.message, 'string', r.text);
  return r;
}

async function challenge(u, challengeId) {
  const res = await client.getUserChallenge({ userToken: u.userToken, challengeId });
  assert.equal(res.status, 200);
  return res.data.challenge;
}

/** A new user with the PIN set by INITIALIZE, creating wallets on `blockchains`. */
async function initializedUser(prefix, blockchains, { pin = PIN_A, via = 'cli', metadata } = {}) {
  const u = await newUser(client, prefix);
  const res = await client.createUserPinWithWallets({
    userToken: u.userToken, blockchains, accountType: 'EOA', ...(metadata ? { metadata } : {}),
  });
  assert.equal(res.status, 201);
  const initId = res.data.challengeId;
  await complete(u, initId, { newPin: pin, securityQuestions: QUESTIONS }, 'INITIALIZE', via);
  const c = await challenge(u, initId);
  assert.equal(c.status, 'COMPLETE');
  assert.equal(c.correlationIds?.length, blockchains.length, JSON.stringify(c));
  const { data } = await client.listWallets({ userToken: u.userToken, pageSize: 50 });
  const byId = Object.fromEntries(data.wallets.map((w) => [w.id, w]));
  const wallets = c.correlationIds.map((id) => byId[id]);
  assert.ok(wallets.every(Boolean), `correlationIds ${c.correlationIds} are not the listed wallets ${JSON.stringify(data)}`);
  return { ...u, initId, wallets, byChain: Object.fromEntries(wallets.map((w) => [w.blockchain, w])) };
}

const SIGN = { message: 'signMessage', typedData: 'signTypedData', transaction: 'signTransaction' };
const SIGN_TYPE = { message: 'SIGN_MESSAGE', typedData: 'SIGN_TYPEDDATA', transaction: 'SIGN_TRANSACTION' };

/** Creates a signing challenge through the SDK; returns its id. */
async function signChallenge(u, kind, params) {
  let res;
  try {
    res = await client[SIGN[kind]]({ userToken: u.userToken, ...params });
  } catch (err) {
    assert.fail(`${SIGN[kind]}: ${describeError(err)}`);
  }
  assert.ok([200, 201].includes(res.status), `${SIGN[kind]} → HTTP ${res.status}`);
  assert.deepEqual(Object.keys(res.data), ['challengeId']);
  assert.match(res.data.challengeId, UUID);
  return res.data.challengeId;
}

/**
 * Signs through latchkey end to end: creates the challenge, executes it with `pin` (via
 * 'cli' or 'headless'), and checks that the REST challenge never carries the result.
 */
async function sign(u, kind, params, { pin = PIN_A, via = 'cli' } = {}) {
  const challengeId = await signChallenge(u, kind, params);
  const c0 = await challenge(u, challengeId);
  assert.equal(c0.type, SIGN_TYPE[kind]);
  assert.equal(c0.status, 'PENDING');
  const data = await complete(u, challengeId, { pin }, SIGN_TYPE[kind], via);
  assert.equal(typeof data.signature, 'string', JSON.stringify(data));
  const c = await challenge(u, challengeId);
  assert.equal(c.status, 'COMPLETE');
  const rest = JSON.stringify(c);
  for (const v of [data.signature, data.signedTransaction, data.txHash]) {
    if (v) assert.ok(!rest.includes(v), `the REST challenge carries a signing result: ${rest}`);
  }
  return data;
}

/** Signs `message` with an EVM wallet and checks it with ethers. */
async function assertEvmMessage(u, wallet, message, opts) {
  const { signature } = await sign(u, 'message', { walletId: wallet.id, message }, opts);
  assert.match(signature, EVM_SIGNATURE);
  assert.equal(ethers.verifyMessage(message, signature), wallet.address);
  return signature;
}

// EIP-712 examples: an ERC-2612 Permit (USDC on Sepolia) and the spec's Mail.
function permitTypedData(owner) {
  const domain = {
    name: 'USDC',
    version: '2',
    chainId: 11155111,
    verifyingContract: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
  };
  const types = {
    Permit: [
      { name: 'owner', type: 'address' },
      { name: 'spender', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  };
  const message = {
    owner,
    spender: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    value: '1000000000000000000000',
    nonce: '0',
    deadline: '1893456000',
  };
  const eip712Domain = [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'verifyingContract', type: 'address' },
  ];
  return {
    domain, types, message,
    json: JSON.stringify({ types: { EIP712Domain: eip712Domain, ...types }, primaryType: 'Permit', domain, message }),
  };
}

/** Checks a signed EVM transaction with ethers; returns the parsed transaction. */
function assertSignedEvmTx(data, wallet) {
  assert.match(data.signedTransaction ?? '', /^0x[0-9a-f]+$/i, JSON.stringify(data));
  assert.match(data.txHash ?? '', /^0x[0-9a-f]{64}$/i, JSON.stringify(data));
  assert.match(data.signature, EVM_SIGNATURE);
  const tx = ethers.Transaction.from(data.signedTransaction);
  assert.equal(tx.from, wallet.address);
  assert.equal(tx.hash, data.txHash);
  const sig = ethers.Signature.from(data.signature);
  assert.equal(sig.r, tx.signature.r);
  assert.equal(sig.s, tx.signature.s);
  assert.equal(sig.yParity, tx.signature.yParity);
  return tx;
}

// ---------------------------------------------------------------------------------------------

describe('wallets through the SDK', () => {
  let alice;
  let bob;
  let baseWallet;

  before(async () => {
    alice = await initializedUser('walice', ['ETH-SEPOLIA', 'EVM-TESTNET', 'SOL-DEVNET']);
    bob = await initializedUser('wbob', ['ETH-SEPOLIA']);
  });

  test('INITIALIZE creates one LIVE ENDUSER EOA wallet per blockchain, named by correlationIds', async () => {
    assert.deepEqual(alice.wallets.map((w) => w.blockchain), ['ETH-SEPOLIA', 'EVM-TESTNET', 'SOL-DEVNET']);
    for (const w of alice.wallets) {
      assert.match(w.id, UUID);
      assert.equal(w.state, 'LIVE');
      assert.equal(w.custodyType, 'ENDUSER');
      assert.equal(w.accountType, 'EOA');
      assert.equal(w.userId, alice.userId);
      assert.equal(typeof w.walletSetId, 'string');
      assert.ok(!Number.isNaN(Date.parse(w.createDate)) && !Number.isNaN(Date.parse(w.updateDate)), JSON.stringify(w));
    }
    for (const w of alice.wallets.filter((x) => x.blockchain !== 'SOL-DEVNET')) {
      assert.match(w.address, /^0x[0-9a-fA-F]{40}$/);
      assert.equal(ethers.getAddress(w.address), w.address, 'the address is not EIP-55 checksummed');
    }
    const sol = alice.byChain['SOL-DEVNET'];
    assert.match(sol.address, SOLANA_ADDRESS);
    assert.equal(bs58.decode(sol.address).length, 32);
    // Distinct keys per wallet and per user.
    const addresses = [...alice.wallets, ...bob.wallets].map((w) => w.address.toLowerCase());
    assert.equal(new Set(addresses).size, addresses.length);
  });

  test('getWallet returns the same wallet', async () => {
    for (const w of alice.wallets) {
      const res = await client.getWallet({ userToken: alice.userToken, id: w.id });
      assert.equal(res.status, 200);
      assert.deepEqual(res.data.wallet, w);
    }
  });

  test('createWallet → CREATE_WALLET; executing with the PIN creates the wallet named by correlationIds', async () => {
    const res = await client.createWallet({
      userToken: alice.userToken,
      blockchains: ['BASE-SEPOLIA'],
      accountType: 'EOA',
      metadata: [{ name: 'Base savings', refId: 'ref-base-1' }],
    });
    assert.equal(res.status, 201);
    const { challengeId } = res.data;
    assert.match(challengeId, UUID);
    assert.equal((await challenge(alice, challengeId)).type, 'CREATE_WALLET');

    await fails(alice, challengeId, { pin: WRONG_PIN }, 155112);
    await complete(alice, challengeId, { pin: PIN_A }, 'CREATE_WALLET', 'headless');
    const c = await challenge(alice, challengeId);
    assert.equal(c.status, 'COMPLETE');
    assert.equal(c.correlationIds?.length, 1, JSON.stringify(c));

    const { data } = await client.getWallet({ userToken: alice.userToken, id: c.correlationIds[0] });
    baseWallet = data.wallet;
    assert.equal(baseWallet.blockchain, 'BASE-SEPOLIA');
    assert.equal(baseWallet.accountType, 'EOA');
    assert.equal(baseWallet.custodyType, 'ENDUSER');
    assert.equal(baseWallet.state, 'LIVE');
    assert.equal(baseWallet.userId, alice.userId);
    assert.equal(baseWallet.name, 'Base savings');
    assert.equal(baseWallet.refId, 'ref-base-1');
    assert.equal(ethers.getAddress(baseWallet.address), baseWallet.address);

    const all = await client.listWallets({ userToken: alice.userToken, pageSize: 50 });
    assert.equal(all.data.wallets.length, 4);
  });

  test('listWallets filters by blockchain, address and refId', async () => {
    const sol = alice.byChain['SOL-DEVNET'];
    const bySol = await client.listWallets({ userToken: alice.userToken, blockchain: 'SOL-DEVNET' });
    assert.deepEqual(bySol.data.wallets.map((w) => w.id), [sol.id]);

    const evm = alice.byChain['EVM-TESTNET'];
    const byAddress = await client.listWallets({ userToken: alice.userToken, address: evm.address });
    assert.deepEqual(byAddress.data.wallets.map((w) => w.id), [evm.id]);

    const byRef = await client.listWallets({ userToken: alice.userToken, refId: 'ref-base-1' });
    assert.deepEqual(byRef.data.wallets.map((w) => w.id), [baseWallet.id]);

    const none = await client.listWallets({ userToken: alice.userToken, blockchain: 'AVAX-FUJI' });
    assert.deepEqual(none.data.wallets, []);

    // Bob's wallets are not Alice's.
    const bobs = await client.listWallets({ userToken: bob.userToken, address: alice.byChain['ETH-SEPOLIA'].address });
    assert.deepEqual(bobs.data.wallets, []);
  });

  test('updateWallet sets name and refId', async () => {
    const w = alice.byChain['ETH-SEPOLIA'];
    const res = await client.updateWallet({ userToken: alice.userToken, id: w.id, name: 'Main wallet', refId: 'ref-main' });
    assert.equal(res.status, 200);
    assert.equal(res.data.wallet.id, w.id);
    assert.equal(res.data.wallet.name, 'Main wallet');
    assert.equal(res.data.wallet.refId, 'ref-main');
    assert.equal(res.data.wallet.address, w.address);

    const again = await client.getWallet({ userToken: alice.userToken, id: w.id });
    assert.equal(again.data.wallet.name, 'Main wallet');
    assert.equal(again.data.wallet.refId, 'ref-main');
    const byRef = await client.listWallets({ userToken: alice.userToken, refId: 'ref-main' });
    assert.deepEqual(byRef.data.wallets.map((x) => x.id), [w.id]);
  });

  test("another user's wallet → Error156001 on get, update and sign", async () => {
    const w = alice.byChain['ETH-SEPOLIA'];
    await rejectsWith(client.getWallet({ userToken: bob.userToken, id: w.id }), Error156001, 156001, 404);
    await rejectsWith(client.updateWallet({ userToken: bob.userToken, id: w.id, name: 'mine now' }), Error156001, 156001, 404);
    await rejectsWith(client.signMessage({ userToken: bob.userToken, walletId: w.id, message: 'hi' }), Error156001, 156001, 404);
    assert.equal((await client.getWallet({ userToken: alice.userToken, id: w.id })).data.wallet.name, 'Main wallet');
  });

  test('SCA on SOL-DEVNET → Error155507, NEAR-TESTNET → Error155511, mainnet ETH with a TEST key → Error156006', async () => {
    await rejectsWith(
      client.createWallet({ userToken: alice.userToken, blockchains: ['SOL-DEVNET'], accountType: 'SCA' }),
      Error155507, 155507, 400,
    );
    await rejectsWith(
      client.createWallet({ userToken: alice.userToken, blockchains: ['NEAR-TESTNET'] }),
      Error155511, 155511, 400,
    );
    await rejectsWith(
      client.createWallet({ userToken: alice.userToken, blockchains: ['ETH'] }),
      Error156006, 156006, 400,
    );
    const fresh = await newUser(client, 'wsca');
    await rejectsWith(
      client.createUserPinWithWallets({ userToken: fresh.userToken, blockchains: ['EVM-TESTNET'], accountType: 'SCA' }),
      Error155507, 155507, 400,
    );
    await rejectsWith(
      client.createUserPinWithWallets({ userToken: fresh.userToken, blockchains: ['ETH'] }),
      Error156006, 156006, 400,
    );
    assert.equal((await client.listWallets({ userToken: alice.userToken, pageSize: 50 })).data.wallets.length, 4);
  });

  describe('EVM signatures, checked with ethers', () => {
    test('a message, through the command-line executor', async () => {
      await assertEvmMessage(alice, alice.byChain['ETH-SEPOLIA'], 'I agree with this transfer ✓');
    });

    test('a message, through the headless JS executor', async () => {
      await assertEvmMessage(alice, alice.byChain['ETH-SEPOLIA'], 'Sign in to example.com\nNonce: 42', { via: 'headless' });
    });

    test('BASE-SEPOLIA and EVM-TESTNET wallets sign with their own addresses', async () => {
      await assertEvmMessage(alice, baseWallet, 'base');
      await assertEvmMessage(alice, alice.byChain['EVM-TESTNET'], 'evm testnet', { via: 'headless' });
    });

    test('encodedByHex: the bytes are signed, not the text', async () => {
      const bytes = new Uint8Array([0x00, 0xff, 0x80, ...randomBytes(29)]);
      const message = ethers.hexlify(bytes);
      const w = alice.byChain['ETH-SEPOLIA'];
      const { signature } = await sign(alice, 'message', { walletId: w.id, message, encodedByHex: true });
      assert.equal(ethers.verifyMessage(ethers.getBytes(message), signature), w.address);
      assert.notEqual(ethers.verifyMessage(message, signature), w.address);

      await rejectsWith(
        client.signMessage({ userToken: alice.userToken, walletId: w.id, message: 'not hex', encodedByHex: true }),
        Error156023, 156023, 409,
      );
    });

    test('EIP-712 Permit (command line) and Mail (headless), verified with ethers.verifyTypedData', async () => {
      const w = alice.byChain['ETH-SEPOLIA'];
      const permit = permitTypedData(w.address);
      const a = await sign(alice, 'typedData', { walletId: w.id, data: permit.json });
      assert.match(a.signature, EVM_SIGNATURE);
      assert.equal(ethers.verifyTypedData(permit.domain, permit.types, permit.message, a.signature), w.address);

      const mail = mailTypedData();
      const b = await sign(alice, 'typedData', { walletId: w.id, data: mail.json }, { via: 'headless' });
      assert.equal(ethers.verifyTypedData(mail.domain, mail.types, mail.message, b.signature), w.address);
    });

    test('a transaction from JSON (EIP-1559, Sepolia): ethers recovers the wallet and the hash', async () => {
      const w = alice.byChain['ETH-SEPOLIA'];
      const txJson = {
        to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        value: '1000000000000000',
        nonce: 3,
        gas: 21000,
        maxFeePerGas: '30000000000',
        maxPriorityFeePerGas: '1000000000',
        chainId: 11155111,
      };
      const data = await sign(alice, 'transaction', { walletId: w.id, transaction: JSON.stringify(txJson) });
      const tx = assertSignedEvmTx(data, w);
      assert.equal(tx.type, 2);
      assert.equal(tx.chainId, 11155111n);
      assert.equal(tx.nonce, 3);
      assert.equal(tx.to, txJson.to);
      assert.equal(tx.value, 1000000000000000n);
      assert.equal(tx.gasLimit, 21000n);
      assert.equal(tx.maxFeePerGas, 30000000000n);
      assert.equal(tx.maxPriorityFeePerGas, 1000000000n);
    });

    test('an unsigned serialized transaction (headless): legacy with data and EIP-1559', async () => {
      const w = alice.byChain['ETH-SEPOLIA'];
      const legacy = ethers.Transaction.from({
        type: 0,
        to: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
        nonce: 7,
        gasLimit: 60000,
        gasPrice: 2000000000n,
        value: 0,
        data: '0xa9059cbb00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c800000000000000000000000000000000000000000000000000000000000f4240',
        chainId: 11155111,
      });
      const a = await sign(alice, 'transaction', { walletId: w.id, rawTransaction: legacy.unsignedSerialized }, { via: 'headless' });
      const txA = assertSignedEvmTx(a, w);
      assert.equal(txA.unsignedHash, legacy.unsignedHash);
      assert.equal(txA.data, legacy.data);

      const eip1559 = ethers.Transaction.from({
        type: 2,
        to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        nonce: 8,
        gasLimit: 21000,
        maxFeePerGas: 40000000000n,
        maxPriorityFeePerGas: 2000000000n,
        value: 5n,
        chainId: 11155111,
      });
      const b = await sign(alice, 'transaction', { walletId: w.id, rawTransaction: eip1559.unsignedSerialized });
      const txB = assertSignedEvmTx(b, w);
      assert.equal(txB.unsignedHash, eip1559.unsignedHash);
    });

    test('a transaction for another chain than the wallet\'s → 155807, no challenge', async () => {
      const w = alice.byChain['ETH-SEPOLIA'];
      const err = await client.signTransaction({
        userToken: alice.userToken,
        walletId: w.id,
        transaction: JSON.stringify({ to: w.address, value: '1', nonce: 0, gas: 21000, gasPrice: '1', chainId: 1 }),
      }).then((res) => assert.fail(`expected 155807, got HTTP ${res.status} ${JSON.stringify(res.data)}`), (e) => e);
      assert.equal(err.code, 155807, describeError(err));
    });
  });

  describe('Solana signatures, checked with tweetnacl and @solana/web3.js', () => {
    test('a message (command line and headless): nacl verifies the base58 signature against the address', async () => {
      const w = alice.byChain['SOL-DEVNET'];
      for (const via of ['cli', 'headless']) {
        const message = `Sign in to example.com with Solana (${via}) ✓`;
        const { signature } = await sign(alice, 'message', { walletId: w.id, message }, { via });
        assert.match(signature, BASE58);
        const sig = bs58.decode(signature);
        assert.equal(sig.length, 64);
        const bytes = new TextEncoder().encode(message);
        assert.ok(nacl.sign.detached.verify(bytes, sig, bs58.decode(w.address)), `${via}: the signature does not verify`);
        assert.ok(!nacl.sign.detached.verify(new TextEncoder().encode(`${message}!`), sig, bs58.decode(w.address)));
      }
    });

    test('a hex-encoded message: the bytes are signed', async () => {
      const w = alice.byChain['SOL-DEVNET'];
      const bytes = randomBytes(48);
      const { signature } = await sign(alice, 'message', { walletId: w.id, message: `0x${bytes.toString('hex')}`, encodedByHex: true });
      assert.ok(nacl.sign.detached.verify(bytes, bs58.decode(signature), bs58.decode(w.address)));
    });

    test('a transfer built with @solana/web3.js, the wallet as fee payer: verifySignatures() holds', async (t) => {
      let web3;
      try {
        web3 = await import('@solana/web3.js');
      } catch (err) {
        t.skip(`@solana/web3.js is not installed: ${err.message}`);
        return;
      }
      const w = alice.byChain['SOL-DEVNET'];
      const payer = new web3.PublicKey(w.address);
      const recipient = web3.Keypair.generate().publicKey;
      const tx = new web3.Transaction({
        feePayer: payer,
        recentBlockhash: bs58.encode(randomBytes(32)),
      }).add(web3.SystemProgram.transfer({ fromPubkey: payer, toPubkey: recipient, lamports: 1_000_000 }));
      const unsigned = tx.serialize({ requireAllSignatures: false, verifySignatures: false }).toString('base64');

      const data = await sign(alice, 'transaction', { walletId: w.id, rawTransaction: unsigned }, { via: 'headless' });
      assert.equal(typeof data.signedTransaction, 'string', JSON.stringify(data));
      const signed = web3.Transaction.from(Buffer.from(data.signedTransaction, 'base64'));
      assert.ok(signed.verifySignatures(), 'verifySignatures() is false');
      assert.equal(signed.feePayer.toBase58(), w.address);
      assert.equal(signed.signatures.length, 1);
      assert.equal(bs58.encode(signed.signatures[0].signature), data.signature);
      // The message itself is unchanged: same instructions, same blockhash.
      assert.deepEqual(signed.serializeMessage(), tx.serializeMessage());
      // A Solana transaction id is its first signature.
      assert.equal(data.txHash, data.signature);
    });

    test('EIP-712 typed data on a Solana wallet → 155510', async () => {
      const w = alice.byChain['SOL-DEVNET'];
      const err = await client.signTypedData({ userToken: alice.userToken, walletId: w.id, data: mailTypedData().json })
        .then((res) => assert.fail(`expected 155510, got HTTP ${res.status} ${JSON.stringify(res.data)}`), (e) => e);
      assert.equal(err.code, 155510, describeError(err));
    });
  });

  describe('an EVM-TESTNET wallet on a local anvil node (chain 31337)', () => {
    const found = findAnvil();
    const skip = 'reason' in found ? found.reason : false;
    let node;
    let provider;
    let wallet;

    before(async () => {
      if (skip) return;
      node = await startAnvil(found.path);
      provider = new ethers.JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
      wallet = alice.byChain['EVM-TESTNET'];
      // Fund the latchkey wallet from anvil's first default account.
      const funder = new ethers.Wallet(ANVIL_DEFAULT_KEY, provider);
      const funding = await funder.sendTransaction({ to: wallet.address, value: ethers.parseEther('10') });
      const receipt = await funding.wait();
      assert.equal(receipt.status, 1);
    });

    after(async () => {
      provider?.destroy();
      await node?.stop();
    });

    /** An EIP-1559 transfer from the latchkey wallet, with anvil's nonce and fees. */
    async function transfer(to, value) {
      const nonce = await provider.getTransactionCount(wallet.address, 'pending');
      const fees = await provider.getFeeData();
      return {
        to, value: value.toString(), nonce, gas: 21000,
        maxFeePerGas: fees.maxFeePerGas.toString(),
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
        chainId: 31337,
      };
    }

    test('a transfer signed from JSON is accepted and mined', { skip }, async () => {
      assert.equal(await provider.getBalance(wallet.address), ethers.parseEther('10'));
      const recipient = ethers.Wallet.createRandom().address;
      const value = ethers.parseEther('1.25');
      const txJson = await transfer(recipient, value);
      const data = await sign(alice, 'transaction', { walletId: wallet.id, transaction: JSON.stringify(txJson) });
      const parsed = assertSignedEvmTx(data, wallet);
      assert.equal(parsed.chainId, 31337n);

      const sent = await provider.broadcastTransaction(data.signedTransaction);
      assert.equal(sent.hash, data.txHash);
      const receipt = await sent.wait();
      assert.equal(receipt.status, 1);
      assert.equal(receipt.from, wallet.address);
      assert.equal(await provider.getBalance(recipient), value);
      assert.equal(await provider.getTransactionCount(wallet.address), txJson.nonce + 1);
    });

    test('a transfer signed from an unsigned serialized transaction (headless) is mined too', { skip }, async () => {
      const recipient = ethers.Wallet.createRandom().address;
      const value = 123456789n;
      const j = await transfer(recipient, value);
      const unsigned = ethers.Transaction.from({
        type: 2, to: j.to, value, nonce: j.nonce, gasLimit: 21000,
        maxFeePerGas: BigInt(j.maxFeePerGas), maxPriorityFeePerGas: BigInt(j.maxPriorityFeePerGas), chainId: 31337,
      }).unsignedSerialized;
      const data = await sign(alice, 'transaction', { walletId: wallet.id, rawTransaction: unsigned }, { via: 'headless' });
      const parsed = assertSignedEvmTx(data, wallet);
      assert.equal(parsed.nonce, j.nonce);
      assert.equal(parsed.unsignedSerialized, unsigned);
      const sent = await provider.broadcastTransaction(data.signedTransaction);
      assert.equal(sent.hash, data.txHash);
      const receipt = await sent.wait();
      assert.equal(receipt.status, 1);
      assert.equal(await provider.getBalance(recipient), value);
    });
  });
});

describe('custody: the wallet key survives PIN changes; a locked PIN signs nothing', () => {
  let u;
  let w;
  let sol;

  before(async () => {
    u = await initializedUser('wcustody', ['ETH-SEPOLIA', 'SOL-DEVNET'], { via: 'headless' });
    w = u.byChain['ETH-SEPOLIA'];
    sol = u.byChain['SOL-DEVNET'];
  });

  async function assertSolMessage(message, pin) {
    const { signature } = await sign(u, 'message', { walletId: sol.id, message }, { pin });
    assert.ok(nacl.sign.detached.verify(new TextEncoder().encode(message), bs58.decode(signature), bs58.decode(sol.address)));
  }

  test('signing needs the PIN: a wrong PIN → 155112 and no signature; the right one then signs', async () => {
    const id = await signChallenge(u, 'message', { walletId: w.id, message: 'before' });
    const bad = await fails(u, id, { pin: WRONG_PIN }, 155112);
    assert.equal(bad.error.attemptsLeft, 2, bad.text);
    assert.ok(!/signature/i.test(bad.text), bad.text);
    const data = await complete(u, id, { pin: PIN_A }, 'SIGN_MESSAGE');
    assert.equal(ethers.verifyMessage('before', data.signature), w.address);
  });

  test('after updateUserPin (CHANGE_PIN) the same wallets sign with the new PIN only', async () => {
    const { data: { challengeId } } = await client.updateUserPin({ userToken: u.userToken });
    await complete(u, challengeId, { pin: PIN_A, newPin: PIN_B }, 'CHANGE_PIN');

    const old = await signChallenge(u, 'message', { walletId: w.id, message: 'old pin' });
    await fails(u, old, { pin: PIN_A }, 155112);
    await assertEvmMessage(u, w, 'after change', { pin: PIN_B });
    await assertSolMessage('after change', PIN_B);
    const { data } = await client.getWallet({ userToken: u.userToken, id: w.id });
    assert.equal(data.wallet.address, w.address);
  });

  test('after restoreUserPin (RESTORE_PIN) the same wallets sign with the restored PIN', async () => {
    const { data: { challengeId } } = await client.restoreUserPin({ userToken: u.userToken });
    await complete(u, challengeId, { securityAnswers: ['rex', 'LYON'], newPin: PIN_C }, 'RESTORE_PIN', 'headless');
    await assertEvmMessage(u, w, 'after restore', { pin: PIN_C, via: 'headless' });
    await assertSolMessage('after restore', PIN_C);
    const typed = permitTypedData(w.address);
    const { signature } = await sign(u, 'typedData', { walletId: w.id, data: typed.json }, { pin: PIN_C });
    assert.equal(ethers.verifyTypedData(typed.domain, typed.types, typed.message, signature), w.address);
  });

  test('three wrong PINs on a sign challenge: 155112, 155112, 155119; it FAILS with no signature', async () => {
    const id = await signChallenge(u, 'transaction', {
      walletId: w.id,
      transaction: JSON.stringify({ to: w.address, value: '1', nonce: 0, gas: 21000, gasPrice: '1000000000', chainId: 11155111 }),
    });
    const r1 = await fails(u, id, { pin: WRONG_PIN }, 155112);
    assert.equal(r1.error.attemptsLeft, 2, r1.text);
    const r2 = await fails(u, id, { pin: WRONG_PIN }, 155112, 'headless');
    assert.equal(r2.error.attemptsLeft, 1, r2.text);
    const r3 = await fails(u, id, { pin: WRONG_PIN }, 155119);
    for (const r of [r1, r2, r3]) assert.ok(!/signature|signedTransaction|txHash/i.test(r.text), r.text);

    const c = await challenge(u, id);
    assert.equal(c.status, 'FAILED');
    assert.equal(c.errorCode, 155119);
    assert.ok(!/signature/i.test(JSON.stringify(c)), JSON.stringify(c));
    assert.equal((await client.getUserStatus({ userToken: u.userToken })).data.pinStatus, 'LOCKED');
  });

  test('while locked, even the right PIN signs nothing (155119)', async () => {
    let id;
    try {
      const res = await client.signMessage({ userToken: u.userToken, walletId: w.id, message: 'locked' });
      id = res.data.challengeId;
    } catch (err) {
      // Refusing to open a signing challenge while locked is acceptable too.
      assert.ok(err instanceof Error155119, describeError(err));
      return;
    }
    const r = await fails(u, id, { pin: PIN_C }, 155119);
    assert.ok(!/signature/i.test(r.text), r.text);
    assert.equal((await challenge(u, id)).status, 'FAILED');
    // The headless executor is refused the same way on a fresh challenge.
    const again = await signChallenge(u, 'message', { walletId: w.id, message: 'locked again' });
    const h = await fails(u, again, { pin: PIN_C }, 155119, 'headless');
    assert.ok(!/signature/i.test(h.text), h.text);
  });

  test('a RESTORE_PIN lifts the lock and the wallet signs again with the same address', async () => {
    const { data: { challengeId } } = await client.restoreUserPin({ userToken: u.userToken });
    await complete(u, challengeId, { securityAnswers: ['Rex', 'Lyon'], newPin: PIN_A }, 'RESTORE_PIN');
    await assertEvmMessage(u, w, 'unlocked', { pin: PIN_A });
    await assertSolMessage('unlocked', PIN_A);
  });
});
