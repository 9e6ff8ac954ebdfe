// Fee estimates through Circle's official Node SDK (`estimateTransferFee`,
// `estimateContractExecutionFee`) against a latchkey serving a local anvil as MATIC-AMOY: the
// SDK's request shapes reach the server (`amount` → `amounts`, `source` flattened), and the
// answer is Circle's `{low, medium, high}` of `TransactionFee` objects. A missing anvil fails the
// file instead of skipping it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Error155204, Error155205, Error155208, Error156001, Error156027,
  initiateUserControlledWalletsClient,
} from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, callData, deploy, findAnvil, rpc, send, startAnvil, word } from '../lib/chain.js';
import { errorBody, rejectsWith } from '../lib/helpers.js';
import { PIN_A, newUser } from '../lib/users.js';

// Circle's MATIC-AMOY USDC, seeded in latchkey's registry.
const USDC = '0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582';
const USDC_ID = '36b6931a-873a-56a8-8a27-b706b17104ee';
const DEST = '0x2222222222222222222222222222222222222222';
const GWEI = 10n ** 9n;

let amoy;
let server;
let client;
let user;
let wallet;
let sepoliaWallet;
let acct0;

/** gwei string → wei. */
function wei(gwei) {
  const [whole, frac = ''] = gwei.split('.');
  return BigInt(whole) * GWEI + BigInt(frac.padEnd(9, '0'));
}

/** wei → native units, exact, trailing zeros trimmed (latchkey's `format_units`). */
function native(amount) {
  const s = amount.toString().padStart(19, '0');
  const frac = s.slice(-18).replace(/0+$/, '');
  return frac ? `${s.slice(0, -18)}.${frac}` : s.slice(0, -18);
}

/** Every level is a TransactionFee with the EIP-1559 fields, ordered LOW ≤ MEDIUM ≤ HIGH. */
function assertLevels(data, gasLimit) {
  assert.deepEqual(Object.keys(data).sort(), ['high', 'low', 'medium'], JSON.stringify(data));
  let last = 0n;
  for (const level of ['low', 'medium', 'high']) {
    const fee = data[level];
    assert.equal(fee.gasLimit, String(gasLimit), JSON.stringify(data));
    for (const field of ['baseFee', 'priorityFee', 'maxFee', 'networkFee', 'networkFeeRaw']) {
      assert.equal(typeof fee[field], 'string', `${level}.${field}: ${JSON.stringify(fee)}`);
    }
    assert.equal(fee.gasPrice, undefined);
    assert.equal(wei(fee.maxFee), 2n * wei(fee.baseFee) + wei(fee.priorityFee), JSON.stringify(fee));
    assert.ok(wei(fee.maxFee) >= last, JSON.stringify(data));
    last = wei(fee.maxFee);
  }
}

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'], accounts: 2 });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  user = await newUser(client, 'fees', { server, pin: PIN_A, blockchains: ['MATIC-AMOY', 'ETH-SEPOLIA'] });
  const { data } = await client.listWallets({ userToken: user.userToken });
  wallet = data.wallets.find((w) => w.blockchain === 'MATIC-AMOY');
  sepoliaWallet = data.wallets.find((w) => w.blockchain === 'ETH-SEPOLIA');
  [acct0] = await rpc(amoy.rpcUrl, 'eth_accounts');
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

describe('estimateTransferFee', () => {
  test('an empty wallet cannot pay: 155204', async () => {
    await rejectsWith(client.estimateTransferFee({
      userToken: user.userToken, walletId: wallet.id, tokenAddress: '', blockchain: 'MATIC-AMOY',
      destinationAddress: DEST, amount: ['0.01'],
    }), Error155204, 155204, 400);
  });

  test('native EOA to EOA: gasLimit 21000 at every level', async () => {
    await send(amoy.rpcUrl, { from: acct0, to: wallet.address, value: '0xde0b6b3a7640000' });
    const res = await client.estimateTransferFee({
      userToken: user.userToken, walletId: wallet.id, tokenAddress: '', blockchain: 'MATIC-AMOY',
      destinationAddress: DEST, amount: ['0.01'],
    });
    assertLevels(res.data, 21000);
    assert.equal(res.data.low.networkFee, native(wei(res.data.low.maxFee) * 21000n));
  });

  test('ERC-20 by token id, the wallet by source address: the node estimate × 1.2', async () => {
    const runtime = readFileSync(new URL('../../../contracts/out/TestUsdc.runtime.hex', import.meta.url), 'utf8');
    await rpc(amoy.rpcUrl, 'anvil_setCode', [USDC, runtime.trim()]);
    await send(amoy.rpcUrl, {
      from: acct0, to: USDC, data: callData('TestUsdc', 'mint(address,uint256)', [word(wallet.address), word(2_000_000)]),
    });
    const res = await client.estimateTransferFee({
      userToken: user.userToken, sourceAddress: wallet.address, tokenId: USDC_ID,
      destinationAddress: DEST, amount: ['1.25'],
    });
    const raw = BigInt(await rpc(amoy.rpcUrl, 'eth_estimateGas', [{
      from: wallet.address, to: USDC,
      data: callData('TestUsdc', 'transfer(address,uint256)', [word(DEST), word(1_250_000)]),
    }]));
    assertLevels(res.data, (raw * 6n + 4n) / 5n);
    await rejectsWith(client.estimateTransferFee({
      userToken: user.userToken, walletId: wallet.id, tokenId: USDC_ID,
      destinationAddress: DEST, amount: ['3'],
    }), Error155205, 155205, 400);
  });

  test('an unknown wallet is 156001, a chain without a node 156027', async () => {
    await rejectsWith(client.estimateTransferFee({
      userToken: user.userToken, walletId: '3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1', tokenAddress: '',
      blockchain: 'MATIC-AMOY', destinationAddress: DEST, amount: ['0.01'],
    }), Error156001, 156001, 404);
    await rejectsWith(client.estimateTransferFee({
      userToken: user.userToken, walletId: sepoliaWallet.id, tokenAddress: '', blockchain: 'ETH-SEPOLIA',
      destinationAddress: DEST, amount: ['0.01'],
    }), Error156027, 156027, 400);
  });

  test("another user's wallet is not found", async () => {
    const other = await newUser(client, 'fees-other');
    await rejectsWith(client.estimateTransferFee({
      userToken: other.userToken, walletId: wallet.id, tokenAddress: '', blockchain: 'MATIC-AMOY',
      destinationAddress: DEST, amount: ['0.01'],
    }), Error156001, 156001, 404);
  });
});

describe('estimateContractExecutionFee', () => {
  test('an ABI call, the wallet by id', async () => {
    const res = await client.estimateContractExecutionFee({
      userToken: user.userToken, source: { walletId: wallet.id }, contractAddress: USDC,
      abiFunctionSignature: 'mint(address,uint256)', abiParameters: [wallet.address, '1000000'],
    });
    const raw = BigInt(await rpc(amoy.rpcUrl, 'eth_estimateGas', [{
      from: wallet.address, to: USDC,
      data: callData('TestUsdc', 'mint(address,uint256)', [word(wallet.address), word(1_000_000)]),
    }]));
    assertLevels(res.data, (raw * 6n + 4n) / 5n);
  });

  test('raw callData, the wallet by address', async () => {
    const res = await client.estimateContractExecutionFee({
      userToken: user.userToken, source: { sourceAddress: wallet.address, blockchain: 'MATIC-AMOY' },
      contractAddress: USDC,
      callData: callData('TestUsdc', 'mint(address,uint256)', [word(wallet.address), word(1_000_000)]),
    });
    assert.ok(Number(res.data.medium.gasLimit) > 21000, JSON.stringify(res.data));
  });

  test('a call that reverts is 155208 with the reason', async () => {
    const reverter = await deploy(amoy.rpcUrl, 'Reverter');
    const err = await rejectsWith(client.estimateContractExecutionFee({
      userToken: user.userToken, source: { walletId: wallet.id }, contractAddress: reverter,
      abiFunctionSignature: 'fail()', abiParameters: [],
    }), Error155208, 155208, 400);
    assert.match(errorBody(err).message, /Reverter: always fails/);
  });
});
