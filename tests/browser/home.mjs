// Opens slackdesk's home page (`/`) in headless Chromium, reports console errors and CSP
// violations, reads the checklist's state and keeps a full-page screenshot.
//
//   node tests/browser/home.mjs --url <http://127.0.0.1:PORT/> --screenshot <file.png>
//
// Prints one JSON line last: {"ok":bool,"error"?:string,"title":string,
//   "steps":{"public-url":bool,...},"console_errors":[...],"screenshot":string}

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CSP_LISTENER = `
  document.addEventListener('securitypolicyviolation', function (e) {
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)'));
  });
`;

function arg(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[at + 1];
}

function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main() {
  const consoleErrors = [];
  let context;
  let userDataDir;
  const watchdog = setTimeout(() => {
    emit({ ok: false, error: 'watchdog: no result after 60 s', console_errors: consoleErrors });
    process.exit(1);
  }, 60000);
  watchdog.unref();
  try {
    const url = arg('--url');
    const screenshot = arg('--screenshot');
    await mkdir(path.dirname(screenshot), { recursive: true });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'slackdesk-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 820 },
      timeout: 30000,
    });
    await context.addInitScript({ content: CSP_LISTENER });
    const page = context.pages()[0] || (await context.newPage());
    // A failed load is reported below with its URL; the browser's own /favicon.ico request
    // is not the page's (slackdesk serves no icon).
    page.on('response', (res) => {
      if (res.status() >= 400 && new URL(res.url()).pathname !== '/favicon.ico') {
        consoleErrors.push(`[response ${res.status()}]: ${res.url()}`);
      }
    });
    page.on('console', (msg) => {
      if (/^Failed to load resource/.test(msg.text())) return;
      if (msg.type() === 'error' || /content security policy/i.test(msg.text())) {
        consoleErrors.push(`[${msg.type()}]: ${msg.text().trim()}`);
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`[pageerror]: ${err.message}`));
    const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    const steps = await page.$$eval('li[id^="step-"]', (items) =>
      Object.fromEntries(items.map((li) => [li.id.slice(5), li.dataset.done === 'true'])));
    const styled = await page.$eval('main.page', (el) => getComputedStyle(el).maxWidth);
    await page.screenshot({ path: screenshot, fullPage: true });
    emit({
      ok: response !== null && response.status() === 200,
      status: response ? response.status() : null,
      title: await page.title(),
      stylesheet_applied: styled === '720px',
      steps,
      console_errors: consoleErrors,
      screenshot,
    });
  } catch (err) {
    emit({ ok: false, error: String(err && err.stack ? err.stack : err), console_errors: consoleErrors });
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

main();
