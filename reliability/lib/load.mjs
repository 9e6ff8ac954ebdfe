// The mixed load and the ledger of what it was told.
//
// Workers pick a user that is not busy and do one thing with it: create it, give it a token,
// INITIALIZE it (PIN + two questions, one EVM wallet), CHANGE_PIN, RESTORE_PIN or
// SIGN_MESSAGE. Each answer goes in the ledger:
// - acknowledged: a 201 user; an execute that answered COMPLETE (the new PIN is then the
//   user's PIN); a signature returned;
// - in flight: no answer (killed, refused, 5xx, hang). The user is then left alone until
//   `resolve` reads the outcome back (does the user exist? is the challenge COMPLETE?), and
//   the verification later checks that the PIN agrees with what the server reported.

import { randomBytes, randomUUID } from 'node:crypto';
import { checkPin, encryptPayload } from '../../sdk/js/headless.js';
import { call, randInt, sleep } from './http.mjs';

const QUESTIONS = ['What was the name of your first pet?', 'In what city were you born?'];
const BLOCKCHAIN = 'ETH-SEPOLIA';

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
    busy: false,
    /** An execute with no answer: { challengeId, kind, newPin }. */
    pending: null,
  };
}

/** The load: `cluster` gives the live URLs; `ledger` records. */
export class Load {
  constructor(cluster, ledger, { concurrency = 6, maxUsers = 400 } = {}) {
    this.cluster = cluster;
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
      { idempotencyKey: randomUUID(), blockchains: [BLOCKCHAIN], accountType: 'EOA' },
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
    const wallet = res.json?.data?.wallets?.[0];
    if (res.status === 200 && wallet) user.walletId = wallet.id;
  }

  /**
   * Creates a challenge of `kind` and executes it with `plaintext`. A COMPLETE answer is
   * acknowledged (`newPin` becomes the PIN); no answer leaves the user pending.
   */
  async challenge(user, kind, method, path, body, plaintext, newPin) {
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
    // The execute may go to the other instance: the challenge lives in the database.
    url = this.url();
    if (!url) {
      return;
    }
    const encrypted = await encryptPayload(user.encryptionKey, challengeId, plaintext);
    const res = await call(url, 'POST', `/v1/w3s/sdk/challenges/${challengeId}/execute`,
      { userToken: user.userToken, appId: this.cluster.appId, body: { encrypted } });
    if (res.status === 200 && res.json?.data?.status === 'COMPLETE') {
      this.acknowledge(user, { challengeId, kind, newPin, signature: res.json.data.data?.signature });
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
    user.pending = { challengeId, kind, newPin };
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
    const { challengeId, kind, newPin } = user.pending;
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
