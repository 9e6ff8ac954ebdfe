// Starts the local Solana node (../start) on a free port and drives it through the real client
// libraries (@solana/web3.js 1.x and @solana/spl-token), whose response validation is the
// oracle for the RPC's shapes: airdrop, SOL transfer, SPL mint + ATA + transfer to a fresh
// owner, Token-2022, commitment progression, history of a deposit, blockhash expiry, failures.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import bs58 from 'bs58';
import {
  Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction, TransactionMessage,
  VersionedTransaction, ComputeBudgetProgram, SendTransactionError, AddressLookupTableProgram,
} from '@solana/web3.js';
import {
  TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, MINT_SIZE, getMinimumBalanceForRentExemptMint, createInitializeMint2Instruction,
  getAssociatedTokenAddressSync, createAssociatedTokenAccountInstruction, createAssociatedTokenAccountIdempotentInstruction,
  createMintToCheckedInstruction, createTransferCheckedInstruction, getAccount, getMint,
} from '@solana/spl-token';

const here = path.dirname(fileURLToPath(import.meta.url));
const SLOT_MS = 50; // a fast clock for the tests: finalized after 32 slots = 1.6 s
let node;
let url;
let conn;

before(async () => {
  node = spawn(path.join(here, '..', 'start'), ['--port', '0', '--slot-ms', String(SLOT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    let out = '';
    node.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/solana-node listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    node.on('exit', (code) => reject(new Error(`solana-node exited with ${code}`)));
  });
  conn = new Connection(url, { commitment: 'confirmed', disableRetryOnRateLimit: true });
});

after(() => node?.kill('SIGTERM'));

async function rpc(method, params = []) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return res.json();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(signature, level = 'confirmed', timeoutMs = 20000) {
  const order = ['processed', 'confirmed', 'finalized'];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { value: [status] } = await conn.getSignatureStatuses([signature]);
    if (status && order.indexOf(status.confirmationStatus) >= order.indexOf(level)) return status;
    if (Date.now() > deadline) throw new Error(`${signature} not ${level} in time: ${JSON.stringify(status)}`);
    await sleep(SLOT_MS);
  }
}

async function airdrop(pubkey, lamports) {
  const sig = await conn.requestAirdrop(pubkey, lamports);
  await waitFor(sig);
  return sig;
}

async function send(instructions, payer, signers = [], opts = {}) {
  const { blockhash } = await conn.getLatestBlockhash();
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(...instructions);
  tx.sign(payer, ...signers);
  const sig = await conn.sendRawTransaction(tx.serialize(), opts);
  await waitFor(sig);
  return sig;
}

async function newFundedKeypair(sol = 10) {
  const kp = Keypair.generate();
  await airdrop(kp.publicKey, sol * LAMPORTS_PER_SOL);
  return kp;
}

async function createMint(payer, decimals, programId) {
  const mint = Keypair.generate();
  const rent = await getMinimumBalanceForRentExemptMint(conn);
  await send([
    SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: mint.publicKey, lamports: rent, space: MINT_SIZE, programId }),
    createInitializeMint2Instruction(mint.publicKey, decimals, payer.publicKey, null, programId),
  ], payer, [mint]);
  return mint.publicKey;
}

test('cluster basics: genesis hash, version, health, slots, batch requests', async () => {
  assert.equal(await conn.getGenesisHash(), '5cr6Q9j5Q1k94VRmCW7v51dcoDMmNGW25jJ6cciVLzGJ');
  const version = await conn.getVersion();
  assert.match(version['solana-core'], /^\d+\.\d+\.\d+$/);
  const processed = await conn.getSlot('processed');
  const finalized = await conn.getSlot('finalized');
  assert.ok(processed >= finalized);
  assert.equal(await conn.getBlockHeight('processed') >= processed, true);
  const { blockhash, lastValidBlockHeight } = await conn.getLatestBlockhash('processed');
  assert.ok(lastValidBlockHeight >= processed + 150);
  assert.equal((await conn.isBlockhashValid(blockhash)).value, true);
  assert.equal(await conn.getMinimumBalanceForRentExemption(165), 2039280);
  await sleep(SLOT_MS * 3);
  assert.ok((await conn.getSlot('processed')) > processed, 'slots advance on their own');

  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'getHealth' },
      { jsonrpc: '2.0', id: 'b', method: 'getSlot', params: [{ commitment: 'processed' }] },
      { jsonrpc: '2.0', id: 'c', method: 'noSuchMethod' },
    ]),
  });
  const batch = await res.json();
  assert.deepEqual(batch[0], { jsonrpc: '2.0', result: 'ok', id: 'a' });
  assert.equal(typeof batch[1].result, 'number');
  assert.equal(batch[2].error.code, -32601);
});

test('airdrop and a SOL transfer, with the fee the RPC reports', async () => {
  const alice = await newFundedKeypair(2);
  assert.equal(await conn.getBalance(alice.publicKey), 2 * LAMPORTS_PER_SOL);
  const bob = Keypair.generate();
  const sig = await send([SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob.publicKey, lamports: 123_456_789 })], alice);
  assert.equal(await conn.getBalance(bob.publicKey), 123_456_789);
  assert.equal(await conn.getBalance(alice.publicKey), 2 * LAMPORTS_PER_SOL - 123_456_789 - 5000);

  const tx = await conn.getTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  assert.equal(tx.meta.fee, 5000);
  assert.equal(tx.meta.err, null);
  assert.equal(tx.version, 'legacy');
  const keys = tx.transaction.message.staticAccountKeys.map((k) => k.toBase58());
  const bobIndex = keys.indexOf(bob.publicKey.toBase58());
  assert.equal(tx.meta.preBalances[bobIndex], 0);
  assert.equal(tx.meta.postBalances[bobIndex], 123_456_789);
  assert.equal(typeof tx.blockTime, 'number');

  // getFeeForMessage and a priority fee: price × limit / 10^6, rounded up.
  const { blockhash } = await conn.getLatestBlockhash();
  const message = new TransactionMessage({
    payerKey: alice.publicKey,
    recentBlockhash: blockhash,
    instructions: [
      ComputeBudgetProgram.setComputeUnitLimit({ units: 1000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 2_500_000 }),
      SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob.publicKey, lamports: 1 }),
    ],
  }).compileToV0Message();
  assert.equal((await conn.getFeeForMessage(message)).value, 5000 + 2500);
  const before = await conn.getBalance(alice.publicKey);
  const vtx = new VersionedTransaction(message);
  vtx.sign([alice]);
  // base58 on the wire (sendTransaction's default encoding), through a raw request.
  const raw = await rpc('sendTransaction', [bs58.encode(vtx.serialize())]);
  assert.equal(raw.result, bs58.encode(vtx.signatures[0]));
  await waitFor(raw.result);
  assert.equal(await conn.getBalance(alice.publicKey), before - 1 - 7500);
  const fees = await conn.getRecentPrioritizationFees({ lockedWritableAccounts: [alice.publicKey] });
  assert.ok(fees.some((f) => f.prioritizationFee === 2_500_000), 'the priced transaction shows in the recent fees');
  // A v0 transaction needs maxSupportedTransactionVersion, as on the real RPC.
  const refused = await rpc('getTransaction', [raw.result, { commitment: 'confirmed' }]);
  assert.equal(refused.error.code, -32015);
});

test('SPL Token: mint, mint to an ATA, transfer to a fresh owner creating its ATA', async () => {
  await splRoundTrip(TOKEN_PROGRAM_ID);
});

test('Token-2022: mint, mint to an ATA, transfer to a fresh owner creating its ATA', async () => {
  await splRoundTrip(TOKEN_2022_PROGRAM_ID);
});

async function splRoundTrip(programId) {
  const payer = await newFundedKeypair(5);
  const mint = await createMint(payer, 6, programId);
  const source = getAssociatedTokenAddressSync(mint, payer.publicKey, false, programId);
  await send([
    createAssociatedTokenAccountInstruction(payer.publicKey, source, payer.publicKey, mint, programId),
    createMintToCheckedInstruction(mint, source, payer.publicKey, 1_000_000_000n, 6, [], programId),
  ], payer);
  assert.equal((await getMint(conn, mint, 'confirmed', programId)).supply, 1_000_000_000n);
  assert.equal((await conn.getTokenSupply(mint)).value.uiAmountString, '1000');

  const fresh = Keypair.generate().publicKey;
  const dest = getAssociatedTokenAddressSync(mint, fresh, false, programId);
  assert.equal(await conn.getAccountInfo(dest), null);
  const sig = await send([
    createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, dest, fresh, mint, programId),
    createTransferCheckedInstruction(source, mint, dest, payer.publicKey, 2_500_000n, 6, [], programId),
  ], payer);

  const account = await getAccount(conn, dest, 'confirmed', programId);
  assert.equal(account.amount, 2_500_000n);
  assert.equal(account.owner.toBase58(), fresh.toBase58());
  const balance = await conn.getTokenAccountBalance(dest);
  assert.deepEqual(balance.value, { amount: '2500000', decimals: 6, uiAmount: 2.5, uiAmountString: '2.5' });

  const byMint = await conn.getParsedTokenAccountsByOwner(fresh, { mint });
  assert.equal(byMint.value.length, 1);
  assert.equal(byMint.value[0].pubkey.toBase58(), dest.toBase58());
  const info = byMint.value[0].account.data.parsed.info;
  assert.equal(byMint.value[0].account.data.program, programId.equals(TOKEN_PROGRAM_ID) ? 'spl-token' : 'spl-token-2022');
  assert.equal(info.tokenAmount.amount, '2500000');
  assert.equal(info.mint, mint.toBase58());
  const byProgram = await conn.getTokenAccountsByOwner(fresh, { programId });
  assert.equal(byProgram.value.length, 1);
  const other = programId.equals(TOKEN_PROGRAM_ID) ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
  assert.equal((await conn.getTokenAccountsByOwner(fresh, { programId: other })).value.length, 0);

  // The deposit as a follower sees it: token balances before/after and parsed instructions.
  const tx = await conn.getParsedTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  const post = tx.meta.postTokenBalances.find((b) => b.owner === fresh.toBase58());
  assert.equal(post.uiTokenAmount.amount, '2500000');
  assert.equal(post.mint, mint.toBase58());
  assert.equal(post.programId, programId.toBase58());
  assert.equal(tx.meta.preTokenBalances.find((b) => b.owner === fresh.toBase58()), undefined);
  const [create, transfer] = tx.transaction.message.instructions;
  assert.equal(create.program, 'spl-associated-token-account');
  assert.equal(create.parsed.type, 'createIdempotent');
  assert.equal(transfer.parsed.type, 'transferChecked');
  assert.equal(transfer.parsed.info.destination, dest.toBase58());
  assert.equal(transfer.parsed.info.tokenAmount.amount, '2500000');
  assert.ok(tx.meta.innerInstructions.length > 0, 'the ATA program’s inner instructions are reported');
  const sigs = await conn.getSignaturesForAddress(dest, {}, 'confirmed');
  assert.deepEqual(sigs.map((s) => s.signature), [sig]);
}

test('statuses go processed/confirmed, then finalized; finalized reads lag', async () => {
  const payer = await newFundedKeypair(1);
  const { blockhash } = await conn.getLatestBlockhash('processed');
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash })
    .add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1_000_000 }));
  tx.sign(payer);
  const sig = await conn.sendRawTransaction(tx.serialize());
  const seen = new Set();
  const deadline = Date.now() + 20000;
  for (;;) {
    const { value: [status] } = await conn.getSignatureStatuses([sig]);
    seen.add(status.confirmationStatus);
    if (status.confirmationStatus === 'finalized') {
      assert.equal(status.confirmations, null);
      break;
    }
    assert.equal(typeof status.confirmations, 'number');
    // Not yet finalized: invisible to a finalized getTransaction.
    if (status.confirmationStatus === 'confirmed' && status.confirmations < 16) {
      assert.equal(await conn.getTransaction(sig, { commitment: 'finalized', maxSupportedTransactionVersion: 0 }), null);
    }
    assert.ok(Date.now() < deadline, 'finalized in time');
    await sleep(SLOT_MS / 2);
  }
  assert.ok(seen.has('confirmed'), `went through confirmed: ${[...seen]}`);
  const finalizedTx = await conn.getTransaction(sig, { commitment: 'finalized', maxSupportedTransactionVersion: 0 });
  assert.equal(finalizedTx.meta.err, null);
});

test('a deposit in the history: getSignaturesForAddress newest first with before/until/limit, getTransaction, getBlock', async () => {
  const sender = await newFundedKeypair(3);
  const wallet = Keypair.generate().publicKey;
  const sigs = [];
  for (const lamports of [1_000_000, 2_000_000, 3_000_000]) {
    sigs.push(await send([SystemProgram.transfer({ fromPubkey: sender.publicKey, toPubkey: wallet, lamports })], sender));
  }
  const all = await conn.getSignaturesForAddress(wallet, {}, 'confirmed');
  assert.deepEqual(all.map((s) => s.signature), [...sigs].reverse());
  assert.ok(all.every((s) => s.err === null && s.memo === null && typeof s.blockTime === 'number' && typeof s.slot === 'number'));
  assert.deepEqual((await conn.getSignaturesForAddress(wallet, { limit: 1 }, 'confirmed')).map((s) => s.signature), [sigs[2]]);
  assert.deepEqual((await conn.getSignaturesForAddress(wallet, { before: sigs[2] }, 'confirmed')).map((s) => s.signature), [sigs[1], sigs[0]]);
  assert.deepEqual((await conn.getSignaturesForAddress(wallet, { until: sigs[0] }, 'confirmed')).map((s) => s.signature), [sigs[2], sigs[1]]);
  // processed is refused, as on the real RPC.
  assert.equal((await rpc('getSignaturesForAddress', [wallet.toBase58(), { commitment: 'processed' }])).error.code, -32602);

  const deposit = await conn.getParsedTransaction(sigs[1], { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  const ix = deposit.transaction.message.instructions[0];
  assert.equal(ix.program, 'system');
  assert.deepEqual(ix.parsed, { info: { destination: wallet.toBase58(), lamports: 2_000_000, source: sender.publicKey.toBase58() }, type: 'transfer' });
  const keys = deposit.transaction.message.accountKeys.map((k) => k.pubkey.toBase58());
  const i = keys.indexOf(wallet.toBase58());
  assert.equal(deposit.meta.postBalances[i] - deposit.meta.preBalances[i], 2_000_000);
  assert.equal(deposit.transaction.message.accountKeys[i].writable, true);

  // base64 encoding of the same transaction round-trips.
  const b64 = await rpc('getTransaction', [sigs[1], { encoding: 'base64', commitment: 'confirmed' }]);
  const decoded = Transaction.from(Buffer.from(b64.result.transaction[0], 'base64'));
  assert.equal(bs58.encode(decoded.signature), sigs[1]);

  const block = await conn.getBlock(deposit.slot, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  assert.ok(block.transactions.some((t) => t.transaction.signatures[0] === sigs[1]));
  assert.equal(block.parentSlot, deposit.slot - 1);
  const signaturesOnly = await conn.getBlockSignatures(deposit.slot, 'confirmed');
  assert.ok(signaturesOnly.signatures.includes(sigs[1]));
  assert.equal(signaturesOnly.transactions, undefined);
});

test('an expired blockhash is refused (BlockhashNotFound) and never lands', async () => {
  const payer = await newFundedKeypair(1);
  const { blockhash, lastValidBlockHeight } = await conn.getLatestBlockhash('processed');
  const warped = await rpc('latchkey_warpSlots', [151]);
  assert.ok(warped.result > lastValidBlockHeight);
  assert.equal((await conn.isBlockhashValid(blockhash)).value, false);
  const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash })
    .add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 }));
  tx.sign(payer);
  await assert.rejects(conn.sendRawTransaction(tx.serialize()), (e) => {
    assert.ok(e instanceof SendTransactionError);
    assert.match(e.message, /Blockhash not found/);
    return true;
  });
  const raw = await rpc('sendTransaction', [tx.serialize().toString('base64'), { encoding: 'base64' }]);
  assert.equal(raw.error.code, -32002);
  assert.equal(raw.error.data.err, 'BlockhashNotFound');
  // skipPreflight: the node answers the signature, as a cluster does, but it is dropped.
  const sig = await conn.sendRawTransaction(tx.serialize(), { skipPreflight: true });
  await sleep(SLOT_MS * 4);
  assert.equal((await conn.getSignatureStatuses([sig], { searchTransactionHistory: true })).value[0], null);
  assert.equal(await conn.getBalance(payer.publicKey), LAMPORTS_PER_SOL);
  // Re-signed with a fresh blockhash it lands.
  const again = await send([SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1_000_000 })], payer);
  assert.equal((await waitFor(again)).err, null);
});

test('a failing transaction: preflight error with logs; with skipPreflight it lands failed and pays its fee', async () => {
  const payer = await newFundedKeypair(1);
  const build = async () => {
    const { blockhash } = await conn.getLatestBlockhash('processed');
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash })
      .add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 5 * LAMPORTS_PER_SOL }));
    tx.sign(payer);
    return tx;
  };
  const tx = await build();
  await assert.rejects(conn.sendRawTransaction(tx.serialize()), (e) => {
    assert.ok(e instanceof SendTransactionError);
    assert.match(e.message, /custom program error: 0x1/);
    assert.ok(e.logs.some((l) => /insufficient lamports/.test(l)), e.logs.join('\n'));
    return true;
  });
  const raw = await rpc('sendTransaction', [tx.serialize().toString('base64'), { encoding: 'base64' }]);
  assert.equal(raw.error.code, -32002);
  assert.match(raw.error.message, /^Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1$/);
  assert.deepEqual(raw.error.data.err, { InstructionError: [0, { Custom: 1 }] });
  assert.equal(await conn.getBalance(payer.publicKey), LAMPORTS_PER_SOL, 'a refused preflight changes nothing');

  const sim = await conn.simulateTransaction(tx);
  assert.deepEqual(sim.value.err, { InstructionError: [0, { Custom: 1 }] });
  assert.ok(sim.value.logs.length > 0);

  const sig = await conn.sendRawTransaction(tx.serialize(), { skipPreflight: true });
  const status = await waitFor(sig);
  assert.deepEqual(status.err, { InstructionError: [0, { Custom: 1 }] });
  assert.equal(await conn.getBalance(payer.publicKey), LAMPORTS_PER_SOL - 5000);
  const landed = await conn.getTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  assert.deepEqual(landed.meta.err, { InstructionError: [0, { Custom: 1 }] });
  assert.equal(landed.meta.fee, 5000);
  const history = await conn.getSignaturesForAddress(payer.publicKey, { limit: 1 }, 'confirmed');
  assert.deepEqual(history[0].err, { InstructionError: [0, { Custom: 1 }] });
  // The same signed transaction twice: already processed.
  const dup = await rpc('sendTransaction', [tx.serialize().toString('base64'), { encoding: 'base64' }]);
  assert.equal(dup.error.data.err, 'AlreadyProcessed');
});

test('raw shapes: rentEpoch as u64::MAX, base58 account data, null for a missing account, memo in history', async () => {
  const payer = await newFundedKeypair(1);
  const raw = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getAccountInfo', params: [payer.publicKey.toBase58(), { encoding: 'base58' }] }),
  }).then((r) => r.text());
  assert.match(raw, /"rentEpoch":18446744073709551615[,}]/);
  assert.deepEqual(JSON.parse(raw).result.value.data, ['', 'base58']);
  const missing = await rpc('getMultipleAccounts', [[Keypair.generate().publicKey.toBase58(), payer.publicKey.toBase58()], { encoding: 'base64' }]);
  assert.equal(missing.result.value[0], null);
  assert.equal(missing.result.value[1].lamports, LAMPORTS_PER_SOL);

  const tooLarge = await rpc('sendTransaction', [Buffer.alloc(1300).toString('base64'), { encoding: 'base64' }]);
  assert.equal(tooLarge.error.code, -32602);
  assert.match(tooLarge.error.message, /too large: 1736 bytes \(max: encoded\/raw 1644\/1232\)/);
  const noMint = await rpc('getTokenAccountsByOwner', [payer.publicKey.toBase58(), { mint: Keypair.generate().publicKey.toBase58() }]);
  assert.deepEqual(noMint.error, { code: -32602, message: 'Invalid param: could not find mint' });

  const memoProgram = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
  await send([{ programId: memoProgram, keys: [], data: Buffer.from('ref-42') }], payer);
  const [entry] = await conn.getSignaturesForAddress(payer.publicKey, { limit: 1 }, 'confirmed');
  assert.equal(entry.memo, '[6] ref-42');
});

test('a v0 transaction through an address lookup table: loaded addresses in meta and history', async () => {
  const payer = await newFundedKeypair(2);
  const sendV0 = async (instructions, tables = []) => {
    const { blockhash } = await conn.getLatestBlockhash();
    const message = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions }).compileToV0Message(tables);
    const tx = new VersionedTransaction(message);
    tx.sign([payer]);
    const sig = await conn.sendTransaction(tx);
    assert.equal((await waitFor(sig)).err, null);
    return sig;
  };
  // The ALT program checks recentSlot against the SlotHashes sysvar, which follows the slots.
  const [create, table] = AddressLookupTableProgram.createLookupTable({
    authority: payer.publicKey, payer: payer.publicKey, recentSlot: await conn.getSlot('finalized'),
  });
  const dests = [Keypair.generate().publicKey, Keypair.generate().publicKey];
  await sendV0([create, AddressLookupTableProgram.extendLookupTable({ payer: payer.publicKey, authority: payer.publicKey, lookupTable: table, addresses: dests })]);
  await rpc('latchkey_warpSlots', [1]); // addresses become usable the slot after they are added
  const alt = (await conn.getAddressLookupTable(table)).value;
  assert.equal(alt.state.addresses.length, 2);
  const sig = await sendV0(dests.map((d) => SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: d, lamports: 1_000_000 })), [alt]);
  const tx = await conn.getTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  assert.equal(tx.version, 0);
  assert.deepEqual(tx.meta.loadedAddresses.writable.map((k) => k.toBase58()), dests.map((d) => d.toBase58()));
  assert.deepEqual(tx.meta.postBalances.slice(-2), [1_000_000, 1_000_000]);
  const parsed = await conn.getParsedTransaction(sig, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
  const keys = parsed.transaction.message.accountKeys;
  assert.deepEqual(keys.slice(-2).map((k) => [k.source, k.writable]), [['lookupTable', true], ['lookupTable', true]]);
  assert.equal(parsed.transaction.message.instructions[1].parsed.info.destination, dests[1].toBase58());
  assert.equal((await conn.getSignaturesForAddress(dests[1], {}, 'confirmed'))[0].signature, sig);
});
