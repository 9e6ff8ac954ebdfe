// Response headers of the hosted page, its scripts, the web SDK and the sample app; and the
// hosted page opened on its own (not by an app).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.js';
import { launchBrowser, shot } from '../lib/browser.js';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

/** A CSP header as { directive: [values] }. */
function parseCsp(header) {
  const out = {};
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = values;
  }
  return out;
}

async function head(path) {
  const res = await fetch(`${server.baseUrl}${path}`, { redirect: 'manual' });
  await res.arrayBuffer();
  return res;
}

describe('security headers', () => {
  for (const path of ['/pw/', '/pw/index.html', '/pw/app.js', '/pw/style.css', '/pw/strings.js']) {
    test(`${path}: CSP with frame-ancestors, script-src 'self', no 'unsafe-inline'; no-referrer; nosniff`, async () => {
      const res = await head(path);
      assert.equal(res.status, 200);
      const header = res.headers.get('content-security-policy');
      assert.ok(header, 'a Content-Security-Policy header');
      assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes/.test(header), header);
      const csp = parseCsp(header);
      assert.deepEqual(csp['script-src'], ["'self'"], header);
      assert.ok(csp['frame-ancestors'], `frame-ancestors in ${header}`);
      assert.ok(!csp['frame-ancestors'].includes('*'), `frame-ancestors is not a wildcard: ${header}`);
      // --dev lets local pages frame it.
      assert.ok(csp['frame-ancestors'].includes('http://127.0.0.1:*'), header);
      assert.ok(csp['frame-ancestors'].includes('http://localhost:*'), header);
      for (const d of ['default-src', 'connect-src', 'style-src']) {
        assert.ok(csp[d] && csp[d].every((v) => v === "'self'" || v === "'none'"), `${d} in ${header}`);
      }
      assert.deepEqual(csp['object-src'], ["'none'"], header);
      assert.deepEqual(csp['base-uri'], ["'none'"], header);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('content-type'), path.endsWith('.js') ? /^text\/javascript/
        : path.endsWith('.css') ? /^text\/css/ : /^text\/html/);
    });
  }

  test('/pw redirects to /pw/', async () => {
    const res = await head('/pw');
    assert.ok([301, 308].includes(res.status), String(res.status));
    assert.equal(new URL(res.headers.get('location'), server.baseUrl).pathname, '/pw/');
  });

  test('/sample/: strict CSP, may not be framed, no-referrer, nosniff', async () => {
    const res = await head('/sample/');
    assert.equal(res.status, 200);
    const header = res.headers.get('content-security-policy');
    assert.ok(header && !/unsafe-inline|unsafe-eval/.test(header), header);
    const csp = parseCsp(header);
    assert.deepEqual(csp['script-src'], ["'self'"], header);
    assert.deepEqual(csp['frame-ancestors'], ["'none'"], header);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  test('/sdk/w3s.js and /sdk/headless.js: importable from any origin, JavaScript, nosniff', async () => {
    for (const path of ['/sdk/w3s.js', '/sdk/headless.js']) {
      const res = await head(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type'), /^text\/javascript/, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  test('no path escapes the served folders', async () => {
    for (const path of [
      '/pw/..%2F..%2FCargo.toml', '/pw/%2e%2e%2Fsample%2Fapp.js', '/pw/..%2Fsample%2Fapp.js',
      '/sdk/..%2Fpackage.json', '/sdk/test%2Fheadless.test.js', '/sdk/package.json',
    ]) {
      const res = await head(path);
      assert.equal(res.status, 404, path);
    }
  });
});

describe('the hosted page on its own', () => {
  test('opened directly (not by an app), it says so and asks for nothing', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.baseUrl}/pw/`);
      await page.locator('#screen[data-screen="error"]').waitFor();
      assert.equal(await page.locator('#error-message').textContent(),
        'This page must be opened by an app through the latchkey web SDK.');
      assert.equal(await page.locator('input').count(), 0);
      assert.ok(!(await page.locator('#screen').textContent()).includes('null'));
      await shot(page, 'pw-not-framed');
    } finally {
      await browser.close();
    }
  });
});
