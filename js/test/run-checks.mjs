// Runs web/e2e/channels.checks.mjs under Node.js 20 with the installed npm
// package (@heraldrt/herald) and the ws package, against the server of
// browsertest.StartChannelsServer. js.TestPackedSDKInNode copies this file
// and the checks next to a fresh install of the packed tarball:
//
//   node run-checks.mjs <server-url>
import { WebSocket } from 'ws';
import { checks, installHelpers } from './channels.checks.mjs';

const base = process.argv[2]?.replace(/\/$/, '');
if (!base) {
  console.error('usage: node run-checks.mjs <server-url>');
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error('FAIL: the checks did not finish within 60 s');
  process.exit(1);
}, 60_000);

installHelpers();
globalThis.HeraldTestWebSocket = WebSocket;
const env = { sdk: '@heraldrt/herald', ws: base.replace(/^http/, 'ws') + '/ws', base };
let failed = 0;
const results = await Promise.all(
  Object.entries(checks).map(async ([name, fn]) => {
    const started = Date.now();
    try {
      await fn(env);
      return { name, ok: true, ms: Date.now() - started };
    } catch (err) {
      return { name, ok: false, ms: Date.now() - started, err: String(err.stack || err) };
    }
  }),
);
for (const r of results) {
  if (r.ok) console.log(`ok   ${r.name} (${r.ms} ms)`);
  else {
    failed++;
    console.log(`FAIL ${r.name} (${r.ms} ms): ${r.err}`);
  }
}
console.log(failed ? `FAIL: ${failed} of ${results.length} checks failed` : `PASS: all ${results.length} checks in Node.js ${process.version}`);
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
