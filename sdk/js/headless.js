// latchkey headless challenge executor.
//
// Speaks the end-user challenge protocol (docs/protocol.md) without any UI: encrypts the
// plaintext JSON with AES-256-GCM (WebCrypto) and POSTs it to
// /v1/w3s/sdk/challenges/{id}/execute. Works in Node 20+ (globalThis.crypto.subtle, fetch)
// and in browsers. The hosted page (web/pw/app.js) imports its wire-format helpers from here,
// so there is exactly one implementation of the encryption.
//
// Nothing here logs: PINs, answers, tokens and keys never reach the console.

/** Client-side error codes, as Circle's SDKs number them (reference/errors.tsv). */
export const ClientErrorCode = Object.freeze({
  userCanceled: 155701,
  launchUiFailed: 155702,
  pinMismatch: 155703,
  pinWeak: 155704,
  hintEqualsAnswer: 155705,
  networkError: 155706,
  encryptFailed: 155707,
});

/** An error from the service or from this client: `.code`, `.message`, and where they apply
 * `.attemptsLeft`, `.lockedExpiryDate`, `.status` (HTTP) and `.errors` (field errors). */
export class LatchkeyError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'LatchkeyError';
    this.code = code;
    if (extra.attemptsLeft !== undefined) this.attemptsLeft = extra.attemptsLeft;
    if (extra.lockedExpiryDate !== undefined) this.lockedExpiryDate = extra.lockedExpiryDate;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.errors !== undefined) this.errors = extra.errors;
  }

  /** The plain `{code, message, …}` object the web SDK hands to callbacks. */
  toJSON() {
    const out = { code: this.code, message: this.message };
    if (this.attemptsLeft !== undefined) out.attemptsLeft = this.attemptsLeft;
    if (this.lockedExpiryDate !== undefined) out.lockedExpiryDate = this.lockedExpiryDate;
    if (this.errors !== undefined) out.errors = this.errors;
    return out;
  }
}

const NONCE_BYTES = 12;
const KEY_BYTES = 32;

function subtle() {
  const c = globalThis.crypto;
  if (!c || !c.subtle || typeof c.getRandomValues !== 'function') {
    throw new LatchkeyError(ClientErrorCode.encryptFailed,
      'Failed to encrypt data: WebCrypto is not available (a secure context or Node 20+ is required)');
  }
  return c;
}

/** Standard base64 (with padding) of bytes. */
export function bytesToBase64(bytes) {
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(bin);
}

/** Bytes of standard (or URL-safe) base64; throws on anything else. */
export function base64ToBytes(text) {
  if (typeof text !== 'string') throw new TypeError('base64 text expected');
  const clean = text.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new TypeError('invalid base64');
  const padded = clean + '='.repeat((4 - (clean.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Encrypts the plaintext of a challenge execution.
 * @param {string} encryptionKey base64 of the 32-byte key issued with the userToken
 * @param {string} challengeId the challenge id (its UTF-8 bytes are the associated data)
 * @param {object|string} plaintext the JSON object ({pin,newPin,securityQuestions,securityAnswers}) or its JSON text
 * @returns {Promise<string>} base64(nonce ‖ ciphertext ‖ tag)
 */
export async function encryptPayload(encryptionKey, challengeId, plaintext) {
  const c = subtle();
  let keyBytes;
  try {
    keyBytes = base64ToBytes(encryptionKey);
  } catch {
    throw new LatchkeyError(ClientErrorCode.encryptFailed, 'Failed to encrypt data: encryptionKey is not base64');
  }
  if (keyBytes.length !== KEY_BYTES) {
    keyBytes.fill(0);
    throw new LatchkeyError(ClientErrorCode.encryptFailed,
      `Failed to encrypt data: encryptionKey must decode to ${KEY_BYTES} bytes`);
  }
  const text = typeof plaintext === 'string' ? plaintext : JSON.stringify(plaintext);
  const enc = new TextEncoder();
  const data = enc.encode(text);
  try {
    const key = await c.subtle.importKey('raw', keyBytes, { name: 'AES-GCM' }, false, ['encrypt']);
    const iv = c.getRandomValues(new Uint8Array(NONCE_BYTES));
    const sealed = new Uint8Array(await c.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: enc.encode(String(challengeId)), tagLength: 128 },
      key, data));
    const out = new Uint8Array(NONCE_BYTES + sealed.length);
    out.set(iv, 0);
    out.set(sealed, NONCE_BYTES);
    return bytesToBase64(out);
  } catch (e) {
    if (e instanceof LatchkeyError) throw e;
    throw new LatchkeyError(ClientErrorCode.encryptFailed, 'Failed to encrypt data');
  } finally {
    keyBytes.fill(0);
    data.fill(0);
  }
}

/**
 * The PIN rule of docs/protocol.md: exactly 6 ASCII digits, not one digit repeated, not a
 * run of consecutive digits up or down. Returns null when the PIN is acceptable, else
 * `{code, message}` (code 2 for the shape, 155704 for a weak PIN).
 */
export function checkPin(pin) {
  if (typeof pin !== 'string' || !/^[0-9]{6}$/.test(pin)) {
    return { code: 2, message: 'Your PIN must be exactly 6 digits.' };
  }
  let same = true, up = true, down = true;
  for (let i = 1; i < 6; i++) {
    const step = pin.charCodeAt(i) - pin.charCodeAt(i - 1);
    if (step !== 0) same = false;
    if (step !== 1) up = false;
    if (step !== -1) down = false;
  }
  if (same || up || down) {
    return { code: ClientErrorCode.pinWeak, message: "Your PIN can't have repeating or consecutive numbers." };
  }
  return null;
}

/** Normalises a security answer as the server does: NFKC, trimmed, inner whitespace collapsed, lowercased. */
export function normalizeAnswer(answer) {
  return String(answer ?? '').normalize('NFKC').trim().split(/\s+/u).filter(Boolean).join(' ').toLowerCase();
}

function baseUrl(serviceUrl) {
  if (typeof serviceUrl !== 'string' || serviceUrl === '') {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'serviceUrl is required');
  }
  let u;
  try {
    u = new URL(serviceUrl);
  } catch {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'serviceUrl is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'serviceUrl must be http(s)');
  }
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

function challengeUrl(serviceUrl, challengeId, suffix = '') {
  if (typeof challengeId !== 'string' || challengeId === '') {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'challengeId is required');
  }
  return `${baseUrl(serviceUrl)}/v1/w3s/sdk/challenges/${encodeURIComponent(challengeId)}${suffix}`;
}

function authHeaders(appId, userToken) {
  if (typeof appId !== 'string' || appId === '') {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'appId is required');
  }
  if (typeof userToken !== 'string' || userToken === '') {
    throw new LatchkeyError(ClientErrorCode.launchUiFailed, 'userToken is required');
  }
  return { 'Accept': 'application/json', 'X-App-Id': appId, 'X-User-Token': userToken };
}

async function send(fetchImpl, url, init) {
  const f = fetchImpl || globalThis.fetch;
  if (typeof f !== 'function') {
    throw new LatchkeyError(ClientErrorCode.networkError, 'Network error: fetch is not available');
  }
  let res;
  try {
    res = await f(url, { ...init, credentials: 'omit', cache: 'no-store', redirect: 'error' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new LatchkeyError(ClientErrorCode.networkError, 'Network error');
  }
  let body = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    if (body && typeof body === 'object' && typeof body.code === 'number') {
      throw new LatchkeyError(body.code, typeof body.message === 'string' ? body.message : `HTTP ${res.status}`, {
        attemptsLeft: body.attemptsLeft,
        lockedExpiryDate: body.lockedExpiryDate,
        errors: body.errors,
        status: res.status,
      });
    }
    const message = res.status === 429 ? 'Too many requests. Try again later' : `HTTP ${res.status}`;
    throw new LatchkeyError(res.status, message, { status: res.status });
  }
  if (!body || typeof body !== 'object' || !('data' in body)) {
    throw new LatchkeyError(ClientErrorCode.networkError, 'Unexpected response from the service', { status: res.status });
  }
  return body.data;
}

/**
 * Reads what the hosted page needs to render a challenge:
 * GET /v1/w3s/sdk/challenges/{id} → the response's `data`.
 * @param {{serviceUrl:string, appId:string, userToken:string, challengeId:string, fetch?:Function, signal?:AbortSignal}} opts
 */
export async function getChallenge({ serviceUrl, appId, userToken, challengeId, fetch: fetchImpl, signal }) {
  return send(fetchImpl, challengeUrl(serviceUrl, challengeId), {
    method: 'GET',
    headers: authHeaders(appId, userToken),
    signal,
  });
}

/**
 * POSTs an already encrypted body: POST /v1/w3s/sdk/challenges/{id}/execute → the
 * response's `data` ({type, status, data}).
 */
export async function postEncrypted({ serviceUrl, appId, userToken, challengeId, encrypted, fetch: fetchImpl, signal }) {
  return send(fetchImpl, challengeUrl(serviceUrl, challengeId, '/execute'), {
    method: 'POST',
    headers: { ...authHeaders(appId, userToken), 'Content-Type': 'application/json' },
    body: JSON.stringify({ encrypted }),
    signal,
  });
}

/**
 * Executes a challenge without UI.
 * @param {{serviceUrl:string, appId:string, userToken:string, encryptionKey:string,
 *          challengeId:string, input:object|string, fetch?:Function, signal?:AbortSignal}} opts
 *   `input` is the plaintext object of docs/protocol.md: {pin?, newPin?, securityQuestions?, securityAnswers?}
 * @returns {Promise<{type:string, status:string, data:object}>} the response's `data`
 * @throws {LatchkeyError} with .code, .message, .attemptsLeft, .lockedExpiryDate
 */
export async function executeChallenge(opts) {
  const { serviceUrl, appId, userToken, encryptionKey, challengeId, input } = opts || {};
  if (input === undefined || input === null) {
    throw new LatchkeyError(2, 'input is required');
  }
  // Validate everything that would fail anyway before spending a random nonce.
  challengeUrl(serviceUrl, challengeId);
  authHeaders(appId, userToken);
  const encrypted = await encryptPayload(encryptionKey, challengeId, input);
  return postEncrypted({ ...opts, encrypted });
}

export default executeChallenge;
