// Smart-contract account wallets (accountType SCA) through the official SDK: Circle's sample
// backend's sign-up call, `createUserPinWithWallets({ blockchains: ['MATIC-AMOY'],
// accountType: 'SCA' })`, approved with the PIN, gives an SCA wallet whose fields listWallets
// shows as Circle's; one chain per SCA create call (Error155508); signing a raw transaction
// from an SCA is refused (Error155515), as is a transfer until UserOperations land. The
// on-chain checks of SCA signatures (ERC-6492 before deployment, ERC-1271 after) run against
// anvil in crates/latchkey-api/tests/api/sca_wallets.rs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initiateUserControlledWalletsClient,
  Error155507,
  Error155508,
  Error155515,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
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

  test('a raw transaction from an SCA → Error155515; a transfer too (no UserOperations yet)', async () => {
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
      Error155515, 155515, 400,
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
