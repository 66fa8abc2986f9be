// End-to-end test of the demo chat in real headless Chromium.
//
//   node chat.e2e.mjs <server-url> <screenshot.png> [--kick <url>] [--no-websocket] [--transport sse]
//
// Opens two tabs on <server-url> (a Herald server serving the demo at /,
// herald.js at /herald.js and the WebSocket at /ws), joins one room under two
// names, sends a message from each, and checks that each tab shows the
// other's message and the connected state. With --kick, it then POSTs
// `<url>?client=<id of the first tab>` (the Go test mounts an endpoint that
// disconnects that client with a reconnect code), and checks that the tab
// reconnects, resubscribes and still receives. With --no-websocket, every
// tab's WebSocket constructor is removed before the page runs, so the SDK
// has to fall back to HTTP-streaming or SSE (the Go test counts which
// endpoints the tabs used). It saves a screenshot of the first tab and
// exits non-zero on any failure.
//
// Environment: HERALD_E2E_COLOR_SCHEME=dark renders the pages in dark mode;
// CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { assert, launchChromium, startWatchdog, step } from './harness.mjs';

const args = process.argv.slice(2);
const kickAt = args.indexOf('--kick');
const kickURL = kickAt >= 0 ? args.splice(kickAt, 2)[1] : '';
const noWSAt = args.indexOf('--no-websocket');
const noWebSocket = noWSAt >= 0 && args.splice(noWSAt, 1).length > 0;
// --transport T opens the demo with ?transport=T, which makes the SDK use T.
const transportAt = args.indexOf('--transport');
const transport = transportAt >= 0 ? args.splice(transportAt, 2)[1] : '';
const [serverURL, screenshotPath] = args;
if (!serverURL || !screenshotPath) {
  console.error('usage: node chat.e2e.mjs <server-url> <screenshot.png> [--kick <url>]');
  process.exit(2);
}

const TIMEOUT = 15_000; // for each wait
const stopWatchdog = startWatchdog(90_000, 'the test');

const room = `e2e-${Math.random().toString(36).slice(2, 8)}`;
const log = [];
let browser;
let pageA;


async function openTab(context, label) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => log.push(`[${label} console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (err) => {
    log.push(`[${label} pageerror] ${err.stack || err}`);
    page.__errors = (page.__errors || 0) + 1;
  });
  page.on('requestfailed', (r) => log.push(`[${label} requestfailed] ${r.url()} ${r.failure()?.errorText}`));
  const res = await page.goto(transport ? `${serverURL}?transport=${transport}` : serverURL, { waitUntil: 'load' });
  assert(res && res.ok(), `${label}: GET ${serverURL} answered ${res && res.status()}`);
  return page;
}

async function waitForState(page, label, state) {
  await page.locator(`#status[data-state="${state}"]`).waitFor({ timeout: TIMEOUT }).catch(async () => {
    const now = await page.locator('#status').getAttribute('data-state');
    throw new Error(`${label}: connection state is "${now}", want "${state}"`);
  });
  const text = (await page.locator('#status').innerText()).trim();
  assert(text.toLowerCase() === state, `${label}: status label is "${text}", want "${state}"`);
}

async function join(page, label, name) {
  await page.locator('#name').fill(name);
  await page.locator('#room').fill(room);
  await page.locator('#join-button').click();
  await page.locator('#chat').waitFor({ state: 'visible' });
  // data-ready is set once the server confirmed the subscription.
  await page.locator('#composer[data-ready="true"]').waitFor();
  const title = await page.locator('#room-title').innerText();
  assert(title === `#${room}`, `${label}: room title is "${title}", want "#${room}"`);
}

async function say(page, text) {
  const input = page.locator('#text');
  await input.fill(text);
  await input.press('Enter'); // Enter sends
  assert((await input.inputValue()) === '', 'the input was not cleared after sending');
}

// expectMessage waits until page shows a message from author with text.
async function expectMessage(page, label, { author, text, mine }) {
  const selector = mine ? '.msg.mine' : '.msg.theirs';
  const found = await page
    .waitForFunction(
      ({ selector, author, text }) =>
        [...document.querySelectorAll(selector)].some((li) => {
          if (li.classList.contains('pending') || li.classList.contains('failed')) return false;
          return li.dataset.user === author && li.querySelector('.bubble')?.textContent === text && li.querySelector('time')?.textContent;
        }),
      { selector, author, text },
      { timeout: TIMEOUT },
    )
    .then(() => true)
    .catch(() => false);
  if (!found) {
    const shown = await page.$$eval('.msg', (els) =>
      els.map((li) => `${li.className} ${li.dataset.user}: ${li.querySelector('.bubble')?.textContent}`),
    );
    throw new Error(`${label}: no ${mine ? 'own' : "other's"} message "${text}" from ${author}; shown: ${JSON.stringify(shown)}`);
  }
}

async function countMessages(page, text) {
  return page.$$eval('.msg .bubble', (els, text) => els.filter((b) => b.textContent === text).length, text);
}

try {
  browser = await launchChromium();
  // One context: two tabs of the same browser, sharing localStorage, as a
  // person trying the demo would open them.
  const context = await browser.newContext({
    viewport: { width: 1024, height: 720 },
    deviceScaleFactor: 1,
    colorScheme: process.env.HERALD_E2E_COLOR_SCHEME === 'dark' ? 'dark' : 'light',
  });
  if (noWebSocket) {
    step('remove the WebSocket constructor from every tab');
    await context.addInitScript(() => {
      delete window.WebSocket;
    });
  }

  step(`open two tabs on ${serverURL}`);
  pageA = await openTab(context, 'tab A');
  const pageB = await openTab(context, 'tab B');
  await waitForState(pageA, 'tab A', 'connected');
  await waitForState(pageB, 'tab B', 'connected');

  step(`join #${room} as Ada and as Grace`);
  await join(pageA, 'tab A', 'Ada Lovelace');
  await join(pageB, 'tab B', 'Grace Hopper');

  step('send a message from each tab');
  const fromA = 'Hello from Ada! Is the analytical engine warmed up?';
  const fromB = 'Hi Ada, Grace here. Compiling as we speak.';
  await say(pageA, fromA);
  await expectMessage(pageB, 'tab B', { author: 'Ada Lovelace', text: fromA, mine: false });
  await say(pageB, fromB);
  await expectMessage(pageA, 'tab A', { author: 'Grace Hopper', text: fromB, mine: false });
  await expectMessage(pageA, 'tab A', { author: 'Ada Lovelace', text: fromA, mine: true });
  await expectMessage(pageB, 'tab B', { author: 'Grace Hopper', text: fromB, mine: true });
  assert((await countMessages(pageA, fromA)) === 1, 'tab A shows its own message more than once');
  assert((await countMessages(pageB, fromA)) === 1, "tab B shows Ada's message more than once");

  await waitForState(pageA, 'tab A', 'connected');
  await waitForState(pageB, 'tab B', 'connected');

  if (kickURL) {
    step('disconnect tab A from the server; it must reconnect and resubscribe');
    const before = await pageA.locator('#status').getAttribute('data-client');
    assert(before, 'tab A: the status shows no client id');
    const res = await fetch(`${kickURL}?client=${encodeURIComponent(before)}`, { method: 'POST' });
    assert(res.ok, `POST ${kickURL}: ${res.status} ${await res.text()}`);
    await pageA.locator('.notice.warn', { hasText: 'Reconnecting' }).waitFor();
    await pageA.locator('.notice', { hasText: 'Reconnected' }).waitFor();
    await waitForState(pageA, 'tab A', 'connected');
    const after = await pageA.locator('#status').getAttribute('data-client');
    assert(after && after !== before, `tab A: client id ${after} after reconnecting, want a new one (was ${before})`);
    const again = 'Welcome back, Ada.';
    await say(pageB, again);
    await expectMessage(pageA, 'tab A', { author: 'Grace Hopper', text: again, mine: false });
    await say(pageA, 'Thanks! Back online.');
    await expectMessage(pageB, 'tab B', { author: 'Ada Lovelace', text: 'Thanks! Back online.', mine: false });
  } else {
    await say(pageB, 'Shall we try two tabs?');
    await expectMessage(pageA, 'tab A', { author: 'Grace Hopper', text: 'Shall we try two tabs?', mine: false });
  }

  for (const [label, page] of [['tab A', pageA], ['tab B', pageB]]) {
    assert(!page.__errors, `${label}: the page threw ${page.__errors} uncaught error(s)`);
  }

  await pageA.waitForTimeout(250); // let the entry animation finish
  await pageA.screenshot({ path: screenshotPath });
  step(`screenshot saved to ${screenshotPath}`);
  console.log('PASS: two tabs chatted through Herald');
  await browser.close();
  stopWatchdog();
} catch (err) {
  console.error(`FAIL: ${err.message}`);
  if (log.length) console.error(`browser log:\n  ${log.join('\n  ')}`);
  if (pageA) await pageA.screenshot({ path: screenshotPath }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
