// Small helpers shared by the test files.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

/** Circle's date format: ISO-8601 UTC to the second, e.g. 2023-07-28T14:41:47Z. */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Any RFC 4122 UUID (lower or upper case). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A version 4 UUID. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A unique developer userId (5–50 characters): `<prefix>-<12 hex>`. */
export function uid(prefix = 'user') {
  const id = `${prefix}-${randomBytes(6).toString('hex')}`;
  assert.ok(id.length >= 5 && id.length <= 50, `test bug: userId ${id} is not 5–50 characters`);
  return id;
}

/** Short description of an SDK error, for assertion messages. */
export function describeError(err) {
  if (!(err instanceof Error)) return `non-error ${JSON.stringify(err)}`;
  const body = err.error?.response?.data;
  return `${err.constructor?.name}: code=${err.code} status=${err.status} message=${JSON.stringify(err.message)}`
    + (body !== undefined ? ` body=${JSON.stringify(body)}` : '');
}

/**
 * Awaits `promise`, which must reject with an SDK error of class `ErrClass` carrying `code`
 * (and, when given, the HTTP `status`). Returns the error.
 */
export async function rejectsWith(promise, ErrClass, code, status) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected error ${code}, got HTTP ${res?.status} ${JSON.stringify(res?.data)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof ErrClass, `expected the SDK's class for ${code}, got ${describeError(err)}`);
  assert.equal(err.code, code, describeError(err));
  if (status !== undefined) assert.equal(err.status, status, describeError(err));
  return err;
}

/** The error body the server sent, as the SDK error carries it. */
export function errorBody(err) {
  return err.error?.response?.data;
}

/**
 * A raw HTTP call. `apiKey` → Authorization: Bearer; `userToken` → X-User-Token.
 * `body`: an object (sent as JSON) or a string (sent as is, with Content-Type JSON).
 * Resolves to { status, headers, text, json }.
 */
export async function api(baseUrl, method, path, { apiKey, userToken, body, headers = {} } = {}) {
  const h = { ...headers };
  if (apiKey) h.Authorization = `Bearer ${apiKey}`;
  if (userToken) h['X-User-Token'] = userToken;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  }
  const url = /^https?:/.test(path) ? path : `${baseUrl}${path}`;
  const res = await fetch(url, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Parses an RFC 8288 Link header into { rel: absoluteUrl }.
 * `<https://x/v1/w3s/users?pageAfter=..>; rel="next", <...>; rel="self"`
 */
export function parseLink(header, baseUrl) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(/,\s*(?=<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!m) continue;
    const relMatch = /\brel\s*=\s*"?([^";]+)"?/i.exec(m[2]);
    if (!relMatch) continue;
    for (const rel of relMatch[1].trim().split(/\s+/)) out[rel] = new URL(m[1], `${baseUrl}/`).toString();
  }
  return out;
}

/** Decodes a JWT without verifying it: { header, payload, parts }. */
export function decodeJwt(token) {
  const parts = token.split('.');
  const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { parts, header: dec(parts[0]), payload: dec(parts[1]) };
}

/** Milliseconds between an ISO date and now (positive: in the future). */
export function msFromNow(iso) {
  return Date.parse(iso) - Date.now();
}
