// What the end-to-end scripts in this folder share: Chromium launched the
// same way everywhere, a watchdog that fails a script that hangs, and, for
// scripts made of independent checks (sdk.e2e.mjs, sdk-channels.e2e.mjs),
// running each check in a fresh tab and printing one line per check.
//
//   import { launchChromium, startWatchdog, runChecksInTabs, report } from './harness.mjs';
//
// and, for scripted scenarios (chat, demo, backend, sdk-binary), takeFlag,
// step and assert.
import { chromium } from 'playwright-core';

/**
 * Launches headless Chromium (Debian's, or $CHROMIUM) with the flags every
 * script uses.
 * @returns {Promise<import('playwright-core').Browser>}
 */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
}

/**
 * Exits the process with a failure after ms, saying that `what` did not
 * finish in time; returns the function that disarms it.
 * @param {number} ms
 * @param {string} what e.g. "the checks"
 * @returns {() => void}
 */
export function startWatchdog(ms, what) {
  const timer = setTimeout(() => {
    console.error(`FAIL: ${what} did not finish within ${ms / 1000} s`);
    process.exit(1);
  }, ms);
  return () => clearTimeout(timer);
}

/**
 * Removes `name` and the value after it from args, and returns the value
 * ('' when the flag is absent).
 * @param {string[]} args
 * @param {string} name e.g. "--kick"
 * @returns {string}
 */
export function takeFlag(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : '';
}

/**
 * Prints one step of a scripted scenario.
 * @param {string} msg
 */
export function step(msg) {
  console.log(`- ${msg}`);
}

/**
 * Throws msg unless cond holds.
 * @param {*} cond
 * @param {string} msg
 */
export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/**
 * Returns the server URL given as the script's first argument, without a
 * trailing slash; exits with the usage line when there is none.
 * @param {string} usage
 * @returns {string}
 */
export function serverArg(usage) {
  const url = process.argv[2]?.replace(/\/$/, '');
  if (!url) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return url;
}

/**
 * Runs each check in a fresh tab of context, batch at a time side by side:
 * the tab opens pageURL, then evaluates `(check)(arg)` (the check's source
 * text, so a check is one self-contained function). Returns one result per
 * check, in order: {name, ok, ms, err, log}, log holding the tab's page
 * errors and console errors.
 * @param {import('playwright-core').BrowserContext} context
 * @param {Record<string, Function>} checks
 * @param {{pageURL: string, arg: *, batch?: number}} opts
 */
export async function runChecksInTabs(context, checks, { pageURL, arg, batch = Infinity }) {
  const entries = Object.entries(checks);
  const results = [];
  for (let i = 0; i < entries.length; i += batch) {
    results.push(
      ...(await Promise.all(
        entries.slice(i, i + batch).map(async ([name, fn]) => {
          const page = await context.newPage();
          const log = [];
          page.on('pageerror', (e) => log.push(`pageerror: ${e}`));
          page.on('console', (m) => m.type() === 'error' && log.push(`console: ${m.text()}`));
          await page.goto(pageURL);
          const started = Date.now();
          try {
            await page.evaluate(`(${fn})(${JSON.stringify(arg)})`);
            return { name, ok: true, ms: Date.now() - started };
          } catch (err) {
            return { name, ok: false, ms: Date.now() - started, err: String(err.message || err).split('\n')[0], log };
          } finally {
            await page.close();
          }
        }),
      )),
    );
  }
  return results;
}

/**
 * Prints one line per result (ok or FAIL, with the tab's log under a
 * failure) and returns how many failed.
 * @param {Array<{name: string, ok: boolean, ms: number, err?: string, log?: string[]}>} results
 * @returns {number}
 */
export function report(results) {
  let failed = 0;
  for (const r of results) {
    if (r.ok) {
      console.log(`ok   ${r.name} (${r.ms} ms)`);
    } else {
      failed++;
      console.log(`FAIL ${r.name} (${r.ms} ms): ${r.err}`);
      for (const l of r.log || []) console.log(`       ${l}`);
    }
  }
  return failed;
}
