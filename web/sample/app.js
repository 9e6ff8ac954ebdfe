// latchkey sample app (served at /sample). Imports the web SDK from the server like an
// embedding app would, and, when the server runs with --dev, offers a developer console that
// creates a user + token and challenges through dev-only endpoints (no API key).
//
// Test hooks (id === data-testid):
//   #app-id #user-token #encryption-key #challenge-id #execute #result (pre, JSON) #form-error
//   #dev-console (hidden unless GET /v1/w3s/dev/status → {data:{dev:true}})
//   #dev-user-id #dev-create-user #dev-challenge-type #dev-create-challenge #dev-status
//   #result gets {"result": {...}} or {"error": {...}}; body[data-state] is
//   idle | running | done | failed.
import { W3SSdk } from '/sdk/w3s.js';

const $ = (id) => document.getElementById(id);
const fields = {
  appId: $('app-id'),
  userToken: $('user-token'),
  encryptionKey: $('encryption-key'),
  challengeId: $('challenge-id'),
};

// serviceUrl is optional when the SDK comes from <serviceUrl>/sdk/w3s.js; shown here for clarity.
const sdk = new W3SSdk({ serviceUrl: window.location.origin });
let devMode = false;

function setState(s) {
  document.body.setAttribute('data-state', s);
}

function show(obj) {
  $('result').textContent = JSON.stringify(obj, null, 2);
}

function devStatus(text) {
  $('dev-status').textContent = text;
}

function execute() {
  const values = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()]));
  const missing = Object.entries(values).filter(([, v]) => !v).map(([k]) => fields[k].labels[0].textContent);
  if (missing.length) {
    $('form-error').textContent = `Fill in: ${missing.join(', ')}.`;
    fields[Object.keys(values).find((k) => !values[k])].focus();
    return;
  }
  $('form-error').textContent = '';
  sdk.setAppSettings({ appId: values.appId });
  sdk.setAuthentication({ userToken: values.userToken, encryptionKey: values.encryptionKey });
  setState('running');
  $('execute').disabled = true;
  show({ status: 'waiting for the user…' });
  sdk.execute(values.challengeId, (error, result) => {
    $('execute').disabled = false;
    if (error) {
      setState('failed');
      show({ error });
    } else {
      setState('done');
      show({ result });
      if (devMode && result?.status === 'COMPLETE') suggestNext(result.type);
    }
  });
}

// After a challenge, point the newcomer at the next step of the tour.
function suggestNext(type) {
  const nextType = { INITIALIZE: 'RESTORE_PIN', SET_PIN: 'CHANGE_PIN', CHANGE_PIN: 'RESTORE_PIN' }[type];
  if (!nextType) {
    devStatus(`${type} complete.`);
    return;
  }
  $('dev-challenge-type').value = nextType;
  devStatus(`${type} complete. Next: create a ${nextType} challenge.`);
}

// Forgot PIN: the page asks, the app creates a RESTORE_PIN challenge (your backend would call
// POST /v1/w3s/user/pin/restore) and executes it; the new page replaces the open one.
sdk.setOnForgotPin(async () => {
  if (!devMode) {
    sdk.close();
    show({ forgotPin: 'Create a RESTORE_PIN challenge (POST /v1/w3s/user/pin/restore) and execute it.' });
    return;
  }
  try {
    const { challengeId } = await devPost('/v1/w3s/dev/challenges', { userToken: fields.userToken.value.trim(), type: 'RESTORE_PIN' });
    fields.challengeId.value = challengeId;
    $('dev-challenge-type').value = 'RESTORE_PIN';
    devStatus('Forgot PIN: created a RESTORE_PIN challenge.');
    execute();
  } catch (e) {
    sdk.close();
    show({ error: { code: e.code, message: e.message } });
  }
});

async function devPost(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const json = await res.json().catch(() => null);
  if (!res.ok || !json || !json.data) {
    const err = new Error(json?.message || `HTTP ${res.status}`);
    err.code = json?.code ?? res.status;
    throw err;
  }
  return json.data;
}

async function withButton(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } catch (e) {
    devStatus(`Failed: ${e.message}${e.code ? ` (code ${e.code})` : ''}`);
  } finally {
    button.disabled = false;
  }
}

async function initDevConsole() {
  try {
    const res = await fetch('/v1/w3s/dev/status', { headers: { Accept: 'application/json' } });
    const json = res.ok ? await res.json() : null;
    devMode = json?.data?.dev === true;
  } catch {
    devMode = false;
  }
  $('dev-console').hidden = !devMode;
  if (!devMode) return;

  $('dev-create-user').addEventListener('click', (e) => withButton(e.currentTarget, async () => {
    const userId = $('dev-user-id').value.trim();
    const data = await devPost('/v1/w3s/dev/users', userId ? { userId } : {});
    fields.appId.value = data.appId ?? fields.appId.value;
    fields.userToken.value = data.userToken;
    fields.encryptionKey.value = data.encryptionKey;
    fields.challengeId.value = '';
    $('dev-user-id').value = data.userId ?? userId;
    $('dev-challenge-type').value = 'INITIALIZE';
    devStatus(`Created user ${data.userId} and a token. Next: create an INITIALIZE challenge.`);
  }));

  $('dev-create-challenge').addEventListener('click', (e) => withButton(e.currentTarget, async () => {
    const userToken = fields.userToken.value.trim();
    if (!userToken) {
      devStatus('Create a user + token first (or paste a User Token).');
      fields.userToken.focus();
      return;
    }
    const type = $('dev-challenge-type').value;
    const data = await devPost('/v1/w3s/dev/challenges', { userToken, type });
    fields.challengeId.value = data.challengeId;
    devStatus(`Created a ${type} challenge. Press Execute.`);
    $('execute').focus();
  }));
}

$('execute-form').addEventListener('submit', (e) => {
  e.preventDefault();
  execute();
});
setState('idle');
initDevConsole();
