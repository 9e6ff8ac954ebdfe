// latchkey hosted challenge page (served at <serviceUrl>/pw/).
//
// Opened by the web SDK (sdk/js/w3s.js) in an iframe at `/pw/#origin=<parent origin>`; every
// parameter arrives by postMessage from that origin, never in the URL. Speaks
// docs/protocol.md: GET /v1/w3s/sdk/challenges/{id}, then POST …/execute with the plaintext
// encrypted by AES-256-GCM (sdk/js/headless.js, served at /sdk/). Nothing secret is logged or
// stored. Modules beside this one: strings.js (texts, localizations, theme), dom.js (element
// builder), signing.js (what is being signed).
//
// ── Messages ────────────────────────────────────────────────────────────────────────────
//   → parent  {type:'latchkey:ready'}                        on load
//   ← parent  {type:'latchkey:execute', appId, userToken, encryptionKey, challengeId,
//              customQuestions?, requiredCount?, securityConfirmItems?, localizations?,
//              themeColor?, showForgotPin?}                  accepted once per page load
//   → parent  {type:'latchkey:result', result:{type,status,data}}
//             {type:'latchkey:error', error:{code,message,attemptsLeft?,lockedExpiryDate?}}
//             {type:'latchkey:forgotPin'}
//
// ── Test hooks (every element has id === data-testid) ──────────────────────────────────
//   #screen[data-screen=NAME]   the current screen; aria-busy="true" while a request runs.
//       NAME: waiting | loading | answers | review | enter-pin | new-pin | confirm-pin |
//             questions | security-confirm | done | locked | error
//   #back  #cancel               header buttons (cancel → latchkey:error 155701)
//   #status                      polite live region (progress announcements)
//   #step-error                  the error of the current step (role=alert)
//   #attempts-left               attempts left (enter-pin, answers), when fewer than the maximum
//   Each step's submit button is #<NAME>-submit (e.g. #new-pin-submit, #questions-submit).
//   review:            #signing (what is signed; inside: #signing-message, #signing-domain,
//                      #signing-primary-type, #signing-fields, #signing-tx-to, #signing-tx-value,
//                      #signing-tx-data, #signing-raw, #signing-memo when present),
//                      #review-submit (approve; reject = #cancel)
//   enter-pin:         #pin, #pin-toggle (show/hide), #forgot-pin
//   new-pin:           #new-pin, #new-pin-toggle
//   confirm-pin:       #confirm-pin, #confirm-pin-toggle
//   questions:         per i = 0…N-1: #question-i (select; value "custom" = write my own),
//                      #custom-question-i, #answer-i, #hint-i, #question-error-i, #hint-error-i
//   security-confirm:  #summary, #ack (checkbox), #security-confirm-submit
//   answers:           per stored question i: #recover-question-i, #recover-hint-i, #recover-answer-i
//   locked:            #locked-message, #locked-until (<time datetime=ISO>, local time),
//                      #close (→ latchkey:error 155119/155120 with lockedExpiryDate)
//   error:             #error-message, #error-code
//   done:              #done

import { getChallenge, postEncrypted, encryptPayload, checkPin, normalizeAnswer } from '../sdk/headless.js';
import { STR, t, applyLocalizations, applyTheme } from './strings.js';
import { h, $ } from './dom.js';
import { renderSigning } from './signing.js';

// ── State ────────────────────────────────────────────────────────────────────────────────
const SERVICE_URL = new URL('..', window.location.href).href;

const state = {
  parentOrigin: null,
  target: null,
  params: null, // the execute message
  view: null, // GET …/challenges/{id} data
  req: null, // {pin, newPin, securityQuestions, securityAnswers}
  steps: [],
  idx: 0,
  questionList: [],
  values: { pin: '', newPin: '', questions: [], answers: [] },
  resumeAfter: null,
  busy: false,
  finished: false,
};

function post(msg) {
  if (state.target && state.parentOrigin) state.target.postMessage(msg, state.parentOrigin);
}

function clearSecrets() {
  state.values = { pin: '', newPin: '', questions: [], answers: [] };
  if (state.params) {
    state.params.userToken = '';
    state.params.encryptionKey = '';
  }
  for (const el of document.querySelectorAll('input')) el.value = '';
}

function finishResult(result) {
  if (state.finished) return;
  state.finished = true;
  clearSecrets();
  post({ type: 'latchkey:result', result: { type: result.type, status: result.status, data: result.data ?? {} } });
  showDone();
}

function finishError(error) {
  if (state.finished) return;
  state.finished = true;
  clearSecrets();
  const out = { code: error.code, message: error.message };
  if (typeof error.attemptsLeft === 'number') out.attemptsLeft = error.attemptsLeft;
  if (typeof error.lockedExpiryDate === 'string') out.lockedExpiryDate = error.lockedExpiryDate;
  post({ type: 'latchkey:error', error: out });
}

function announce(text) {
  const s = $('status');
  s.textContent = '';
  // A fresh text node after a tick makes screen readers announce repeated texts too.
  setTimeout(() => { s.textContent = text; }, 30);
}

// ── Screen rendering ─────────────────────────────────────────────────────────────────────
function render(name, { title, subtitle, back = false, cancel = true } = {}, ...content) {
  const main = $('screen');
  main.setAttribute('data-screen', name);
  main.setAttribute('aria-busy', 'false');
  // replaceChildren() would turn a null into the text "null": keep nodes only.
  main.replaceChildren(...[
    h('h1', { class: 'title', tabindex: '-1' }, title),
    subtitle ? h('p', { class: 'sub' }, subtitle) : null,
    ...content.flat(),
  ].filter((c) => c !== null && c !== undefined && c !== false));
  $('back').hidden = !back;
  $('cancel').hidden = !cancel || state.finished || !state.params;
  document.title = title;
  const first = main.querySelector('input:not([type=checkbox]), select, textarea');
  (first || main.querySelector('h1')).focus();
}

function stepError(message) {
  return h('p', { id: 'step-error', class: 'error', role: 'alert' }, message || '');
}

function setStepError(message) {
  const el = $('step-error');
  if (el) el.textContent = message || '';
}

function setBusy(busy) {
  state.busy = busy;
  const main = $('screen');
  main.setAttribute('aria-busy', busy ? 'true' : 'false');
  for (const el of main.querySelectorAll('input, select, button, textarea')) {
    if (busy) {
      if (!el.disabled) el.setAttribute('data-busy-disabled', '');
      el.disabled = true;
    } else if (el.hasAttribute('data-busy-disabled')) {
      el.disabled = false;
      el.removeAttribute('data-busy-disabled');
    }
  }
  $('back').disabled = busy;
  $('cancel').disabled = busy;
  if (busy) announce(t('submitting'));
}

function pinField(id, label, { help } = {}) {
  const dots = h('div', { class: 'dots', 'aria-hidden': 'true' },
    Array.from({ length: 6 }, () => h('span', { class: 'dot' })));
  const input = h('input', {
    id, type: 'password', class: 'pin-input', inputmode: 'numeric', pattern: '[0-9]*', maxlength: '6',
    // Password managers must not offer to save a PIN.
    autocomplete: 'off', autocorrect: 'off', autocapitalize: 'off', spellcheck: 'false',
    'aria-describedby': [help ? `${id}-help` : null, 'step-error'].filter(Boolean).join(' '),
    'data-lpignore': 'true', 'data-1p-ignore': 'true',
  });
  const toggle = h('button', {
    type: 'button', id: `${id}-toggle`, class: 'toggle', 'aria-pressed': 'false', 'aria-controls': id,
    'aria-label': t('showPinLabel'), text: t('showPin'),
    onclick: () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      toggle.textContent = show ? t('hidePin') : t('showPin');
      toggle.setAttribute('aria-pressed', String(show));
      input.focus();
    },
  });
  input.addEventListener('input', () => {
    const clean = input.value.replace(/[^0-9]/g, '').slice(0, 6);
    if (clean !== input.value) input.value = clean;
    dots.querySelectorAll('.dot').forEach((d, i) => d.classList.toggle('on', i < clean.length));
  });
  return {
    input,
    el: h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('div', { class: 'pin-row' }, input, toggle),
      dots,
      help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null),
  };
}

function form(name, onSubmit, ...children) {
  return h('form', {
    id: `form-${name}`, novalidate: true, autocomplete: 'off',
    onsubmit: (e) => {
      e.preventDefault();
      if (!state.busy && !state.finished) onSubmit();
    },
  }, ...children);
}

function submitButton(name, label) {
  return h('div', { class: 'actions' }, h('button', { type: 'submit', id: `${name}-submit`, class: 'primary' }, label));
}

// ── Boot ─────────────────────────────────────────────────────────────────────────────────
function validOrigin(o) {
  if (typeof o !== 'string' || o === '' || o === 'null') return false;
  try {
    const u = new URL(o);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o;
  } catch {
    return false;
  }
}

function boot() {
  window.addEventListener('pageshow', (e) => { if (e.persisted) clearSecrets(); });
  window.addEventListener('pagehide', clearSecrets);
  $('cancel').addEventListener('click', () => {
    if (state.busy || state.finished) return;
    finishError({ code: 155701, message: 'User canceled' });
    renderError({ code: 155701, message: 'User canceled' }, false);
  });
  $('back').addEventListener('click', () => {
    if (state.busy || state.finished || state.idx === 0) return;
    state.resumeAfter = null;
    go(state.idx - 1);
  });

  const origin = new URLSearchParams(window.location.hash.slice(1)).get('origin');
  const target = window.parent !== window ? window.parent : window.opener;
  if (!validOrigin(origin) || !target) {
    renderError({ message: t('notFramed') }, false);
    return;
  }
  // Where the browser reveals the real parent (Chromium, Safari), it must be the one named.
  const ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length > 0 && ancestors[0] !== 'null' && ancestors[0] !== origin) {
    renderError({ message: t('wrongParent') }, false);
    return;
  }
  state.parentOrigin = origin;
  state.target = target;
  window.addEventListener('message', onMessage);
  post({ type: 'latchkey:ready' });
}

function onMessage(event) {
  if (event.origin !== state.parentOrigin || event.source !== state.target) return;
  const d = event.data;
  if (!d || typeof d !== 'object' || d.type !== 'latchkey:execute' || state.params) return;
  const str = (v) => typeof v === 'string' && v.length > 0 && v.length < 8192;
  if (!str(d.appId) || !str(d.userToken) || !str(d.encryptionKey) || !str(d.challengeId)) {
    state.params = {};
    finishError({ code: 155702, message: 'Launch UI failed: appId, userToken, encryptionKey and challengeId are required' });
    renderError({ code: 155702, message: 'Launch UI failed' }, false);
    return;
  }
  const count = Number(d.requiredCount);
  state.params = {
    appId: d.appId,
    userToken: d.userToken,
    encryptionKey: d.encryptionKey,
    challengeId: d.challengeId,
    customQuestions: Array.isArray(d.customQuestions)
      ? d.customQuestions.map((q) => (typeof q === 'string' ? q : q && (q.question ?? q.title)))
        .filter((q) => typeof q === 'string' && q.trim().length >= 2).map((q) => q.trim())
      : [],
    requiredCount: Number.isInteger(count) && count > 0 ? Math.min(Math.max(count, 2), 10) : 2,
    securityConfirmItems: Array.isArray(d.securityConfirmItems)
      ? d.securityConfirmItems.filter((s) => typeof s === 'string' && s.trim()) : [],
    showForgotPin: d.showForgotPin !== false,
  };
  applyLocalizations(d.localizations);
  applyTheme(d.themeColor);
  start();
}

function conn() {
  const p = state.params;
  return { serviceUrl: SERVICE_URL, appId: p.appId, userToken: p.userToken, challengeId: p.challengeId };
}

// What the server expects; derived from the type when an older server sends no `requires`.
function requirements(view) {
  const r = view.requires;
  if (r && typeof r === 'object') {
    return { pin: !!r.pin, newPin: !!r.newPin, securityQuestions: !!r.securityQuestions, securityAnswers: !!r.securityAnswers };
  }
  const hasQuestions = view.user?.securityQuestionStatus !== 'UNSET';
  switch (view.challenge?.type) {
    case 'INITIALIZE': return { pin: false, newPin: true, securityQuestions: true, securityAnswers: false };
    case 'SET_PIN': return { pin: false, newPin: true, securityQuestions: !hasQuestions, securityAnswers: false };
    case 'CHANGE_PIN': return { pin: true, newPin: true, securityQuestions: false, securityAnswers: false };
    case 'RESTORE_PIN': return { pin: false, newPin: true, securityQuestions: false, securityAnswers: true };
    default: return { pin: true, newPin: false, securityQuestions: false, securityAnswers: false };
  }
}

async function loadQuestionList() {
  if (state.params.customQuestions.length) return state.params.customQuestions;
  const fromServer = Array.isArray(state.view.defaultSecurityQuestions)
    ? state.view.defaultSecurityQuestions.filter((q) => typeof q === 'string' && q.trim()) : [];
  if (fromServer.length) return fromServer;
  try {
    const res = await fetch(new URL('questions.json', window.location.href), { credentials: 'omit' });
    const list = res.ok ? await res.json() : [];
    if (Array.isArray(list)) return list.filter((q) => typeof q === 'string' && q.trim());
  } catch {
    // The user can still write their own questions.
  }
  return [];
}

async function start() {
  render('loading', { title: t('loading') }, h('div', { class: 'spinner', 'aria-hidden': 'true' }));
  let view;
  try {
    view = await getChallenge(conn());
  } catch (e) {
    if (e?.code === 155119 || e?.code === 155120) showLocked(e);
    else fatal(e);
    return;
  }
  if (!view || typeof view !== 'object' || !view.challenge) {
    fatal({ code: 155706, message: 'Unexpected response from the service' });
    return;
  }
  state.view = view;
  const ch = view.challenge;
  const req = requirements(view);
  state.req = req;

  if (ch.status === 'EXPIRED') return fatal({ code: 155121, message: 'The provided challengeId has expired.' });
  if (ch.status === 'FAILED' && (ch.errorCode === 155119 || ch.errorCode === 155120)) {
    const details = ch.errorCode === 155119 ? view.user?.pinDetails : view.user?.securityQuestionDetails;
    return showLocked({ code: ch.errorCode, message: ch.errorMessage || '', lockedExpiryDate: details?.lockedExpiryDate });
  }
  if (ch.status === 'COMPLETE' || ch.status === 'FAILED') {
    return fatal({ code: 155122, message: 'The provided challengeId is invalid' });
  }
  if (req.pin && view.user?.pinStatus === 'LOCKED') {
    return showLocked({ code: 155119, message: "The user's PIN input is locked. It will be unlocked after the cooldown period.",
      lockedExpiryDate: view.user?.pinDetails?.lockedExpiryDate });
  }
  if (req.securityAnswers && view.user?.securityQuestionStatus === 'LOCKED') {
    return showLocked({ code: 155120, message: "The user's security questions input is locked. It will be unlocked after the cooldown period.",
      lockedExpiryDate: view.user?.securityQuestionDetails?.lockedExpiryDate });
  }

  const steps = [];
  if (req.securityAnswers) steps.push('answers');
  if (view.signing && typeof view.signing === 'object') steps.push('review');
  if (req.pin) steps.push('enter-pin');
  if (req.newPin) steps.push('new-pin', 'confirm-pin');
  if (req.securityQuestions) {
    state.questionList = await loadQuestionList();
    steps.push('questions', 'security-confirm');
  }
  if (!steps.length) return fatal({ code: 155702, message: `Launch UI failed: nothing to ask for ${ch.type}` });
  state.steps = steps;
  go(0);
}

// ── Navigation ──────────────────────────────────────────────────────────────────────────
const SCREENS = {
  answers: renderAnswers,
  review: renderReview,
  'enter-pin': renderEnterPin,
  'new-pin': renderNewPin,
  'confirm-pin': renderConfirmPin,
  questions: renderQuestions,
  'security-confirm': renderSecurityConfirm,
};

function go(idx, opts = {}) {
  state.idx = idx;
  SCREENS[state.steps[idx]](opts);
}

function goTo(name, opts = {}) {
  const idx = state.steps.indexOf(name);
  if (idx < 0) return false;
  go(idx, opts);
  return true;
}

function next() {
  const name = state.steps[state.idx];
  if (state.resumeAfter === name || state.idx === state.steps.length - 1) {
    state.resumeAfter = null;
    submit();
    return;
  }
  go(state.idx + 1);
}

function attemptsText(n, answers) {
  if (typeof n !== 'number') return '';
  if (answers) return n === 1 ? t('answerAttemptsLeftOne') : t('answerAttemptsLeftMany', { n });
  return n === 1 ? t('attemptsLeftOne') : t('attemptsLeftMany', { n });
}

// ── Steps ───────────────────────────────────────────────────────────────────────────────
function renderEnterPin({ error } = {}) {
  const type = state.view.challenge.type;
  const f = pinField('pin', t('pinLabel'));
  const left = state.view.pinAttemptsLeft;
  const max = state.view.maxAttempts;
  const showLeft = typeof left === 'number' && (typeof max !== 'number' || left < max);
  f.input.setAttribute('aria-describedby', 'step-error attempts-left');
  render('enter-pin', {
    title: type === 'CHANGE_PIN' ? t('changePinCurrentTitle') : t('enterPinTitle'),
    subtitle: t('enterPinSubtitle'),
    back: state.idx > 0,
  }, form('enter-pin', () => {
    const pin = f.input.value;
    if (pin.length !== 6) {
      setStepError(t('pinIncomplete'));
      f.input.setAttribute('aria-invalid', 'true');
      f.input.focus();
      return;
    }
    state.values.pin = pin;
    next();
  },
  f.el,
  h('p', { id: 'attempts-left', class: 'notice' }, showLeft ? attemptsText(left, false) : ''),
  stepError(error),
  state.params.showForgotPin
    ? h('button', { type: 'button', id: 'forgot-pin', class: 'link',
      onclick: () => { if (!state.busy && !state.finished) post({ type: 'latchkey:forgotPin' }); } }, t('forgotPin'))
    : null,
  submitButton('enter-pin', t('continue'))));
  if (error) f.input.setAttribute('aria-invalid', 'true');
}

function renderNewPin({ error } = {}) {
  const init = state.view.challenge.type === 'INITIALIZE' || state.view.challenge.type === 'SET_PIN';
  const f = pinField('new-pin', t('newPinLabel'), { help: t('pinRuleHelp') });
  const check = (final) => {
    const v = f.input.value;
    let msg = '';
    if (v.length === 6) {
      const bad = checkPin(v);
      if (bad) msg = t('pinWeak');
      else if (state.req.pin && v === state.values.pin) msg = t('pinSameAsOld');
    } else if (final) {
      msg = t('pinIncomplete');
    }
    setStepError(msg);
    f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    return !msg;
  };
  // The rule is checked as the user types, as soon as all six digits are in.
  f.input.addEventListener('input', () => check(false));
  render('new-pin', {
    title: init ? t('initPinTitle') : t('newPinTitle'),
    subtitle: init ? t('initPinSubtitle') : t('newPinSubtitle'),
    back: state.idx > 0,
  }, form('new-pin', () => {
    if (!check(true)) { f.input.focus(); return; }
    state.values.newPin = f.input.value;
    next();
  }, f.el, stepError(error), submitButton('new-pin', t('continue'))));
  if (error) f.input.setAttribute('aria-invalid', 'true');
}

function renderConfirmPin({ error } = {}) {
  const init = state.view.challenge.type === 'INITIALIZE' || state.view.challenge.type === 'SET_PIN';
  const f = pinField('confirm-pin', t('confirmPinLabel'));
  const check = (final) => {
    const v = f.input.value;
    let msg = '';
    if (v.length === 6 && v !== state.values.newPin) msg = t('pinMismatch');
    else if (final && v.length !== 6) msg = t('pinIncomplete');
    setStepError(msg);
    f.input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    return !msg;
  };
  f.input.addEventListener('input', () => check(false));
  render('confirm-pin', {
    title: init ? t('confirmInitPinTitle') : t('confirmNewPinTitle'),
    subtitle: t('confirmPinSubtitle'),
    back: true,
  }, form('confirm-pin', () => {
    if (!check(true)) {
      if (f.input.value.length === 6) {
        // A mismatch: clear the field for a fresh try, keep the message.
        f.input.value = '';
        f.input.dispatchEvent(new Event('input'));
        setStepError(t('pinMismatch'));
        f.input.setAttribute('aria-invalid', 'true');
      }
      f.input.focus();
      return;
    }
    next();
  }, f.el, stepError(error), submitButton('confirm-pin', t('continue'))));
}

function renderAnswers({ error } = {}) {
  const qs = Array.isArray(state.view.securityQuestions) ? state.view.securityQuestions : [];
  const left = state.view.answerAttemptsLeft;
  const max = state.view.maxAttempts;
  const showLeft = typeof left === 'number' && (typeof max !== 'number' || left < max);
  const inputs = qs.map((q, i) => h('input', {
    id: `recover-answer-${i}`, type: 'text', autocomplete: 'off', autocapitalize: 'off', autocorrect: 'off',
    spellcheck: 'false', maxlength: '512', placeholder: t('answerPlaceholder'),
    'aria-describedby': `recover-question-${i} ${q.hint ? `recover-hint-${i} ` : ''}step-error`,
    value: state.values.answers[i] || '',
  }));
  const blocks = qs.map((q, i) => h('div', { class: 'field' },
    h('p', { id: `recover-question-${i}`, class: 'question-text' }, String(q.question ?? '')),
    q.hint ? h('p', { id: `recover-hint-${i}`, class: 'hint-text' }, t('hintPrefix') + String(q.hint)) : null,
    h('label', { for: `recover-answer-${i}` }, `${t('answerLabel')} ${qs.length > 1 ? i + 1 : ''}`.trim()),
    inputs[i]));
  render('answers', { title: t('recoverTitle'), subtitle: t('recoverSubtitle'), back: false },
    form('answers', () => {
      const empty = inputs.findIndex((el) => normalizeAnswer(el.value) === '');
      for (const el of inputs) el.setAttribute('aria-invalid', normalizeAnswer(el.value) === '' ? 'true' : 'false');
      if (empty >= 0) {
        setStepError(t('answerRequired'));
        inputs[empty].focus();
        return;
      }
      state.values.answers = inputs.map((el) => el.value);
      next();
    },
    ...blocks,
    h('p', { id: 'attempts-left', class: 'notice' }, showLeft ? attemptsText(left, true) : ''),
    stepError(error),
    submitButton('answers', t('continue'))));
}

function renderQuestions({ error } = {}) {
  const n = state.params.requiredCount;
  const list = state.questionList;
  const prev = state.values.questions;
  const blocks = [];
  const selects = [];

  const refreshOptions = () => {
    const taken = new Set(selects.map((s) => s.value).filter((v) => v.startsWith('q:')));
    for (const s of selects) {
      for (const o of s.options) {
        if (o.value.startsWith('q:')) o.disabled = taken.has(o.value) && s.value !== o.value;
      }
    }
  };

  for (let i = 0; i < n; i++) {
    const p = prev[i] || {};
    const prevIdx = p.question !== undefined && !p.custom ? list.indexOf(p.question) : -1;
    const select = h('select', { id: `question-${i}`, 'aria-describedby': `question-error-${i}` },
      h('option', { value: '' }, t('questionPlaceholder')),
      list.map((q, j) => h('option', { value: `q:${j}` }, q)),
      h('option', { value: 'custom' }, t('customQuestionOption')));
    select.value = p.custom ? 'custom' : prevIdx >= 0 ? `q:${prevIdx}` : '';
    const custom = h('input', {
      id: `custom-question-${i}`, type: 'text', maxlength: '512', autocomplete: 'off',
      'aria-describedby': `question-error-${i}`, value: p.custom ? p.question : '',
    });
    const customField = h('div', { class: 'field' }, h('label', { for: `custom-question-${i}` }, t('customQuestionLabel')), custom);
    customField.hidden = select.value !== 'custom';
    const answer = h('input', {
      id: `answer-${i}`, type: 'text', maxlength: '512', autocomplete: 'off', autocapitalize: 'off',
      autocorrect: 'off', spellcheck: 'false', placeholder: t('answerPlaceholder'),
      'aria-describedby': `question-error-${i}`, value: p.answer || '',
    });
    const hint = h('input', {
      id: `hint-${i}`, type: 'text', maxlength: '512', autocomplete: 'off', spellcheck: 'false',
      placeholder: t('hintPlaceholder'), 'aria-describedby': `hint-error-${i}`, value: p.hint || '',
    });
    const qErr = h('p', { id: `question-error-${i}`, class: 'error', role: 'alert' });
    const hErr = h('p', { id: `hint-error-${i}`, class: 'error', role: 'alert' });
    const checkHint = () => {
      const same = hint.value.trim() !== '' && normalizeAnswer(hint.value) === normalizeAnswer(answer.value);
      hErr.textContent = same ? t('hintEqualsAnswer') : '';
      hint.setAttribute('aria-invalid', same ? 'true' : 'false');
      return !same;
    };
    hint.addEventListener('input', checkHint);
    answer.addEventListener('input', () => { if (hint.value) checkHint(); });
    select.addEventListener('change', () => {
      customField.hidden = select.value !== 'custom';
      if (select.value === 'custom') custom.focus();
      qErr.textContent = '';
      select.setAttribute('aria-invalid', 'false');
      refreshOptions();
    });
    selects.push(select);
    blocks.push({ select, custom, answer, hint, qErr, hErr, checkHint, el: h('fieldset', { class: 'qa' },
      h('legend', {}, t('questionLegend', { n: i + 1 })),
      h('div', { class: 'field' }, h('label', { for: `question-${i}` }, t('questionLabel')), select),
      customField,
      h('div', { class: 'field' }, h('label', { for: `answer-${i}` }, t('answerLabel')), answer),
      qErr,
      h('div', { class: 'field' }, h('label', { for: `hint-${i}` }, t('hintLabel')), hint),
      hErr) });
  }
  refreshOptions();

  render('questions', { title: t('questionsTitle'), subtitle: t('questionsIntro'), back: state.idx > 0 },
    form('questions', () => {
      const out = [];
      const seen = new Set();
      let firstBad = null;
      for (const b of blocks) {
        const isCustom = b.select.value === 'custom';
        const question = isCustom ? b.custom.value.trim()
          : b.select.value.startsWith('q:') ? list[Number(b.select.value.slice(2))] : '';
        let qMsg = '';
        let bad = null;
        const qLen = [...question].length;
        if (!b.select.value) { qMsg = t('chooseQuestion'); bad = b.select; }
        else if (isCustom && (qLen < 2 || qLen > 512)) { qMsg = t('questionLength'); bad = b.custom; }
        else if (seen.has(normalizeAnswer(question))) { qMsg = t('questionDuplicate'); bad = isCustom ? b.custom : b.select; }
        else if (normalizeAnswer(b.answer.value) === '') { qMsg = t('answerRequired'); bad = b.answer; }
        else if ([...b.answer.value].length > 512) { qMsg = t('tooLong'); bad = b.answer; }
        seen.add(normalizeAnswer(question));
        b.qErr.textContent = qMsg;
        for (const el of [b.select, b.custom, b.answer]) el.setAttribute('aria-invalid', el === bad ? 'true' : 'false');
        const hintOk = b.checkHint();
        if (!firstBad) firstBad = bad || (hintOk ? null : b.hint);
        out.push({ question, answer: b.answer.value, hint: b.hint.value.trim(), custom: isCustom });
      }
      state.values.questions = out;
      if (firstBad) {
        firstBad.focus();
        return;
      }
      next();
    },
    ...blocks.map((b) => b.el),
    stepError(error),
    submitButton('questions', t('continue'))));
}

function renderSecurityConfirm({ error } = {}) {
  const ack = h('input', { id: 'ack', type: 'checkbox', 'aria-describedby': 'step-error' });
  const items = state.params.securityConfirmItems;
  render('security-confirm', { title: t('summaryTitle'), back: true },
    form('security-confirm', () => {
      if (!ack.checked) {
        setStepError(t('ackRequired'));
        ack.setAttribute('aria-invalid', 'true');
        ack.focus();
        return;
      }
      next();
    },
    h('ol', { id: 'summary', class: 'summary' }, state.values.questions.map((q) => h('li', {},
      h('span', { class: 'question-text' }, q.question),
      q.hint ? h('span', { class: 'hint-text' }, ` (${t('hintPrefix')}${q.hint})`) : null))),
    h('div', { class: 'warning', id: 'warning', role: 'note' },
      h('p', {}, h('strong', {}, t('confirmWarning'))),
      h('p', {}, t('confirmWarning2')),
      items.length ? h('ul', {}, items.map((s) => h('li', {}, s))) : null),
    h('label', { class: 'check', for: 'ack' }, ack, h('span', {}, t('ackLabel'))),
    stepError(error),
    submitButton('security-confirm', t('confirm'))));
  $('screen').querySelector('h1').focus();
}

function renderReview({ error } = {}) {
  const type = state.view.challenge.type;
  const key = `type${type}`;
  render('review', {
    title: Object.prototype.hasOwnProperty.call(STR, key) ? t(key) : t('reviewTitle'),
    subtitle: t('reviewSubtitle'),
    back: state.idx > 0,
  }, form('review', () => next(),
    renderSigning(state.view.signing, type),
    stepError(error),
    submitButton('review', t('approve'))));
}

// ── Submission ──────────────────────────────────────────────────────────────────────────
function plaintext() {
  const req = state.req;
  const v = state.values;
  const out = {};
  if (req.pin) out.pin = v.pin;
  if (req.newPin) out.newPin = v.newPin;
  if (req.securityQuestions) {
    out.securityQuestions = v.questions.map((q) => (q.hint ? { question: q.question, answer: q.answer, hint: q.hint }
      : { question: q.question, answer: q.answer }));
  }
  if (req.securityAnswers) out.securityAnswers = v.answers.slice();
  return out;
}

async function submit() {
  if (state.busy || state.finished) return;
  setBusy(true);
  let result;
  try {
    const encrypted = await encryptPayload(state.params.encryptionKey, state.params.challengeId, plaintext());
    result = await postEncrypted({ ...conn(), encrypted });
  } catch (e) {
    setBusy(false);
    onSubmitError(e);
    return;
  }
  setBusy(false);
  finishResult(result || {});
}

function onSubmitError(e) {
  const code = typeof e?.code === 'number' ? e.code : 155706;
  const v = state.values;
  switch (code) {
    case 155112: // wrong PIN: ask again, keep the rest
      if (typeof e.attemptsLeft === 'number') state.view.pinAttemptsLeft = e.attemptsLeft;
      v.pin = '';
      state.resumeAfter = 'enter-pin';
      if (goTo('enter-pin', { error: t('wrongPin') })) return;
      break;
    case 155115: // wrong answers
      if (typeof e.attemptsLeft === 'number') state.view.answerAttemptsLeft = e.attemptsLeft;
      v.answers = [];
      state.resumeAfter = 'answers';
      if (goTo('answers', { error: t('wrongAnswers') })) return;
      break;
    case 155119:
    case 155120:
      showLocked(e);
      return;
    case 155703:
    case 155704:
      v.newPin = '';
      state.resumeAfter = null;
      if (goTo('new-pin', { error: code === 155703 ? t('pinMismatch') : t('pinWeak') })) return;
      break;
    case 155705:
      state.resumeAfter = null;
      if (goTo('questions', { error: t('hintEqualsAnswer') })) return;
      break;
    case 2: {
      const loc = String(e.errors?.[0]?.location ?? '');
      const msg = e.errors?.[0]?.message || e.message;
      state.resumeAfter = null;
      if (loc.startsWith('securityQuestions') && goTo('questions', { error: msg })) return;
      if (loc.startsWith('securityAnswers') && goTo('answers', { error: msg })) return;
      if (loc === 'newPin' && goTo('new-pin', { error: /differ/i.test(msg) ? t('pinSameAsOld') : msg })) return;
      if (loc === 'pin' && goTo('enter-pin', { error: msg })) return;
      if (/newPin must differ/i.test(msg) && goTo('new-pin', { error: t('pinSameAsOld') })) return;
      setStepError(msg);
      return;
    }
    case 429:
    case 155713:
      setStepError(t('busy'));
      return;
    case 155706:
      setStepError(t('network'));
      return;
    default:
      if (code >= 500 && code < 600) {
        setStepError(`${t('errorTitle')} (${code}). ${t('busy')}`);
        return;
      }
  }
  fatal(e);
}

// ── Terminal screens ────────────────────────────────────────────────────────────────────
function fatal(e) {
  const code = typeof e?.code === 'number' ? e.code : 155706;
  const message = typeof e?.message === 'string' ? e.message : 'Unknown error';
  finishError({ code, message, attemptsLeft: e?.attemptsLeft, lockedExpiryDate: e?.lockedExpiryDate });
  renderError({ code, message }, true);
}

function friendly(code, message) {
  if (code === 155121) return t('expired');
  if (code === 155122) return t('invalid');
  if (code === 155706) return t('network');
  return message;
}

function renderError({ code, message }, _posted) {
  render('error', { title: t('errorTitle'), cancel: false },
    h('div', { class: 'big-icon bad', 'aria-hidden': 'true' }, '!'),
    h('p', { id: 'error-message', class: 'center', role: 'alert' }, friendly(code, message)),
    code !== undefined ? h('p', { id: 'error-code', class: 'help center' }, `Code ${code}`) : null);
}

function formatLocal(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const abs = new Intl.DateTimeFormat(undefined, sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  const mins = Math.round((d.getTime() - now.getTime()) / 60000);
  if (mins > 0 && mins < 24 * 60 && typeof Intl.RelativeTimeFormat === 'function') {
    const rel = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
    const relText = mins < 90 ? rel.format(mins, 'minute') : rel.format(Math.round(mins / 60), 'hour');
    return `${abs} (${relText})`;
  }
  return abs;
}

function showLocked(e) {
  const answers = e.code === 155120;
  const local = e.lockedExpiryDate ? formatLocal(e.lockedExpiryDate) : null;
  const error = { code: e.code, message: e.message || '', lockedExpiryDate: e.lockedExpiryDate };
  if (typeof e.attemptsLeft === 'number') error.attemptsLeft = e.attemptsLeft;
  let text;
  if (local) {
    const [before, after] = t('lockedUntil').split('{time}');
    text = h('p', { id: 'locked-message', role: 'alert' }, before,
      h('time', { id: 'locked-until', datetime: e.lockedExpiryDate }, local), after ?? '');
  } else {
    text = h('p', { id: 'locked-message', role: 'alert' }, t('lockedLater'));
  }
  render('locked', { title: answers ? t('lockedAnswersTitle') : t('lockedPinTitle'), cancel: false },
    h('div', { class: 'big-icon bad', 'aria-hidden': 'true' }, '!'),
    text,
    h('div', { class: 'actions' }, h('button', {
      type: 'button', id: 'close', class: 'primary',
      onclick: () => finishError(error),
    }, t('close'))));
  $('close').focus();
}

function showDone() {
  render('done', { title: t('doneTitle'), subtitle: t('doneSubtitle'), cancel: false },
    h('div', { id: 'done', class: 'big-icon ok', 'aria-hidden': 'true' }, '✓'));
  announce(t('doneTitle'));
}

boot();
