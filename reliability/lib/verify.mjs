// The checks after the last round, on a cluster that is up and no longer killed:
// 1. every user that got a 201 exists;
// 2. every challenge whose execute answered COMPLETE still reads COMPLETE;
// 3. every user's PIN is the one last acknowledged (or read back after an in-flight change):
//    a SIGN_MESSAGE opens with it; where the change was acknowledged, the previous PIN is tried
//    once first and must be refused (155112); a user that opens with neither is a loss;
// 4. every challenge that ended has its notification (the outbox drains), and no notification
//    names a challenge that did not end, or ends differently.

import { encryptPayload } from '../../sdk/js/headless.js';
import { call, sleep } from './http.mjs';

const DRAIN_TIMEOUT_MS = 150_000;

/** Runs `fn` over `items`, `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  }));
}

/** Retries a call while the answer is not an HTTP status below 500 (the server is settling). */
async function settled(fn) {
  let res;
  for (let i = 0; i < 20; i++) {
    res = await fn();
    if (typeof res.status === 'number' && res.status < 500) return res;
    await sleep(250);
  }
  return res;
}

export class Verifier {
  constructor(cluster, ledger, receiver, load) {
    this.cluster = cluster;
    this.load = load;
    this.ledger = ledger;
    this.receiver = receiver;
    /** Acknowledged effects checked, by kind. */
    this.checked = {};
    /** Notes that are not losses but deserve a look. */
    this.notes = [];
    this.unlocks = 0;
    /** Seconds per phase. */
    this.timings = {};
  }

  tick(kind, n = 1) {
    this.checked[kind] = (this.checked[kind] ?? 0) + n;
  }

  url() {
    return this.cluster.anyUrl();
  }

  async run() {
    for (const phase of ['resolvePending', 'usersExist', 'challengesComplete', 'pins', 'notifications']) {
      const t = Date.now();
      await this[phase]();
      this.timings[phase] = Number(((Date.now() - t) / 1000).toFixed(1));
    }
  }

  /** Reads back every in-flight outcome the load left unresolved. */
  async resolvePending() {
    for (let i = 0; i < 40; i++) {
      const left = [...this.ledger.users.values()].filter((u) => u.created === 'uncertain' || u.pending);
      if (left.length === 0) return;
      await pool(left, 4, (u) => this.load.step(u));
    }
  }

  async usersExist() {
    const { ledger } = this;
    await pool(ledger.usersAcked, 6, async (userId) => {
      const res = await settled(() => call(this.url(), 'GET', `/v1/w3s/users/${userId}`, { apiKey: this.cluster.apiKey }));
      this.tick('user (201)');
      if (res.status !== 200) ledger.loss('a 201 user is gone', { userId, status: res.status });
    });
  }

  async challengesComplete() {
    const { ledger } = this;
    await pool(ledger.challengesAcked, 6, async ({ challengeId, userId, kind }) => {
      const u = ledger.users.get(userId);
      const res = await settled(() => call(this.url(), 'GET', `/v1/w3s/user/challenges/${challengeId}`,
        { apiKey: this.cluster.apiKey, userToken: u.userToken }));
      this.tick(`${kind} (COMPLETE answered)`);
      const status = res.json?.data?.challenge?.status;
      if (status !== 'COMPLETE') ledger.loss(`${kind} answered COMPLETE but reads ${status ?? res.status}`, { userId, challengeId });
    });
  }

  /** One SIGN_MESSAGE challenge for `u`; resolves to its id or null. */
  async signChallenge(u) {
    const res = await settled(() => call(this.url(), 'POST', '/v1/w3s/user/sign/message',
      { apiKey: this.cluster.apiKey, userToken: u.userToken, body: { walletId: u.walletId, message: 'verification' } }));
    return res.status === 201 ? res.json.data.challengeId : null;
  }

  /** Executes challenge `id` as `u` with `pin`; resolves to 'open', 'wrong', 'locked' or the code. */
  async tryPin(u, id, pin) {
    const encrypted = await encryptPayload(u.encryptionKey, id, { pin });
    const res = await settled(() => call(this.url(), 'POST', `/v1/w3s/sdk/challenges/${id}/execute`,
      { userToken: u.userToken, appId: this.cluster.appId, body: { encrypted } }));
    if (res.status === 200 && res.json?.data?.status === 'COMPLETE') {
      this.ledger.ended.set(id, { userId: u.userId, kind: 'SIGN_MESSAGE', status: 'COMPLETE' });
      return 'open';
    }
    const code = res.json?.code;
    if (code === 155112) return 'wrong';
    if (code === 155119) {
      // This guess locked the PIN (or it was locked): the challenge FAILED (a notification).
      this.ledger.ended.set(id, { userId: u.userId, kind: 'SIGN_MESSAGE', status: 'FAILED' });
      return 'locked';
    }
    return String(code ?? res.status);
  }

  async unlock(u) {
    const r = await this.cluster.admin(['admin', 'unlock', '--user-id', u.userId, '--pin']);
    this.unlocks += 1;
    if (r.code !== 0) this.notes.push(`admin unlock ${u.userId} failed: ${r.stderr.trim()}`);
  }

  /** Opens `u` with `pin` on a fresh challenge, lifting a lock once if needed. */
  async opens(u, pin) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const id = await this.signChallenge(u);
      if (id === null) return 'no challenge';
      const r = await this.tryPin(u, id, pin);
      if (r !== 'locked') return r;
      await this.unlock(u);
    }
    return 'locked';
  }

  async pins() {
    const { ledger } = this;
    const users = [...ledger.users.values()].filter((u) => u.pin !== null && u.userToken !== null);
    await pool(users, 4, async (u) => {
      if (u.walletId === null) await this.load.findWallet(u);
      if (u.walletId === null) {
        ledger.loss('an initialized user has no wallet', { userId: u.userId });
        return;
      }
      let old = null;
      if (u.previousPin !== null) {
        // The acknowledged change killed this PIN: it must be refused (one guess).
        old = await this.opens(u, u.previousPin);
        this.tick('old PIN refused');
        if (old === 'open') ledger.loss('the PIN before an acknowledged change still opens', { userId: u.userId });
        else if (old !== 'wrong') this.notes.push(`old PIN of ${u.userId}: ${old}`);
      }
      const now = await this.opens(u, u.pin);
      this.tick('current PIN opens');
      if (now === 'open' || old === 'open') return;
      // Which PIN does open, then? (An in-flight change read back as not landed, landing late.)
      for (const pin of u.maybePins ?? []) {
        if (await this.opens(u, pin) === 'open') {
          // In flight, so allowed to land either way; but it read back as not landed.
          this.notes.push(`${u.userId}: a PIN change read back as not landed took effect later`);
          return;
        }
      }
      ledger.loss('the user opens with none of its PINs', { userId: u.userId, result: now });
    });
  }

  /** Waits for the outbox to drain, then compares what arrived with what ended. */
  async notifications() {
    const { ledger, receiver } = this;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    const missing = () => [...ledger.ended.keys()].filter((id) => !receiver.byChallenge.has(id));
    while (missing().length > 0 && Date.now() < deadline) await sleep(500);
    this.tick('notification (ended challenge)', ledger.ended.size);
    for (const id of missing()) {
      const e = ledger.ended.get(id);
      ledger.loss(`no notification for a ${e.status} ${e.kind} challenge`, { userId: e.userId, challengeId: id });
    }
    this.duplicates = 0;
    for (const [notificationId, r] of receiver.received) {
      this.duplicates += r.count - 1;
      if (!String(r.notificationType).startsWith('challenges.')) continue;
      const id = r.notification?.id;
      const e = ledger.ended.get(id);
      if (e && e.status === r.notification.status) continue;
      // Not a challenge this run saw end: ask the server how it did end.
      const u = ledger.users.get(r.notification?.userId);
      const res = u ? await settled(() => call(this.url(), 'GET', `/v1/w3s/user/challenges/${id}`,
        { apiKey: this.cluster.apiKey, userToken: u.userToken })) : null;
      const status = res?.json?.data?.challenge?.status;
      if (status !== r.notification.status) {
        ledger.loss('a notification for an effect that did not commit', {
          notificationId, challengeId: id, notified: r.notification.status, reads: status ?? res?.status,
        });
      } else {
        this.notes.push(`notification ${notificationId}: challenge ${id} ended ${status} (an in-flight request that landed late)`);
      }
    }
    for (const [id, ids] of receiver.byChallenge) {
      if (ids.size > 1) ledger.loss('one challenge notified under several notificationIds', { challengeId: id, notificationIds: [...ids] });
    }
  }
}
