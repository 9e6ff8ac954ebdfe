// Compiles contracts/src/*.sol with the pinned solc-js and writes contracts/out/:
//   <Name>.json            {contractName, abi, bytecode, deployedBytecode, methodIdentifiers}
//   TestUsdc.creation.hex  the creation bytecode, for deploying it
//   TestUsdc.runtime.hex   the runtime bytecode, for anvil_setCode at Circle's USDC address
//   aa07.<Name>.creation.hex  ERC-4337 v0.7 creation code from @account-abstraction/contracts
//                          (EntryPoint, SimpleAccountFactory, VerifyingPaymaster, and the
//                          ERC1967Proxy of each account), copied from the package's artifacts
// With --check nothing is written: the fresh output is compared with the committed files and
// the script exits 1 naming every file that differs, is missing or is not produced any more.
//
// The settings are fixed (optimizer 200 runs, evmVersion "paris" so that no PUSH0 is emitted
// and the code runs on every EVM chain of Circle's enum), and solc's output for a given input
// is deterministic, so a clean rebuild reproduces the committed artifacts byte for byte.

import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(here, 'src');
const outDir = path.join(here, 'out');
const PINNED = '0.8.37';
// Contracts whose bare bytecode latchkey itself embeds (the local faucet's test USDC).
const HEX_ARTIFACTS = ['TestUsdc'];

const check = process.argv.includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length) {
  console.error(`usage: contracts/build [--check] (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}

if (!solc.version().startsWith(`${PINNED}+`)) {
  console.error(`solc ${solc.version()} is installed, ${PINNED} is pinned: run npm ci in contracts/`);
  process.exit(1);
}

const sources = {};
for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[`src/${file}`] = { content: readFileSync(path.join(srcDir, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'paris',
    outputSelection: {
      '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] },
    },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

const files = new Map();
for (const [source, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    // Interfaces declared beside a contract compile to empty bytecode: not artifacts.
    if (!c.evm.bytecode.object) continue;
    if (path.basename(source, '.sol') !== name) continue;
    const artifact = {
      contractName: name,
      source,
      compiler: solc.version(),
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      methodIdentifiers: c.evm.methodIdentifiers,
    };
    files.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
    if (HEX_ARTIFACTS.includes(name)) {
      files.set(`${name}.creation.hex`, `${artifact.bytecode}\n`);
      files.set(`${name}.runtime.hex`, `${artifact.deployedBytecode}\n`);
    }
  }
}
// ERC-4337 v0.7 from npm: the bytecode that @account-abstraction/contracts ships in its
// artifacts/ (compiled upstream with solc 0.8.23, 1 000 000 optimizer runs, viaIR for
// EntryPoint and SimpleAccount), copied byte for byte, never recompiled: recompiling with any
// other compiler or settings would change the init code and so the CREATE2 addresses. The
// canonical EntryPoint and SimpleAccountFactory addresses follow from these bytes (checked by
// latchkey-chains' sca tests, offline, and on anvil by latchkey-evm's).
const AA_PACKAGE = '@account-abstraction/contracts';
const AA_VERSION = '0.7.0';
const aaDir = path.join(here, 'node_modules', AA_PACKAGE);
const aaVersion = JSON.parse(readFileSync(path.join(aaDir, 'package.json'), 'utf8')).version;
if (aaVersion !== AA_VERSION) {
  console.error(`${AA_PACKAGE} ${aaVersion} is installed, ${AA_VERSION} is pinned: run npm ci in contracts/`);
  process.exit(1);
}
const aaArtifact = (name) => {
  const a = JSON.parse(readFileSync(path.join(aaDir, 'artifacts', `${name}.json`), 'utf8'));
  const linked = Object.keys(a.linkReferences || {}).length + Object.keys(a.deployedLinkReferences || {}).length;
  if (a.contractName !== name || !/^0x[0-9a-f]+$/.test(a.bytecode) || linked) {
    console.error(`${AA_PACKAGE}/artifacts/${name}.json: not a linked, complete artifact`);
    process.exit(1);
  }
  return a;
};
for (const name of ['EntryPoint', 'SimpleAccountFactory', 'VerifyingPaymaster']) {
  files.set(`aa07.${name}.creation.hex`, `${aaArtifact(name).bytecode}\n`);
}
// The creation code of the ERC1967Proxy that SimpleAccountFactory deploys for each account:
// the counterfactual address of an account is CREATE2 over it, computed offline. The package
// ships no ERC1967Proxy artifact (and OpenZeppelin's own is built with other settings), so it
// is cut out of the factory's runtime code, where solc keeps `type(ERC1967Proxy).creationCode`
// as the one sub-object between the factory's code and its metadata:
//   [factory code][proxy creation code = init ‖ proxy runtime ‖ its metadata][factory metadata]
{
  const code = aaArtifact('SimpleAccountFactory').deployedBytecode.slice(2);
  const at = (needle) => {
    const found = [];
    for (let i = code.indexOf(needle); i !== -1; i = code.indexOf(needle, i + 1)) {
      if (i % 2 === 0) found.push(i);
    }
    return found;
  };
  const METADATA_LEN = 53 * 2; // a2 64 "ipfs" 58 22 <34> 64 "solc" 43 <3> 00 33
  const preambles = at('6080604052');
  const metadata = at('a264697066735822');
  const [start] = preambles.slice(1);
  const ok = preambles.length === 3 && metadata.length === 2 &&
    metadata[1] + METADATA_LEN === code.length && metadata[0] + METADATA_LEN === metadata[1] &&
    start < preambles[2] && preambles[2] < metadata[0];
  if (!ok) {
    console.error(`${AA_PACKAGE}: SimpleAccountFactory's runtime code is not laid out as expected; cannot cut out ERC1967Proxy`);
    process.exit(1);
  }
  files.set('aa07.ERC1967Proxy.creation.hex', `0x${code.slice(start, metadata[1])}\n`);
}

for (const name of HEX_ARTIFACTS) {
  if (!files.has(`${name}.json`)) {
    console.error(`src/${name}.sol produced no contract ${name}`);
    process.exit(1);
  }
}

if (check) {
  const problems = [];
  for (const [file, content] of files) {
    const p = path.join(outDir, file);
    if (!existsSync(p)) problems.push(`out/${file}: missing`);
    else if (readFileSync(p, 'utf8') !== content) problems.push(`out/${file}: differs from what src/ compiles to`);
  }
  const committed = existsSync(outDir) ? readdirSync(outDir) : [];
  for (const file of committed) {
    if (!files.has(file)) problems.push(`out/${file}: not produced by any source`);
  }
  if (problems.length) {
    console.error(`contracts/out is stale (rebuild with contracts/build):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`contracts/out matches src/ (${files.size} files, solc ${solc.version()})`);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [file, content] of files) writeFileSync(path.join(outDir, file), content);
  console.log(`wrote ${files.size} files to contracts/out (solc ${solc.version()})`);
}
