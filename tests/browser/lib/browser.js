// Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and helpers to drive the
// sample app (/sample/), the web SDK's overlay and the hosted PIN page (/pw/) inside it.
//
// Environment:
//   CHROMIUM_PATH   the browser binary (default /usr/bin/chromium)

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the tests save their screenshots (gitignored). */
export const screenshotDir = path.resolve(here, '..', 'screenshots');

export const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browser's time zone: not UTC, so that "local time" on the lock screen is visible. */
export const TIMEZONE = 'Asia/Tokyo';
export const LOCALE = 'en-US';

/**
 * Launches Chromium with a fresh profile. Returns { context, close }.
 * 800 px wide: the screenshots go into the docs as they are.
 */
export async function launchBrowser() {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'latchkey-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: ARGS,
      viewport: { width: 800, height: 900 },
      locale: LOCALE,
      timezoneId: TIMEZONE,
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(20_000);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records what a page does: every request (URL, method, headers, post body), console
 * messages and uncaught errors, from the page and all its frames.
 */
export function record(page) {
  const rec = { requests: [], console: [], errors: [] };
  page.on('request', (req) => {
    rec.requests.push({
      url: req.url(),
      method: req.method(),
      headers: req.headers(),
      postData: req.postData() ?? null,
      frameUrl: (() => { try { return req.frame().url(); } catch { return ''; } })(),
    });
  });
  page.on('console', (msg) => rec.console.push({ type: msg.type(), text: msg.text() }));
  page.on('pageerror', (err) => rec.errors.push(String(err?.stack || err)));
  return rec;
}


/**
 * Saves a screenshot of the viewport (or, with fullPage, the whole page) as
 * screenshots/<name>.png; returns the path. With top, the app's page is scrolled to its top
 * first (the SDK's overlay is fixed, so it stays where it is).
 */
export async function shot(page, name, { fullPage = false, top = false } = {}) {
  await mkdir(screenshotDir, { recursive: true });
  if (top) await page.evaluate(() => window.scrollTo(0, 0));
  const file = path.join(screenshotDir, `${name}.png`);
  // Let the focus ring and the fonts settle; no animations (reducedMotion).
  await page.waitForTimeout(50);
  await page.screenshot({ path: file, fullPage, animations: 'disabled', caret: 'hide' });
  return file;
}

// ── The hosted page inside the SDK's overlay ─────────────────────────────────────────────

/** The hosted page's frame (the SDK's iframe, id latchkey-iframe). */
export function pw(page) {
  return page.frameLocator('iframe#latchkey-iframe');
}

/** Waits until the hosted page shows screen `name` and no request is running. */
export async function waitScreen(page, name, { timeout = 20_000 } = {}) {
  const screen = pw(page).locator(`#screen[data-screen="${name}"][aria-busy="false"]`);
  try {
    await screen.waitFor({ state: 'visible', timeout });
  } catch (err) {
    const current = await pw(page).locator('#screen').getAttribute('data-screen', { timeout: 1000 }).catch(() => '?');
    const error = await pw(page).locator('#step-error, #error-message').allTextContents().catch(() => []);
    throw new Error(`expected screen "${name}", found "${current}" ${JSON.stringify(error)}: ${err.message}`);
  }
  // A value that slipped into the page as text (e.g. a null child) shows as a word.
  const text = (await screen.textContent()) ?? '';
  const junk = /\b(null|undefined|NaN)\b|\[object Object\]/.exec(text);
  if (junk) throw new Error(`screen "${name}" shows "${junk[0]}": ${text}`);
  return screen;
}

/** Types a PIN digit by digit (as a user would; the page checks as it goes). */
export async function typePin(page, id, pin) {
  const input = pw(page).locator(`#${id}`);
  await input.fill('');
  await input.pressSequentially(pin, { delay: 10 });
}

/** On the PIN screen: types `pin` and submits it. */
export async function enterPin(page, pin) {
  await waitScreen(page, 'enter-pin');
  await typePin(page, 'pin', pin);
  await pw(page).locator('#enter-pin-submit').click();
}

/** On the new-PIN screens: types `pin`, then types it again to confirm, submitting each. */
export async function chooseNewPin(page, pin) {
  await waitScreen(page, 'new-pin');
  await typePin(page, 'new-pin', pin);
  await pw(page).locator('#new-pin-submit').click();
  await waitScreen(page, 'confirm-pin');
  await typePin(page, 'confirm-pin', pin);
  await pw(page).locator('#confirm-pin-submit').click();
}

/** The text of an element of the hosted page ('' when absent). */
export async function pwText(page, selector) {
  const loc = pw(page).locator(selector);
  if ((await loc.count()) === 0) return '';
  return (await loc.first().textContent()) ?? '';
}

// ── The sample app ───────────────────────────────────────────────────────────────────────

/** Fills the sample app's four fields. */
export async function fillSample(page, { appId, userToken, encryptionKey, challengeId }) {
  await page.locator('#app-id').fill(appId);
  await page.locator('#user-token').fill(userToken);
  await page.locator('#encryption-key').fill(encryptionKey);
  await page.locator('#challenge-id').fill(challengeId);
}

/** Waits for the sample app to finish (body[data-state] done|failed) and returns #result's JSON. */
export async function sampleResult(page, { timeout = 20_000 } = {}) {
  await page.locator('body[data-state="done"], body[data-state="failed"]').waitFor({ state: 'attached', timeout });
  await page.locator('iframe#latchkey-iframe').waitFor({ state: 'detached', timeout });
  return JSON.parse(await page.locator('#result').textContent());
}
