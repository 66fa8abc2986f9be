// End-to-end test of the demo at / in real headless Chromium, against a
// server with history, presence and join/leave (TestDemoInChromium).
//
//   node demo.e2e.mjs <server-url> <artifacts-dir> --kick <url> --restart <url>
//
// Ada (a desktop-sized page) joins a room and writes; Grace (a phone-sized
// page) joins later and sees those earlier messages (history); both member
// lists show both, and follow Grace leaving and coming back (presence,
// join, leave); Ada sees Grace typing. Then --kick drops Ada's connection
// (the server stays up: "nothing missed"), and --restart restarts the
// server (memory broker: history lost, so both pages say that messages
// could not be recovered, and reload). Screenshots at desktop and phone
// width go to <artifacts-dir>. Exits non-zero on any failure.
import { assert, launchChromium, startWatchdog, step, takeFlag } from './harness.mjs';

const args = process.argv.slice(2);
const kickURL = takeFlag(args, '--kick');
const restartURL = takeFlag(args, '--restart');
// --restart-keeps-history: the server's broker keeps history across the
// restart (Redis), so the pages must say "nothing missed" after it.
const keepsHistory = process.argv.includes('--restart-keeps-history');
const [serverURL, artifacts] = args;
if (!serverURL || !artifacts || !kickURL || !restartURL) {
  console.error('usage: node demo.e2e.mjs <server-url> <artifacts-dir> --kick <url> --restart <url>');
  process.exit(2);
}

const TIMEOUT = 10_000; // for each wait
const stopWatchdog = startWatchdog(90_000, 'the test');

const room = `demo-${Math.random().toString(36).slice(2, 8)}`;
const log = [];
let browser;
const pages = [];


async function openPerson(label, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.__label = label;
  page.on('console', (m) => log.push(`[${label} console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (err) => {
    log.push(`[${label} pageerror] ${err.stack || err}`);
    page.__errors = (page.__errors || 0) + 1;
  });
  const res = await page.goto(serverURL, { waitUntil: 'load' });
  assert(res && res.ok(), `${label}: GET ${serverURL} answered ${res && res.status()}`);
  pages.push(page);
  return page;
}

async function join(page, name) {
  await page.locator('#name').fill(name);
  await page.locator('#room').fill(room);
  await page.locator('#join-button').click();
  await page.locator('#composer[data-ready="true"]').waitFor();
}

async function say(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
  await page.locator('.msg.mine:not(.pending) .bubble', { hasText: text }).waitFor();
}

async function expectText(page, selector, text, what) {
  await page
    .locator(selector, { hasText: text })
    .first()
    .waitFor()
    .catch(async () => {
      const shown = await page.locator(selector).allInnerTexts();
      throw new Error(`${page.__label}: no ${what} "${text}" in ${selector}; shown: ${JSON.stringify(shown)}`);
    });
}

// members waits until the page's member list names exactly want.
async function members(page, want) {
  const sorted = [...want].sort().join(', ');
  try {
    await page.waitForFunction(
      (w) => [...document.querySelectorAll('#member-list .who')].map((e) => e.textContent).sort().join(', ') === w,
      sorted,
      { timeout: TIMEOUT },
    );
  } catch {
    const shown = await page.locator('#member-list .who').allInnerTexts();
    throw new Error(`${page.__label}: member list ${JSON.stringify(shown)}, want ${JSON.stringify(want)}`);
  }
}

async function post(url) {
  const res = await fetch(url, { method: 'POST' });
  assert(res.ok, `POST ${url}: ${res.status} ${await res.text()}`);
}

async function shot(page, name) {
  await page.waitForTimeout(200); // let the entry animations finish
  const path = `${artifacts}/${name}.png`;
  await page.screenshot({ path });
  step(`screenshot ${path}`);
}

try {
  browser = await launchChromium();

  step('the join form: labelled fields, in order');
  const ada = await openPerson('Ada', { width: 1280, height: 800 });
  await ada.locator('#name').focus();
  await ada.keyboard.press('Tab');
  assert((await ada.evaluate(() => document.activeElement.id)) === 'room', 'Tab from the name does not reach the room');
  await ada.keyboard.press('Tab');
  assert((await ada.evaluate(() => document.activeElement.id)) === 'join-button', 'Tab from the room does not reach the button');
  for (const id of ['name', 'room']) {
    const label = await ada.evaluate((i) => document.getElementById(i).labels?.[0]?.textContent.trim(), id);
    assert(label, `#${id} has no label`);
  }

  step(`Ada joins #${room} and writes`);
  await join(ada, 'Ada Lovelace');
  await members(ada, ['Ada Lovelace']);
  await say(ada, 'Hello, is anyone here?');
  await say(ada, 'The engine is ready.');

  step('Grace joins later, on a phone, and sees the earlier messages');
  const grace = await openPerson('Grace', { width: 390, height: 844 });
  await join(grace, 'Grace Hopper');
  await expectText(grace, '.msg.earlier .bubble', 'Hello, is anyone here?', 'earlier message');
  await expectText(grace, '.msg.earlier .bubble', 'The engine is ready.', 'earlier message');
  await expectText(grace, '.notice', 'Earlier messages (2)', 'history marker');

  step('both member lists show both');
  await members(ada, ['Ada Lovelace', 'Grace Hopper']);
  await members(grace, ['Ada Lovelace', 'Grace Hopper']);

  step('Ada sees Grace typing, then her message');
  await grace.locator('#text').pressSequentially('Hi Ada', { delay: 20 });
  await expectText(ada, '#typing', 'Grace Hopper is typing', 'typing indicator');
  await grace.locator('#text').press('Enter');
  await expectText(ada, '.msg.theirs .bubble', 'Hi Ada', 'message');
  await ada.waitForFunction(() => document.getElementById('typing').textContent === '', null, { timeout: TIMEOUT });

  step('Grace leaves and comes back: Ada\'s list follows');
  await grace.locator('#leave').click();
  await members(ada, ['Ada Lovelace']);
  await join(grace, 'Grace Hopper');
  await members(ada, ['Ada Lovelace', 'Grace Hopper']);
  await members(grace, ['Ada Lovelace', 'Grace Hopper']);
  await say(grace, 'Back again.');
  await expectText(ada, '.msg.theirs .bubble', 'Back again.', 'message');
  await shot(ada, 'desktop-chat');
  await shot(grace, 'phone-chat');

  step('Ada\'s connection drops, the server stays up: nothing missed');
  const before = await ada.locator('#status').getAttribute('data-client');
  await post(`${kickURL}?client=${encodeURIComponent(before)}`);
  await expectText(ada, '.notice.ok', 'Reconnected, nothing missed.', 'notice');
  await members(grace, ['Ada Lovelace', 'Grace Hopper']);
  await members(ada, ['Ada Lovelace', 'Grace Hopper']);

  if (keepsHistory) {
    step('the server restarts, history kept by its broker: nothing missed');
  } else {
    step('the server restarts (history lost): could not be recovered; reloaded');
  }
  await post(restartURL);
  for (const page of [ada, grace]) {
    if (keepsHistory) {
      await expectText(page, '.notice.ok', 'Reconnected, nothing missed.', 'notice');
    } else {
      await expectText(page, '.notice.warn', 'Reconnected, some messages could not be recovered; reloaded.', 'notice');
    }
    await page.locator('#status[data-state="connected"]').waitFor();
  }
  await members(ada, ['Ada Lovelace', 'Grace Hopper']);
  await members(grace, ['Ada Lovelace', 'Grace Hopper']);
  await say(ada, 'Still here after the restart.');
  await expectText(grace, '.msg.theirs .bubble', 'Still here after the restart.', 'message');
  await shot(ada, 'desktop-reconnected');
  await shot(grace, 'phone-reconnected');

  step('the join screen at phone width');
  await grace.locator('#leave').click();
  await shot(grace, 'phone-join');

  for (const page of pages) assert(!page.__errors, `${page.__label}: the page threw ${page.__errors} uncaught error(s)`);
  console.log('PASS: the demo chats, shows history, members, typing and reconnect notices');
  await browser.close();
  stopWatchdog();
} catch (err) {
  console.error(`FAIL: ${err.message}`);
  if (log.length) console.error(`browser log:\n  ${log.join('\n  ')}`);
  for (const page of pages) await page.screenshot({ path: `${artifacts}/failure-${page.__label}.png` }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
