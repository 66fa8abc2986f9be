// End-to-end test of the demo's slash commands in real headless Chromium
// (TestDemoCommandsThroughBackend): /time is an RPC and /feedback a send,
// both answered by the application's backend through Herald's HTTP proxy.
//
//   node backend.e2e.mjs <demo-with-backend-url> <backend-url> <demo-without-backend-url> <artifacts-dir> [--down <url>]
//
// With a backend (herald serve --config examples/node-backend/demo.yaml in
// front of the real Node example): /time shows the backend's clock, and
// /feedback reaches the backend, which lists it at <backend-url>/feedback.
// Without one (plain herald): /time and /feedback say plainly that they
// need a backend, and give the commands that start one. With --down, a
// demo whose backend does not run: both commands say that it did not
// answer (error 112). Exits non-zero on any failure.
import { assert, launchChromium, startWatchdog, step, takeFlag } from './harness.mjs';

const args = process.argv.slice(2);
const downURL = takeFlag(args, '--down');
const [withURL, backendURL, withoutURL, artifacts] = args;
if (!withURL || !backendURL || !withoutURL || !artifacts) {
  console.error('usage: node backend.e2e.mjs <demo-with-backend-url> <backend-url> <demo-without-backend-url> <artifacts-dir>');
  process.exit(2);
}

const TIMEOUT = 15_000; // for each wait
const stopWatchdog = startWatchdog(100_000, 'the test');

const room = `cmd-${Math.random().toString(36).slice(2, 8)}`;
const log = [];
const pages = [];
let browser;


async function open(label, url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.__label = label;
  page.on('console', (m) => log.push(`[${label} console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (err) => {
    log.push(`[${label} pageerror] ${err.stack || err}`);
    page.__errors = (page.__errors || 0) + 1;
  });
  const res = await page.goto(url, { waitUntil: 'load' });
  assert(res && res.ok(), `${label}: GET ${url} answered ${res && res.status()}`);
  await page.locator('#name').fill(label);
  await page.locator('#room').fill(room);
  await page.locator('#join-button').click();
  await page.locator('#composer[data-ready="true"]').waitFor();
  pages.push(page);
  return page;
}

async function type(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

// notice waits for a notice of kind that contains text, and returns it.
async function notice(page, kind, text) {
  const loc = page.locator(`.notice.${kind}`, { hasText: text }).last();
  try {
    await loc.waitFor();
  } catch {
    const shown = await page.locator('.notice').allInnerTexts();
    throw new Error(`${page.__label}: no .notice.${kind} with "${text}"; notices: ${JSON.stringify(shown)}`);
  }
  return loc;
}

try {
  browser = await launchChromium();

  step('with the Node example behind herald: /time shows the backend\'s clock');
  const ada = await open('Ada', withURL);
  const before = Date.now();
  await type(ada, '/time');
  const time = await notice(ada, 'backend', 'Server time');
  const now = Date.parse(await time.getAttribute('data-now'));
  assert(Math.abs(now - before) < 60_000, `the backend's time ${new Date(now).toISOString()} is not now (${new Date(before).toISOString()})`);
  assert((await time.innerText()).includes('node-backend'), `the notice does not name the backend: ${await time.innerText()}`);
  assert((await ada.locator('.msg').count()) === 0, 'the command was published in the room');

  step('/feedback reaches the backend with send');
  const note = `The demo works ${Math.random().toString(36).slice(2, 8)}`;
  await type(ada, `/feedback ${note}`);
  await notice(ada, 'backend', 'your note went to the application');
  const deadline = Date.now() + TIMEOUT;
  let got = [];
  for (;;) {
    got = await (await fetch(`${backendURL}/feedback`)).json();
    if (got.some((f) => f.text === note && f.room === room && f.name === 'Ada')) break;
    assert(Date.now() < deadline, `the backend did not get the feedback; it has ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  step('// sends a message that begins with a slash; unknown commands say what there is');
  await type(ada, '//time is not a command here');
  await ada.locator('.msg.mine .bubble', { hasText: '/time is not a command here' }).waitFor();
  await type(ada, '/nope');
  await notice(ada, 'warn', 'Unknown command /nope');
  await ada.screenshot({ path: `${artifacts}/commands-with-backend.png` });

  step('without a backend: /time and /feedback explain what they need');
  const grace = await open('Grace', withoutURL);
  await type(grace, '/time');
  const why = await notice(grace, 'needs-backend', 'error 104');
  const text = await why.innerText();
  for (const want of ['node server.js', 'herald serve --config examples/node-backend/demo.yaml']) {
    assert(text.includes(want), `the explanation does not say "${want}": ${text}`);
  }
  await type(grace, '/feedback hello');
  await grace.waitForFunction(() => document.querySelectorAll('.notice.needs-backend').length === 2, null, { timeout: TIMEOUT });
  assert((await grace.locator('.notice.backend').count()) === 0, 'a note was reported sent without a backend');
  await grace.screenshot({ path: `${artifacts}/commands-without-backend.png` });

  if (downURL) {
    step('a backend that does not run: the commands say it did not answer');
    const kay = await open('Kay', downURL);
    await type(kay, '/time');
    await notice(kay, 'warn', 'did not answer /time');
    await type(kay, '/feedback hello');
    await notice(kay, 'warn', 'did not answer /feedback');
    assert((await kay.locator('.notice.backend, .notice.needs-backend').count()) === 0, 'a backend that does not run was reported as answering, or as missing');
  }

  for (const page of pages) assert(!page.__errors, `${page.__label}: the page threw ${page.__errors} uncaught error(s)`);
  console.log('PASS: /time and /feedback go through the backend, and say what they need without one');
  await browser.close();
  stopWatchdog();
} catch (err) {
  console.error(`FAIL: ${err.message}`);
  if (log.length) console.error(`browser log:\n  ${log.join('\n  ')}`);
  for (const page of pages) await page.screenshot({ path: `${artifacts}/failure-${page.__label}.png` }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
