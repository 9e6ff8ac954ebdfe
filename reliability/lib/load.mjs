// The mixed load and the ledger of what it was told.
//
// Workers pick a user that is not busy and do one thing with it: create it, give it a token,
// INITIALIZE it (PIN + two questions, an ETH-SEPOLIA wallet, and a MATIC-AMOY one when there
// is a chain), CHANGE_PIN, RESTORE_PIN, SIGN_MESSAGE, or a transfer (CREATE_TRANSACTION: the
// MATIC-AMOY wallet, funded once from anvil, sends 0.001 to a fixed address). Each answer goes
// in the ledger:
// - acknowledged: a 201 user; an execute that answered COMPLETE (the new PIN is then the
//   user's PIN; a transfer's transaction id is its challenge's correlationIds[0]); a signature
//   returned;
// - in flight: no answer (killed, refused, 5xx, hang). The user is then left alone until
//   `resolve` reads the outcome back (does the user exist? is the challenge COMPLETE?), and
//   the verification later checks that the PIN agrees with what the server reported. A
//   transfer whose execute got no answer and did not land is executed again with the PIN (a
//   re-execution reuses the nonce it may have reserved, as a real client's retry would).

import { randomBytes, randomUUID } from 'node:crypto';
import { checkPin, encryptPayload } from '../../sdk/js/headless.js';
import { DESTINATION } from './chain.mjs';
import { call, randInt, sleep } from './http.mjs';

const QUESTIONS = ['What was the name of your first pet?', 'In what city were you born?'];
const TRANSFER_AMOUNT = '0.001';

/** A random valid PIN, different from every PIN in `avoid`. */
export function randomPin(avoid = []) {
  for (;;) {
    const pin = String(randInt(0, 999_999)).padStart(6, '0');
    if (checkPin(pin) === null && !avoid.includes(pin)) return pin;
  }
}

/** Everything the load was told, and what it found out about the in-flight requests. */
export class Ledger {
  constructor() {
    /** userId → user state (see `newUser`). */
    this.users = new Map();
    /** userIds that got a 201. */
    this.usersAcked = [];
    /** Challenges executed with a COMPLETE answer: { challengeId, userId, kind }. */
    this.challengesAcked = [];
    /** challengeId → { userId, kind, status } for every challenge known to have ended. */
    this.ended = new Map();
    /** In-flight outcomes, by kind: { landed, notLanded }. */
    this.inflight = {};
    /** challengeIds known not to have ended (in flight, read back as not COMPLETE). */
    this.notEnded = new Set();
    /** Anything acknowledged that later proved false: the run fails on any. */
    this.losses = [];
    /** Error answers by `code` (4xx the load did not expect, and 429s). */
    this.refusals = {};
    /** Counts of operations that completed, by kind. */
    this.done = {};
    /** Transfers whose execute answered COMPLETE: { challengeId, userId, walletId, amount, transactionId }
     * (transactionId null until read back from the challenge). */
    this.transfersAcked = [];
    /** Transfers in flight that were read back as landed (challenge COMPLETE): same shape. */
    this.transfersLanded = [];
    /** walletId → { userId, address } of every MATIC-AMOY wallet funded from anvil. */
    this.funded = new Map();
    /** Funding calls to anvil that failed (the harness's own trouble, not the server's). */
    this.fundingErrors = [];
  }

  count(bucket, key, n = 1) {
    bucket[key] = (bucket[key] ?? 0) + n;
  }

  inflightOutcome(kind, landed) {
    const o = this.inflight[kind] ?? (this.inflight[kind] = { landed: 0, notLanded: 0 });
    if (landed) o.landed += 1; else o.notLanded += 1;
  }

  loss(what, details) {
    this.losses.push({ what, ...details });
  }
}

function newUser() {
  return {
    userId: `crash-${randomBytes(8).toString('hex')}`,
    /** 'acked' (201), 'uncertain' (request in flight), 'landed' (in flight, found to exist), or
     * 'lost' (its acknowledged PIN was refused: left alone). */
    created: null,
    userToken: null,
    encryptionKey: null,
    answers: [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')],
    /** The PIN the server last acknowledged (null before INITIALIZE). */
    pin: null,
    /** The PIN before the last acknowledged change, if any: it must not open any more. */
    previousPin: null,
    walletId: null,
    /** The MATIC-AMOY wallet: { walletId, address }, and whether anvil funded it. */
    amoy: null,
    funded: false,
    busy: false,
    /** An execute with no answer: { challengeId, kind, newPin, plaintext, transfer }. */
    pending: null,
  };
}

/** The load: `cluster` gives the live URLs; `ledger` records. */
export class Load {
  constructor(cluster, ledger, { concurrency = 6, maxUsers = 400, chain = null } = {}) {
    this.cluster = cluster;
    /** The local anvil (chain.mjs), or null with --no-chain: no transfers. */
    this.chain = chain;
    this.blockchains = chain ? ['ETH-SEPOLIA', 'MATIC-AMOY'] : ['ETH-SEPOLIA'];
    this.ledger = ledger;
    this.concurrency = concurrency;
    this.maxUsers = maxUsers;
    this.running = false;
    this.workers = [];
  }

  start() {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.worker());
  }

  async stop() {
    this.running = false;
    await Promise.all(this.workers);
  }

  async worker() {
    while (this.running) {
      const url = this.cluster.anyUrl();
      if (url === null) {
        await sleep(20);
        continue;
      }
      const user = this.pick();
      if (user === null) {
        await sleep(10);
        continue;
      }
      user.busy = true;
      try {
        await this.step(user);
      } finally {
        user.busy = false;
      }
    }
  }

  /** A free user to work on, or a new one. */
  pick() {
    const { users } = this.ledger;
    if (users.size < this.maxUsers && (users.size < this.concurrency * 2 || Math.random() < 0.12)) {
      const u = newUser();
      users.set(u.userId, u);
      return u;
    }
    const free = [...users.values()].filter((u) => !u.busy && u.created !== 'lost');
    if (free.length === 0) return null;
    return free[Math.floor(Math.random() * free.length)];
  }

  /** One operation on `user`, chosen by its state. */
  async step(user) {
    if (user.created === null || user.created === 'uncertain') return this.createUser(user);
    if (user.pending) return this.resolve(user);
    if (user.userToken === null) return this.createToken(user);
    if (user.pin === null) return this.initialize(user);
    const r = Math.random();
    if (this.chain) {
      if (r < 0.25) return this.changePin(user);
      if (r < 0.37) return this.restorePin(user);
      if (r < 0.67) return this.transfer(user);
      return this.signMessage(user);
    }
    if (r < 0.3) return this.changePin(user);
    if (r < 0.45) return this.restorePin(user);
    return this.signMessage(user);
  }

  url() {
    return this.cluster.anyUrl();
  }

  apiKey() {
    return this.cluster.apiKey;
  }

  async createUser(user) {
    const url = this.url();
    if (!url) return;
    const { ledger } = this;
    if (user.created === 'uncertain') {
      // The POST had no answer: did it land?
      const res = await call(url, 'GET', `/v1/w3s/users/${user.userId}`, { apiKey: this.apiKey() });
      if (res.status === 200) {
        user.created = 'landed';
        ledger.inflightOutcome('createUser', true);
      } else if (res.status === 404) {
        ledger.users.delete(user.userId);
        ledger.inflightOutcome('createUser', false);
      }
      return;
    }
    const res = await call(url, 'POST', '/v1/w3s/users', { apiKey: this.apiKey(), body: { userId: user.userId } });
    if (res.status === 201) {
      user.created = 'acked';
      ledger.usersAcked.push(user.userId);
      ledger.count(ledger.done, 'createUser');
    } else if (typeof res.status === 'number' && res.status < 500) {
      ledger.count(ledger.refusals, `createUser ${res.json?.code ?? res.status}`);
      ledger.users.delete(user.userId);
    } else {
      user.created = 'uncertain';
    }
  }

  async createToken(user) {
    const url = this.url();
    if (!url) return;
    const res = await call(url, 'POST', '/v1/w3s/users/token', { apiKey: this.apiKey(), body: { userId: user.userId } });
    if (res.status === 200 && res.json?.data?.userToken) {
      user.userToken = res.json.data.userToken;
      user.encryptionKey = res.json.data.encryptionKey;
    } else if (typeof res.status === 'number' && res.status < 500) {
      this.ledger.count(this.ledger.refusals, `token ${res.json?.code ?? res.status}`);
    }
  }

  initialize(user) {
    const newPin = randomPin();
    return this.challenge(user, 'INITIALIZE', 'POST', '/v1/w3s/user/initialize',
      { idempotencyKey: randomUUID(), blockchains: this.blockchains, accountType: 'EOA' },
      { newPin, securityQuestions: QUESTIONS.map((question, i) => ({ question, answer: user.answers[i] })) },
      newPin);
  }

  changePin(user) {
    const newPin = randomPin([user.pin]);
    return this.challenge(user, 'CHANGE_PIN', 'PUT', '/v1/w3s/user/pin', { idempotencyKey: randomUUID() },
      { pin: user.pin, newPin }, newPin);
  }

  restorePin(user) {
    const newPin = randomPin([user.pin]);
    return this.challenge(user, 'RESTORE_PIN', 'POST', '/v1/w3s/user/pin/restore', { idempotencyKey: randomUUID() },
      { newPin, securityAnswers: user.answers }, newPin);
  }

  async signMessage(user) {
    if (user.walletId === null) {
      await this.findWallet(user);
      if (user.walletId === null) return;
    }
    await this.challenge(user, 'SIGN_MESSAGE', 'POST', '/v1/w3s/user/sign/message',
      { walletId: user.walletId, message: `crash round message ${randomBytes(4).toString('hex')}` },
      { pin: user.pin }, null);
  }

  async findWallet(user) {
    const url = this.url();
    if (!url) return;
    const res = await call(url, 'GET', '/v1/w3s/wallets', { apiKey: this.apiKey(), userToken: user.userToken });
    if (res.status !== 200) return;
    const wallets = res.json?.data?.wallets ?? [];
    if (wallets[0]) user.walletId = wallets[0].id;
    const amoy = wallets.find((w) => w.blockchain === 'MATIC-AMOY');
    if (amoy) user.amoy = { walletId: amoy.id, address: amoy.address.toLowerCase() };
  }

  /** A transfer of TRANSFER_AMOUNT from the user's MATIC-AMOY wallet (funded first, once). */
  async transfer(user) {
    if (user.amoy === null) {
      await this.findWallet(user);
      if (user.amoy === null) return;
    }
    const { walletId, address } = user.amoy;
    if (!user.funded) {
      try {
        await this.chain.fund(address);
      } catch (err) {
        this.ledger.fundingErrors.push(`${address}: ${err.message}`);
        return;
      }
      user.funded = true;
      this.ledger.funded.set(walletId, { userId: user.userId, address });
    }
    await this.challenge(user, 'CREATE_TRANSACTION', 'POST', '/v1/w3s/user/transactions/transfer', {
      idempotencyKey: randomUUID(),
      walletId,
      tokenAddress: '',
      blockchain: 'MATIC-AMOY',
      destinationAddress: DESTINATION,
      amounts: [TRANSFER_AMOUNT],
      feeLevel: 'MEDIUM',
    }, { pin: user.pin }, null, { walletId, amount: TRANSFER_AMOUNT });
  }

  /**
   * Creates a challenge of `kind` and executes it with `plaintext`. A COMPLETE answer is
   * acknowledged (`newPin` becomes the PIN); no answer leaves the user pending.
   */
  async challenge(user, kind, method, path, body, plaintext, newPin, transfer = null) {
    const { ledger } = this;
    const auth = { apiKey: this.apiKey(), userToken: user.userToken };
    let url = this.url();
    if (!url) return;
    const created = await call(url, method, path, { ...auth, body });
    if (created.status !== 201) {
      if (typeof created.status === 'number' && created.status < 500) {
        ledger.count(ledger.refusals, `create ${kind} ${created.json?.code ?? created.status}`);
      }
      return;
    }
    const challengeId = created.json?.data?.challengeId;
    await this.execute(user, { challengeId, kind, newPin, plaintext, transfer });
  }

  /**
   * Executes a challenge with `plaintext` (on any instance: the challenge lives in the
   * database). COMPLETE is acknowledged; no answer leaves the user pending.
   */
  async execute(user, { challengeId, kind, newPin, plaintext, transfer }) {
    const { ledger } = this;
    const url = this.url();
    if (!url) {
      if (transfer) user.pending = { challengeId, kind, newPin, plaintext, transfer, unsent: true };
      return;
    }
    const encrypted = await encryptPayload(user.encryptionKey, challengeId, plaintext);
    const res = await call(url, 'POST', `/v1/w3s/sdk/challenges/${challengeId}/execute`,
      { userToken: user.userToken, appId: this.cluster.appId, body: { encrypted } });
    if (res.status === 200 && res.json?.data?.status === 'COMPLETE') {
      this.acknowledge(user, { challengeId, kind, newPin, signature: res.json.data.data?.signature });
      if (transfer) {
        const entry = { challengeId, userId: user.userId, ...transfer, transactionId: null };
        ledger.transfersAcked.push(entry);
        entry.transactionId = await this.transactionId(user, challengeId);
      }
      return;
    }
    if (typeof res.status === 'number' && res.status < 500) {
      const code = res.json?.code ?? res.status;
      if (code === 155112 || code === 155119 || code === 155115 || code === 155120) {
        // The PIN (or answers) the server acknowledged last were refused: a lost effect.
        ledger.loss(`${kind}: the acknowledged PIN/answers were refused (${code})`, { userId: user.userId, challengeId });
        user.pin = null; // stop using this user
        user.created = 'lost';
        return;
      }
      ledger.count(ledger.refusals, `execute ${kind} ${code}`);
      return;
    }
    user.pending = { challengeId, kind, newPin, plaintext, transfer };
  }

  /** The transaction id of a COMPLETE transfer challenge (correlationIds[0]), or null. */
  async transactionId(user, challengeId) {
    const url = this.url();
    if (!url) return null;
    const res = await call(url, 'GET', `/v1/w3s/user/challenges/${challengeId}`,
      { apiKey: this.apiKey(), userToken: user.userToken });
    return res.status === 200 ? (res.json?.data?.challenge?.correlationIds?.[0] ?? null) : null;
  }

  /** Records an acknowledged execute. */
  acknowledge(user, { challengeId, kind, newPin, signature }) {
    const { ledger } = this;
    if (kind === 'SIGN_MESSAGE' && !(typeof signature === 'string' && /^0x[0-9a-f]{130}$/i.test(signature))) {
      ledger.loss('SIGN_MESSAGE: COMPLETE without a 65-byte signature', { userId: user.userId, challengeId });
    }
    ledger.challengesAcked.push({ challengeId, userId: user.userId, kind });
    ledger.ended.set(challengeId, { userId: user.userId, kind, status: 'COMPLETE' });
    ledger.count(ledger.done, kind);
    if (newPin !== null) {
      user.previousPin = user.pin;
      user.pin = newPin;
    }
  }

  /** Reads back the outcome of an execute that got no answer. */
  async resolve(user) {
    const url = this.url();
    if (!url) return;
    const { challengeId, kind, newPin, transfer } = user.pending;
    if (user.pending.unsent) {
      // Never reached a server: nothing to read back, just execute it.
      const p = user.pending;
      user.pending = null;
      await this.execute(user, { ...p, unsent: undefined });
      return;
    }
    const res = await call(url, 'GET', `/v1/w3s/user/challenges/${challengeId}`,
      { apiKey: this.apiKey(), userToken: user.userToken });
    if (res.status !== 200) {
      if (typeof res.status === 'number' && res.status < 500) {
        this.ledger.count(this.ledger.refusals, `resolve ${res.json?.code ?? res.status}`);
      }
      return;
    }
    const status = res.json?.data?.challenge?.status;
    const landed = status === 'COMPLETE';
    this.ledger.inflightOutcome(kind, landed);
    if (transfer && landed) {
      this.ledger.ended.set(challengeId, { userId: user.userId, kind, status });
      this.ledger.transfersLanded.push({ challengeId, userId: user.userId, ...transfer,
        transactionId: res.json.data.challenge.correlationIds?.[0] ?? null });
      user.pending = null;
      return;
    }
    if (transfer && status !== 'FAILED') {
      // Not landed: the user retries with the same PIN (a nonce it reserved is reused).
      const p = user.pending;
      user.pending = null;
      await this.execute(user, p);
      return;
    }
    if (landed || status === 'FAILED') {
      this.ledger.ended.set(challengeId, { userId: user.userId, kind, status });
    } else {
      this.ledger.notEnded.add(challengeId);
      // A request that hung may still land later: the verification tells that apart from a loss.
      if (newPin !== null) user.maybePins = [...(user.maybePins ?? []), newPin];
    }
    if (landed && newPin !== null) {
      // In flight, so the old PIN is not known to be dead: the verification checks only the new one.
      user.previousPin = null;
      user.pin = newPin;
    }
    user.pending = null;
  }
}
