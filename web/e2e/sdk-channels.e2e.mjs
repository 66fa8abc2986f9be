// The SDK's channel checks (channels.checks.mjs) in headless Chromium,
// against the server of browsertest.StartChannelsServer:
//
//   node sdk-channels.e2e.mjs <server-url>
//
// Each check runs in a fresh tab, side by side; the script prints one line
// per check and exits non-zero if any failed.
import { checks, installHelpers } from './channels.checks.mjs';
import { launchChromium, report, runChecksInTabs, serverArg, startWatchdog } from './harness.mjs';

const base = serverArg('node sdk-channels.e2e.mjs <server-url>');
const stopWatchdog = startWatchdog(60_000, 'the checks');

let browser;
let failed = 0;
try {
  browser = await launchChromium();
  const context = await browser.newContext();
  await context.addInitScript(installHelpers);
  const env = { sdk: '/herald.js', ws: base.replace(/^http/, 'ws') + '/ws', base };
  const results = await runChecksInTabs(context, checks, { pageURL: `${base}/_e2e/blank`, arg: env });
  failed = report(results);
  console.log(failed ? `FAIL: ${failed} of ${results.length} checks failed` : `PASS: all ${results.length} checks in Chromium`);
} catch (err) {
  failed++;
  console.error(`FAIL: ${err.stack || err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  stopWatchdog();
}
process.exit(failed ? 1 : 0);
