// Wire formats for the local Solana node: base58, the transaction wire format (legacy and v0),
// SPL Token / Token-2022 account layouts, and the `jsonParsed` forms of the instructions and
// accounts a wallet server reads. No dependency: everything here is small and fixed by the
// Solana protocol.

// ---------------------------------------------------------------------------------- base58
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

export function b58encode(bytes) {
  bytes = Uint8Array.from(bytes);
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '1'.repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]];
  return out;
}

export function b58decode(text) {
  if (typeof text !== 'string') throw new Error('not a string');
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  const bytes = [];
  for (let i = zeros; i < text.length; i++) {
    let carry = INDEX.get(text[i]);
    if (carry === undefined) throw new Error(`invalid base58 character ${JSON.stringify(text[i])}`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i];
  return out;
}

/** A 32-byte public key from base58, or throws. */
export function pubkeyBytes(text) {
  const bytes = b58decode(text);
  if (bytes.length !== 32) throw new Error('Invalid param: WrongSize');
  return bytes;
}

export const b64 = (bytes) => Buffer.from(bytes).toString('base64');

// ------------------------------------------------------------------- well-known program ids
export const SYSTEM_PROGRAM = '11111111111111111111111111111111';
export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';
export const ATA_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
export const MEMO_PROGRAMS = new Set([
  'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr',
  'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo',
]);
export const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
// Builtins whose instructions reserve 3,000 compute units when no limit is set (SIMD-0170);
// any other program's instruction reserves 200,000.
const BUILTINS = new Set([
  SYSTEM_PROGRAM,
  COMPUTE_BUDGET_PROGRAM,
  'Vote111111111111111111111111111111111111111',
  'BPFLoader1111111111111111111111111111111111',
  'BPFLoader2111111111111111111111111111111111',
  'BPFLoaderUpgradeab1e11111111111111111111111',
  'LoaderV411111111111111111111111111111111111',
  'Ed25519SigVerify111111111111111111111111111',
  'KeccakSecp256k11111111111111111111111111111',
  'Secp256r1SigVerify1111111111111111111111111',
]);

// ------------------------------------------------------------------------- byte readers
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }
  need(n) {
    if (this.at + n > this.bytes.length) throw new Error('unexpected end of transaction bytes');
  }
  u8() {
    this.need(1);
    return this.bytes[this.at++];
  }
  take(n) {
    this.need(n);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  shortvec() {
    let value = 0;
    for (let shift = 0; shift < 21; shift += 7) {
      const b = this.u8();
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new Error('invalid compact-u16');
  }
}

const u64le = (bytes, at) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readBigUInt64LE(at);
const u32le = (bytes, at) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32LE(at);
const u16le = (bytes, at) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt16LE(at);

/**
 * Parses a wire transaction (legacy or v0). Returns the signatures, the message bytes (what the
 * signatures sign) and the decoded message.
 */
export function parseTransaction(bytes) {
  const r = new Reader(bytes);
  const nsig = r.shortvec();
  const signatures = [];
  for (let i = 0; i < nsig; i++) signatures.push(Uint8Array.from(r.take(64)));
  const messageStart = r.at;
  let version = 'legacy';
  const first = r.bytes[r.at];
  if (first !== undefined && first & 0x80) {
    version = first & 0x7f;
    r.at++;
    if (version !== 0) throw new Error(`unsupported transaction version ${version}`);
  }
  const header = {
    numRequiredSignatures: r.u8(),
    numReadonlySignedAccounts: r.u8(),
    numReadonlyUnsignedAccounts: r.u8(),
  };
  const nkeys = r.shortvec();
  const staticKeys = [];
  for (let i = 0; i < nkeys; i++) staticKeys.push(b58encode(r.take(32)));
  const recentBlockhash = b58encode(r.take(32));
  const ninstr = r.shortvec();
  const instructions = [];
  for (let i = 0; i < ninstr; i++) {
    const programIdIndex = r.u8();
    const nacc = r.shortvec();
    const accounts = [...r.take(nacc)];
    const dlen = r.shortvec();
    const data = Uint8Array.from(r.take(dlen));
    instructions.push({ programIdIndex, accounts, data });
  }
  const addressTableLookups = [];
  if (version === 0) {
    const nlookups = r.shortvec();
    for (let i = 0; i < nlookups; i++) {
      const accountKey = b58encode(r.take(32));
      const writableIndexes = [...r.take(r.shortvec())];
      const readonlyIndexes = [...r.take(r.shortvec())];
      addressTableLookups.push({ accountKey, writableIndexes, readonlyIndexes });
    }
  }
  if (r.at !== bytes.length) throw new Error('trailing bytes after transaction');
  if (nsig !== header.numRequiredSignatures) throw new Error('signature count does not match the message header');
  if (staticKeys.length < header.numRequiredSignatures) throw new Error('too few account keys');
  for (const ix of instructions) {
    if (ix.programIdIndex >= staticKeys.length) throw new Error('invalid program id index');
  }
  return {
    signatures,
    messageBytes: Uint8Array.from(bytes.subarray(messageStart)),
    version,
    message: { header, staticKeys, recentBlockhash, instructions, addressTableLookups },
  };
}

/** Parses a message alone (getFeeForMessage), by prefixing a dummy signature section. */
export function parseMessage(messageBytes) {
  const r = new Reader(messageBytes);
  let first = r.u8();
  if (first & 0x80) first = r.u8();
  const sigs = new Uint8Array(1 + 64 * first);
  sigs[0] = first; // every count we accept (< 128) is a one-byte compact-u16
  return parseTransaction(Buffer.concat([sigs, messageBytes]));
}

/** Addresses stored in an address lookup table account's data. */
export function lookupTableAddresses(data) {
  const out = [];
  for (let at = 56; at + 32 <= data.length; at += 32) out.push(b58encode(data.subarray(at, at + 32)));
  return out;
}

/** Whether account index `i` of a message (with `loaded` lookup addresses) is writable. */
export function isWritableIndex(message, loaded, i) {
  const { header, staticKeys } = message;
  const n = staticKeys.length;
  if (i < n) {
    if (i < header.numRequiredSignatures) return i < header.numRequiredSignatures - header.numReadonlySignedAccounts;
    return i < n - header.numReadonlyUnsignedAccounts;
  }
  return i < n + loaded.writable.length;
}

// ----------------------------------------------------------------------- compute budget
export function computeBudget(message, accountKeys) {
  let limit = null;
  let price = 0n;
  let reserved = 0;
  for (const ix of message.instructions) {
    const program = accountKeys[ix.programIdIndex];
    if (program === COMPUTE_BUDGET_PROGRAM) {
      if (ix.data[0] === 2 && ix.data.length >= 5) limit = u32le(ix.data, 1);
      if (ix.data[0] === 3 && ix.data.length >= 9) price = u64le(ix.data, 1);
    }
    reserved += BUILTINS.has(program) ? 3000 : 200000;
  }
  const units = Math.min(limit ?? reserved, 1_400_000);
  return { units, price };
}

/** The fee of a message: 5,000 lamports a signature plus ceil(price × units / 10^6). */
export function messageFee(message, accountKeys) {
  const { units, price } = computeBudget(message, accountKeys);
  const priority = (price * BigInt(units) + 999_999n) / 1_000_000n;
  return 5000n * BigInt(message.header.numRequiredSignatures) + priority;
}

// ------------------------------------------------------------------------ token layouts
export const TOKEN_PROGRAMS = new Set([TOKEN_PROGRAM, TOKEN_2022_PROGRAM]);

function coptionKey(data, at) {
  return u32le(data, at) === 1 ? b58encode(data.subarray(at + 4, at + 36)) : null;
}

/** A Token or Token-2022 token account's fields, or null. */
export function parseTokenAccount(owner, data) {
  if (!TOKEN_PROGRAMS.has(owner)) return null;
  const ok = data.length === 165 || (owner === TOKEN_2022_PROGRAM && data.length > 165 && data[165] === 2);
  if (!ok || data[108] === 0) return null;
  const native = u32le(data, 109) === 1 ? u64le(data, 113) : null;
  return {
    program: owner,
    mint: b58encode(data.subarray(0, 32)),
    owner: b58encode(data.subarray(32, 64)),
    amount: u64le(data, 64),
    delegate: coptionKey(data, 72),
    state: data[108] === 2 ? 'frozen' : 'initialized',
    isNative: native !== null,
    rentExemptReserve: native,
    delegatedAmount: u64le(data, 121),
    closeAuthority: coptionKey(data, 129),
    extensions: owner === TOKEN_2022_PROGRAM ? parseExtensions(data) : [],
  };
}

/** A Token or Token-2022 mint's fields, or null. */
export function parseMint(owner, data) {
  if (!TOKEN_PROGRAMS.has(owner)) return null;
  const ok = data.length === 82 || (owner === TOKEN_2022_PROGRAM && data.length > 165 && data[165] === 1);
  if (!ok || data[45] !== 1) return null;
  return {
    program: owner,
    mintAuthority: coptionKey(data, 0),
    supply: u64le(data, 36),
    decimals: data[44],
    isInitialized: true,
    freezeAuthority: coptionKey(data, 46),
    extensions: owner === TOKEN_2022_PROGRAM ? parseExtensions(data) : [],
  };
}

const EXTENSION_NAMES = {
  1: 'transferFeeConfig', 2: 'transferFeeAmount', 3: 'mintCloseAuthority', 4: 'confidentialTransferMint',
  5: 'confidentialTransferAccount', 6: 'defaultAccountState', 7: 'immutableOwner', 8: 'memoTransfer',
  9: 'nonTransferable', 10: 'interestBearingConfig', 11: 'cpiGuard', 12: 'permanentDelegate',
  13: 'nonTransferableAccount', 14: 'transferHook', 15: 'transferHookAccount', 18: 'metadataPointer',
  19: 'tokenMetadata', 20: 'groupPointer', 21: 'tokenGroup', 22: 'groupMemberPointer', 23: 'tokenGroupMember',
};

// Token-2022 extensions by name only (with `state` where it is one-field and cheap): enough for
// a reader to see them, not a full parse.
function parseExtensions(data) {
  const out = [];
  for (let at = 166; at + 4 <= data.length; ) {
    const type = u16le(data, at);
    const len = u16le(data, at + 2);
    if (type === 0) break;
    const name = EXTENSION_NAMES[type] ?? 'unparseableExtension';
    out.push(type === 7 || type === 9 || type === 13 ? { extension: name } : { extension: name, state: {} });
    at += 4 + len;
  }
  return out;
}

/** `{amount, decimals, uiAmount, uiAmountString}` as the RPC reports token amounts. */
export function uiTokenAmount(amount, decimals) {
  const digits = amount.toString().padStart(decimals + 1, '0');
  let text = decimals > 0 ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  if (decimals > 0) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return { amount: amount.toString(), decimals, uiAmount: Number(text), uiAmountString: text };
}

/** The `parsed` object of a token account or mint for `jsonParsed`, or null. */
export function parsedTokenData(owner, data, mintDecimals) {
  const program = owner === TOKEN_2022_PROGRAM ? 'spl-token-2022' : 'spl-token';
  const account = parseTokenAccount(owner, data);
  if (account) {
    const decimals = mintDecimals(account.mint);
    if (decimals === null) return null;
    const info = {
      isNative: account.isNative,
      mint: account.mint,
      owner: account.owner,
      state: account.state,
      tokenAmount: uiTokenAmount(account.amount, decimals),
    };
    if (account.delegate) {
      info.delegate = account.delegate;
      info.delegatedAmount = uiTokenAmount(account.delegatedAmount, decimals);
    }
    if (account.isNative) info.rentExemptReserve = uiTokenAmount(account.rentExemptReserve, 9);
    if (account.closeAuthority) info.closeAuthority = account.closeAuthority;
    if (account.extensions.length) info.extensions = account.extensions;
    return { program, parsed: { info, type: 'account' }, space: BigInt(data.length) };
  }
  const mint = parseMint(owner, data);
  if (mint) {
    const info = {
      decimals: mint.decimals,
      freezeAuthority: mint.freezeAuthority,
      isInitialized: true,
      mintAuthority: mint.mintAuthority,
      supply: mint.supply.toString(),
    };
    if (mint.extensions.length) info.extensions = mint.extensions;
    return { program, parsed: { info, type: 'mint' }, space: BigInt(data.length) };
  }
  return null;
}

// ------------------------------------------------------------------ jsonParsed instructions
/**
 * The `jsonParsed` form of an instruction whose program the real RPC parses (System, SPL
 * Token, Token-2022, Associated Token Account, Memo), or null to fall back to the partially
 * decoded form. `keys` are the instruction's account addresses, `decimalsOf(mint)` the mint's
 * decimals (for the `*Checked` instructions they come from the data).
 */
export function parseInstruction(programId, keys, data) {
  try {
    if (programId === SYSTEM_PROGRAM) return wrap('system', programId, parseSystem(keys, data));
    if (TOKEN_PROGRAMS.has(programId)) {
      return wrap(programId === TOKEN_PROGRAM ? 'spl-token' : 'spl-token-2022', programId, parseToken(keys, data));
    }
    if (programId === ATA_PROGRAM) return wrap('spl-associated-token-account', programId, parseAta(keys, data));
    if (MEMO_PROGRAMS.has(programId)) {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
      return { parsed: text, program: 'spl-memo', programId };
    }
  } catch {
    return null;
  }
  return null;
}

function wrap(program, programId, parsed) {
  return parsed ? { parsed, program, programId } : null;
}

function need(keys, n) {
  if (keys.length < n) throw new Error('not enough accounts');
}

function parseSystem(keys, data) {
  const kind = u32le(data, 0);
  switch (kind) {
    case 0:
      need(keys, 2);
      return {
        info: { lamports: Number(u64le(data, 4)), newAccount: keys[1], owner: b58encode(data.subarray(20, 52)), source: keys[0], space: Number(u64le(data, 12)) },
        type: 'createAccount',
      };
    case 1:
      need(keys, 1);
      return { info: { account: keys[0], owner: b58encode(data.subarray(4, 36)) }, type: 'assign' };
    case 2:
      need(keys, 2);
      return { info: { destination: keys[1], lamports: Number(u64le(data, 4)), source: keys[0] }, type: 'transfer' };
    case 8:
      need(keys, 1);
      return { info: { account: keys[0], space: Number(u64le(data, 4)) }, type: 'allocate' };
    default:
      return null;
  }
}

function signersOf(keys, from, info, single) {
  if (keys.length > from + 1) {
    info[`multisig${single[0].toUpperCase()}${single.slice(1)}`] = keys[from];
    info.signers = keys.slice(from + 1);
  } else {
    info[single] = keys[from];
  }
  return info;
}

function parseToken(keys, data) {
  const kind = data[0];
  const amount = () => u64le(data, 1).toString();
  const checked = () => uiTokenAmount(u64le(data, 1), data[9]);
  switch (kind) {
    case 0:
    case 20: {
      need(keys, kind === 0 ? 2 : 1);
      const info = { decimals: data[1], mint: keys[0], mintAuthority: b58encode(data.subarray(2, 34)) };
      if (data[34] === 1) info.freezeAuthority = b58encode(data.subarray(35, 67));
      if (kind === 0) info.rentSysvar = keys[1];
      return { info, type: kind === 0 ? 'initializeMint' : 'initializeMint2' };
    }
    case 1:
      need(keys, 4);
      return { info: { account: keys[0], mint: keys[1], owner: keys[2], rentSysvar: keys[3] }, type: 'initializeAccount' };
    case 16:
      need(keys, 3);
      return { info: { account: keys[0], mint: keys[1], owner: b58encode(data.subarray(1, 33)), rentSysvar: keys[2] }, type: 'initializeAccount2' };
    case 18:
      need(keys, 2);
      return { info: { account: keys[0], mint: keys[1], owner: b58encode(data.subarray(1, 33)) }, type: 'initializeAccount3' };
    case 3:
      need(keys, 3);
      return { info: signersOf(keys, 2, { amount: amount(), destination: keys[1], source: keys[0] }, 'authority'), type: 'transfer' };
    case 4:
      need(keys, 3);
      return { info: signersOf(keys, 2, { amount: amount(), delegate: keys[1], source: keys[0] }, 'owner'), type: 'approve' };
    case 7:
      need(keys, 3);
      return { info: signersOf(keys, 2, { account: keys[1], amount: amount(), mint: keys[0] }, 'mintAuthority'), type: 'mintTo' };
    case 8:
      need(keys, 3);
      return { info: signersOf(keys, 2, { account: keys[0], amount: amount(), mint: keys[1] }, 'authority'), type: 'burn' };
    case 9:
      need(keys, 3);
      return { info: signersOf(keys, 2, { account: keys[0], destination: keys[1] }, 'owner'), type: 'closeAccount' };
    case 12:
      need(keys, 4);
      return {
        info: signersOf(keys, 3, { destination: keys[2], mint: keys[1], source: keys[0], tokenAmount: checked() }, 'authority'),
        type: 'transferChecked',
      };
    case 14:
      need(keys, 3);
      return { info: signersOf(keys, 2, { account: keys[1], mint: keys[0], tokenAmount: checked() }, 'mintAuthority'), type: 'mintToChecked' };
    case 15:
      need(keys, 3);
      return { info: signersOf(keys, 2, { account: keys[0], mint: keys[1], tokenAmount: checked() }, 'authority'), type: 'burnChecked' };
    case 17:
      need(keys, 1);
      return { info: { account: keys[0] }, type: 'syncNative' };
    case 21:
      need(keys, 1);
      return { info: { mint: keys[0] }, type: 'getAccountDataSize' };
    case 22:
      need(keys, 1);
      return { info: { account: keys[0] }, type: 'initializeImmutableOwner' };
    default:
      return null;
  }
}

function parseAta(keys, data) {
  const kind = data.length === 0 ? 0 : data[0];
  if (kind !== 0 && kind !== 1) return null;
  need(keys, 6);
  return {
    info: { account: keys[1], mint: keys[3], source: keys[0], systemProgram: keys[4], tokenProgram: keys[5], wallet: keys[2] },
    type: kind === 0 ? 'create' : 'createIdempotent',
  };
}

// ---------------------------------------------------------------------- transaction errors
// The order of litesvm's fieldless enums (its typings declare them as const enums).
export const TRANSACTION_ERRORS = [
  'AccountInUse', 'AccountLoadedTwice', 'AccountNotFound', 'ProgramAccountNotFound', 'InsufficientFundsForFee',
  'InvalidAccountForFee', 'AlreadyProcessed', 'BlockhashNotFound', 'CallChainTooDeep', 'MissingSignatureForFee',
  'InvalidAccountIndex', 'SignatureFailure', 'InvalidProgramForExecution', 'SanitizeFailure', 'ClusterMaintenance',
  'AccountBorrowOutstanding', 'WouldExceedMaxBlockCostLimit', 'UnsupportedVersion', 'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit', 'WouldExceedAccountDataBlockLimit', 'TooManyAccountLocks',
  'AddressLookupTableNotFound', 'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData',
  'InvalidAddressLookupTableIndex', 'InvalidRentPayingAccount', 'WouldExceedMaxVoteCostLimit',
  'WouldExceedAccountDataTotalLimit', 'MaxLoadedAccountsDataSizeExceeded', 'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit', 'UnbalancedTransaction', 'ProgramCacheHitMaxLimit', 'CommitCancelled',
];
export const INSTRUCTION_ERRORS = [
  'GenericError', 'InvalidArgument', 'InvalidInstructionData', 'InvalidAccountData', 'AccountDataTooSmall',
  'InsufficientFunds', 'IncorrectProgramId', 'MissingRequiredSignature', 'AccountAlreadyInitialized',
  'UninitializedAccount', 'UnbalancedInstruction', 'ModifiedProgramId', 'ExternalAccountLamportSpend',
  'ExternalAccountDataModified', 'ReadonlyLamportChange', 'ReadonlyDataModified', 'DuplicateAccountIndex',
  'ExecutableModified', 'RentEpochModified', 'NotEnoughAccountKeys', 'AccountDataSizeChanged', 'AccountNotExecutable',
  'AccountBorrowFailed', 'AccountBorrowOutstanding', 'DuplicateAccountOutOfSync', 'InvalidError',
  'ExecutableDataModified', 'ExecutableLamportChange', 'ExecutableAccountNotRentExempt', 'UnsupportedProgramId',
  'CallDepth', 'MissingAccount', 'ReentrancyNotAllowed', 'MaxSeedLengthExceeded', 'InvalidSeeds', 'InvalidRealloc',
  'ComputationalBudgetExceeded', 'PrivilegeEscalation', 'ProgramEnvironmentSetupFailure', 'ProgramFailedToComplete',
  'ProgramFailedToCompile', 'Immutable', 'IncorrectAuthority', 'AccountNotRentExempt', 'InvalidAccountOwner',
  'ArithmeticOverflow', 'UnsupportedSysvar', 'IllegalOwner', 'MaxAccountsDataAllocationsExceeded',
  'MaxAccountsExceeded', 'MaxInstructionTraceLengthExceeded', 'BuiltinProgramsMustConsumeComputeUnits', 'BorshIoError',
];

// Display strings of the errors (agave's `impl Display`), for the RPC's error messages.
const TRANSACTION_ERROR_TEXT = {
  AccountInUse: 'Account in use',
  AccountLoadedTwice: 'Account loaded twice',
  AccountNotFound: 'Attempt to debit an account but found no record of a prior credit.',
  ProgramAccountNotFound: 'Attempt to load a program that does not exist',
  InsufficientFundsForFee: 'Insufficient funds for fee',
  InvalidAccountForFee: 'This account may not be used to pay transaction fees',
  AlreadyProcessed: 'This transaction has already been processed',
  BlockhashNotFound: 'Blockhash not found',
  MissingSignatureForFee: 'Transaction did not pass signature verification',
  SignatureFailure: 'Transaction did not pass signature verification',
  SanitizeFailure: 'Transaction failed to sanitize accounts offsets correctly',
  InvalidAccountIndex: 'Transaction contains an invalid account reference',
  InvalidProgramForExecution: 'This program may not be used for executing instructions',
  UnsupportedVersion: 'Transaction version is unsupported',
  InvalidWritableAccount: 'Transaction loads a writable account that cannot be written',
  TooManyAccountLocks: 'Transaction locked too many accounts',
  AddressLookupTableNotFound: 'Transaction loads an address table account that doesn\'t exist',
  InvalidRentPayingAccount: 'Transaction leaves an account with a lower balance than rent-exempt minimum',
};
const INSTRUCTION_ERROR_TEXT = {
  GenericError: 'generic instruction error',
  InvalidArgument: 'invalid program argument',
  InvalidInstructionData: 'invalid instruction data',
  InvalidAccountData: 'invalid account data for instruction',
  AccountDataTooSmall: 'account data too small for instruction',
  InsufficientFunds: 'insufficient funds for instruction',
  IncorrectProgramId: 'incorrect program id for instruction',
  MissingRequiredSignature: 'missing required signature for instruction',
  AccountAlreadyInitialized: 'instruction requires an uninitialized account',
  UninitializedAccount: 'instruction requires an initialized account',
  UnbalancedInstruction: 'sum of account balances before and after instruction do not match',
  NotEnoughAccountKeys: 'insufficient account keys for instruction',
  AccountNotExecutable: 'instruction expected an executable account',
  ComputationalBudgetExceeded: 'Computational budget exceeded',
  IllegalOwner: 'Provided owner is not allowed',
  InvalidAccountOwner: 'Invalid account owner',
  ArithmeticOverflow: 'Program arithmetic overflowed',
  InvalidSeeds: 'Provided seeds do not result in a valid address',
  UnsupportedProgramId: 'Unsupported program id',
  MissingAccount: 'An account required by the instruction is missing',
};

/** litesvm's error object → the RPC's JSON form of a TransactionError. */
export function errorJson(err) {
  if (typeof err === 'number') return TRANSACTION_ERRORS[err] ?? `Unknown(${err})`;
  const name = err?.constructor?.name;
  if (name === 'TransactionErrorInstructionError') {
    const inner = err.err();
    let ie;
    if (typeof inner === 'number') ie = INSTRUCTION_ERRORS[inner] ?? `Unknown(${inner})`;
    else if (inner?.constructor?.name === 'InstructionErrorCustom') ie = { Custom: inner.code };
    else if (inner?.constructor?.name === 'InstructionErrorBorshIo') ie = 'BorshIoError';
    else ie = String(inner);
    return { InstructionError: [err.index, ie] };
  }
  if (name === 'TransactionErrorDuplicateInstruction') return { DuplicateInstruction: err.index };
  if (name === 'TransactionErrorInsufficientFundsForRent') return { InsufficientFundsForRent: { account_index: err.accountIndex } };
  if (name === 'TransactionErrorProgramExecutionTemporarilyRestricted') {
    return { ProgramExecutionTemporarilyRestricted: { account_index: err.accountIndex } };
  }
  return String(err);
}

/** The Display text of a TransactionError in JSON form. */
export function errorText(json) {
  if (typeof json === 'string') return TRANSACTION_ERROR_TEXT[json] ?? json;
  if (json.InstructionError) {
    const [index, ie] = json.InstructionError;
    const text = typeof ie === 'string'
      ? INSTRUCTION_ERROR_TEXT[ie] ?? ie
      : `custom program error: 0x${ie.Custom.toString(16)}`;
    return `Error processing Instruction ${index}: ${text}`;
  }
  if (json.InsufficientFundsForRent) {
    return `Transaction results in an account (${json.InsufficientFundsForRent.account_index}) with insufficient funds for rent`;
  }
  if (json.DuplicateInstruction !== undefined) {
    return `Transaction contains a duplicate instruction (${json.DuplicateInstruction}) that is not allowed`;
  }
  return JSON.stringify(json);
}
