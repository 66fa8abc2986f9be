// End-to-end test of the browser SDK (/herald.js) in real headless Chromium.
//
//   node sdk.e2e.mjs <server-url>
//
// <server-url> is the test server started by web/e2e_test.go
// (TestSDKInChromium): a Herald node at /ws with history, a 1 s ping, an
// `echo` and a `fail` RPC, a subscribe handler that denies "secret:*", an
// OnMessage that sends the data back, tokens "bad" and "expired" that
// OnConnect refuses, tokens "short-N" that expire 2 s after connect and
// after each refresh (the refresh push comes 1 s before), and test
// endpoints under /_e2e/: a blank page, a
// disconnect and a publish endpoint, a fake server that goes silent after
// connect (/_e2e/silent) and one that replays a scripted frame
// (/_e2e/scripted). Each check runs in a fresh tab; the script prints one
// line per check and exits non-zero if any failed.
import { launchChromium, report, runChecksInTabs, serverArg, startWatchdog } from './harness.mjs';

const serverURL = serverArg('node sdk.e2e.mjs <server-url>');
const wsBase = serverURL.replace(/^http/, 'ws');

const stopWatchdog = startWatchdog(100_000, 'the SDK checks');

// Helpers installed in every tab before the check runs.
function pageHelpers() {
  window.until = async (pred, what, ms = 8000) => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await pred();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  window.check = (cond, msg) => {
    if (!cond) throw new Error(msg);
  };
  window.rejection = async (p) => {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('the promise resolved, want a rejection');
  };
  // A WebSocket that records what the client sends (in JSON: the checks
  // that use it pass encoding: 'json').
  window.RecordingWebSocket = class extends WebSocket {
    static sent = [];
    send(data) {
      RecordingWebSocket.sent.push(...String(data).split('\n').map((l) => JSON.parse(l)));
      super.send(data);
    }
  };
}

const checks = {
  'connect reports states, info and events': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws, { name: 'sdk-e2e', data: { hello: 'server' } });
    const states = [];
    h.on('state', (s) => states.push(s));
    let connected = null;
    h.on('connected', (info) => (connected = info));
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    check(states.join() === 'connecting,connected', `states ${states}`);
    check(connected && connected.client && connected.node, `connected event ${JSON.stringify(connected)}`);
    check(h.info.ping === 1, `ping ${h.info.ping}, want 1`);
    let disc = null;
    h.on('disconnected', (ev) => (disc = ev));
    h.disconnect();
    check(h.state === 'disconnected', `state after disconnect() ${h.state}`);
    check(disc && disc.code === 1000 && disc.reconnect === false, `disconnected event ${JSON.stringify(disc)}`);
  },

  'rpc resolves data and rejects with the server code': async (ws) => {
    const { Herald, HeraldError, ErrorCode } = await import('/herald.js');
    const h = new Herald(ws);
    h.connect(); // the calls below wait for the connection
    const data = await h.rpc('echo', { n: 42, s: 'x' });
    check(JSON.stringify(data) === '{"n":42,"s":"x"}', `echo ${JSON.stringify(data)}`);
    const unknown = await rejection(h.rpc('nope'));
    check(unknown instanceof HeraldError, `error is ${unknown}`);
    check(unknown.code === ErrorCode.METHOD_NOT_FOUND && unknown.code === 104, `unknown method code ${unknown.code}`);
    const app = await rejection(h.rpc('fail'));
    check(app.code === 1001 && app.message === 'app says no', `app error ${app.code} ${app.message}`);
    h.disconnect();
    const closed = await rejection(h.rpc('echo', 1));
    check(closed.code === ErrorCode.CLOSED, `rpc after disconnect: ${closed.code}`);
  },

  'publications arrive in order with consecutive offsets': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws);
    const channel = `hist:${Math.random()}`;
    const got = [];
    let ctx = null;
    h.subscribe(channel, { onSubscribed: (c) => (ctx = c), onPublication: (p) => got.push(p) });
    h.connect();
    await until(() => ctx, 'onSubscribed');
    check(ctx.recoverable && ctx.epoch && !ctx.resubscribed, `ctx ${JSON.stringify(ctx)}`);
    // 50 publishes in one tick leave in one frame; the replies and pubs come
    // back batched.
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h.publish(channel, { i })));
    await until(() => got.length === 50, '50 publications');
    check(got.every((p, i) => p.data.i === i && p.offset === i + 1 && p.channel === channel), 'out of order: ' + JSON.stringify(got.map((p) => p.offset)));
    check(results.map((r) => r.offset).sort((a, b) => a - b).every((o, i) => o === i + 1), 'publish offsets');
    check(got[0].info && got[0].info.client === h.info.client, 'publisher info');
    check(typeof got[0].time === 'number' && Math.abs(got[0].time - Date.now()) < 60000, `time ${got[0].time}`);
    // An idempotent publish: the same key twice publishes once.
    const a = await h.publish(channel, 'once', { key: 'k1' });
    const b = await h.publish(channel, 'once', { key: 'k1' });
    check(a.offset === 51 && b.offset === 51, `keyed publishes at ${a.offset} and ${b.offset}`);
    await sleep(200);
    check(got.length === 51 && got[50].key === 'k1', `after keyed publishes: ${got.length}`);
    h.disconnect();
  },

  'a refused subscription reports its code': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws);
    let err = null;
    const sub = h.subscribe('secret:plans', { onError: (e) => (err = e) });
    let threw = false;
    try {
      h.subscribe('secret:plans');
    } catch {
      threw = true;
    }
    check(threw, 'a second subscribe to the same channel did not throw');
    h.connect();
    await until(() => err, 'onError');
    check(err.code === 103, `code ${err.code}`);
    check(sub.state === 'unsubscribed' && !h.getSubscription('secret:plans'), `state ${sub.state}`);
    h.disconnect();
  },

  'send reaches OnMessage and message pushes reach listeners': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws);
    const msgs = [];
    h.on('message', (d) => msgs.push(d));
    h.connect();
    await h.send({ hi: 1 });
    await until(() => msgs.length === 1, 'message push');
    check(JSON.stringify(msgs[0]) === '{"echo":{"hi":1}}', JSON.stringify(msgs[0]));
    h.disconnect();
  },

  'pings are answered: the connection outlives several ping intervals': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws, { WebSocket: RecordingWebSocket, encoding: 'json' });
    let lost = 0;
    h.on('disconnected', () => lost++);
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    const client = h.info.client;
    await sleep(3500); // server pings every 1 s and waits 1 s for the pong
    check(h.state === 'connected' && h.info.client === client && lost === 0, `state ${h.state}, lost ${lost}`);
    const pongs = RecordingWebSocket.sent.filter((m) => m.op === 'pong').length;
    check(pongs >= 2, `${pongs} pongs sent`);
    h.disconnect();
  },

  'a reconnect code reconnects and resubscribes asking to recover': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws, { WebSocket: RecordingWebSocket, encoding: 'json', minBackoff: 50, maxBackoff: 200 });
    const channel = `hist:${Math.random()}`;
    const got = [];
    const ctxs = [];
    const disc = [];
    const states = [];
    h.on('state', (s) => states.push(s));
    h.on('disconnected', (ev) => disc.push(ev));
    h.subscribe(channel, { onSubscribed: (c) => ctxs.push(c), onPublication: (p) => got.push(p) });
    h.connect();
    await until(() => ctxs.length === 1, 'subscribed');
    await h.publish(channel, 'one');
    await until(() => got.length === 1, 'first publication');
    const first = h.info.client;
    const res = await fetch(`/_e2e/disconnect?client=${first}&code=3004`, { method: 'POST' });
    check(res.ok, `kick: ${res.status}`);
    await until(() => ctxs.length === 2, 'resubscribed');
    check(h.info.client !== first, 'same client id after reconnecting');
    check(disc.length === 1 && disc[0].code === 3004 && disc[0].reconnect === true, `disconnected ${JSON.stringify(disc)}`);
    check(states.join() === 'connecting,connected,reconnecting,connected', `states ${states}`);
    check(ctxs[1].resubscribed && ctxs[1].wasRecovering, `ctx ${JSON.stringify(ctxs[1])}`);
    const subs = RecordingWebSocket.sent.filter((m) => m.op === 'subscribe' && m.channel === channel);
    check(subs.length === 2, `${subs.length} subscribe commands`);
    check(!subs[0].recover && subs[1].recover === true && subs[1].offset === 1 && subs[1].epoch === ctxs[0].epoch,
      `resubscribe command ${JSON.stringify(subs[1])}`);
    await h.publish(channel, 'two');
    await until(() => got.length === 2, 'publication after reconnecting');
    check(got[1].data === 'two' && got[1].offset === 2, JSON.stringify(got[1]));
    h.disconnect();
  },

  'a do-not-reconnect code stops the client': async (ws) => {
    const { Herald, ErrorCode } = await import('/herald.js');
    const h = new Herald(ws, { minBackoff: 50 });
    const disc = [];
    h.on('disconnected', (ev) => disc.push(ev));
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    const res = await fetch(`/_e2e/disconnect?client=${h.info.client}&code=3503`, { method: 'POST' });
    check(res.ok, `kick: ${res.status}`);
    await until(() => h.state === 'disconnected', 'disconnected');
    await sleep(600);
    check(h.state === 'disconnected', `state ${h.state}`);
    check(disc.length === 1 && disc[0].code === 3503 && disc[0].reconnect === false, JSON.stringify(disc));
    const err = await rejection(h.publish('x', 1));
    check(err.code === ErrorCode.CLOSED, `publish after stop: ${err.code}`);
  },

  'an invalid token is refused without reconnecting': async (ws) => {
    const { Herald } = await import('/herald.js');
    const h = new Herald(ws, { token: 'bad', minBackoff: 50 });
    const errors = [];
    const disc = [];
    h.on('error', (e) => errors.push(e));
    h.on('disconnected', (ev) => disc.push(ev));
    h.connect();
    await until(() => disc.length, 'disconnected');
    await sleep(400);
    check(h.state === 'disconnected', `state ${h.state}`);
    check(disc.length === 1 && disc[0].code === 3500 && !disc[0].reconnect, JSON.stringify(disc));
    check(errors.some((e) => e.code === 101), `errors ${errors.map((e) => e.code)}`);
  },

  'an expired token is replaced through getToken': async (ws) => {
    const { Herald } = await import('/herald.js');
    const tokens = ['expired', 'good'];
    let calls = 0;
    const h = new Herald(ws, { getToken: async () => tokens[calls++], minBackoff: 50 });
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    check(calls === 2 && h.info.user === 'u-good', `getToken called ${calls} times, user ${h.info.user}`);
    h.disconnect();
  },

  'getToken refreshes an expiring connection past its first expiry': async (ws) => {
    const { Herald } = await import('/herald.js');
    let calls = 0;
    const h = new Herald(ws, { WebSocket: RecordingWebSocket, encoding: 'json', getToken: async () => `short-${++calls}` });
    const disc = [];
    const errors = [];
    h.on('disconnected', (ev) => disc.push(ev));
    h.on('error', (e) => errors.push(e));
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    const client = h.info.client;
    const first = h.info.expires;
    check(first > 0 && h.info.user === 'u-short', `connect result expires ${first}, user ${h.info.user}`);
    // Past the first token's expiry, and past one more lifetime.
    await sleep(first * 1000 - Date.now() + 2500);
    check(h.state === 'connected' && h.info.client === client && disc.length === 0,
      `state ${h.state}, client ${h.info.client} (was ${client}), disconnected ${JSON.stringify(disc)}`);
    const refreshes = RecordingWebSocket.sent.filter((m) => m.op === 'refresh');
    check(refreshes.length >= 2 && refreshes[0].token === 'short-2' && refreshes[1].token === 'short-3',
      `refresh commands ${JSON.stringify(refreshes)}`);
    check(h.info.expires > first, `expires ${h.info.expires}, first ${first}`);
    check(errors.length === 0, `errors ${errors.map((e) => e.code || e)}`);
    check((await h.rpc('echo', 7)) === 7, 'rpc after the refreshes');
    h.disconnect();
  },

  'in Protobuf (the default encoding): pongs, token refresh, and recovery after a reconnect code': async (ws) => {
    const { Herald } = await import('/herald.js');
    let calls = 0;
    const h = new Herald(ws, { getToken: async () => `short-${++calls}`, minBackoff: 50, maxBackoff: 200 });
    const channel = `hist:${Math.random()}`;
    const got = [];
    const ctxs = [];
    const disc = [];
    const errors = [];
    h.on('disconnected', (ev) => disc.push(ev));
    h.on('error', (e) => errors.push(e));
    h.subscribe(channel, { onSubscribed: (c) => ctxs.push(c), onPublication: (p) => got.push(p) });
    h.connect();
    await until(() => ctxs.length === 1, 'subscribed');
    check(h.info.encoding === 'protobuf' && h.info.transport === 'websocket', `encoding ${h.info.encoding}, transport ${h.info.transport}`);
    const client = h.info.client;
    const first = h.info.expires;
    await h.publish(channel, Uint8Array.of(1, 2, 3));
    // Past the first token's expiry and several 1 s pings: the pongs and
    // the refresh commands, in Protobuf, keep the connection.
    await sleep(first * 1000 - Date.now() + 2500);
    check(h.state === 'connected' && h.info.client === client && disc.length === 0, `state ${h.state}, disconnected ${JSON.stringify(disc)}`);
    check(calls >= 3 && h.info.expires > first, `getToken called ${calls} times, expires ${h.info.expires} (first ${first})`);
    const res = await fetch(`/_e2e/disconnect?client=${client}&code=3004`, { method: 'POST' });
    check(res.ok, `kick: ${res.status}`);
    await until(() => ctxs.length === 2, 'resubscribed');
    check(ctxs[1].wasRecovering && ctxs[1].recovered && h.info.encoding === 'protobuf', `ctx ${JSON.stringify(ctxs[1])}`);
    await h.publish(channel, 'two');
    await until(() => got.length === 2, 'the publication after the reconnect');
    check(got[0].data instanceof Uint8Array && got[0].data.join() === '1,2,3' && got[1].data === 'two' && got[1].offset === 2,
      `delivered ${JSON.stringify(got.map((p) => [p.offset, p.data instanceof Uint8Array ? [...p.data] : p.data]))}`);
    check(errors.length === 0, `errors ${errors.map((e) => e.code || e)}`);
    h.disconnect();
  },

  'a silent server is detected and the client reconnects': async () => {
    const { Herald, ErrorCode } = await import('/herald.js');
    const url = location.origin.replace(/^http/, 'ws') + '/_e2e/silent';
    const h = new Herald(url, { pingMargin: 300, minBackoff: 50, maxBackoff: 100 });
    const disc = [];
    let connects = 0;
    h.on('connected', () => connects++);
    h.on('disconnected', (ev) => disc.push(ev));
    h.connect();
    await until(() => connects === 1, 'connected');
    // The fake server never answers: the call times out.
    const err = await rejection(h.rpc('anything', null, { timeout: 100 }));
    check(err.code === ErrorCode.TIMEOUT && err.temporary, `rpc to a silent server: ${err.code}`);
    await until(() => connects >= 2, 'a second connect', 6000);
    check(/no message from the server/.test(disc[0].reason) && disc[0].reconnect, JSON.stringify(disc[0]));
    h.disconnect();
  },

  'batched frames are split; duplicate offsets are dropped; disconnect push is obeyed': async () => {
    const { Herald } = await import('/herald.js');
    const url = location.origin.replace(/^http/, 'ws') + '/_e2e/scripted';
    const h = new Herald(url, { minBackoff: 50 });
    const got = [];
    const msgs = [];
    const disc = [];
    h.on('message', (d) => msgs.push(d));
    h.on('disconnected', (ev) => disc.push(ev));
    h.subscribe('news', { onPublication: (p) => got.push(p.offset + ':' + p.data) });
    h.connect();
    await until(() => disc.length, 'the scripted disconnect');
    check(got.join() === '6:b,7:c', `delivered ${got}`);
    check(msgs.join() === 'pong received', `messages ${msgs}`);
    check(disc[0].code === 3503 && disc[0].reconnect === false && h.state === 'disconnected', JSON.stringify(disc));
  },
};

let browser;
let failed = 0;
try {
  browser = await launchChromium();
  const context = await browser.newContext();
  await context.addInitScript(pageHelpers);
  // Independent checks run side by side, in batches, to keep the run short.
  const results = await runChecksInTabs(context, checks, { pageURL: `${serverURL}/_e2e/blank`, arg: wsBase + '/ws', batch: 6 });
  failed = report(results);
  console.log(failed ? `FAIL: ${failed} of ${results.length} SDK checks failed` : `PASS: all ${results.length} SDK checks`);
} catch (err) {
  failed++;
  console.error(`FAIL: ${err.stack || err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  stopWatchdog();
}
process.exit(failed ? 1 : 0);
