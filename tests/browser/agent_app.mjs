#!/usr/bin/env node
// Drives slackdesk's Zendesk app in headless Chromium the way Zendesk hosts it: the app's
// locations are slackdesk's own pages with "signedUrls", so this script plays Zendesk's
// agent interface and POSTs a ZAF JWT for the signed-in user (RS256, signed with the test
// app key whose public half the fake Zendesk serves at apps/{id}/public_key.pem) to the
// location URL, as a form, like Zendesk does into the app's iframe. The ZAF SDK is
// replaced by zaf_stub.js, and this script plays Zendesk's proxy for
// client.request({secure:true}): it reads the installation's settings from the fake
// Zendesk (where slackdesk wrote the token) and fills {{setting.NAME}} in before sending
// the request to slackdesk.
//
// Steps: an admin opens the top bar and authorizes (a new tab runs the OAuth round trip);
// an agent changes their status and presses "Next ticket" while away (told why); a change
// made through the status API arrives as a notification; back online, the agent presses
// "Next ticket" and Zendesk is asked to open the ticket; an admin opens the status board,
// routing and the app settings from the nav bar and saves the settings.
//
// Usage:
//   node agent_app.mjs --service-url <slackdesk> --zendesk-base <fake Zendesk account URL>
//     --subdomain acme --installation-id <id> --app-id <id> --admin-id <id> --agent-id <id>
//     --api-key <status API key> --whitelist <host> --jwt-key-file <PKCS#8 PEM> --screenshot-dir <dir>
//     [--timeout-ms <ms, default 20000>]
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).
// Output: one JSON line on stdout: {"ok":true|false, ...} (see `report` below).

import { chromium } from 'playwright-core';
import { createSign } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';

const ZAF_SDK = 'https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js';
const STUB = path.join(path.dirname(new URL(import.meta.url).pathname), 'zaf_stub.js');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const FLAGS = {
  '--service-url': 'serviceUrl',
  '--zendesk-base': 'zendeskBase',
  '--subdomain': 'subdomain',
  '--installation-id': 'installationId',
  '--app-id': 'appId',
  '--admin-id': 'adminId',
  '--agent-id': 'agentId',
  '--api-key': 'apiKey',
  '--whitelist': 'whitelist',
  '--jwt-key-file': 'jwtKeyFile',
  '--screenshot-dir': 'screenshotDir',
  '--timeout-ms': 'timeoutMs',
};

function parseArgs(argv) {
  const opts = { timeoutMs: '20000' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = FLAGS[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    opts[key] = argv[i + 1];
  }
  for (const [flag, key] of Object.entries(FLAGS)) {
    if (opts[key] === undefined) throw new Error(`missing ${flag}`);
  }
  opts.timeoutMs = Number(opts.timeoutMs);
  return opts;
}

const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
const errorText = (err) =>
  String(err && err.message ? err.message : err).replace(/\u001b\[[0-9;]*m/g, '').trim();

const base64url = (data) => Buffer.from(data).toString('base64url');

// A ZAF JWT as Zendesk signs it for `userId` opening the app (claims per Zendesk's
// "Authenticating Zendesk in your server-side app").
function zafJwt(opts, privateKey, userId, location) {
  const now = Math.floor(Date.now() / 1000);
  const account = `${opts.subdomain}.zendesk.com`;
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256' }));
  const payload = base64url(JSON.stringify({
    iss: account,
    iat: now,
    exp: now + 300,
    aud: `https://${account}/api/v2/apps/installations/${opts.installationId}.json`,
    sub: `https://${account}/api/v2/users/${userId}.json`,
    qsh: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    cxt: { product: 'support', location },
  }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${signer.sign(privateKey).toString('base64url')}`;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    emit({ ok: false, error: errorText(err) });
    process.exitCode = 1;
    return;
  }
  const consoleErrors = [];
  const screenshots = [];
  const proxied = [];
  const texts = {};
  const calls = {};
  let context;
  let userDataDir;
  let token = null;
  const stub = await readFile(STUB, 'utf8');
  const privateKey = await readFile(opts.jwtKeyFile, 'utf8');
  const opened = [];
  const watchdog = setTimeout(() => {
    emit({ ok: false, error: 'watchdog: the run took too long', console_errors: consoleErrors, screenshots });
    process.exit(1);
  }, opts.timeoutMs * 8);
  watchdog.unref();

  // Zendesk's proxy: settings are read from the installation at request time.
  const installationSettings = async () => {
    const url = `${opts.zendeskBase}/api/v2/apps/installations/${opts.installationId}.json`;
    const response = await fetch(url);
    const body = await response.json();
    return (body.installation && body.installation.settings) || {};
  };
  const proxy = async (raw) => {
    const options = JSON.parse(raw);
    const url = new URL(options.url);
    const settings = options.secure && opts.whitelist === url.hostname ? await installationSettings() : {};
    if (settings.token) token = settings.token;
    const fill = (text) =>
      String(text).replace(/\{\{setting\.([A-Za-z0-9_]+)\}\}/g, (_, name) => (options.secure ? settings[name] || '' : ''));
    const headers = {};
    for (const [name, value] of Object.entries(options.headers || {})) headers[name] = fill(value);
    if (options.contentType) headers['Content-Type'] = options.contentType;
    const response = await fetch(fill(options.url), {
      method: options.type || 'GET',
      headers,
      body: options.data === undefined ? undefined : fill(options.data),
    });
    const body = await response.text();
    proxied.push({
      method: options.type || 'GET',
      path: url.pathname,
      status: response.status,
      token_filled_in: Boolean(headers.Authorization && headers.Authorization.startsWith('Bearer sdapp_')),
    });
    return { status: response.status, body };
  };

  const shoot = async (page, file) => {
    const target = path.join(opts.screenshotDir, file);
    await page.screenshot({ path: target, fullPage: true });
    screenshots.push(target);
  };
  const visible = (page, selector) =>
    page.waitForSelector(selector, { state: 'visible', timeout: opts.timeoutMs });
  const textOf = (page, selector) => page.textContent(selector).then((t) => (t || '').trim());

  // Opens one app location as `user` the way Zendesk does: a form POST of the signed
  // ZAF JWT to slackdesk's location URL (with Zendesk's origin and app_guid); the page's
  // console errors are collected.
  const openApp = async (name, location, user) => {
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`[${name}] ${msg.text().trim()}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`[${name} pageerror] ${err.message}`));
    await page.addInitScript((config) => { window.__zafConfig = config; }, {
      appId: Number(opts.appId),
      installationId: Number(opts.installationId),
      serviceUrl: opts.serviceUrl,
      subdomain: opts.subdomain,
      location,
      currentUser: user,
    });
    await page.exposeFunction('__zafProxy', proxy);
    await page.route(ZAF_SDK, (route) => route.fulfill({ status: 200, body: stub, contentType: 'text/javascript' }));
    const action = `${opts.serviceUrl}/zendesk/app/location/${location}?origin=${encodeURIComponent(`https://${opts.subdomain}.zendesk.com`)}&app_guid=stand-in-${location}`;
    await page.setContent('<form method="post"><input type="hidden" name="token"></form>');
    await page.evaluate(([url, jwt]) => {
      document.forms[0].action = url;
      document.forms[0].elements.token.value = jwt;
    }, [action, zafJwt(opts, privateKey, user.id, location)]);
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load', timeout: opts.timeoutMs }),
      page.evaluate(() => document.forms[0].submit()),
    ]);
    opened.push({
      name,
      status: response ? response.status() : 0,
      csp: response ? response.headers()['content-security-policy'] || '' : '',
      session: await page.evaluate(() => document.body.getAttribute('data-session') || ''),
    });
    return page;
  };

  // Clicks `selector` and follows the tab it opens until `done(tab)` holds.
  const followTab = async (page, selector, done) => {
    const [tab] = await Promise.all([context.waitForEvent('page', { timeout: opts.timeoutMs }), page.click(selector)]);
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      await tab.waitForLoadState('load', { timeout: opts.timeoutMs }).catch(() => {});
      if (await done(tab).catch(() => false)) return tab;
      if (Date.now() > deadline) throw new Error(`the tab opened by ${selector} stopped at ${tab.url()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // Presses "Next ticket" and returns the answer the page shows. This script clicks
  // faster than a person: an answer "too many requests" (the app's per-agent rate) is
  // pressed again until the deadline.
  const pressNext = async (page) => {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      await page.click('#next-ticket');
      await page.waitForFunction(() => {
        const line = document.getElementById('next-result');
        return !document.getElementById('next-ticket').disabled && !line.hidden && !line.textContent.startsWith('Finding');
      }, null, { timeout: opts.timeoutMs });
      const text = await textOf(page, '#next-result');
      if (!text.includes('too many requests')) return text;
      if (Date.now() > deadline) throw new Error('"Next ticket" stayed over the rate limit');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  try {
    await mkdir(opts.screenshotDir, { recursive: true });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'slackdesk-app-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 700 },
      timeout: 30000,
    });
    const admin = { id: Number(opts.adminId), role: 'admin' };
    const agent = { id: Number(opts.agentId), role: 'agent' };

    // 1. An admin opens the top bar before slackdesk is authorized, and authorizes.
    const adminTop = await openApp('admin top_bar', 'top_bar', admin);
    await visible(adminTop, '#authorize');
    await shoot(adminTop, '01-top-bar-not-authorized.png');
    const authorized = await followTab(adminTop, '#authorize', async (tab) =>
      (await tab.textContent('h1').catch(() => '')) === 'slackdesk is authorized');
    texts.authorized_tab = await textOf(authorized, 'main');
    await shoot(authorized, '02-authorized-tab.png');
    await authorized.close();
    await visible(adminTop, '#status-view');
    texts.admin_status = await textOf(adminTop, '#current-status');
    await shoot(adminTop, '03-top-bar-authorized.png');

    // 2. An agent opens the top bar (a heartbeat) and sets themself away.
    const agentTop = await openApp('agent top_bar', 'top_bar', agent);
    await visible(agentTop, '#status-view');
    texts.agent_status_before = await textOf(agentTop, '#current-status');
    await agentTop.click('[data-status="away"]');
    await agentTop.waitForFunction(() => document.getElementById('current-status').textContent === 'away', null, { timeout: opts.timeoutMs });
    texts.agent_status_after_click = await textOf(agentTop, '#current-status');
    texts.away_pressed = await agentTop.getAttribute('[data-status="away"]', 'aria-pressed');
    await shoot(agentTop, '04-agent-away.png');

    // 2b. Away, "Next ticket" gives nothing and says why.
    texts.next_while_away = await pressNext(agentTop);

    // 3. A script sets the agent offline through the status API with notify_app; Zendesk
    //    then delivers the app notification, which the stand-in fires.
    const changed = await fetch(`${opts.serviceUrl}/zendesk/user_statuses/create_many`, {
      method: 'POST',
      headers: { 'X-API-Key': opts.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_statuses: [{ user_id: agent.id, status: 'offline' }], notify_app: true }),
    });
    texts.create_many_status = changed.status;
    texts.handlers_fired = await agentTop.evaluate(
      (id) => window.__zafStub.trigger('api_notification.status_changed', { user_id: id, status: 'offline' }),
      agent.id,
    );
    await visible(agentTop, '#notice');
    await agentTop.waitForFunction(() => document.getElementById('current-status').textContent === 'offline', null, { timeout: opts.timeoutMs });
    texts.notice = await textOf(agentTop, '#notice');
    texts.agent_status_after_notice = await textOf(agentTop, '#current-status');
    await shoot(agentTop, '05-notification.png');

    // 3b. A change that brings no notification (automatic idle, a schedule, notify_app
    //     false) shows up at the next heartbeat; opening the app's pane sends one.
    const quiet = await fetch(`${opts.serviceUrl}/zendesk/user_statuses/create_many`, {
      method: 'POST',
      headers: { 'X-API-Key': opts.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_statuses: [{ user_id: agent.id, status: 'online' }], notify_app: false }),
    });
    texts.quiet_change_status = quiet.status;
    await agentTop.evaluate(() => window.__zafStub.trigger('pane.activated'));
    await agentTop.waitForFunction(() => document.getElementById('current-status').textContent === 'online', null, { timeout: opts.timeoutMs });
    texts.notice_after_heartbeat = await textOf(agentTop, '#notice');
    await shoot(agentTop, '05b-change-seen-at-heartbeat.png');

    // 3c. Online again: "Next ticket" assigns one and asks Zendesk to open it.
    texts.next_ticket = await pressNext(agentTop);
    texts.next_ticket_id = await agentTop.getAttribute('#next-result', 'data-ticket-id');
    texts.next_button_enabled = await agentTop.isEnabled('#next-ticket');
    await shoot(agentTop, '05c-next-ticket.png');

    // 4. An admin opens the admin pages from the nav bar.
    const nav = await openApp('admin nav_bar', 'nav_bar', admin);
    await visible(nav, '#admin-view');
    await shoot(nav, '06-nav-bar.png');
    const board = await followTab(nav, '[data-page="board"]', async (tab) =>
      new URL(tab.url()).pathname === '/zendesk/board' && (await tab.textContent('h1').catch(() => '')).startsWith('Status board'));
    texts.board_title = await textOf(board, 'h1');
    texts.board_rows = await textOf(board, '#rows');
    await shoot(board, '07-status-board.png');
    await board.close();
    const routing = await followTab(nav, '[data-page="routing"]', async (tab) => new URL(tab.url()).pathname === '/zendesk/routing');
    texts.routing_path = new URL(routing.url()).pathname;
    await routing.close();
    const settings = await followTab(nav, '[data-page="settings"]', async (tab) =>
      (await tab.textContent('h1').catch(() => '')).startsWith('Agent app settings'));
    texts.settings_title = await textOf(settings, 'h1');
    await shoot(settings, '08-app-settings.png');
    await Promise.all([settings.waitForNavigation({ timeout: opts.timeoutMs }), settings.click('button[type="submit"]')]);
    texts.settings_notice = await textOf(settings, '#notice');
    await shoot(settings, '09-app-settings-saved.png');

    // 4b. A forged JWT (signed with another key) gets no page and no session.
    const forged = await fetch(`${opts.serviceUrl}/zendesk/app/location/top_bar`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: zafJwt(opts, (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, admin.id, 'top_bar'),
      }),
    });
    texts.forged_status = forged.status;

    // 5. What the app pages called, and whether the token ever reached one of them.
    let leaked = false;
    for (const [name, page] of [['admin_top', adminTop], ['agent_top', agentTop], ['nav', nav]]) {
      calls[name] = await page.evaluate(() => window.__zafStub.calls);
      const seen = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify(window.__zafStub.calls));
      if (token && seen.includes(token)) leaked = true;
    }
    emit({
      ok: true,
      texts,
      calls,
      proxied,
      opened: opened.map((o) => ({ name: o.name, status: o.status, csp: o.csp, has_session: o.session.startsWith('sdses_') })),
      token_seen_by_proxy: Boolean(token),
      token_leaked_to_page: leaked,
      console_errors: consoleErrors,
      screenshots,
    });
  } catch (err) {
    for (const page of context ? context.pages() : []) {
      await shoot(page, `99-failure-${screenshots.length}.png`).catch(() => {});
    }
    emit({ ok: false, error: errorText(err), texts, proxied, console_errors: consoleErrors, screenshots });
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    clearTimeout(watchdog);
  }
}

await main();
