// Writes ethers-vectors.json: test vectors for latchkey-chains computed by an independent
// implementation, ethers 6 (installed by npm ci in tests/compat), so that the Rust unit tests
// compare latchkey's amounts, calldata, event decoding, signed transactions, address checks
// and token ids against it. Run from anywhere:
//   node crates/latchkey-chains/testdata/ethers-vectors.mjs           (rewrite the file)
//   node crates/latchkey-chains/testdata/ethers-vectors.mjs --check   (exit 1 if stale)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compat = path.join(here, '../../../tests/compat/package.json');
const { ethers } = createRequire(compat)('ethers');
const out = path.join(here, 'ethers-vectors.json');

// anvil's first two dev keys (public test keys).
const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

// ---- units: ethers.parseUnits / formatUnits (ethers writes "1.0"; latchkey trims to "1")
const parse = [
  ['0.01', 6], ['1', 6], ['1.5', 18], ['0.000001', 6], ['123456789.123456789', 18],
  ['0', 18], ['20', 6], ['2.456220277', 9], ['1000000000000000000000000', 18], ['7', 0],
  ['0.1', 1], ['99999999999999999999.999999', 6],
].map(([value, decimals]) => ({ value, decimals, base: ethers.parseUnits(value, decimals).toString() }));
const trim = (s) => s.replace(/\.0$/, '');
const format = [
  ['0', 18], ['1', 18], ['10000', 6], ['20000000', 6], ['1234500', 6], ['42', 0],
  ['115792089237316195423570985008687907853269984665640564039457584007913129639935', 18],
  ['2456220277', 9], ['1000000000', 9],
].map(([base, decimals]) => ({ base, decimals, value: trim(ethers.formatUnits(BigInt(base), decimals)) }));

// ---- encode_call: signature + JSON parameters → calldata
const calls = [
  ['burn(uint256)', ['1000']],
  ['transfer(address,uint256)', [A.toLowerCase(), '1000000']],
  ['approve(address spender, uint256 amount)', [B, '115792089237316195423570985008687907853269984665640564039457584007913129639935']],
  ['set(bool,int256,bytes32)', [true, '-42', `0x${'ab'.repeat(32)}`]],
  ['store(string,bytes)', ['hello, world [1,2]', '0xdeadbeef']],
  ['batch(address[],uint256[])', [[A, B], ['1', '2']]],
  ['grid(uint8[2][],string[])', [[['1', '2'], ['3', '4']], ['a', 'b,c']]],
  ['order((address,uint256,bool),uint64)', [[A, '5', false], '9']],
  ['nested((uint256,string)[])', [[['1', 'x'], ['2', 'y']]]],
  ['noArgs()', []],
].map(([signature, params]) => {
  const fragment = ethers.FunctionFragment.from(`function ${signature}`);
  const iface = new ethers.Interface([fragment]);
  return { signature, params, calldata: iface.encodeFunctionData(fragment, params) };
});

// ---- ERC calldata builders
const erc20 = new ethers.Interface([
  'function transfer(address to, uint256 amount)', 'function balanceOf(address)',
  'function name()', 'function symbol()', 'function decimals()',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);
const erc721 = new ethers.Interface([
  'function safeTransferFrom(address from, address to, uint256 tokenId)',
  'function ownerOf(uint256)', 'function tokenURI(uint256)',
  'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)',
]);
const erc1155 = new ethers.Interface([
  'function safeTransferFrom(address from, address to, uint256 id, uint256 amount, bytes data)',
  'function safeBatchTransferFrom(address from, address to, uint256[] ids, uint256[] amounts, bytes data)',
  'function balanceOf(address, uint256)', 'function uri(uint256)',
  'event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)',
  'event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)',
]);
const erc = {
  erc20_transfer: erc20.encodeFunctionData('transfer', [B, 1234567n]),
  erc20_balance_of: erc20.encodeFunctionData('balanceOf', [A]),
  name: erc20.encodeFunctionData('name', []),
  symbol: erc20.encodeFunctionData('symbol', []),
  decimals: erc20.encodeFunctionData('decimals', []),
  erc721_safe_transfer_from: erc721.encodeFunctionData('safeTransferFrom', [A, B, 42n]),
  erc721_owner_of: erc721.encodeFunctionData('ownerOf', [42n]),
  erc721_token_uri: erc721.encodeFunctionData('tokenURI', [42n]),
  erc1155_safe_transfer_from: erc1155.encodeFunctionData('safeTransferFrom', [A, B, 7n, 3n, '0x']),
  erc1155_safe_batch_transfer_from: erc1155.encodeFunctionData('safeBatchTransferFrom', [A, B, [1n, 2n], [10n, 20n], '0xff']),
  erc1155_balance_of: erc1155.encodeFunctionData('balanceOf', [A, 7n]),
  erc1155_uri: erc1155.encodeFunctionData('uri', [7n]),
};

// ---- transfer events
const log = (iface, name, args) => iface.encodeEventLog(name, args);
const logs = [
  { kind: 'Erc20', from: A, to: B, value: '1000000', ...log(erc20, 'Transfer', [A, B, 1000000n]) },
  { kind: 'Erc20', from: ethers.ZeroAddress, to: B, value: '5', ...log(erc20, 'Transfer', [ethers.ZeroAddress, B, 5n]) },
  { kind: 'Erc721', from: A, to: B, token_id: '42', ...log(erc721, 'Transfer', [A, B, 42n]) },
  { kind: 'Erc1155', operator: A, from: A, to: B, ids: ['7'], values: ['3'], ...log(erc1155, 'TransferSingle', [A, A, B, 7n, 3n]) },
  { kind: 'Erc1155', operator: B, from: A, to: B, ids: ['1', '2', '3'], values: ['10', '20', '30'],
    ...log(erc1155, 'TransferBatch', [B, A, B, [1n, 2n, 3n], [10n, 20n, 30n]]) },
];

// ---- signed transactions (RFC 6979 signatures are deterministic in both libraries)
const txs = [];
for (const [key, tx] of [
  [KEY0, { type: 2, chainId: 80002, nonce: 0, to: B, value: 10n ** 16n, data: '0x', gasLimit: 21000n,
    maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 25_000_000_000n }],
  [KEY1, { type: 2, chainId: 11155111, nonce: 7, to: A, value: 0n, data: erc.erc20_transfer, gasLimit: 65000n,
    maxFeePerGas: 5_935_224_468n, maxPriorityFeePerGas: 1_022_783_914n }],
  [KEY0, { type: 0, chainId: 43113, nonce: 3, to: A, value: 1n, data: '0xdeadbeef', gasLimit: 30000n,
    gasPrice: 25_000_000_000n }],
  [KEY1, { type: 0, chainId: 1, nonce: 1000000, to: B, value: 123456789012345678901234n, data: '0x', gasLimit: 21000n,
    gasPrice: 1n }],
]) {
  const wallet = new ethers.Wallet(key);
  const signed = await wallet.signTransaction(tx);
  const parsed = ethers.Transaction.from(tx);
  const fee = tx.type === 2
    ? { max_fee: tx.maxFeePerGas.toString(), max_priority: tx.maxPriorityFeePerGas.toString() }
    : { gas_price: tx.gasPrice.toString() };
  txs.push({
    key: key.slice(2), from: wallet.address, chain_id: tx.chainId, nonce: tx.nonce, to: tx.to,
    value: tx.value.toString(), data: tx.data, gas_limit: Number(tx.gasLimit), fee,
    unsigned: parsed.unsignedSerialized, signed, hash: ethers.keccak256(signed),
  });
}

// ---- EVM addresses: ethers.isAddress on checksummed, lowercase, broken-checksum forms
const addresses = [];
for (let i = 0; i < 8; i++) {
  const lower = `0x${ethers.keccak256(ethers.toUtf8Bytes(`latchkey ${i}`)).slice(26)}`;
  const good = ethers.getAddress(lower);
  const flipped = [...good];
  const at = flipped.findIndex((c, j) => j > 1 && /[a-fA-F]/.test(c));
  flipped[at] = flipped[at] === flipped[at].toLowerCase() ? flipped[at].toUpperCase() : flipped[at].toLowerCase();
  for (const a of [good, lower, `0x${lower.slice(2).toUpperCase()}`, flipped.join(''), lower.slice(2)]) {
    addresses.push({ address: a, valid: ethers.isAddress(a) && a.startsWith('0x') });
  }
}

// ---- token ids: RFC 4122 version-5 UUIDs, computed here from SHA-1 directly
const uuidBytes = (u) => Buffer.from(u.replace(/-/g, ''), 'hex');
const uuid5 = (ns, name) => {
  const h = createHash('sha1').update(uuidBytes(ns)).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
};
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
const ns = uuid5(NAMESPACE_URL, 'urn:latchkey:tokens');
const tokenIds = [
  ['ETH-SEPOLIA', null], ['MATIC-AMOY', null], ['ETH', null],
  ['MATIC-AMOY', '0x41E94EB019C0762f9Bfcf9Fb1E58725BfB0e7582'],
  ['ETH-SEPOLIA', '0x1c7d4b196cb0c7b01d743fbc6116a902379c7238'],
  ['SOL-DEVNET', '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU'],
].map(([blockchain, address]) => ({
  blockchain, address,
  id: uuid5(ns, `${blockchain}:${address === null ? 'native' : blockchain.startsWith('SOL') ? address : address.toLowerCase()}`),
}));

const vectors = {
  generator: `crates/latchkey-chains/testdata/ethers-vectors.mjs, ethers ${ethers.version}`,
  parse_units: parse, format_units: format, encode_call: calls, erc, logs, transactions: txs,
  evm_addresses: addresses, token_namespace: ns, token_ids: tokenIds,
};
const text = `${JSON.stringify(vectors, null, 1)}\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error('crates/latchkey-chains/testdata/ethers-vectors.json is stale: rerun ethers-vectors.mjs');
    process.exit(1);
  }
  console.log('ethers-vectors.json matches ethers');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
