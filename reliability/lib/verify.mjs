// The checks after the last round, on a cluster that is up and no longer killed:
// 1. every user that got a 201 exists;
// 2. every challenge whose execute answered COMPLETE still reads COMPLETE;
// 3. every user's PIN is the one last acknowledged (or read back after an in-flight change):
//    a SIGN_MESSAGE opens with it; where the change was acknowledged, the previous PIN is tried
//    once first and must be refused (155112); a user that opens with neither is a loss;
// 4. transfers (with a chain): every acknowledged transfer reaches COMPLETE; for every funded
//    wallet the on-chain nonce equals its COMPLETE outbound transactions, each COMPLETE txHash
//    is unique and has a receipt with status 1 from that wallet to the destination for the
//    amount, and the destination's balance grew by exactly the sum of the COMPLETE amounts;
// 5. every challenge that ended has its notification (the outbox drains), and no notification
//    names a challenge that did not end, or ends differently.

import { encryptPayload } from '../../sdk/js/headless.js';
import { DESTINATION, toWei } from './chain.mjs';
import { call, sleep } from './http.mjs';

const DRAIN_TIMEOUT_MS = 150_000;
/** How long every transaction of a funded wallet may take to end after the last round. */
const TRANSFER_TIMEOUT_MS = 120_000;
const TERMINAL = new Set(['COMPLETE', 'FAILED', 'CANCELLED', 'DENIED']);

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
    /** Transfer figures (with a chain): transactions by state, wallets, value received. */
    this.transfers = null;
  }

  tick(kind, n = 1) {
    this.checked[kind] = (this.checked[kind] ?? 0) + n;
  }

  url() {
    return this.cluster.anyUrl();
  }

  async run() {
    for (const phase of ['resolvePending', 'usersExist', 'challengesComplete', 'pins', 'transfersSettle', 'notifications']) {
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

  /** Every outbound transaction of a funded wallet (all pages), or null when a page failed. */
  async walletTransactions(walletId, userToken) {
    const all = [];
    let after = null;
    for (;;) {
      const q = `walletIds=${walletId}&pageSize=50${after ? `&pageAfter=${after}` : ''}`;
      const res = await settled(() => call(this.url(), 'GET', `/v1/w3s/transactions?${q}`,
        { apiKey: this.cluster.apiKey, userToken }));
      if (res.status !== 200) return null;
      const page = res.json?.data?.transactions ?? [];
      all.push(...page.filter((t) => t.transactionType === 'OUTBOUND'));
      if (page.length < 50) return all;
      after = page[page.length - 1].id;
    }
  }

  /** walletId → its outbound transactions, for every funded wallet. */
  async allWalletTransactions() {
    const { ledger } = this;
    const out = new Map();
    await pool([...ledger.funded.entries()], 4, async ([walletId, w]) => {
      const u = ledger.users.get(w.userId);
      out.set(walletId, await this.walletTransactions(walletId, u.userToken));
    });
    return out;
  }

  /** The transfer checks (4. above): waits for the engine, then compares server and chain. */
  async transfersSettle() {
    const { chain } = this.load;
    if (!chain) return;
    const { ledger } = this;
    const user = (userId) => ledger.users.get(userId);
    // The transaction id of each acknowledged transfer whose read-back was cut by a kill.
    await pool(ledger.transfersAcked.filter((t) => t.transactionId === null), 4, async (t) => {
      const res = await settled(() => call(this.url(), 'GET', `/v1/w3s/user/challenges/${t.challengeId}`,
        { apiKey: this.cluster.apiKey, userToken: user(t.userId).userToken }));
      t.transactionId = res.json?.data?.challenge?.correlationIds?.[0] ?? null;
    });
    // The engine runs on: wait until every transaction of every funded wallet has ended.
    const deadline = Date.now() + TRANSFER_TIMEOUT_MS;
    let lists;
    for (;;) {
      lists = await this.allWalletTransactions();
      const open = [...lists.values()].flatMap((l) => (l ?? []).filter((t) => !TERMINAL.has(t.state)));
      const unread = [...lists.values()].some((l) => l === null);
      if ((open.length === 0 && !unread) || Date.now() > deadline) {
        for (const t of open) this.notes.push(`transaction ${t.id} still ${t.state} after ${TRANSFER_TIMEOUT_MS / 1000} s`);
        break;
      }
      await sleep(1000);
    }
    const figures = { wallets: ledger.funded.size, acknowledged: ledger.transfersAcked.length,
      landedInFlight: ledger.transfersLanded.length, byState: {}, receivedWei: 0n, expectedWei: 0n };
    this.transfers = figures;

    // Each acknowledged transfer: its transaction, from its wallet, for its amount, COMPLETE.
    await pool(ledger.transfersAcked, 6, async (t) => {
      this.tick('transfer (COMPLETE answered) → COMPLETE');
      if (t.transactionId === null) {
        ledger.loss('an acknowledged transfer names no transaction', { userId: t.userId, challengeId: t.challengeId });
        return;
      }
      const res = await settled(() => call(this.url(), 'GET', `/v1/w3s/transactions/${t.transactionId}`,
        { apiKey: this.cluster.apiKey, userToken: user(t.userId).userToken }));
      const tx = res.json?.data?.transaction;
      if (res.status !== 200 || tx?.state !== 'COMPLETE' || tx.walletId !== t.walletId
        || JSON.stringify(tx.amounts) !== JSON.stringify([t.amount])) {
        ledger.loss('an acknowledged transfer did not complete as approved', {
          userId: t.userId, challengeId: t.challengeId, transactionId: t.transactionId,
          status: res.status, state: tx?.state, errorReason: tx?.errorReason,
        });
      }
    });
    // In flight and read back as landed: the challenge names a transaction that exists.
    await pool(ledger.transfersLanded, 6, async (t) => {
      const res = t.transactionId === null ? { status: 'none' }
        : await settled(() => call(this.url(), 'GET', `/v1/w3s/transactions/${t.transactionId}`,
          { apiKey: this.cluster.apiKey, userToken: user(t.userId).userToken }));
      this.tick('transfer (landed in flight) exists');
      if (res.status !== 200) {
        ledger.loss('a COMPLETE transfer challenge names no transaction', {
          userId: t.userId, challengeId: t.challengeId, transactionId: t.transactionId, status: res.status,
        });
      }
    });

    // Each funded wallet: the chain agrees with the server, transaction by transaction.
    const hashes = new Map();
    await pool([...lists.entries()], 4, async ([walletId, list]) => {
      const { address, userId } = ledger.funded.get(walletId);
      if (list === null) {
        ledger.loss('the transactions of a funded wallet cannot be listed', { userId, walletId });
        return;
      }
      const complete = list.filter((t) => t.state === 'COMPLETE');
      for (const t of list) {
        figures.byState[t.state] = (figures.byState[t.state] ?? 0) + 1;
        if (t.state === 'FAILED') this.notes.push(`transaction ${t.id} of ${walletId} FAILED: ${t.errorReason} ${t.errorDetails ?? ''}`);
      }
      const nonce = await chain.nonce(address);
      this.tick('wallet: on-chain nonce = COMPLETE outbound');
      if (nonce !== complete.length) {
        ledger.loss('on-chain nonce differs from the COMPLETE outbound transactions', {
          userId, walletId, address, nonce, complete: complete.length,
          states: list.map((t) => `${t.id} ${t.state} ${t.txHash ?? ''}`),
        });
      }
      for (const t of complete) {
        this.tick('COMPLETE transaction: receipt from its wallet');
        const wei = toWei(t.amounts?.[0] ?? '0');
        figures.expectedWei += wei;
        if (hashes.has(t.txHash)) {
          ledger.loss('two COMPLETE transactions share a txHash', { txHash: t.txHash, ids: [hashes.get(t.txHash), t.id] });
          continue;
        }
        hashes.set(t.txHash, t.id);
        const [receipt, onChain] = t.txHash ? await Promise.all([chain.receipt(t.txHash), chain.transaction(t.txHash)]) : [null, null];
        if (!receipt || receipt.status !== '0x1' || receipt.from?.toLowerCase() !== address
          || receipt.to?.toLowerCase() !== DESTINATION || !onChain || BigInt(onChain.value) !== wei) {
          ledger.loss('a COMPLETE transaction is not on chain as reported', {
            userId, walletId, transactionId: t.id, txHash: t.txHash, receiptStatus: receipt?.status,
            from: receipt?.from, to: receipt?.to, value: onChain?.value,
          });
        }
      }
    });
    figures.receivedWei = (await chain.balance(DESTINATION)) - chain.destinationStart;
    this.tick('destination balance = sum of COMPLETE amounts');
    if (figures.receivedWei !== figures.expectedWei) {
      ledger.loss('the destination received other than the sum of COMPLETE amounts', {
        receivedWei: String(figures.receivedWei), expectedWei: String(figures.expectedWei),
      });
    }
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
