// The local Solana node for latchkey's tests: LiteSVM (the Solana virtual machine as a library,
// with the System, SPL Token, Token-2022, Associated Token Account and Memo programs) behind a
// JSON-RPC 2.0 front over HTTP that answers the methods a wallet server calls, with the real
// RPC's response shapes. Every transaction is executed by the SVM; this file adds what LiteSVM
// does not have: slots that advance on a timer, blockhashes that expire after 150 slots,
// commitment levels (processed → confirmed → finalized), and a transaction history with
// per-address indexes. README.md beside this file has the model and the method list.
//
//   node server.mjs --port PORT [--slot-ms MS] [--finality-depth N] [--genesis-hash HASH]

import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  b58decode, b58encode, b64, pubkeyBytes, parseTransaction, parseMessage, lookupTableAddresses, isWritableIndex,
  computeBudget, messageFee, parseTokenAccount, parseMint, parsedTokenData, uiTokenAmount, parseInstruction,
  errorJson, errorText, SYSTEM_PROGRAM, TOKEN_PROGRAMS, MEMO_PROGRAMS,
} from './codec.mjs';

const require = createRequire(import.meta.url);
// litesvm's native module itself (the `litesvm` package is a thin TypeScript wrapper over it
// whose other platforms' binaries this project's registry lacks, which breaks `npm ci`).
const { LiteSvm, Account, Clock, FailedTransactionMetadata } = require('litesvm-linux-x64-gnu');

// ------------------------------------------------------------------------------ options
function parseArgs(argv) {
  const env = process.env;
  const opts = {
    port: null,
    slotMs: Number(env.SOLANA_NODE_SLOT_MS ?? 100),
    finalityDepth: Number(env.SOLANA_NODE_FINALITY_DEPTH ?? 32),
    genesisHash: env.SOLANA_NODE_GENESIS_HASH ?? null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--port') opts.port = Number(value());
    else if (flag === '--slot-ms') opts.slotMs = Number(value());
    else if (flag === '--finality-depth') opts.finalityDepth = Number(value());
    else if (flag === '--genesis-hash') opts.genesisHash = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: start --port PORT [--slot-ms MS] [--finality-depth N] [--genesis-hash HASH]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port PORT is required (0 picks a free port)');
  if (!(opts.slotMs >= 0)) throw new Error('--slot-ms must be >= 0 (0: slots advance only by latchkey_warpSlots)');
  if (!Number.isInteger(opts.finalityDepth) || opts.finalityDepth < 1) throw new Error('--finality-depth must be a positive integer');
  if (opts.genesisHash !== null) {
    let ok = false;
    try {
      ok = b58decode(opts.genesisHash).length === 32;
    } catch {
      ok = false;
    }
    if (!ok) throw new Error('--genesis-hash must be 32 bytes in base58');
  }
  return opts;
}

// The genesis hash of this local cluster: sha256("latchkey local solana cluster") in base58,
// fixed so that a server can recognise the local node (devnet's and mainnet's differ).
export const LOCAL_GENESIS_HASH = '5cr6Q9j5Q1k94VRmCW7v51dcoDMmNGW25jJ6cciVLzGJ';
const SOLANA_CORE_VERSION = '4.3.0'; // the agave runtime crates inside litesvm 1.5.0
const FEATURE_SET = 3640012085;
const MAX_PROCESSING_AGE = 150; // slots a blockhash stays valid, as agave
const U64_MAX = 18446744073709551615n;
const FAUCET_LAMPORTS = 1_000_000_000_000_000_000n; // 10^9 SOL

// ------------------------------------------------------------------------------- errors
class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}
const invalidParams = (message) => new RpcError(-32602, message);

// -------------------------------------------------------------------------------- keys
function keypairFromSeed(seed) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const jwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x, 'base64url') };
}

const publicKeyObjects = new Map();
function verifySignature(pubkey, message, signature) {
  let key = publicKeyObjects.get(pubkey);
  if (!key) {
    try {
      key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(b58decode(pubkey)).toString('base64url') }, format: 'jwk' });
    } catch {
      return false;
    }
    if (publicKeyObjects.size > 10000) publicKeyObjects.clear();
    publicKeyObjects.set(pubkey, key);
  }
  try {
    return crypto.verify(null, message, key, signature);
  } catch {
    return false;
  }
}

// --------------------------------------------------------------------------------- chain
class Chain {
  constructor(opts) {
    this.opts = opts;
    this.genesisHash = opts.genesisHash ?? LOCAL_GENESIS_HASH;
    this.svm = new LiteSvm();
    this.svm.withNativeMints();
    // Blockhashes are this front's: one per slot, valid for MAX_PROCESSING_AGE slots.
    this.svm.setBlockhashCheck(false);
    this.slotsPerEpoch = Number(this.svm.getEpochSchedule().slotsPerEpoch);
    this.slot = 0;
    this.hashSlots = new Map(); // blockhash → slot, for the recent slots
    this.slotTimes = []; // [firstSlot, unixSeconds], one entry each time the second changes
    this.txs = new Map(); // signature → record
    this.seq = 0;
    this.slotSigs = new Map(); // slot → [signature]
    this.addressSigs = new Map(); // address → [signature], oldest first
    this.registerSlot(0);
    const seed = crypto.createHash('sha256').update(`latchkey-solana-node faucet ${this.genesisHash}`).digest();
    this.faucet = keypairFromSeed(seed);
    this.faucetAddress = b58encode(this.faucet.publicKey);
    this.svm.setAccount(this.faucet.publicKey, new Account(FAUCET_LAMPORTS, new Uint8Array(0), pubkeyBytes(SYSTEM_PROGRAM), false, U64_MAX));
    this.identity = b58encode(keypairFromSeed(crypto.createHash('sha256').update('latchkey-solana-node identity').digest()).publicKey);
    this.sysvarSlot = null;
  }

  hashOfSlot(slot) {
    return b58encode(crypto.createHash('sha256').update(`${this.genesisHash}/blockhash/${slot}`).digest());
  }

  registerSlot(slot) {
    this.hashSlots.set(this.hashOfSlot(slot), slot);
    const old = slot - 2 * MAX_PROCESSING_AGE;
    if (old >= 0) this.hashSlots.delete(this.hashOfSlot(old));
    const now = Math.floor(Date.now() / 1000);
    const last = this.slotTimes[this.slotTimes.length - 1];
    if (!last || last[1] !== now) this.slotTimes.push([slot, now]);
  }

  blockTime(slot) {
    let lo = 0;
    let hi = this.slotTimes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.slotTimes[mid][0] <= slot) lo = mid;
      else hi = mid - 1;
    }
    return this.slotTimes[lo][1];
  }

  advance(n) {
    for (let i = 0; i < n; i++) {
      this.slot += 1;
      this.registerSlot(this.slot);
    }
  }

  /**
   * Brings the SVM's Clock and SlotHashes sysvars to the current slot, before anything is
   * executed (not on every tick: SlotHashes holds 512 entries).
   */
  syncSysvars() {
    if (this.sysvarSlot === this.slot) return;
    this.sysvarSlot = this.slot;
    const epoch = BigInt(Math.floor(this.slot / this.slotsPerEpoch));
    const now = BigInt(this.blockTime(this.slot));
    this.svm.setClock(new Clock(BigInt(this.slot), now, epoch, epoch + 1n, now));
    const hashes = [];
    for (let s = this.slot - 1; s >= 0 && hashes.length < 512; s--) hashes.push({ slot: BigInt(s), hash: this.hashOfSlot(s) });
    this.svm.setSlotHashes(hashes);
  }

  commitmentSlot(commitment) {
    if (commitment === 'processed') return this.slot;
    if (commitment === 'confirmed') return Math.max(0, this.slot - 1);
    return Math.max(0, this.slot - this.opts.finalityDepth);
  }

  statusOf(rec) {
    const depth = this.slot - rec.slot;
    if (depth >= this.opts.finalityDepth) return 'finalized';
    return depth >= 1 ? 'confirmed' : 'processed';
  }

  blockhashValid(hash) {
    const slot = this.hashSlots.get(hash);
    return slot !== undefined && this.slot - slot <= MAX_PROCESSING_AGE;
  }

  account(address) {
    return this.svm.getAccount(typeof address === 'string' ? pubkeyBytes(address) : address);
  }

  mintDecimals(mint) {
    const acc = this.account(mint);
    if (!acc) return null;
    const parsed = parseMint(b58encode(acc.owner()), acc.data());
    return parsed ? parsed.decimals : null;
  }

  /** Static keys plus the addresses loaded from lookup tables; throws a TransactionError name. */
  loadAddresses(message) {
    const loaded = { writable: [], readonly: [] };
    for (const lookup of message.addressTableLookups) {
      const acc = this.account(lookup.accountKey);
      if (!acc) throw new TxFailure('AddressLookupTableNotFound');
      if (b58encode(acc.owner()) !== 'AddressLookupTab1e1111111111111111111111111') throw new TxFailure('InvalidAddressLookupTableOwner');
      const table = lookupTableAddresses(acc.data());
      for (const [indexes, into] of [[lookup.writableIndexes, loaded.writable], [lookup.readonlyIndexes, loaded.readonly]]) {
        for (const i of indexes) {
          if (i >= table.length) throw new TxFailure('InvalidAddressLookupTableIndex');
          into.push(table[i]);
        }
      }
    }
    return { loaded, accountKeys: [...message.staticKeys, ...loaded.writable, ...loaded.readonly] };
  }

  balances(accountKeys) {
    return accountKeys.map((k) => this.svm.getBalance(pubkeyBytes(k)) ?? 0n);
  }

  tokenBalances(accountKeys) {
    const out = [];
    accountKeys.forEach((key, accountIndex) => {
      const acc = this.account(key);
      if (!acc) return;
      const programId = b58encode(acc.owner());
      const token = parseTokenAccount(programId, acc.data());
      if (!token) return;
      const decimals = this.mintDecimals(token.mint);
      if (decimals === null) return;
      out.push({ accountIndex, mint: token.mint, owner: token.owner, programId, uiTokenAmount: uiTokenAmount(token.amount, decimals) });
    });
    return out;
  }

  /**
   * Checks and executes a wire transaction. With `preflight`, a transaction that would fail is
   * refused with the RPC's simulation-failure error and changes nothing; without it, it is
   * executed if it can land (an execution failure lands and pays its fee, as on a cluster) and
   * silently dropped if it cannot (bad signature, unknown or expired blockhash, fee payer
   * without funds, already processed). Returns the first signature.
   */
  submit(bytes, { preflight }) {
    const tx = decodeTx(bytes);
    const signature = b58encode(tx.signatures[0]);
    if (!this.signaturesValid(tx)) {
      if (preflight) throw new RpcError(-32003, 'Transaction signature verification failure');
      return signature;
    }
    const refuse = (errJson, meta) => {
      if (!preflight) return signature;
      throw new RpcError(-32002, `Transaction simulation failed: ${errorText(errJson)}`, simulationValue(errJson, meta, null));
    };
    if (this.txs.has(signature)) return refuse('AlreadyProcessed');
    if (!this.blockhashValid(tx.message.recentBlockhash)) return refuse('BlockhashNotFound');
    let keys;
    try {
      keys = this.loadAddresses(tx.message);
    } catch (e) {
      if (e instanceof TxFailure) return refuse(e.name);
      throw e;
    }
    if (preflight) {
      const sim = this.simulateRaw(bytes, tx, true);
      if (sim instanceof FailedTransactionMetadata) return refuse(errorJson(sim.err()), sim.meta());
    }
    this.syncSysvars();
    const preBalances = this.balances(keys.accountKeys);
    const preTokenBalances = this.tokenBalances(keys.accountKeys);
    const result = tx.version === 'legacy' ? this.svm.sendLegacyTransaction(bytes) : this.svm.sendVersionedTransaction(bytes);
    const failed = result instanceof FailedTransactionMetadata;
    const meta = failed ? result.meta() : result;
    if (failed && this.svm.getTransaction(tx.signatures[0]) === null) {
      // Not included (no fee taken): a cluster would drop it.
      return refuse(errorJson(result.err()), meta);
    }
    this.record(signature, bytes, tx, keys, {
      err: failed ? errorJson(result.err()) : null,
      preBalances,
      postBalances: this.balances(keys.accountKeys),
      preTokenBalances,
      postTokenBalances: this.tokenBalances(keys.accountKeys),
      meta,
    });
    return signature;
  }

  signaturesValid(tx) {
    return tx.signatures.every((sig, i) => verifySignature(tx.message.staticKeys[i], tx.messageBytes, sig));
  }

  simulateRaw(bytes, tx, sigverify) {
    this.syncSysvars();
    this.svm.setSigverify(sigverify);
    try {
      return tx.version === 'legacy' ? this.svm.simulateLegacyTransaction(bytes) : this.svm.simulateVersionedTransaction(bytes);
    } finally {
      this.svm.setSigverify(true);
    }
  }

  record(signature, bytes, tx, keys, result) {
    const { message } = tx;
    const { meta } = result;
    const writable = keys.accountKeys.map((_, i) => isWritableIndex(message, keys.loaded, i));
    const memos = message.instructions
      .filter((ix) => MEMO_PROGRAMS.has(keys.accountKeys[ix.programIdIndex]))
      .map((ix) => `[${ix.data.length}] ${memoText(ix.data)}`);
    const rd = meta.returnData();
    const returnData = rd.data().length ? { programId: b58encode(rd.programId()), data: [b64(rd.data()), 'base64'] } : null;
    const rec = {
      signature,
      seq: ++this.seq,
      slot: this.slot,
      bytes: Uint8Array.from(bytes),
      tx,
      loaded: keys.loaded,
      accountKeys: keys.accountKeys,
      writable,
      err: result.err,
      fee: messageFee(message, keys.accountKeys),
      priorityPrice: computeBudget(message, keys.accountKeys).price,
      preBalances: result.preBalances,
      postBalances: result.postBalances,
      preTokenBalances: result.preTokenBalances,
      postTokenBalances: result.postTokenBalances,
      logs: meta.logs(),
      innerInstructions: meta.innerInstructions().map((list) => list.map((inner) => {
        const ci = inner.instruction();
        return { programIdIndex: ci.programIdIndex(), accounts: [...ci.accounts()], data: Uint8Array.from(ci.data()), stackHeight: inner.stackHeight() };
      })),
      computeUnitsConsumed: meta.computeUnitsConsumed(),
      returnData,
      memo: memos.length ? memos.join('; ') : null,
    };
    this.txs.set(signature, rec);
    if (!this.slotSigs.has(rec.slot)) this.slotSigs.set(rec.slot, []);
    this.slotSigs.get(rec.slot).push(signature);
    for (const address of new Set(keys.accountKeys)) {
      if (!this.addressSigs.has(address)) this.addressSigs.set(address, []);
      this.addressSigs.get(address).push(signature);
    }
    return rec;
  }

  /** A System transfer from the faucet, signed here, sent like any transaction. */
  airdrop(to, lamports) {
    const toBytes = pubkeyBytes(to);
    for (let attempt = 0; ; attempt++) {
      const blockhash = b58decode(this.hashOfSlot(this.slot));
      const data = Buffer.alloc(12);
      data.writeUInt32LE(2, 0);
      data.writeBigUInt64LE(lamports, 4);
      const sameKey = Buffer.from(toBytes).equals(this.faucet.publicKey);
      const keys = sameKey ? [this.faucet.publicKey, pubkeyBytes(SYSTEM_PROGRAM)] : [this.faucet.publicKey, toBytes, pubkeyBytes(SYSTEM_PROGRAM)];
      const message = Buffer.concat([
        Buffer.from([1, 0, 1, keys.length]),
        ...keys.map((k) => Buffer.from(k)),
        Buffer.from(blockhash),
        Buffer.from([1, keys.length - 1, 2, 0, sameKey ? 0 : 1, data.length]),
        data,
      ]);
      const signature = crypto.sign(null, message, this.faucet.privateKey);
      const signatureText = b58encode(signature);
      if (this.txs.has(signatureText) && attempt < 3) {
        this.advance(1); // the same airdrop twice in one slot: take the next blockhash
        continue;
      }
      return this.submit(Buffer.concat([Buffer.from([1]), signature, message]), { preflight: true });
    }
  }
}

function memoText(data) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return '(unparseable)';
  }
}

class TxFailure extends Error {
  constructor(name) {
    super(name);
    this.name = name;
  }
}

function decodeTx(bytes) {
  try {
    return parseTransaction(bytes);
  } catch (e) {
    throw invalidParams(`invalid transaction: ${e.message}`);
  }
}

function simulationValue(err, meta, extra) {
  return {
    accounts: null,
    err,
    innerInstructions: null,
    loadedAccountsDataSize: 0,
    logs: meta ? meta.logs() : [],
    replacementBlockhash: null,
    returnData: null,
    unitsConsumed: meta ? meta.computeUnitsConsumed() : 0n,
    ...extra,
  };
}

// ------------------------------------------------------------------------- RPC handlers
function cfg(params, i) {
  const c = params[i];
  if (c === undefined || c === null) return {};
  if (typeof c !== 'object' || Array.isArray(c)) throw invalidParams('Invalid params: expected a configuration object');
  return c;
}

function commitmentOf(c, fallback = 'finalized') {
  const value = c.commitment ?? c.preflightCommitment ?? fallback;
  const aliases = { recent: 'processed', single: 'confirmed', singleGossip: 'confirmed', max: 'finalized', root: 'finalized' };
  const name = aliases[value] ?? value;
  if (!['processed', 'confirmed', 'finalized'].includes(name)) throw invalidParams(`Invalid params: unknown commitment ${value}`);
  return name;
}

function pubkeyParam(value) {
  if (typeof value !== 'string') throw invalidParams('Invalid params: expected a base-58 address');
  try {
    const bytes = b58decode(value);
    if (bytes.length !== 32) throw new Error();
  } catch {
    throw invalidParams('Invalid param: Invalid');
  }
  return value;
}

function signatureParam(value) {
  try {
    if (typeof value !== 'string' || b58decode(value).length !== 64) throw new Error();
  } catch {
    throw invalidParams('Invalid param: Invalid');
  }
  return value;
}

const PACKET_DATA_SIZE = 1232; // the most a transaction may take on the wire

function decodeWire(text, encoding = 'base58') {
  if (typeof text !== 'string') throw invalidParams('invalid transaction: expected a string');
  if (encoding !== 'base58' && encoding !== 'base64') {
    throw invalidParams(`Invalid params: unsupported encoding: ${encoding}. Supported encodings: base58, base64`);
  }
  const maxEncoded = encoding === 'base58' ? 1683 : 1644;
  if (text.length > maxEncoded) {
    throw invalidParams(`${encoding} encoded solana_transaction::versioned::VersionedTransaction too large: ${text.length} bytes (max: encoded/raw ${maxEncoded}/${PACKET_DATA_SIZE})`);
  }
  let bytes;
  try {
    bytes = encoding === 'base64' ? Uint8Array.from(Buffer.from(text, 'base64')) : b58decode(text);
  } catch (e) {
    throw invalidParams(`invalid transaction: ${e.message}`);
  }
  if (bytes.length > PACKET_DATA_SIZE) {
    throw invalidParams(`decoded solana_transaction::versioned::VersionedTransaction too large: ${bytes.length} bytes (max: ${PACKET_DATA_SIZE} bytes)`);
  }
  return bytes;
}

function minContextSlot(chain, c, slot) {
  if (c.minContextSlot !== undefined && c.minContextSlot !== null && slot < c.minContextSlot) {
    throw new RpcError(-32016, 'Minimum context slot has not been reached', { contextSlot: slot });
  }
}

function context(chain, c) {
  const slot = chain.commitmentSlot(commitmentOf(c));
  minContextSlot(chain, c, slot);
  return { slot, apiVersion: SOLANA_CORE_VERSION };
}

function encodeAccount(chain, acc, c) {
  if (!acc) return null;
  const owner = b58encode(acc.owner());
  let data = acc.data();
  const encoding = c.encoding ?? 'binary';
  // rentEpoch: u64::MAX, as every account reports since rent collection ended.
  const base = { executable: acc.executable(), lamports: acc.lamports(), owner, rentEpoch: U64_MAX, space: BigInt(data.length) };
  if (encoding === 'jsonParsed') {
    const parsed = parsedTokenData(owner, data, (mint) => chain.mintDecimals(mint));
    if (parsed) return { data: parsed, ...base };
  }
  if (c.dataSlice) {
    const { offset = 0, length = data.length } = c.dataSlice;
    data = data.subarray(offset, offset + length);
  }
  if (encoding === 'base64' || encoding === 'jsonParsed') return { data: [b64(data), 'base64'], ...base };
  if (encoding === 'base58' || encoding === 'binary') {
    if (data.length > 128) throw invalidParams('Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.');
    return { data: encoding === 'binary' ? b58encode(data) : [b58encode(data), 'base58'], ...base };
  }
  throw invalidParams(`Invalid params: unsupported account encoding ${encoding} on this local node`);
}

function statusJson(err) {
  return err === null ? { Ok: null } : { Err: err };
}

function compiledInstruction(ix, stackHeight) {
  return { accounts: ix.accounts, data: b58encode(ix.data), programIdIndex: ix.programIdIndex, stackHeight };
}

function parsedOrPartial(rec, ix, stackHeight) {
  const programId = rec.accountKeys[ix.programIdIndex];
  const keys = ix.accounts.map((i) => rec.accountKeys[i]);
  const parsed = parseInstruction(programId, keys, ix.data);
  if (parsed) return { ...parsed, stackHeight };
  return { accounts: keys, data: b58encode(ix.data), programId, stackHeight };
}

function innerJson(rec, parsed) {
  const out = [];
  rec.innerInstructions.forEach((list, index) => {
    if (!list.length) return;
    out.push({
      index,
      instructions: list.map((ix) => (parsed ? parsedOrPartial(rec, ix, ix.stackHeight) : compiledInstruction(ix, ix.stackHeight))),
    });
  });
  return out;
}

function metaJson(rec, parsed) {
  const meta = {
    computeUnitsConsumed: rec.computeUnitsConsumed,
    err: rec.err,
    fee: rec.fee,
    innerInstructions: innerJson(rec, parsed),
    logMessages: rec.logs,
    postBalances: rec.postBalances,
    postTokenBalances: rec.postTokenBalances,
    preBalances: rec.preBalances,
    preTokenBalances: rec.preTokenBalances,
    rewards: [],
    status: statusJson(rec.err),
  };
  if (!parsed) meta.loadedAddresses = { readonly: rec.loaded.readonly, writable: rec.loaded.writable };
  if (rec.returnData) meta.returnData = rec.returnData;
  return meta;
}

function encodeTransaction(rec, encoding, maxVersion, details = 'full') {
  if (rec.tx.version !== 'legacy' && (maxVersion === undefined || maxVersion === null || maxVersion < rec.tx.version)) {
    throw new RpcError(-32015, `Transaction version (${rec.tx.version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0`);
  }
  const { message } = rec.tx;
  const parsed = encoding === 'jsonParsed';
  const signatures = rec.tx.signatures.map(b58encode);
  let transaction;
  if (details === 'accounts') {
    transaction = { accountKeys: parsedKeys(rec), signatures };
  } else if (encoding === 'base64' || encoding === 'base58') {
    transaction = [encoding === 'base64' ? b64(rec.bytes) : b58encode(rec.bytes), encoding];
  } else if (encoding === 'json' || parsed) {
    const msg = parsed
      ? {
        accountKeys: parsedKeys(rec),
        instructions: message.instructions.map((ix) => parsedOrPartial(rec, ix, null)),
        recentBlockhash: message.recentBlockhash,
      }
      : {
        accountKeys: message.staticKeys,
        header: message.header,
        instructions: message.instructions.map((ix) => compiledInstruction(ix, null)),
        recentBlockhash: message.recentBlockhash,
      };
    if (rec.tx.version !== 'legacy') msg.addressTableLookups = message.addressTableLookups;
    transaction = { message: msg, signatures };
  } else {
    throw invalidParams(`Invalid params: unknown encoding ${encoding}`);
  }
  let meta = metaJson(rec, parsed || details === 'accounts');
  if (details === 'accounts') {
    meta = { err: meta.err, fee: meta.fee, postBalances: meta.postBalances, postTokenBalances: meta.postTokenBalances, preBalances: meta.preBalances, preTokenBalances: meta.preTokenBalances, status: meta.status };
  }
  const out = { meta, transaction };
  if (maxVersion !== undefined && maxVersion !== null) out.version = rec.tx.version;
  return out;
}

function parsedKeys(rec) {
  const nStatic = rec.tx.message.staticKeys.length;
  return rec.accountKeys.map((pubkey, i) => ({
    pubkey,
    signer: i < rec.tx.message.header.numRequiredSignatures,
    source: i < nStatic ? 'transaction' : 'lookupTable',
    writable: rec.writable[i],
  }));
}

function noProcessed(c) {
  const commitment = commitmentOf(c);
  if (commitment === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
  return commitment;
}

function blockJson(chain, slot, c) {
  const encoding = c.encoding ?? 'json';
  const details = c.transactionDetails ?? 'full';
  const recs = (chain.slotSigs.get(slot) ?? []).map((s) => chain.txs.get(s));
  const block = {
    blockHeight: slot,
    blockTime: chain.blockTime(slot),
    blockhash: chain.hashOfSlot(slot),
    parentSlot: Math.max(0, slot - 1),
    previousBlockhash: chain.hashOfSlot(Math.max(0, slot - 1)),
  };
  if (details === 'full' || details === 'accounts') {
    block.transactions = recs.map((rec) => encodeTransaction(rec, encoding, c.maxSupportedTransactionVersion, details));
  } else if (details === 'signatures') {
    block.signatures = recs.map((rec) => rec.signature);
  } else if (details !== 'none') {
    throw invalidParams(`Invalid params: unknown transactionDetails ${details}`);
  }
  if (c.rewards !== false) block.rewards = [];
  return block;
}

function sliceRange(start, end) {
  if (end - start > 500000) throw invalidParams(`Slot range too large; max 500000`);
  const out = [];
  for (let s = start; s <= end; s++) out.push(s);
  return out;
}

const handlers = {
  getGenesisHash: (chain) => chain.genesisHash,
  getVersion: () => ({ 'feature-set': FEATURE_SET, 'solana-core': SOLANA_CORE_VERSION }),
  getHealth: () => 'ok',
  getIdentity: (chain) => ({ identity: chain.identity }),
  getSlot: (chain, p) => {
    const c = cfg(p, 0);
    const slot = chain.commitmentSlot(commitmentOf(c));
    minContextSlot(chain, c, slot);
    return slot;
  },
  getBlockHeight: (chain, p) => handlers.getSlot(chain, p),
  getTransactionCount: (chain) => chain.seq,
  getFirstAvailableBlock: () => 0,
  minimumLedgerSlot: () => 0,
  getEpochInfo: (chain, p) => {
    const slot = chain.commitmentSlot(commitmentOf(cfg(p, 0)));
    return {
      absoluteSlot: slot,
      blockHeight: slot,
      epoch: Math.floor(slot / chain.slotsPerEpoch),
      slotIndex: slot % chain.slotsPerEpoch,
      slotsInEpoch: chain.slotsPerEpoch,
      transactionCount: chain.seq,
    };
  },
  getLatestBlockhash: (chain, p) => {
    const c = cfg(p, 0);
    const ctx = context(chain, c);
    return { context: ctx, value: { blockhash: chain.hashOfSlot(ctx.slot), lastValidBlockHeight: ctx.slot + MAX_PROCESSING_AGE } };
  },
  isBlockhashValid: (chain, p) => {
    if (typeof p[0] !== 'string') throw invalidParams('Invalid params: expected a blockhash');
    return { context: context(chain, cfg(p, 1)), value: chain.blockhashValid(p[0]) };
  },
  getMinimumBalanceForRentExemption: (chain, p) => {
    const len = p[0] ?? 0;
    if (!Number.isInteger(len) || len < 0) throw invalidParams('Invalid params: expected a data length');
    return chain.svm.minimumBalanceForRentExemption(BigInt(len));
  },
  getFeeForMessage: (chain, p) => {
    const c = cfg(p, 1);
    let tx;
    try {
      tx = parseMessage(Buffer.from(String(p[0]), 'base64'));
    } catch (e) {
      throw invalidParams(`invalid message: ${e.message}`);
    }
    const ctx = context(chain, c);
    if (!chain.blockhashValid(tx.message.recentBlockhash)) return { context: ctx, value: null };
    let keys;
    try {
      keys = chain.loadAddresses(tx.message).accountKeys;
    } catch {
      return { context: ctx, value: null };
    }
    return { context: ctx, value: messageFee(tx.message, keys) };
  },
  getRecentPrioritizationFees: (chain, p) => {
    const addresses = (p[0] ?? []).map(pubkeyParam);
    if (addresses.length > 128) throw invalidParams('Too many inputs provided; max 128');
    const out = [];
    for (let slot = Math.max(0, chain.slot - MAX_PROCESSING_AGE + 1); slot <= chain.slot; slot++) {
      const recs = (chain.slotSigs.get(slot) ?? []).map((s) => chain.txs.get(s));
      let fee = 0n;
      if (recs.length) {
        fee = recs.reduce((m, r) => (r.priorityPrice < m ? r.priorityPrice : m), recs[0].priorityPrice);
        for (const address of addresses) {
          const writing = recs.filter((r) => r.accountKeys.some((k, i) => k === address && r.writable[i]));
          if (writing.length) {
            const min = writing.reduce((m, r) => (r.priorityPrice < m ? r.priorityPrice : m), writing[0].priorityPrice);
            if (min > fee) fee = min;
          }
        }
      }
      out.push({ prioritizationFee: fee, slot });
    }
    return out;
  },
  getBalance: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const ctx = context(chain, cfg(p, 1));
    return { context: ctx, value: chain.svm.getBalance(pubkeyBytes(address)) ?? 0n };
  },
  getAccountInfo: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const c = cfg(p, 1);
    const ctx = context(chain, c);
    return { context: ctx, value: encodeAccount(chain, chain.account(address), c, address) };
  },
  getMultipleAccounts: (chain, p) => {
    if (!Array.isArray(p[0])) throw invalidParams('Invalid params: expected an array of addresses');
    if (p[0].length > 100) throw invalidParams('Too many inputs provided; max 100');
    const addresses = p[0].map(pubkeyParam);
    const c = cfg(p, 1);
    const ctx = context(chain, c);
    return { context: ctx, value: addresses.map((a) => encodeAccount(chain, chain.account(a), c, a)) };
  },
  getTokenAccountsByOwner: (chain, p) => {
    const owner = pubkeyParam(p[0]);
    const filter = p[1];
    const c = cfg(p, 2);
    if (!filter || typeof filter !== 'object') throw invalidParams('Invalid params: expected a mint or programId filter');
    let program;
    let mint = null;
    if (filter.mint !== undefined) {
      mint = pubkeyParam(filter.mint);
      const acc = chain.account(mint);
      program = acc ? b58encode(acc.owner()) : null;
      if (!program || !TOKEN_PROGRAMS.has(program)) throw invalidParams('Invalid param: could not find mint');
    } else if (filter.programId !== undefined) {
      program = pubkeyParam(filter.programId);
      if (!TOKEN_PROGRAMS.has(program)) throw invalidParams('Invalid param: unrecognized Token program id');
    } else {
      throw invalidParams('Invalid params: expected a mint or programId filter');
    }
    const ctx = context(chain, c);
    const value = [];
    for (const item of chain.svm.getProgramAccounts(pubkeyBytes(program))) {
      const acc = item.account();
      const token = parseTokenAccount(program, acc.data());
      if (!token || token.owner !== owner || (mint && token.mint !== mint)) continue;
      const pubkey = b58encode(item.address);
      value.push({ account: encodeAccount(chain, acc, c, pubkey), pubkey });
    }
    return { context: ctx, value };
  },
  getTokenAccountBalance: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const ctx = context(chain, cfg(p, 1));
    const acc = chain.account(address);
    if (!acc) throw invalidParams('Invalid param: could not find account');
    const token = parseTokenAccount(b58encode(acc.owner()), acc.data());
    if (!token) throw invalidParams('Invalid param: not a Token account');
    const decimals = chain.mintDecimals(token.mint);
    if (decimals === null) throw invalidParams('Invalid param: could not find mint');
    return { context: ctx, value: uiTokenAmount(token.amount, decimals) };
  },
  getTokenSupply: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const ctx = context(chain, cfg(p, 1));
    const acc = chain.account(address);
    if (!acc) throw invalidParams('Invalid param: could not find account');
    const mint = parseMint(b58encode(acc.owner()), acc.data());
    if (!mint) throw invalidParams('Invalid param: not a Token mint');
    return { context: ctx, value: uiTokenAmount(mint.supply, mint.decimals) };
  },
  sendTransaction: (chain, p) => {
    const c = cfg(p, 1);
    commitmentOf(c);
    const bytes = decodeWire(p[0], c.encoding);
    if (!c.skipPreflight) minContextSlot(chain, c, chain.commitmentSlot(commitmentOf(c)));
    return chain.submit(bytes, { preflight: !c.skipPreflight });
  },
  simulateTransaction: (chain, p) => {
    const c = cfg(p, 1);
    const bytes = decodeWire(p[0], c.encoding);
    const tx = decodeTx(bytes);
    if (c.sigVerify && c.replaceRecentBlockhash) throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    if (c.sigVerify && !chain.signaturesValid(tx)) throw new RpcError(-32003, 'Transaction signature verification failure');
    const ctx = context(chain, c);
    let replacementBlockhash = null;
    if (c.replaceRecentBlockhash) {
      replacementBlockhash = { blockhash: chain.hashOfSlot(chain.slot), lastValidBlockHeight: chain.slot + MAX_PROCESSING_AGE };
    } else if (!chain.blockhashValid(tx.message.recentBlockhash)) {
      return { context: ctx, value: simulationValue('BlockhashNotFound', null, null) };
    }
    let keys;
    try {
      keys = chain.loadAddresses(tx.message);
    } catch (e) {
      if (e instanceof TxFailure) return { context: ctx, value: simulationValue(e.name, null, { replacementBlockhash }) };
      throw e;
    }
    const sim = chain.simulateRaw(bytes, tx, false);
    const failed = sim instanceof FailedTransactionMetadata;
    const meta = sim.meta();
    let accounts = null;
    if (c.accounts) {
      const post = new Map();
      if (!failed) for (const item of sim.postAccounts()) post.set(b58encode(item.address), item.account());
      accounts = (c.accounts.addresses ?? []).map((a) => {
        pubkeyParam(a);
        return encodeAccount(chain, post.get(a) ?? chain.account(a), { encoding: c.accounts.encoding ?? 'base64' }, a);
      });
    }
    let innerInstructions = null;
    if (c.innerInstructions) {
      const rec = { accountKeys: keys.accountKeys, innerInstructions: [] };
      rec.innerInstructions = meta.innerInstructions().map((list) => list.map((inner) => {
        const ci = inner.instruction();
        return { programIdIndex: ci.programIdIndex(), accounts: [...ci.accounts()], data: Uint8Array.from(ci.data()), stackHeight: inner.stackHeight() };
      }));
      innerInstructions = innerJson(rec, true);
    }
    const rd = meta.returnData();
    const returnData = rd.data().length ? { programId: b58encode(rd.programId()), data: [b64(rd.data()), 'base64'] } : null;
    return {
      context: ctx,
      value: simulationValue(failed ? errorJson(sim.err()) : null, meta, {
        accounts, innerInstructions, replacementBlockhash, returnData, fee: messageFee(tx.message, keys.accountKeys),
      }),
    };
  },
  getSignatureStatuses: (chain, p) => {
    if (!Array.isArray(p[0])) throw invalidParams('Invalid params: expected an array of signatures');
    if (p[0].length > 256) throw invalidParams('Too many inputs provided; max 256');
    const value = p[0].map(signatureParam).map((sig) => {
      const rec = chain.txs.get(sig);
      if (!rec) return null;
      const status = chain.statusOf(rec);
      return {
        confirmationStatus: status,
        confirmations: status === 'finalized' ? null : chain.slot - rec.slot,
        err: rec.err,
        slot: rec.slot,
        status: statusJson(rec.err),
      };
    });
    return { context: { slot: chain.slot, apiVersion: SOLANA_CORE_VERSION }, value };
  },
  getTransaction: (chain, p) => {
    const sig = signatureParam(p[0]);
    const c = typeof p[1] === 'string' ? { encoding: p[1] } : cfg(p, 1);
    const commitment = noProcessed(c);
    const rec = chain.txs.get(sig);
    if (!rec || rec.slot > chain.commitmentSlot(commitment)) return null;
    return { blockTime: chain.blockTime(rec.slot), slot: rec.slot, ...encodeTransaction(rec, c.encoding ?? 'json', c.maxSupportedTransactionVersion) };
  },
  getSignaturesForAddress: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const c = cfg(p, 1);
    const cslot = chain.commitmentSlot(noProcessed(c));
    minContextSlot(chain, c, cslot);
    const limit = c.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidParams('Invalid limit; max 1000');
    let beforeSeq = Infinity;
    let untilSeq = 0;
    if (c.before) {
      const rec = chain.txs.get(signatureParam(c.before));
      if (!rec) return [];
      beforeSeq = rec.seq;
    }
    if (c.until) {
      const rec = chain.txs.get(signatureParam(c.until));
      if (rec) untilSeq = rec.seq;
    }
    const sigs = chain.addressSigs.get(address) ?? [];
    const out = [];
    for (let i = sigs.length - 1; i >= 0 && out.length < limit; i--) {
      const rec = chain.txs.get(sigs[i]);
      if (rec.seq <= untilSeq) break;
      if (rec.seq >= beforeSeq || rec.slot > cslot) continue;
      out.push({
        blockTime: chain.blockTime(rec.slot),
        confirmationStatus: chain.statusOf(rec),
        err: rec.err,
        memo: rec.memo,
        signature: rec.signature,
        slot: rec.slot,
      });
    }
    return out;
  },
  getBlock: (chain, p) => {
    const slot = p[0];
    if (!Number.isInteger(slot) || slot < 0) throw invalidParams('Invalid params: expected a slot');
    const c = typeof p[1] === 'string' ? { encoding: p[1] } : cfg(p, 1);
    if (slot > chain.commitmentSlot(noProcessed(c))) throw new RpcError(-32004, `Block not available for slot ${slot}`);
    return blockJson(chain, slot, c);
  },
  getBlockTime: (chain, p) => {
    const slot = p[0];
    if (!Number.isInteger(slot) || slot < 0) throw invalidParams('Invalid params: expected a slot');
    if (slot > chain.slot) throw new RpcError(-32004, `Block not available for slot ${slot}`);
    return chain.blockTime(slot);
  },
  getBlocks: (chain, p) => {
    const start = p[0];
    const endParam = typeof p[1] === 'number' ? p[1] : undefined;
    const c = cfg(p, typeof p[1] === 'number' ? 2 : 1);
    if (!Number.isInteger(start) || start < 0) throw invalidParams('Invalid params: expected a start slot');
    const last = chain.commitmentSlot(noProcessed(c));
    return sliceRange(start, Math.min(endParam ?? last, last));
  },
  getBlocksWithLimit: (chain, p) => {
    const [start, limit] = p;
    if (!Number.isInteger(start) || !Number.isInteger(limit) || start < 0 || limit < 0) throw invalidParams('Invalid params: expected a start slot and a limit');
    const last = chain.commitmentSlot(noProcessed(cfg(p, 2)));
    return limit === 0 ? [] : sliceRange(start, Math.min(start + limit - 1, last));
  },
  requestAirdrop: (chain, p) => {
    const address = pubkeyParam(p[0]);
    const lamports = p[1];
    if (!Number.isInteger(lamports) || lamports <= 0) throw invalidParams('Invalid params: expected a positive lamport amount');
    return chain.airdrop(address, BigInt(lamports));
  },

  // Non-standard, for tests: advances the slot by N (default 1) at once, each new slot with
  // its own blockhash, so that a blockhash expires (> 150 slots) or a transaction finalizes
  // without waiting. Returns the new (processed) slot.
  latchkey_warpSlots: (chain, p) => {
    const n = p[0] ?? 1;
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw invalidParams('Invalid params: expected a slot count 0..1000000');
    chain.advance(n);
    return chain.slot;
  },
  // Non-standard: this node's settings and its faucet address.
  latchkey_nodeInfo: (chain) => ({
    faucet: chain.faucetAddress,
    finalityDepth: chain.opts.finalityDepth,
    genesisHash: chain.genesisHash,
    maxProcessingAge: MAX_PROCESSING_AGE,
    slot: chain.slot,
    slotMs: chain.opts.slotMs,
  }),
};

// ------------------------------------------------------------------------ JSON-RPC front
function stringify(value) {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `__bigint__${v}` : v)).replace(/"__bigint__(-?\d+)"/g, '$1');
}

function handleOne(chain, request) {
  const id = request && typeof request === 'object' && 'id' in request ? request.id : null;
  const reply = (body) => ({ jsonrpc: '2.0', ...body, id });
  if (!request || typeof request !== 'object' || Array.isArray(request) || request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
    return reply({ error: { code: -32600, message: 'Invalid request' } });
  }
  const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : null;
  if (!handler) return reply({ error: { code: -32601, message: 'Method not found' } });
  const params = request.params ?? [];
  if (!Array.isArray(params)) return reply({ error: { code: -32602, message: 'Invalid params: expected an array' } });
  try {
    return reply({ result: handler(chain, params) });
  } catch (e) {
    if (e instanceof RpcError) {
      const error = { code: e.code, message: e.message };
      if (e.data !== undefined) error.data = e.data;
      return reply({ error });
    }
    return reply({ error: { code: -32603, message: `Internal error: ${e.message}` } });
  }
}

export function startNode(opts) {
  const chain = new Chain(opts);
  const server = http.createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (req.method !== 'POST') return send(405, stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Use POST' }, id: null }));
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(200, stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
      }
      if (Array.isArray(body)) {
        if (body.length === 0) return send(200, stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null }));
        return send(200, stringify(body.map((r) => handleOne(chain, r))));
      }
      return send(200, stringify(handleOne(chain, body)));
    });
  });
  server.keepAliveTimeout = 60_000;
  let timer = null;
  if (opts.slotMs > 0) {
    timer = setInterval(() => chain.advance(1), opts.slotMs);
  }
  server.on('close', () => clearInterval(timer));
  return { chain, server };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`solana-node: ${e.message}\n`);
    process.exit(2);
  }
  const { server } = startNode(opts);
  server.on('error', (e) => {
    process.stderr.write(`solana-node: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(opts.port, '127.0.0.1', () => {
    process.stdout.write(`solana-node listening on http://127.0.0.1:${server.address().port}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
}
