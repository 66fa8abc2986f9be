// End-to-end test of the live dashboard in real headless Chromium, run by
// dashboard/e2e_test.go.
//
//   node dashboard.e2e.mjs <dashboard-url> <password> <screenshot.png>
//
// Opens <dashboard-url> (a Herald node's /dashboard/) signed in with any user
// name and <password>, waits for the live stream, reads the connection
// count, prints "@@count <n>" for the Go test (which then connects one more
// client), and waits for the page to show n+1. It checks that the charts,
// top channels, disconnects and errors are drawn, saves a screenshot in dark
// mode to <screenshot.png> (and light and narrow variants next to it), and
// exits non-zero on any failure or page error.
//
// playwright-core comes from web/e2e/node_modules (npm ci there). CHROMIUM
// overrides the browser path (default /usr/bin/chromium).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [dashboardURL, password, screenshotPath] = process.argv.slice(2);
if (!dashboardURL || !password || !screenshotPath) {
  console.error('usage: node dashboard.e2e.mjs <dashboard-url> <password> <screenshot.png>');
  process.exit(2);
}

const TIMEOUT = 15_000;
const watchdog = setTimeout(() => {
  console.error('FAIL: the test did not finish within 90 s');
  process.exit(1);
}, 90_000);

const log = [];
let pageErrors = 0;

function step(msg) {
  console.log(`- ${msg}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function variant(path, suffix) {
  return path.replace(/(\.png)?$/, `-${suffix}.png`);
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });

  // Without credentials: a Basic challenge, not the page.
  {
    const context = await browser.newContext();
    const res = await context.request.get(dashboardURL);
    assert(res.status() === 401, `without credentials: status ${res.status()}, want 401`);
    assert(/^Basic /.test(res.headers()['www-authenticate'] || ''), 'no Basic challenge');
    await context.close();
    step('without credentials: 401 with a Basic challenge');
  }

  const context = await browser.newContext({
    httpCredentials: { username: 'ops', password },
    viewport: { width: 1440, height: 1000 },
    deviceScaleFactor: 1,
    colorScheme: 'dark',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => {
    log.push(`[console.${m.type()}] ${m.text()}`);
    if (m.type() === 'error') pageErrors++;
  });
  page.on('pageerror', (err) => {
    log.push(`[pageerror] ${err.stack || err}`);
    pageErrors++;
  });
  page.on('requestfailed', (r) => log.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));

  const res = await page.goto(dashboardURL, { waitUntil: 'load' });
  assert(res && res.ok(), `GET ${dashboardURL} answered ${res && res.status()}`);
  await page.waitForSelector('body[data-state="live"]');
  await page.waitForFunction(() => document.getElementById('kpi-connections').dataset.value !== undefined);
  step('the page is live');

  const before = Number(await page.getAttribute('#kpi-connections', 'data-value'));
  const shown = await page.textContent('#kpi-connections');
  assert(String(before) === shown.replace(/,/g, ''), `connections shown as "${shown}", data-value ${before}`);
  console.log(`@@count ${before}`);
  step(`connections: ${before}; asked Go to connect one more client`);

  await page.waitForFunction(
    (n) => Number(document.getElementById('kpi-connections').dataset.value) !== n,
    before,
    { timeout: TIMEOUT },
  );
  const after = Number(await page.getAttribute('#kpi-connections', 'data-value'));
  assert(after === before + 1, `connections went from ${before} to ${after}, want ${before + 1}`);
  step(`the page shows ${after} connections`);

  // Let the charts gather a few seconds of the traffic the Go test makes.
  await page.waitForFunction(() => {
    const b = document.querySelector('#chart-messages .legend b');
    return b && b.textContent !== '—' && b.textContent !== '0';
  });
  await page.waitForTimeout(8000);

  const name = await page.textContent('#node-name');
  assert(name && name !== '—', `node name "${name}"`);
  const uptime = await page.textContent('#uptime');
  assert(/\d+s|\d+m/.test(uptime), `uptime "${uptime}"`);
  const channels = await page.$$eval('#channel-list li', (lis) => lis.map((li) => li.querySelector('.name').textContent));
  assert(channels.length > 0, 'no top channels shown');
  const nodes = await page.$$eval('#node-rows tr', (rows) => rows.map((r) => r.textContent));
  assert(nodes.length === 1 && nodes[0].includes(name) && nodes[0].includes('(this node)'), `node rows ${JSON.stringify(nodes)}`);
  const disconnects = await page.$$eval('#disconnect-rows tr', (rows) => rows.length);
  assert(disconnects > 0, 'no recent disconnects shown');
  const errors = await page.$$eval('#error-list li', (lis) => lis.length);
  assert(errors > 0, 'no recent errors shown');
  // The charts have pixels beyond their grid: a line was drawn.
  const drawn = await page.$$eval('.chart canvas', (canvases) => canvases.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let colored = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) colored++;
    }
    return colored;
  }));
  assert(drawn.every((n) => n > 50), `chart canvases without a coloured line: ${drawn}`);
  step(`channels ${channels.join(', ')}; ${disconnects} disconnects, ${errors} errors; charts drawn (${drawn})`);

  // Point at the messages chart, as a user reading a value would.
  const box = await (await page.$('#chart-messages canvas')).boundingBox();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('#chart-messages .legend .when').textContent !== '');

  await page.screenshot({ path: screenshotPath, fullPage: true });
  step(`screenshot: ${screenshotPath}`);
  await page.mouse.move(0, 0);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: variant(screenshotPath, 'light'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: variant(screenshotPath, 'narrow'), fullPage: true });
  step('light and narrow variants saved');

  assert(pageErrors === 0, `${pageErrors} page errors`);
  step('PASS');
} catch (err) {
  console.error(`FAIL: ${err.message}`);
  for (const line of log) console.error(line);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close();
}
