// HTTP calls to the server under test, with a timeout, and the tally of every answer that
// matters to a crash test: 5xx by status, error bodies that are not Circle-shaped, and
// requests that hung. Nothing here logs request bodies (they carry PINs).

/** A request that gets no answer within this many milliseconds is a hang (a finding). Above
 * the server's own 10 s wait for a database connection, so that its answer is seen. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** What the run saw on the wire; printed at the end. */
export const wire = {
  requests: 0,
  /** status → count, for every 5xx answer. */
  serverErrors: {},
  /** Requests refused at the connection (server killed or restarting). */
  connectionErrors: 0,
  /** { method, path, ms, at } of requests that hung past REQUEST_TIMEOUT_MS. */
  hangs: [],
  /** { method, path, status, body } of 5xx answers other than 503, and of non-Circle error bodies. */
  findings: [],
  /** The slowest answer: { ms, method, path, databaseAway }. */
  slowest: { ms: 0 },
  /** Whether a database outage is going on (set by the PostgreSQL restart driver). */
  databaseAway: false,
};

/** A Circle-shaped error body: `{"code": number, "message": string, …}`. */
function isCircleError(json) {
  return json !== null && typeof json === 'object' && typeof json.code === 'number'
    && typeof json.message === 'string';
}

/**
 * One request. `auth`: { apiKey?, userToken?, appId? }. Resolves to
 * { status, json } for an answer, or { status: 'down' } (connection refused or reset: the
 * request may or may not have been applied) or { status: 'hang' }. Never rejects.
 */
export async function call(baseUrl, method, path, { apiKey, userToken, appId, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (userToken) headers['X-User-Token'] = userToken;
  if (appId) headers['X-App-Id'] = appId;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  wire.requests += 1;
  const started = Date.now();
  const awayAtStart = wire.databaseAway;
  let res;
  let text;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method, headers, body: payload, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (err) {
    if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      wire.hangs.push({ method, path: redact(path), ms: Date.now() - started, at: new Date().toISOString(), databaseAway: awayAtStart || wire.databaseAway });
      return { status: 'hang' };
    }
    wire.connectionErrors += 1;
    return { status: 'down' };
  }
  const ms = Date.now() - started;
  if (ms > wire.slowest.ms) wire.slowest = { ms, method, path: redact(path), status: res.status, databaseAway: awayAtStart || wire.databaseAway };
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.status >= 500) {
    wire.serverErrors[res.status] = (wire.serverErrors[res.status] ?? 0) + 1;
    if (res.status !== 503 || !isCircleError(json)) {
      wire.findings.push({ method, path: redact(path), status: res.status, body: text.slice(0, 300), databaseAway: awayAtStart || wire.databaseAway });
    }
  } else if (res.status >= 400 && !isCircleError(json)) {
    wire.findings.push({ method, path: redact(path), status: res.status, body: text.slice(0, 300), databaseAway: wire.databaseAway });
  }
  return { status: res.status, json };
}

/** Ids in paths are not secrets, but keep the findings short and groupable. */
function redact(path) {
  return path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{id}')
    .replace(/crash-[0-9a-f]{16}/g, '{userId}');
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

/** A random integer in [lo, hi]. */
export function randInt(lo, hi) {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}
