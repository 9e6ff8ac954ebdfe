// latchkey web SDK: a drop-in for Circle's W3SSdk (@circle-fin/w3s-pw-web-sdk) that opens
// latchkey's hosted challenge page (`<serviceUrl>/pw/`) in an overlay iframe.
//
// Protocol between this SDK and the page (postMessage, both directions origin-checked):
//   page → SDK  {type:'latchkey:ready'}                          the page can receive
//   SDK  → page {type:'latchkey:execute', appId, userToken, encryptionKey, challengeId,
//                customQuestions?, requiredCount?, securityConfirmItems?, localizations?,
//                themeColor?, showForgotPin?}                   targetOrigin = service origin
//   page → SDK  {type:'latchkey:result', result:{type,status,data}}
//               {type:'latchkey:error', error:{code,message,attemptsLeft?,lockedExpiryDate?}}
//               {type:'latchkey:forgotPin'}
// Secrets travel only in postMessage to the service origin, never in a URL.

export { executeChallenge, LatchkeyError } from './headless.js';

/** Circle's question type, accepted for compatibility: latchkey takes every answer as text. */
export const QuestionType = Object.freeze({ DATE: 0, TEXT: 1 });

const READY_TIMEOUT_MS = 15000;
const SDK_PATH = /\/sdk\/w3s\.js$/;

// Loaded from `<serviceUrl>/sdk/w3s.js` (as the latchkey server serves it), the SDK knows its
// server without being told; bundled from npm, the app passes `serviceUrl`.
const MODULE_SERVICE_URL = (() => {
  try {
    const u = new URL(import.meta.url);
    if ((u.protocol === 'https:' || u.protocol === 'http:') && SDK_PATH.test(u.pathname)) {
      return u.origin + u.pathname.replace(SDK_PATH, '');
    }
  } catch {
    // not loaded from a URL
  }
  return undefined;
})();

function normalizeServiceUrl(serviceUrl) {
  if (serviceUrl === undefined || serviceUrl === null || serviceUrl === '') return undefined;
  const u = new URL(String(serviceUrl));
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new TypeError('serviceUrl must be an http(s) URL');
  }
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

function plainError(code, message) {
  return { code, message };
}

function sanitizeError(error) {
  const e = error && typeof error === 'object' ? error : {};
  const out = {
    code: typeof e.code === 'number' ? e.code : 155702,
    message: typeof e.message === 'string' ? e.message : 'Unknown error',
  };
  if (typeof e.attemptsLeft === 'number') out.attemptsLeft = e.attemptsLeft;
  if (typeof e.lockedExpiryDate === 'string') out.lockedExpiryDate = e.lockedExpiryDate;
  return out;
}

function normalizeQuestions(questions) {
  if (!Array.isArray(questions)) return undefined;
  // Circle's SecurityQuestion is `{question, type}` (older releases: `{title, inputType}`).
  const out = questions
    .map((q) => (typeof q === 'string' ? q : q && (q.question ?? q.title)))
    .filter((q) => typeof q === 'string' && q.trim().length >= 2)
    .map((q) => q.trim());
  return out.length ? out : undefined;
}

function clone(value) {
  if (value === undefined || value === null) return undefined;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

/** The web SDK. One instance can run one challenge at a time. */
export class W3SSdk {
  #serviceUrl;
  #appSettings;
  #auth;
  #questions;
  #requiredCount = 2;
  #confirmItems;
  #localizations;
  #themeColor;
  #onForgotPin;
  #closeOnForgotPin = false;
  #session = null;
  #handler = (event) => this.#onMessage(event);

  /**
   * @param {{appSettings?: {appId: string}, serviceUrl?: string,
   *          authentication?: {userToken: string, encryptionKey: string}}} [configs]
   */
  constructor(configs = {}) {
    const c = configs || {};
    this.#serviceUrl = normalizeServiceUrl(c.serviceUrl) ?? MODULE_SERVICE_URL;
    if (c.appSettings) this.setAppSettings(c.appSettings);
    if (c.authentication) this.setAuthentication(c.authentication);
  }

  /** The latchkey server this instance talks to (no trailing slash). */
  get serviceUrl() {
    return this.#serviceUrl;
  }

  /** Sets the latchkey server, e.g. `https://wallets.example.com`. */
  setServiceUrl(serviceUrl) {
    this.#serviceUrl = normalizeServiceUrl(serviceUrl);
  }

  /** Sets `{appId}`. */
  setAppSettings(appSettings) {
    this.#appSettings = appSettings ? { appId: appSettings.appId } : undefined;
  }

  /** Sets `{userToken, encryptionKey}` (from POST /v1/w3s/users/token). */
  setAuthentication(auth) {
    this.#auth = auth ? { userToken: auth.userToken, encryptionKey: auth.encryptionKey } : undefined;
  }

  /**
   * Offers these questions (instead of the server's defaults) when the user sets security
   * questions, and requires `requiredCount` of them (2 by default, at most 10).
   * @param {Array<string|{question:string}|{title:string}>|null} questions
   * @param {number} [requiredCount]
   * @param {string[]} [securityConfirmItems] extra sentences on the confirmation screen
   */
  setCustomSecurityQuestions(questions, requiredCount = 2, securityConfirmItems) {
    this.#questions = normalizeQuestions(questions);
    const n = Number(requiredCount);
    this.#requiredCount = Number.isInteger(n) && n > 0 ? Math.min(Math.max(n, 2), 10) : 2;
    this.#confirmItems = Array.isArray(securityConfirmItems)
      ? securityConfirmItems.filter((s) => typeof s === 'string')
      : undefined;
  }

  /** Replaces texts of the hosted page (Circle's Localizations shape, or latchkey's flat keys). */
  setLocalizations(localizations) {
    this.#localizations = clone(localizations);
  }

  /** Sets colours of the hosted page and the backdrop (Circle's ThemeColor shape). */
  setThemeColor(themeColor) {
    this.#themeColor = clone(themeColor);
  }

  /** Accepted for compatibility with Circle's SDK; latchkey's page loads no remote resources. */
  setResources(_resources) {}

  /** Accepted for compatibility with Circle's SDK; not used. */
  setCustomLinks(_customLinks) {}

  /**
   * Called when the user picks "Forgot PIN?" on the PIN screen (the link is shown only when a
   * callback is set). Typically: create a RESTORE_PIN challenge and `execute` it, which
   * replaces the open page. With `shouldCloseModalOnForgotPin`, the page closes first.
   */
  setOnForgotPin(onForgotPin, shouldCloseModalOnForgotPin = false) {
    this.#onForgotPin = typeof onForgotPin === 'function' ? onForgotPin : undefined;
    this.#closeOnForgotPin = Boolean(shouldCloseModalOnForgotPin);
  }

  /**
   * Opens the hosted page for a challenge. `onCompleted(error, result)` is called once, when
   * the page finishes: `result = {type, status, data}` or `error = {code, message,
   * attemptsLeft?, lockedExpiryDate?}`. A second `execute` while one is open replaces it
   * (the first callback is then not called), as Circle's SDK does.
   */
  execute(challengeId, onCompleted) {
    const done = typeof onCompleted === 'function' ? onCompleted : () => {};
    this.#teardown();
    const fail = (message) => queueMicrotask(() => done(plainError(155702, `Launch UI failed: ${message}`), undefined));
    if (typeof window === 'undefined' || typeof document === 'undefined') return fail('no browser window');
    if (!this.#serviceUrl) return fail('serviceUrl is not set');
    if (!this.#appSettings?.appId) return fail('appSettings.appId is not set');
    if (!this.#auth?.userToken || !this.#auth?.encryptionKey) return fail('authentication is not set');
    if (typeof challengeId !== 'string' || challengeId === '') return fail('challengeId is required');
    const parentOrigin = window.location.origin;
    if (!parentOrigin || parentOrigin === 'null') return fail('the page has no origin (serve it over http(s))');

    const origin = new URL(this.#serviceUrl).origin;
    // The App ID (not a secret) lets the server apply the entity's allowed frame ancestors.
    const src = `${this.#serviceUrl}/pw/?appId=${encodeURIComponent(this.#appSettings.appId)}#origin=${encodeURIComponent(parentOrigin)}`;

    const overlay = document.createElement('div');
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    overlay.setAttribute('aria-label', 'Secure PIN entry');
    overlay.setAttribute('data-latchkey-overlay', '');
    // CSSOM, not a style attribute: allowed under a strict style-src.
    Object.assign(overlay.style, {
      position: 'fixed', inset: '0', zIndex: '2147483647', display: 'flex',
      alignItems: 'center', justifyContent: 'center',
    });
    const backdrop = document.createElement('div');
    const theme = this.#themeColor || {};
    Object.assign(backdrop.style, {
      position: 'absolute', inset: '0', backgroundColor: '#000', opacity: '0.5',
    });
    if (typeof theme.backdrop === 'string') backdrop.style.backgroundColor = theme.backdrop;
    if (typeof theme.backdropOpacity === 'number') backdrop.style.opacity = String(theme.backdropOpacity);

    const iframe = document.createElement('iframe');
    iframe.src = src;
    iframe.title = 'Secure PIN entry';
    iframe.id = 'latchkey-iframe';
    Object.assign(iframe.style, {
      position: 'relative', border: '0', width: '100%', maxWidth: '420px', height: '100%',
      maxHeight: '720px', borderRadius: '12px', backgroundColor: 'transparent', colorScheme: 'normal',
    });
    overlay.append(backdrop, iframe);

    const previousFocus = document.activeElement;
    const previousOverflow = document.documentElement.style.overflow;
    this.#session = {
      overlay, iframe, origin, done, previousFocus, previousOverflow, sent: false,
      challengeId,
      timer: setTimeout(() => this.#finish(plainError(155706, 'Network error'), undefined), READY_TIMEOUT_MS),
    };
    window.addEventListener('message', this.#handler, false);
    iframe.addEventListener('load', () => iframe.focus(), { once: true });
    document.documentElement.style.overflow = 'hidden';
    document.body.appendChild(overlay);
  }

  /** Closes an open page; its callback gets `{code: 155701, message: 'User canceled'}`. */
  close() {
    if (this.#session) this.#finish(plainError(155701, 'User canceled'), undefined);
  }

  #onMessage(event) {
    const s = this.#session;
    if (!s) return;
    if (event.source !== s.iframe.contentWindow || event.origin !== s.origin) return;
    const data = event.data;
    if (!data || typeof data !== 'object' || typeof data.type !== 'string') return;
    switch (data.type) {
      case 'latchkey:ready': {
        if (s.sent) return;
        s.sent = true;
        clearTimeout(s.timer);
        const message = {
          type: 'latchkey:execute',
          appId: this.#appSettings.appId,
          userToken: this.#auth.userToken,
          encryptionKey: this.#auth.encryptionKey,
          challengeId: s.challengeId,
          requiredCount: this.#requiredCount,
          showForgotPin: Boolean(this.#onForgotPin),
        };
        if (this.#questions) message.customQuestions = this.#questions;
        if (this.#confirmItems) message.securityConfirmItems = this.#confirmItems;
        if (this.#localizations) message.localizations = this.#localizations;
        if (this.#themeColor) message.themeColor = this.#themeColor;
        s.iframe.contentWindow.postMessage(message, s.origin);
        return;
      }
      case 'latchkey:result': {
        const r = data.result && typeof data.result === 'object' ? data.result : {};
        this.#finish(undefined, { type: r.type, status: r.status, data: r.data ?? {} });
        return;
      }
      case 'latchkey:error':
        this.#finish(sanitizeError(data.error), undefined);
        return;
      case 'latchkey:forgotPin': {
        const cb = this.#onForgotPin;
        if (this.#closeOnForgotPin) this.#teardown();
        if (cb) cb();
        return;
      }
      default:
    }
  }

  #finish(error, result) {
    const s = this.#session;
    if (!s) return;
    this.#teardown();
    try {
      s.done(error, result);
    } finally {
      // After the callback, which may re-enable the control that opened the page.
      this.#restoreFocus(s);
    }
  }

  #restoreFocus(s) {
    const active = document.activeElement;
    if (active && active !== document.body && active !== document.documentElement) return;
    const prev = s.previousFocus;
    if (prev && typeof prev.focus === 'function' && document.contains(prev)) prev.focus();
  }

  #teardown() {
    const s = this.#session;
    if (!s) return;
    this.#session = null;
    clearTimeout(s.timer);
    window.removeEventListener('message', this.#handler, false);
    s.overlay.remove();
    document.documentElement.style.overflow = s.previousOverflow;
    this.#restoreFocus(s);
  }
}

export default W3SSdk;
