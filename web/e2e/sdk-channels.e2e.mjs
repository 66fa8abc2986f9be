// The SDK's channel checks (channels.checks.mjs) in headless Chromium,
// against the server of browsertest.StartChannelsServer:
//
//   node sdk-channels.e2e.mjs <server-url>
//
// Each check runs in a fresh tab, side by side; the script prints one line
// per check and exits non-zero if any failed.
import { chromium } from 'playwright-core';
import { checks, installHelpers } from './channels.checks.mjs';

const base = process.argv[2]?.replace(/\/$/, '');
if (!base) {
  console.error('usage: node sdk-channels.e2e.mjs <server-url>');
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error('FAIL: the checks did not finish within 60 s');
  process.exit(1);
}, 60_000);

let browser;
let failed = 0;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
  const context = await browser.newContext();
  await context.addInitScript(installHelpers);
  const env = { sdk: '/herald.js', ws: base.replace(/^http/, 'ws') + '/ws', base };
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, fn]) => {
      const page = await context.newPage();
      const log = [];
      page.on('pageerror', (e) => log.push(`pageerror: ${e}`));
      page.on('console', (m) => m.type() === 'error' && log.push(`console: ${m.text()}`));
      await page.goto(`${base}/_e2e/blank`);
      const started = Date.now();
      try {
        await page.evaluate(`(${fn})(${JSON.stringify(env)})`);
        return { name, ok: true, ms: Date.now() - started };
      } catch (err) {
        return { name, ok: false, ms: Date.now() - started, err: String(err.message || err).split('\n')[0], log };
      } finally {
        await page.close();
      }
    }),
  );
  for (const r of results) {
    if (r.ok) {
      console.log(`ok   ${r.name} (${r.ms} ms)`);
    } else {
      failed++;
      console.log(`FAIL ${r.name} (${r.ms} ms): ${r.err}`);
      for (const l of r.log) console.log(`       ${l}`);
    }
  }
  console.log(failed ? `FAIL: ${failed} of ${results.length} checks failed` : `PASS: all ${results.length} checks in Chromium`);
} catch (err) {
  failed++;
  console.error(`FAIL: ${err.stack || err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
