// Compiles contracts/src/*.sol with the pinned solc-js and writes contracts/out/:
//   <Name>.json            {contractName, abi, bytecode, deployedBytecode, methodIdentifiers}
//   TestUsdc.creation.hex  the creation bytecode, for deploying it
//   TestUsdc.runtime.hex   the runtime bytecode, for anvil_setCode at Circle's USDC address
//   aa07.<Name>.creation.hex  ERC-4337 v0.7 creation code from @account-abstraction/contracts
//                          (EntryPoint, VerifyingPaymaster), copied from the package's artifacts
//   safe141.<Name>.creation.hex, safe4337.<Name>.creation.hex  Safe 1.4.1 and its ERC-4337
//                          module 0.3.0, copied from @safe-global/safe-contracts and
//                          @safe-global/safe-4337's artifacts
//   safe-singleton-factory.json  the Safe singleton factory's presigned deployment per chain
//   erc6492.ValidateSigOffchain.creation.hex  viem's ERC-6492 deployless signature validator
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
// EntryPoint), copied byte for byte, never recompiled: recompiling with any other compiler or
// settings would change the init code and so the CREATE2 addresses. The canonical EntryPoint
// address follows from these bytes (checked by latchkey-chains' sca tests, offline, and on
// anvil by latchkey-evm's). The account is Safe's (below), not the package's SimpleAccount,
// which has no ERC-1271.
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
for (const name of ['EntryPoint', 'VerifyingPaymaster']) {
  files.set(`aa07.${name}.creation.hex`, `${aaArtifact(name).bytecode}\n`);
}
// Safe 1.4.1 with the Safe4337Module 0.3.0 (the smart-contract account), from npm, copied byte
// for byte as above:
// - @safe-global/safe-contracts 1.4.1's own artifacts (solc 0.7.6, the canonical build): Safe,
//   SafeL2, SafeProxyFactory, CompatibilityFallbackHandler, MultiSend, MultiSendCallOnly land
//   at their canonical addresses through the Safe singleton factory with salt 0; SafeProxy is
//   the creation code inside SafeProxyFactory, over which a Safe's address is CREATE2.
//   (@safe-global/safe-4337 also ships Safe artifacts, recompiled with its own settings: they
//   land elsewhere, so they are not used.)
// - @safe-global/safe-4337 0.3.0's artifacts (solc 0.8.23, 10 000 000 runs, paris):
//   Safe4337Module (constructor: the EntryPoint) and SafeModuleSetup land at their canonical
//   addresses through the deterministic deployment proxy 0x4e59…956c with salt 0
//   (hardhat-deploy's `deterministicDeployment: true`, which Safe's 4337 deployment uses).
// - @safe-global/safe-singleton-factory: the presigned (EIP-155) transaction that deploys the
//   Safe singleton factory 0x914d…43d7 on a fresh chain, for the chains of Circle's SCA list
//   and anvil's default chain id.
// - viem: the ERC-6492 deployless signature validator ("ValidateSigOffchain"), the bytecode
//   its verifyHash/verifyMessage run with eth_call to check a signature of a Safe that is not
//   deployed yet.
const requirePackage = (name, version) => {
  const dir = path.join(here, 'node_modules', name);
  const installed = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  if (installed !== version) {
    console.error(`${name} ${installed} is installed, ${version} is pinned: run npm ci in contracts/`);
    process.exit(1);
  }
  return dir;
};
const hardhatArtifact = (dir, rel, name) => {
  const file = path.join(dir, 'build', 'artifacts', rel, `${name}.json`);
  const a = JSON.parse(readFileSync(file, 'utf8'));
  const linked = Object.keys(a.linkReferences || {}).length + Object.keys(a.deployedLinkReferences || {}).length;
  if (a.contractName !== name || !/^0x[0-9a-f]+$/.test(a.bytecode) || a.bytecode.length < 4 || linked) {
    console.error(`${file}: not a linked, complete artifact`);
    process.exit(1);
  }
  return a;
};
{
  const dir = requirePackage('@safe-global/safe-contracts', '1.4.1');
  for (const [rel, name] of [
    ['contracts/Safe.sol', 'Safe'],
    ['contracts/SafeL2.sol', 'SafeL2'],
    ['contracts/proxies/SafeProxyFactory.sol', 'SafeProxyFactory'],
    ['contracts/proxies/SafeProxy.sol', 'SafeProxy'],
    ['contracts/handler/CompatibilityFallbackHandler.sol', 'CompatibilityFallbackHandler'],
    ['contracts/libraries/MultiSend.sol', 'MultiSend'],
    ['contracts/libraries/MultiSendCallOnly.sol', 'MultiSendCallOnly'],
  ]) {
    files.set(`safe141.${name}.creation.hex`, `${hardhatArtifact(dir, rel, name).bytecode}\n`);
  }
  const factory = hardhatArtifact(dir, 'contracts/proxies/SafeProxyFactory.sol', 'SafeProxyFactory');
  const proxy = hardhatArtifact(dir, 'contracts/proxies/SafeProxy.sol', 'SafeProxy');
  if (!factory.deployedBytecode.includes(proxy.bytecode.slice(2))) {
    console.error('@safe-global/safe-contracts: SafeProxy is not the proxy SafeProxyFactory creates');
    process.exit(1);
  }
}
{
  const dir = requirePackage('@safe-global/safe-4337', '0.3.0');
  for (const [rel, name] of [
    ['contracts/Safe4337Module.sol', 'Safe4337Module'],
    ['contracts/SafeModuleSetup.sol', 'SafeModuleSetup'],
  ]) {
    files.set(`safe4337.${name}.creation.hex`, `${hardhatArtifact(dir, rel, name).bytecode}\n`);
  }
}
{
  const dir = requirePackage('@safe-global/safe-singleton-factory', '1.0.44');
  // Circle's SCA chains (mainnets and testnets) and anvil's default chain id.
  const CHAINS = [1, 11155111, 137, 80002, 42161, 421614, 43114, 43113, 8453, 84532, 10, 11155420, 130, 1301, 31337];
  const chains = {};
  let address;
  for (const id of CHAINS) {
    const d = JSON.parse(readFileSync(path.join(dir, 'artifacts', String(id), 'deployment.json'), 'utf8'));
    if (address !== undefined && d.address !== address) {
      console.error(`@safe-global/safe-singleton-factory: chain ${id} deploys at ${d.address}, not ${address}`);
      process.exit(1);
    }
    address = d.address;
    chains[id] = { signerAddress: d.signerAddress, gasPrice: String(d.gasPrice), gasLimit: String(d.gasLimit), transaction: d.transaction };
  }
  files.set('safe-singleton-factory.json', `${JSON.stringify({ address, chains }, null, 2)}\n`);
}
{
  requirePackage('viem', '2.57.20');
  const { erc6492SignatureValidatorByteCode } = await import('viem');
  if (!/^0x[0-9a-f]+$/.test(erc6492SignatureValidatorByteCode)) {
    console.error('viem: erc6492SignatureValidatorByteCode is not bytecode');
    process.exit(1);
  }
  files.set('erc6492.ValidateSigOffchain.creation.hex', `${erc6492SignatureValidatorByteCode}\n`);
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
