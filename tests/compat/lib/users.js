// End users for the Node suites (compat and browser): one `newUser` (user + token, and the PIN
// when asked), the PINs and security questions the suites share, and running a challenge as a
// user with `latchkey challenge execute`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { uid } from './helpers.js';
import { executeChallenge } from './server.js';

// PINs with no repeated-throughout digit and no run of consecutive digits.
export const PIN_A = '159357';
export const PIN_B = '258046';
export const PIN_C = '370415';
export const PIN_D = '946172';
/** A valid PIN that is never any user's. */
export const WRONG_PIN = '842159';

export const QUESTIONS = [
  { question: 'What was the name of your first pet?', answer: 'Rex' },
  { question: 'In what city were you born?', answer: 'Lyon' },
];

/** `latchkey challenge execute`'s result, for assertion messages. */
export function show(r, server) {
  const text = `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  if (!server?.stderrLines) return text;
  // The server's own account of a failure (a 500 says only "Something went wrong").
  const logged = server.stderrLines.filter((l) => /WARN|ERROR|panicked/.test(l)).slice(-20);
  return `${text}\nserver warnings and errors:\n${logged.join('\n') || '(none)'}`;
}

/** Runs `latchkey challenge execute` on `server` as user `u` (see executeChallenge). */
export function executeAs(server, u, challengeId, input) {
  return executeChallenge({
    baseUrl: server.baseUrl,
    appId: server.appId,
    userToken: u.userToken,
    encryptionKey: u.encryptionKey,
    challengeId,
    input,
  });
}

/**
 * Sets the user's PIN and security questions: INITIALIZE with wallets on `blockchains` (EOA)
 * when given, else SET_PIN; the command-line executor must complete it. Returns the challenge id.
 */
export async function setPin(client, server, u, { pin = PIN_A, questions = QUESTIONS, blockchains } = {}) {
  const res = blockchains
    ? await client.createUserPinWithWallets({ userToken: u.userToken, blockchains, accountType: 'EOA' })
    : await client.createUserPin({ userToken: u.userToken });
  const r = await executeAs(server, u, res.data.challengeId, { newPin: pin, securityQuestions: questions });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.json?.data?.status, 'COMPLETE', show(r));
  assert.equal(r.json.data.type, blockchains ? 'INITIALIZE' : 'SET_PIN', show(r));
  return res.data.challengeId;
}

/**
 * A new user (`<prefix>-<12 hex>`) with a fresh token: { userId, userToken, encryptionKey }.
 * With `pin` (and `server`), the PIN is set as `setPin` does (`questions`, `blockchains`), and
 * the result also has `pinChallengeId`.
 */
export async function newUser(client, prefix = 'user', { server, pin, questions, blockchains } = {}) {
  const userId = uid(prefix);
  await client.createUser({ userId });
  const { data } = await client.createUserToken({ userId });
  const user = { userId, userToken: data.userToken, encryptionKey: data.encryptionKey };
  if (pin === undefined) return user;
  const pinChallengeId = await setPin(client, server, user, { pin, questions, blockchains });
  return { ...user, pinChallengeId };
}

/**
 * The EIP-712 "Ether Mail" typed data both suites sign (tests/fixtures/eip712-mail.json):
 * `domain`, `types` (without EIP712Domain, as ethers wants them), `message`, and `json`, the
 * whole document as the API's `data` field takes it.
 */
export function mailTypedData() {
  const doc = JSON.parse(readFileSync(new URL('../../fixtures/eip712-mail.json', import.meta.url), 'utf8'));
  const { EIP712Domain, ...types } = doc.types;
  const { domain, message } = doc;
  return {
    domain, types, message,
    json: JSON.stringify({ types: { EIP712Domain, ...types }, primaryType: doc.primaryType, domain, message }),
  };
}
