#!/usr/bin/env node
// Day one for a Zendesk admin, in headless Chromium (issue 13, "Tests and proof"): from an
// empty database, follow slackdesk's setup checklist by clicking links and filling forms,
// against the fake Slack and Zendesk that tests/api/journey.rs starts on loopback.
//
//   1. /: the checklist's state, the Slack create-app link (read, not followed: it leads
//      to api.slack.com), the Zendesk app download;
//   2. the Channel Framework admin UI framed by a stand-in Zendesk Admin Center (another
//      site: --zendesk-host-name resolves to loopback): Connect a
//      Slack workspace in a new tab (the fake Slack's consent page), show its channels,
//      tick one, save; the browser lands on Zendesk's return_url;
//   3. / → Sign in with Zendesk (the fake Zendesk's consent page) → /zendesk/setup, then
//      Connect with Zendesk OAuth in a new tab, and the setup page shows it working;
//   4. Routing → New queue, the view picked by its title;
//   5. the same-agent rule on: slackdesk makes the webhook and trigger in Zendesk;
//   6. /: every step that should be done is done.
//
// Every page gets a screenshot, <screenshot-dir>/journey-NN-name.png (older journey-*.png
// there are removed first). The first thing the admin would not see stops the journey
// with the step's name, the page and a last screenshot.
//
// Usage: node journey.mjs --app <http://127.0.0.1:PORT> --public-url <https://...>
//          --host-page <zendesk_host.html?...> --zendesk-host-name <acme.zendesk.test>
//          --return-url <url> --subdomain <acme>
//          --account-name <text> --channel-name <name> --channel-key <TEAM:CHANNEL>
//          --view-title <text> --view-id <n> --queue-name <text>
//          --webhooks-automatic <true|false> --screenshot-dir <dir> --download-dir <dir>
//          [--timeout-ms <per wait, default 10000>]
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).
//
// Output: one JSON line on stdout, last:
//   {"ok":bool,"step":..., "error"?:..., "page_url"?:..., "seen":{...},
//    "console_errors":[...], "offsite_requests":[...], "screenshots":[...]}

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, readdir, rm, readFile } from 'node:fs/promises';
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
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' +
      (e.blockedURI || '(inline)') + ' in ' + e.documentURI);
  });
`;

const FLAGS = {
  '--app': 'app',
  '--public-url': 'publicUrl',
  '--host-page': 'hostPage',
  '--zendesk-host-name': 'zendeskHostName',
  '--return-url': 'returnUrl',
  '--subdomain': 'subdomain',
  '--account-name': 'accountName',
  '--channel-name': 'channelName',
  '--channel-key': 'channelKey',
  '--view-title': 'viewTitle',
  '--view-id': 'viewId',
  '--queue-name': 'queueName',
  '--webhooks-automatic': 'webhooksAutomatic',
  '--screenshot-dir': 'screenshotDir',
  '--download-dir': 'downloadDir',
  '--timeout-ms': 'timeoutMs',
};

function parseArgs(argv) {
  const opts = { timeoutMs: '10000' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = FLAGS[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${JSON.stringify(argv[i])}`);
    opts[key] = argv[i + 1];
  }
  for (const [flag, key] of Object.entries(FLAGS)) {
    if (opts[key] === undefined) throw new Error(`missing ${flag}`);
  }
  opts.timeoutMs = Number(opts.timeoutMs);
  opts.webhooksAutomatic = opts.webhooksAutomatic === 'true';
  return opts;
}

function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function errorText(err) {
  return String(err && err.message ? err.message : err).replace(/\u001b\[[0-9;]*m/g, '').trim();
}

/// Fails the current step with what the admin would have expected to see.
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const opts = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (err) {
    emit({ ok: false, step: 'arguments', error: errorText(err), console_errors: [], offsite_requests: [], screenshots: [] });
    process.exit(1);
  }
})();

const consoleErrors = [];
const offsite = [];
const screenshots = [];
const seen = {};
let currentStep = 'start';
let lastPage = null;
let shotNumber = 0;

// What a page says, on one line, cut to `n` characters (for error messages).
function excerpt(text, n = 400) {
  return String(text || '').replace(/\s+/g, ' ').trim().slice(0, n);
}

// A framed page scrolls inside its iframe, which a screenshot of the host page cuts off:
// the stand-in Zendesk's iframe is grown to its content first.
async function growFrame(page) {
  const frame = page.frame({ name: 'integration' });
  if (!frame) return;
  const height = await frame.evaluate(() => document.documentElement.scrollHeight).catch(() => null);
  if (height) await page.$eval('#integration', (el, h) => { el.style.height = `${h + 20}px`; }, height);
}

async function shoot(page, name) {
  await growFrame(page).catch(() => {});
  shotNumber += 1;
  const file = path.join(opts.screenshotDir, `journey-${String(shotNumber).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

function watch(page) {
  lastPage = page;
  page.setDefaultTimeout(opts.timeoutMs);
  page.on('console', (msg) => {
    const text = msg.text();
    if (/^Failed to load resource/.test(text)) return; // reported by 'response' below
    if (msg.type() === 'error' || /content security policy/i.test(text)) {
      const where = msg.location() && msg.location().url ? ` ${msg.location().url}` : '';
      consoleErrors.push(`[${currentStep}] [${msg.type()}]${where}: ${text.trim()}`);
    }
  });
  page.on('pageerror', (err) => consoleErrors.push(`[${currentStep}] [pageerror] ${err.message}`));
  page.on('response', (res) => {
    const url = new URL(res.url());
    // The fakes answer the OAuth consent with 400 only when slackdesk asked wrongly.
    if (res.status() >= 400 && url.pathname !== '/favicon.ico') {
      consoleErrors.push(`[${currentStep}] [response ${res.status()}] ${url.origin}${url.pathname}`);
    }
  });
}

// A checklist as the admin reads it: step name → the label in front of it ("Done",
// "To do", "Optional", "In use"), checked against the page's own data-done when it has one.
async function checklist(page, selector) {
  const steps = await page.$$eval(selector, (items) => items.map((li) => ({
    name: li.id.slice(5),
    label: ((li.querySelector('span') || {}).innerText || '').replace(/:$/, '').trim(),
    visible: li.checkVisibility(),
    done: li.dataset.done,
  })));
  const result = {};
  for (const step of steps) {
    expect(step.visible, `checklist step "${step.name}" is not visible`);
    if (step.done !== undefined) {
      expect((step.done === 'true') === (step.label === 'Done' || step.label === 'In use'),
        `checklist step "${step.name}" reads "${step.label}" but is marked data-done=${step.done}`);
    }
    result[step.name] = step.label;
  }
  return result;
}

const homeSteps = (page) => checklist(page, 'ol.checklist > li[id^="step-"]');
const setupSteps = (page) => checklist(page, '#account-checklist > li[id^="step-"]');
const DONE = 'Done';
const TODO = 'To do';
const OPTIONAL = 'Optional';

function expectSteps(actual, wanted, where) {
  for (const [name, value] of Object.entries(wanted)) {
    expect(actual[name] === value,
      `${where}: step "${name}" should show ${JSON.stringify(value)}, it shows ` +
      `${JSON.stringify(actual[name])} (all: ${JSON.stringify(actual)})`);
  }
}

/// Clicks `locator` (a link with target=_blank) and returns the new tab, loaded.
async function openInNewTab(context, locator) {
  const [tab] = await Promise.all([context.waitForEvent('page'), locator.click()]);
  watch(tab);
  await tab.waitForLoadState('load');
  return tab;
}

/// On a fake consent page (Zendesk's or Slack's), checks what is asked and clicks Allow.
async function allowOnConsentPage(tab, who, name) {
  await tab.locator('#allow').waitFor({ state: 'visible' }).catch(async () => {
    const text = await tab.locator('body').innerText().catch(() => '');
    throw new Error(`${who}'s consent page did not offer "Allow" at ${tab.url()}: ${excerpt(text, 300)}`);
  });
  expect((await tab.title()).startsWith(who), `expected ${who}'s consent page, got "${await tab.title()}"`);
  await shoot(tab, name);
  await tab.locator('#allow').click();
}

// ----------------------------------------------------------------------------------------
// The steps.

async function stepHome(page) {
  currentStep = '1 home page';
  const response = await page.goto(`${opts.app}/`);
  expect(response && response.status() === 200, `/ answered ${response && response.status()}`);
  expect((await page.locator('h1').innerText()) === 'slackdesk', 'the home page says what it is');
  const steps = await homeSteps(page);
  seen.home_before = steps;
  expectSteps(steps, {
    'public-url': DONE,
    'slack-app': DONE,
    'zendesk-app': DONE,
    accounts: TODO,
    'slack-workspace': TODO,
    webhooks: TODO,
    workers: DONE,
    database: 'In use',
  }, 'on an empty database, /');
  await shoot(page, 'home-empty');

  // The Slack app: a one-click link to Slack's "create from manifest". Not followed.
  const create = page.locator('#slack-create-app');
  expect(await create.isVisible(), 'the "Create the Slack app from its manifest" link is shown');
  const link = await create.getAttribute('href');
  const prefix = 'https://api.slack.com/apps?new_app=1&manifest_json=';
  expect(link && link.startsWith(prefix), `the Slack link goes to Slack's manifest page: ${link}`);
  const manifest = JSON.parse(decodeURIComponent(link.slice(prefix.length)));
  expect(manifest.settings.event_subscriptions.request_url === `${opts.publicUrl}/slack/events`,
    `the Slack manifest's event URL is this deployment's: ${manifest.settings.event_subscriptions.request_url}`);
  seen.slack_create_app_link = link;

  // The Zendesk app: downloaded as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the Zendesk app' }).click(),
  ]);
  expect(!(await download.failure()), `the Zendesk app download failed: ${await download.failure()}`);
  const file = path.join(opts.downloadDir, download.suggestedFilename());
  await download.saveAs(file);
  const head = (await readFile(file)).subarray(0, 4);
  expect(head.equals(Buffer.from('PK\x03\x04', 'latin1')), `the download ${download.suggestedFilename()} is a zip`);
  seen.zendesk_app_file = file;
  seen.zendesk_app_name = download.suggestedFilename();
}

async function stepAdminUi(context, page) {
  currentStep = '2 admin UI in Zendesk';
  await page.goto(opts.hostPage);
  expect((await page.getAttribute('body', 'data-host-state')) === 'submitted',
    `the stand-in Zendesk did not post the admin UI: ${await page.textContent('#status')}`);
  const admin = page.frameLocator('#integration');
  await admin.locator('#settings-form').waitFor({ state: 'visible' }).catch(() => {
    const frame = page.frame({ name: 'integration' });
    throw new Error(`the admin UI did not appear in Zendesk's iframe (frame at ${frame && frame.url()}; ` +
      'chrome-error:// means frame-ancestors refused it)');
  });
  const frameText = await admin.locator('body').innerText();
  expect(frameText.includes('new integration'), 'the admin UI says it is a new integration');
  expect(frameText.includes('(available)'), 'push delivery is offered as available (Zendesk sent a push token)');
  expect(frameText.includes('No Slack workspace is connected'), 'the admin UI says no workspace is connected yet');
  await admin.getByLabel('Integration account name').fill(opts.accountName);
  await admin.getByLabel('Tags for new tickets').fill('slack journey');
  await shoot(page, 'admin-ui-new');

  // Connect Slack in a new tab, as the page says.
  const tab = await openInNewTab(context, admin.getByRole('link', { name: 'Connect a Slack workspace' }));
  await allowOnConsentPage(tab, 'Slack', 'slack-consent');
  await tab.waitForLoadState('load');
  const connected = await tab.locator('h1').innerText();
  expect(connected === 'Slack is connected', `after Slack's consent the tab says "${connected}": ${excerpt(await tab.locator('body').innerText())}`);
  expect(tab.url().startsWith(`${opts.app}/slack/oauth/callback`), `Slack came back to slackdesk: ${tab.url()}`);
  await shoot(tab, 'slack-connected');
  await tab.close();
  lastPage = page;

  // Back in Zendesk's frame: show the new workspace's channels; what was typed is kept.
  await admin.getByRole('button', { name: 'Show the channels of a workspace just connected' }).click();
  const tick = admin.getByLabel(`#${opts.channelName}`);
  await tick.waitFor({ state: 'visible' }).catch(async () => {
    throw new Error(`channel #${opts.channelName} is not offered: ${excerpt(await admin.locator('body').innerText(), 600)}`);
  });
  expect((await admin.getByLabel('Integration account name').inputValue()) === opts.accountName,
    'the account name typed before connecting Slack is kept');
  expect((await tick.getAttribute('value')) === opts.channelKey, `the tick box links ${opts.channelKey}`);
  expect(!(await tick.isChecked()), 'no channel is ticked before the admin ticks it');
  await tick.check();
  await shoot(page, 'admin-ui-channel-ticked');

  // Save: slackdesk's page auto-submits name + metadata to Zendesk's return_url.
  const returned = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame.name() === 'integration' && frame.url().startsWith(opts.returnUrl),
  });
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await returned.catch(async () => {
    const frame = page.frame({ name: 'integration' });
    const text = frame ? await frame.locator('body').innerText().catch(() => '') : '';
    throw new Error(`saving did not lead back to Zendesk's return_url (frame at ${frame && frame.url()}): ${excerpt(text)}`);
  });
  await admin.locator('#zendesk-saved').waitFor({ state: 'visible' });
  await shoot(page, 'admin-ui-saved');
}

async function stepSignIn(context, page) {
  currentStep = '3 sign in with Zendesk';
  await page.goto(`${opts.app}/`);
  const steps = await homeSteps(page);
  expectSteps(steps, { accounts: DONE, 'slack-workspace': DONE }, 'after saving the admin UI, /');
  const form = page.locator('#zendesk-sign-in');
  expect(await form.isVisible(), '"Sign in with Zendesk" is offered on /');
  await form.getByLabel('Your Zendesk subdomain').fill(opts.subdomain);
  await shoot(page, 'home-sign-in');
  await form.getByRole('button', { name: 'Sign in with Zendesk' }).click();
  await allowOnConsentPage(page, 'Zendesk', 'zendesk-consent-sign-in');
  await page.waitForURL(`${opts.app}/zendesk/setup`).catch(async () => {
    throw new Error(`signing in did not open the account's setup page (at ${page.url()}): ` +
      `${excerpt(await page.locator('body').innerText().catch(() => ''))}`);
  });
  expect((await page.locator('h1').innerText()) === `Setup of ${opts.subdomain}`, 'the setup page names the account');
  let setup = await setupSteps(page);
  seen.setup_signed_in = setup;
  // Signing in also connected the account's REST API (it had no connection): one
  // Zendesk consent for both.
  expectSteps(setup, { rest: DONE, accounts: DONE, slack: DONE, agents: DONE, routing: OPTIONAL, webhooks: DONE },
    'signed in, /zendesk/setup');
  expect((await page.locator('#zendesk-connection').getAttribute('data-health')) === 'active',
    'the REST connection is shown as working, made by the sign-in');
  const notice = await page.locator('#zendesk-connection').innerText();
  expect(/current token until .* UTC/.test(notice), `the page says when the token expires: ${notice}`);
  expect((await page.getByRole('link', { name: 'Connect with Zendesk OAuth' }).count()) === 0,
    'no second consent is asked for');
  await shoot(page, 'setup-signed-in');
}

async function stepQueue(page) {
  currentStep = '4 routing queue';
  await page.getByRole('link', { name: 'Make or change queues' }).click();
  await page.waitForURL(`${opts.app}/zendesk/routing`);
  await shoot(page, 'routing');
  await page.getByRole('link', { name: 'New queue' }).click();
  await page.waitForURL(`${opts.app}/zendesk/routing/queues/new`);
  const picker = page.locator('#view-picker');
  await picker.waitFor({ state: 'visible' }).catch(async () => {
    throw new Error(`the queue form has no view picker: ${excerpt(await page.locator('form').first().innerText())}`);
  });
  const options = await picker.locator('option').allInnerTexts();
  const label = `${opts.viewTitle} (${opts.viewId})`;
  expect(options.includes(label), `the view picker offers "${label}": ${JSON.stringify(options)}`);
  await page.getByLabel('Name').fill(opts.queueName);
  await picker.selectOption({ label });
  await shoot(page, 'queue-form');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/zendesk\/routing\?saved=1$/);
  const row = page.locator('table.grid tbody tr', { hasText: opts.queueName });
  expect((await row.count()) === 1, `the new queue "${opts.queueName}" is listed`);
  seen.queue_row = await row.innerText();
  expect(seen.queue_row.includes(opts.viewTitle), `the queue list names its view: ${seen.queue_row}`);
  await shoot(page, 'routing-queue-saved');

  await page.getByRole('link', { name: 'Setup', exact: true }).click();
  await page.waitForURL(`${opts.app}/zendesk/setup`);
  const setup = await setupSteps(page);
  seen.setup_with_queue = setup;
  expectSteps(setup, { routing: DONE, webhooks: opts.webhooksAutomatic ? DONE : OPTIONAL },
    'after making a queue, /zendesk/setup');
  await shoot(page, 'setup-with-queue');
}

// Step 5: the admin turns on a feature that needs a webhook; slackdesk makes it.
async function stepWebhooksAndTriggers(page) {
  currentStep = '5 webhooks and triggers';
  if (!opts.webhooksAutomatic) {
    seen.webhooks = 'skipped';
    return;
  }
  // The admin turns on a feature that needs Zendesk to call slackdesk: the same-agent
  // rule. slackdesk makes the webhook and its trigger itself; nobody copies a secret.
  await page.goto(`${opts.app}/zendesk/routing/settings`);
  await page.waitForURL(`${opts.app}/zendesk/routing/settings`);
  await shoot(page, 'routing-settings');
  await page.getByLabel("Give a requester's new ticket to the agent who had their previous ones").check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/zendesk\/routing\/settings/);
  const hook = page.locator('#hook-same_agent');
  await hook.waitFor({ state: 'visible' });
  const state = await hook.getAttribute('data-state');
  seen.webhooks = { same_agent: state, text: excerpt(await hook.innerText()) };
  expect(state === 'present', `the same-agent webhook and trigger are made in Zendesk: ${seen.webhooks.text}`);
  await shoot(page, 'routing-settings-hooks-made');

  await page.getByRole('link', { name: 'Setup', exact: true }).click();
  await page.waitForURL(`${opts.app}/zendesk/setup`);
  const setup = await setupSteps(page);
  seen.setup_with_hooks = setup;
  expectSteps(setup, { webhooks: DONE }, 'after the same-agent rule is on, /zendesk/setup');
  const text = await page.locator('#step-webhooks').innerText();
  expect(/present in Zendesk/i.test(text), `the setup page says the webhook is in Zendesk: ${text}`);
}

async function stepHomeDone(page) {
  currentStep = '6 home page, set up';
  await page.getByRole('link', { name: 'the home page' }).click();
  await page.waitForURL(`${opts.app}/`);
  const steps = await homeSteps(page);
  seen.home_after = steps;
  expectSteps(steps, {
    'public-url': DONE,
    'slack-app': DONE,
    'zendesk-app': DONE,
    accounts: DONE,
    'slack-workspace': DONE,
    webhooks: opts.webhooksAutomatic ? DONE : TODO,
    workers: DONE,
  }, 'after setup, /');
  const text = await page.locator('#step-slack-workspace').innerText();
  expect(text.includes('1 workspaces, 1 channels'), `the Slack step counts what was connected: ${text}`);
  await shoot(page, 'home-set-up');
}

// ----------------------------------------------------------------------------------------

async function main() {
  let context;
  let userDataDir;
  const watchdog = setTimeout(() => {
    emit({ ok: false, step: currentStep, error: 'watchdog: the journey took over 50 s', seen,
      console_errors: consoleErrors, offsite_requests: offsite, screenshots });
    process.exit(1);
  }, 50000);
  watchdog.unref();
  try {
    await mkdir(opts.screenshotDir, { recursive: true });
    for (const old of await readdir(opts.screenshotDir)) {
      if (/^journey-\d+-.*\.png$/.test(old)) await rm(path.join(opts.screenshotDir, old));
    }
    await mkdir(opts.downloadDir, { recursive: true });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'slackdesk-journey-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        // The stand-in Zendesk is another site on loopback; nothing else resolves, so a
        // link that leads off this machine fails loudly.
        `--host-resolver-rules=MAP ${opts.zendeskHostName} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
      ],
      viewport: { width: 1000, height: 820 },
      acceptDownloads: true,
      timeout: 30000,
    });
    await context.addInitScript({ content: CSP_LISTENER });
    context.on('request', (req) => {
      const url = new URL(req.url());
      if (!['http:', 'https:'].includes(url.protocol)) return;
      if (url.hostname !== '127.0.0.1' && url.hostname !== opts.zendeskHostName) offsite.push(`[${currentStep}] ${url.origin}${url.pathname}`);
    });
    const page = context.pages()[0] || (await context.newPage());
    watch(page);

    await stepHome(page);
    await stepAdminUi(context, page);
    await stepSignIn(context, page);
    await stepQueue(page);
    await stepWebhooksAndTriggers(page);
    await stepHomeDone(page);

    currentStep = 'done';
    emit({ ok: true, step: currentStep, seen, console_errors: consoleErrors, offsite_requests: offsite, screenshots });
  } catch (err) {
    let pageUrl = null;
    if (lastPage && !lastPage.isClosed()) {
      pageUrl = lastPage.url();
      await shoot(lastPage, 'failure').catch(() => {});
    }
    emit({ ok: false, step: currentStep, error: errorText(err), page_url: pageUrl, seen,
      console_errors: consoleErrors, offsite_requests: offsite, screenshots });
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    clearTimeout(watchdog);
  }
}

await main();
