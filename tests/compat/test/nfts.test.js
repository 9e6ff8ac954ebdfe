// NFTs with Circle's official Node SDK: an ERC-721 minted to a wallet and an ERC-1155 batch
// are recorded by the server's follower and listed by getWalletNFTBalance; an ERC-721
// createTransaction approved with the PIN completes and the holdings follow.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Error156001, initiateUserControlledWalletsClient } from '@circle-fin/user-controlled-wallets';
import { startServer } from '../lib/server.js';
import { CHAIN_IDS, callData, deploy, findAnvil, rpc, send, startAnvil, word } from '../lib/chain.js';
import { ISO_DATE, rejectsWith } from '../lib/helpers.js';
import { executeAs, newUser, PIN_A, show } from '../lib/users.js';

const DEST = '0x2222222222222222222222222222222222222222';

let amoy;
let server;
let client;

async function fromAcct0(tx) {
  const [from] = await rpc(amoy.rpcUrl, 'eth_accounts');
  return send(amoy.rpcUrl, { from, ...tx });
}

/** Polls `read` until `ok(value)`; the server's follower and engine run on their own. */
async function until(read, ok, what) {
  let last;
  for (let i = 0; i < 150; i++) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} never happened: ${JSON.stringify(last)}`);
}

before(async () => {
  const found = findAnvil();
  assert.ok(!('reason' in found), `no anvil binary (run npm ci in tests/compat): ${found.reason}`);
  amoy = await startAnvil(found.path, { chainId: CHAIN_IDS['MATIC-AMOY'] });
  server = await startServer({ args: ['--rpc', `MATIC-AMOY=${amoy.rpcUrl}`] });
  client = initiateUserControlledWalletsClient({ apiKey: server.apiKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await amoy?.stop();
});

describe('getWalletNFTBalance and NFT transfers', () => {
  test('minted NFTs are listed, and an ERC-721 createTransaction completes', async () => {
    const u = await newUser(client, 'nfts', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    const wallet = (await client.listWallets({ userToken: u.userToken })).data.wallets[0];
    const nft = await deploy(amoy.rpcUrl, 'TestNft721');
    const multi = await deploy(amoy.rpcUrl, 'TestMulti1155');
    // The follower starts at the head it first sees: let it see one before the mints.
    await new Promise((r) => setTimeout(r, 1000));
    await fromAcct0({ to: wallet.address, value: '0xde0b6b3a7640000' });
    await fromAcct0({ to: nft, data: callData('TestNft721', 'mint(address,uint256)', [word(wallet.address), word(7)]) });
    await fromAcct0({
      to: multi,
      data: callData('TestMulti1155', 'mintBatch(address,uint256[],uint256[])', [
        word(wallet.address), word(0x60), word(0xc0), word(2), word(1), word(2), word(2), word(10), word(20),
      ]),
    });

    const listed = await until(
      () => client.getWalletNFTBalance({ walletId: wallet.id, userToken: u.userToken }),
      (res) => res.data.nfts?.length === 3,
      'three NFTs listed',
    );
    const nfts = listed.data.nfts;
    assert.deepEqual(
      nfts.map((n) => [n.token.tokenAddress.toLowerCase(), n.nftTokenId, n.amount]),
      [[nft, '7', '1'], [multi, '1', '10'], [multi, '2', '20']],
    );
    assert.equal(nfts[0].token.standard, 'ERC721');
    assert.equal(nfts[0].token.name, 'latchkey Test NFT');
    assert.equal(nfts[1].token.standard, 'ERC1155');
    assert.match(nfts[0].updateDate, ISO_DATE);
    assert.equal(typeof nfts[0].metadata, 'string');

    const only1155 = await client.getWalletNFTBalance({
      walletId: wallet.id, userToken: u.userToken, standard: 'ERC1155', pageSize: 1,
    });
    assert.deepEqual(only1155.data.nfts.map((n) => n.nftTokenId), ['1']);
    const byAddress = await client.getWalletNFTBalance({
      walletId: wallet.id, userToken: u.userToken, tokenAddresses: [nft],
    });
    assert.deepEqual(byAddress.data.nfts.map((n) => n.nftTokenId), ['7']);

    // The deposits are INBOUND transactions carrying the ids.
    const inbound = await client.listTransactions({ userToken: u.userToken, txType: 'INBOUND' });
    const batch = inbound.data.transactions.find((t) => t.nftTokenIds?.length === 2);
    assert.ok(batch, JSON.stringify(inbound.data));
    assert.deepEqual([batch.nftTokenIds, batch.amounts], [['1', '2'], ['10', '20']]);

    // Another user's token cannot read the wallet.
    const other = await newUser(client, 'nfts-other', { server, pin: PIN_A, blockchains: ['MATIC-AMOY'] });
    await rejectsWith(
      client.getWalletNFTBalance({ walletId: wallet.id, userToken: other.userToken }),
      Error156001, 156001, 404,
    );

    // The ERC-721 out, by its token id.
    const created = await client.createTransaction({
      userToken: u.userToken,
      walletId: wallet.id,
      tokenId: nfts[0].token.id,
      destinationAddress: DEST,
      amounts: ['1'],
      nftTokenIds: ['7'],
      fee: { type: 'level', config: { feeLevel: 'MEDIUM' } },
      idempotencyKey: randomUUID(),
    });
    const challengeId = created.data.challengeId;
    const r = await executeAs(server, u, challengeId, { pin: PIN_A });
    assert.equal(r.code, 0, show(r));
    const challenge = await client.getUserChallenge({ userToken: u.userToken, challengeId });
    const [id] = challenge.data.challenge.correlationIds;
    const done = await until(
      () => client.getTransaction({ userToken: u.userToken, id }),
      (res) => ['COMPLETE', 'FAILED'].includes(res.data.transaction.state),
      'the NFT transfer completing',
    );
    assert.equal(done.data.transaction.state, 'COMPLETE', JSON.stringify(done.data));
    assert.deepEqual(done.data.transaction.nftTokenIds, ['7']);
    const owner = await rpc(amoy.rpcUrl, 'eth_call', [
      { to: nft, data: callData('TestNft721', 'ownerOf(uint256)', [word(7)]) }, 'latest',
    ]);
    assert.equal(`0x${owner.slice(-40)}`, DEST);
    const after = await client.getWalletNFTBalance({ walletId: wallet.id, userToken: u.userToken });
    assert.deepEqual(after.data.nfts.map((n) => n.nftTokenId), ['1', '2']);
  });
});
