#!/usr/bin/env node
// Drives slackdesk's Channel Framework admin UI the way a Zendesk admin does, in headless
// Chromium: zendesk_host.html POSTs the account fields into an iframe named "integration",
// this script fills in the account name, saves, and waits until slackdesk's auto-submitting
// form has sent the browser to return_url.
//
// Usage:
//   node admin_ui.mjs --host-page <url of zendesk_host.html?...> --account-name <text> \
//                     --return-url <url> --screenshot-dir <dir> \
//                     [--timeout-ms <ms, default 15000>] [--resolve-to-loopback <hostname>]...
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).
//
// Output: exactly one JSON line on stdout.
//   success (exit 0): {"ok":true,"frame_url":...,"initial_name":...,"frame_text":...,
//                      "console_errors":[...],"screenshots":[...]}
//   failure (exit 1): {"ok":false,"error":...,"frame_url":...,"console_errors":[...],
//                      "screenshots":[...]}
// console_errors lists browser console errors, uncaught page errors and every console message
// that mentions a Content Security Policy (a frame-ancestors or script-src mistake shows up
// here), from the host page and from the framed admin UI.
//
// --resolve-to-loopback NAME makes Chromium resolve NAME (e.g. acme.zendesk.test) to
// 127.0.0.1, so a host page served from http://NAME:PORT/ frames the admin UI from another
// *site*, as in production (127.0.0.1 on two ports is the same site for cookies).

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';

const USAGE =
  'usage: node admin_ui.mjs --host-page <url> --account-name <text> --return-url <url> ' +
  '--screenshot-dir <dir> [--timeout-ms <ms>] [--resolve-to-loopback <hostname>]...';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function parseArgs(argv) {
  const opts = { timeoutMs: 15000, loopbackHosts: [] };
  const takesValue = {
    '--host-page': 'hostPage',
    '--account-name': 'accountName',
    '--return-url': 'returnUrl',
    '--screenshot-dir': 'screenshotDir',
    '--timeout-ms': 'timeoutMs',
    '--resolve-to-loopback': 'loopbackHosts',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '-h' || flag === '--help') {
      process.stderr.write(USAGE + '\n');
      process.exit(0);
    }
    const key = takesValue[flag];
    if (!key) throw new Error(`unknown argument ${JSON.stringify(flag)}; ${USAGE}`);
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value; ${USAGE}`);
    const value = argv[++i];
    if (key === 'loopbackHosts') {
      if (!/^[A-Za-z0-9.-]+$/.test(value)) throw new Error(`bad hostname for ${flag}: ${value}`);
      opts.loopbackHosts.push(value);
    } else if (key === 'timeoutMs') {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`bad ${flag}: ${value}`);
      opts.timeoutMs = n;
    } else {
      opts[key] = value;
    }
  }
  for (const [flag, key] of Object.entries(takesValue)) {
    if (key === 'timeoutMs' || key === 'loopbackHosts') continue;
    if (opts[key] === undefined) throw new Error(`missing ${flag}; ${USAGE}`);
  }
  new URL(opts.hostPage); // throws on a malformed URL
  new URL(opts.returnUrl);
  return opts;
}

function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// Playwright's messages carry terminal colour codes; keep the JSON plain.
function errorText(err) {
  const text = String(err && err.message ? err.message : err);
  return text.replace(/\u001b\[[0-9;]*m/g, '').trim();
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs in every document, the cross-origin admin UI included: a CSP violation inside the
// framed page (an inline script blocked by script-src, say) is echoed to the console.
const CSP_LISTENER = `
  document.addEventListener('securitypolicyviolation', function (e) {
    console.error('CSP violation (securitypolicyviolation event): directive ' +
      e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
      ' in ' + e.documentURI + ' [disposition ' + e.disposition + ']');
  });
`;

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    emit({ ok: false, error: errorText(err), console_errors: [] });
    process.exitCode = 1;
    return;
  }

  const consoleErrors = [];
  const screenshots = [];
  let context;
  let page;
  let userDataDir;
  let frameUrl = null;

  const integrationFrame = async () => {
    const handle = await page.$('#integration');
    return handle ? handle.contentFrame() : null;
  };
  const currentFrameUrl = async () => {
    const frame = page ? await integrationFrame().catch(() => null) : null;
    return frame ? frame.url() : null;
  };
  const shoot = async (file) => {
    const target = path.join(opts.screenshotDir, file);
    await page.screenshot({ path: target, fullPage: true });
    screenshots.push(target);
  };

  // A hard stop, so a wedged browser can never hang the Rust test that runs this script.
  const watchdog = setTimeout(() => {
    emit({
      ok: false,
      error: `watchdog: no result after ${opts.timeoutMs * 3 + 30000} ms`,
      frame_url: frameUrl,
      console_errors: consoleErrors,
      screenshots,
    });
    process.exit(1);
  }, opts.timeoutMs * 3 + 30000);
  watchdog.unref();

  try {
    await mkdir(opts.screenshotDir, { recursive: true });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'slackdesk-chromium-'));
    const args = [...CHROMIUM_ARGS];
    if (opts.loopbackHosts.length > 0) {
      const rules = opts.loopbackHosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ');
      args.push(`--host-resolver-rules=${rules}`);
    }
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args,
      viewport: { width: 1000, height: 820 },
      timeout: 30000,
    });
    await context.addInitScript({ content: CSP_LISTENER });
    page = context.pages()[0] || (await context.newPage());

    page.on('console', (msg) => {
      const text = msg.text();
      if (msg.type() === 'error' || /content security policy/i.test(text)) {
        const where = msg.location() && msg.location().url ? ` ${msg.location().url}` : '';
        consoleErrors.push(`[${msg.type()}]${where}: ${text.trim()}`);
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`[pageerror] ${err.message}`));

    // 1. Open the host page; it POSTs into the iframe. Wait for slackdesk's form.
    const hostResponse = await page.goto(opts.hostPage, { waitUntil: 'load', timeout: opts.timeoutMs });
    if (hostResponse && !hostResponse.ok()) {
      throw new Error(`host page ${opts.hostPage} answered HTTP ${hostResponse.status()}`);
    }
    const hostState = await page.getAttribute('body', 'data-host-state');
    if (hostState !== 'submitted') {
      const status = await page.textContent('#status').catch(() => null);
      throw new Error(`host page did not submit: ${status}`);
    }
    const admin = page.frameLocator('#integration');
    const formDeadline = Date.now() + opts.timeoutMs;
    for (;;) {
      frameUrl = await currentFrameUrl();
      // A frame-ancestors (or X-Frame-Options) refusal or a network error parks the frame on
      // Chromium's error page: fail at once instead of waiting out the deadline.
      if (frameUrl && frameUrl.startsWith('chrome-error:')) {
        throw new Error(
          `the iframe shows Chromium's error page (${frameUrl}): the admin UI refused to be ` +
            'framed (CSP frame-ancestors / X-Frame-Options) or could not be loaded',
        );
      }
      if (await admin.locator('#settings-form').isVisible().catch(() => false)) break;
      if (Date.now() > formDeadline) {
        throw new Error(
          `the admin UI form #settings-form did not appear in the iframe within ` +
            `${opts.timeoutMs} ms (frame url ${frameUrl})`,
        );
      }
      await delay(100);
    }
    const nameInput = admin.locator('#settings-form input[name="name"]');
    const save = admin.locator('#save');
    if ((await nameInput.count()) !== 1) {
      throw new Error('expected exactly one input[name="name"] in #settings-form');
    }
    if ((await save.count()) !== 1) throw new Error('expected exactly one #save button');
    const initialName = await nameInput.inputValue();
    frameUrl = await currentFrameUrl();
    await shoot('01-admin-ui.png');

    // 2. Fill in the account name and save.
    await nameInput.fill(opts.accountName);
    await save.click({ timeout: opts.timeoutMs });

    // 3. slackdesk answers with a form that auto-submits to return_url. Poll the frame's URL.
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      frameUrl = await currentFrameUrl();
      if (frameUrl && frameUrl.startsWith(opts.returnUrl)) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the iframe did not reach return_url ${opts.returnUrl} within ${opts.timeoutMs} ms ` +
            `(it is at ${frameUrl}; see console_errors: a CSP script-src or form-action block ` +
            'of the auto-submitting form is a usual cause)',
        );
      }
      await delay(100);
    }
    const frame = await integrationFrame();
    await frame.waitForLoadState('load', { timeout: opts.timeoutMs });
    const frameText = (await frame.evaluate(() => (document.body ? document.body.innerText : '')))
      .slice(0, 2000);

    // 4. Screenshot after the return.
    await shoot('02-after-return.png');

    // 5. Report.
    emit({
      ok: true,
      frame_url: frameUrl,
      initial_name: initialName,
      frame_text: frameText,
      console_errors: consoleErrors,
      screenshots,
    });
  } catch (err) {
    if (page) {
      frameUrl = (await currentFrameUrl().catch(() => null)) || frameUrl;
      await shoot('99-failure.png').catch(() => {});
    }
    emit({
      ok: false,
      error: errorText(err),
      frame_url: frameUrl,
      console_errors: consoleErrors,
      screenshots,
    });
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    clearTimeout(watchdog);
  }
}

await main();
