// Checks of the JavaScript SDK's channel features (history, presence,
// channel tokens, sub.ready, binary payloads) against the real server of
// browsertest.StartChannelsServer. The same checks run in headless
// Chromium (sdk-channels.e2e.mjs, with the SDK the server serves at
// /herald.js) and under Node.js 20 (js/test/run-checks.mjs, with the packed
// npm package and the ws package), so each one is one self-contained
// function: Chromium receives its source text.
//
// A check is called as check(env) with env = {sdk, ws, base}: the module to
// import the SDK from, the WebSocket URL and the server's http:// base. The
// helpers (until, check, rejection) are installed globally first, and
// globalThis.HeraldTestWebSocket is the WebSocket implementation (undefined
// in browsers, which have one).
//
// The server: namespace "chat" keeps history and presence with join/leave;
// namespace "vip" lets only connections with a channel token subscribe,
// read history and presence; GET /_e2e/chantoken?channel=C&ttl=2s mints a
// channel token; POST /_e2e/disconnect?client=ID drops a connection with a
// reconnect code.

export function installHelpers() {
  globalThis.until = async (pred, what, ms = 8000) => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await pred();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  globalThis.check = (cond, msg) => {
    if (!cond) throw new Error(msg);
  };
  globalThis.rejection = async (p) => {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('the promise resolved, want a rejection');
  };
}

export const checks = {
  'history and presence, on the client and the subscription': async ({ sdk, ws }) => {
    const { Herald } = await import(sdk);
    const WebSocket = globalThis.HeraldTestWebSocket;
    const channel = `chat:h-${Math.random().toString(36).slice(2)}`;
    const a = new Herald(ws, { WebSocket });
    const b = new Herald(ws, { WebSocket });
    const joins = [];
    const leaves = [];
    const sub = a.subscribe(channel, { onJoin: (e) => joins.push(e.info.client), onLeave: (e) => leaves.push(e.info.client) });
    a.connect();
    const ctx = await sub.ready;
    check(ctx.channel === channel && ctx.recoverable, `ready ${JSON.stringify(ctx)}`);
    for (const text of ['one', 'two', 'three']) await a.publish(channel, { text });
    const h = await a.history(channel, { limit: 2, reverse: true });
    check(h.publications.map((p) => p.data.text).join() === 'three,two', `reverse history ${JSON.stringify(h)}`);
    check(h.offset === 3 && h.epoch && h.publications[0].channel === channel, `history position ${JSON.stringify(h)}`);
    const since = await sub.history({ since: { offset: 1, epoch: h.epoch } });
    check(since.publications.map((p) => p.offset).join() === '2,3', `since ${JSON.stringify(since)}`);
    let p = await sub.presence();
    check(Object.keys(p.clients).join() === a.info.client, `presence ${JSON.stringify(p)}`);
    b.connect();
    const bsub = b.subscribe(channel);
    await bsub.ready;
    await until(() => joins.includes(b.info.client), 'the join');
    p = await a.presence(channel);
    check(Object.keys(p.clients).length === 2 && p.clients[b.info.client], `presence with two ${JSON.stringify(p)}`);
    const bid = b.info.client;
    b.disconnect();
    await until(() => leaves.includes(bid), 'the leave');
    const err = await rejection(a.history('nope:x'));
    check(err.code === 102, `history on an unknown namespace: ${err.code}`);
    a.disconnect();
  },

  'a channel token opens a token namespace; none gets 103': async ({ sdk, ws, base }) => {
    const { Herald, ErrorCode } = await import(sdk);
    const WebSocket = globalThis.HeraldTestWebSocket;
    const channel = `vip:t-${Math.random().toString(36).slice(2)}`;
    const h = new Herald(ws, { WebSocket });
    const errors = [];
    h.on('error', (e) => errors.push(e));
    h.connect();
    const denied = h.subscribe(channel, { onError: () => {} });
    const err = await rejection(denied.ready);
    check(err.code === ErrorCode.PERMISSION_DENIED && denied.state === 'unsubscribed', `without a token: ${err.code} ${denied.state}`);
    const token = await (await fetch(`${base}/_e2e/chantoken?channel=${encodeURIComponent(channel)}&ttl=1h`)).text();
    const sub = h.subscribe(channel, { token });
    await sub.ready;
    await h.publish(channel, 'inside');
    const hist = await sub.history();
    check(hist.publications.length === 1 && hist.publications[0].data === 'inside', `history ${JSON.stringify(hist)}`);
    const pres = await sub.presence();
    check(pres.clients[h.info.client], `presence ${JSON.stringify(pres)}`);
    sub.unsubscribe();
    const other = h.subscribe(`${channel}-other`, { token, onError: () => {} });
    check((await rejection(other.ready)).code === 103, "another channel's token opens nothing");
    const gone = h.subscribe(`vip:u-${Math.random().toString(36).slice(2)}`);
    gone.unsubscribe();
    check((await rejection(gone.ready)).code === ErrorCode.UNSUBSCRIBED, 'unsubscribe before ready rejects it');
    check(errors.length === 0, `error events ${errors}`);
    h.disconnect();
  },

  'an expiring channel token is renewed by getToken without a sound': async ({ sdk, ws, base }) => {
    const { Herald, tokenExpiry } = await import(sdk);
    const WebSocket = globalThis.HeraldTestWebSocket;
    const channel = `vip:r-${Math.random().toString(36).slice(2)}`;
    const tokens = [];
    const getToken = async (ch) => {
      const t = await (await fetch(`${base}/_e2e/chantoken?channel=${encodeURIComponent(ch)}&ttl=2s`)).text();
      tokens.push(t);
      return t;
    };
    const h = new Herald(ws, { WebSocket, minBackoff: 50, maxBackoff: 200 });
    const errors = [];
    h.on('error', (e) => errors.push(String(e && e.message)));
    const subscribed = [];
    const got = [];
    const sub = h.subscribe(channel, {
      getToken,
      onSubscribed: (ctx) => subscribed.push(ctx),
      onPublication: (p) => got.push(p.data),
      onError: (e) => errors.push(`onError ${e.code}`),
    });
    h.connect();
    await sub.ready;
    check(tokens.length === 1, `getToken called ${tokens.length} times to subscribe`);
    await until(() => tokens.length >= 2, 'getToken again before the expiry', 4000);
    // Wait until the first token is dead, then drop the connection: the
    // resubscribe must use the fresh one.
    const first = tokenExpiry(tokens[0]);
    check(first > 0 && tokenExpiry(tokens[1]) > first, 'the new token outlives the old one');
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now() + 100)));
    const before = h.info.client;
    const res = await fetch(`${base}/_e2e/disconnect?client=${before}`, { method: 'POST' });
    check(res.ok, `kick: ${res.status}`);
    await until(() => subscribed.length === 2, 'the resubscribe');
    check(subscribed[1].resubscribed && subscribed[1].recovered, `resubscribe ${JSON.stringify(subscribed[1])}`);
    check(h.info.client !== before, 'a new connection');
    await h.publish(channel, 'after');
    await until(() => got.includes('after'), 'a publication after the renewal');
    check(errors.length === 0, `the renewal was noticed: ${errors}`);
    h.disconnect();
  },

  'bytes arrive as the same bytes, in Protobuf and in JSON, live and from history': async ({ sdk, ws }) => {
    const { Herald } = await import(sdk);
    const WebSocket = globalThis.HeraldTestWebSocket;
    const channel = `chat:bytes-${Math.random().toString(36).slice(2)}`;
    const bytes = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 31 + 7) & 0xff);
    const same = (a, b) => a instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
    const clients = ['binary', 'json', 'auto'].map((encoding) => new Herald(ws, { WebSocket, encoding }));
    const got = clients.map(() => []);
    const subs = clients.map((h, i) => h.subscribe(channel, { onPublication: (p) => got[i].push(p.data) }));
    clients.forEach((h) => h.connect());
    await Promise.all(subs.map((s) => s.ready));
    const encodings = clients.map((h) => h.info.encoding).join();
    check(encodings === 'protobuf,json,protobuf', `encodings ${encodings}`);
    // Bytes from a Protobuf client, bytes from a JSON client (a DataView on
    // part of a buffer: only its bytes go), and a JSON value.
    const [bin, json] = clients;
    await bin.publish(channel, bytes);
    const buf = new Uint8Array(10);
    buf.set([9, 8, 7, 6], 3);
    await json.publish(channel, new DataView(buf.buffer, 3, 4));
    await json.publish(channel, { text: 'not bytes' });
    for (let i = 0; i < clients.length; i++) {
      await until(() => got[i].length === 3, `client ${i} receives 3 publications`);
      check(same(got[i][0], bytes), `client ${i}: the 40,000 bytes arrive as they left (in JSON as 53,336 characters of base64, under the 64 KiB message limit)`);
      check(same(got[i][1], Uint8Array.of(9, 8, 7, 6)), `client ${i}: the DataView's 4 bytes arrive: ${got[i][1]}`);
      check(!(got[i][2] instanceof Uint8Array) && got[i][2].text === 'not bytes', `client ${i}: the JSON value ${JSON.stringify(got[i][2])}`);
    }
    for (const h of [bin, json]) {
      const { publications } = await h.history(channel);
      const data = publications.map((p) => p.data);
      check(data.length === 3 && same(data[0], bytes) && same(data[1], Uint8Array.of(9, 8, 7, 6)) && data[2].text === 'not bytes', `history over ${h.info.encoding}`);
    }
    clients.forEach((h) => h.disconnect());
  },

  'bytes where only JSON can go are refused on the client, the connection lives on': async ({ sdk, ws }) => {
    const { Herald, ErrorCode } = await import(sdk);
    const WebSocket = globalThis.HeraldTestWebSocket;
    const h = new Herald(ws, { WebSocket });
    const disc = [];
    h.on('disconnected', (e) => disc.push(e));
    h.connect();
    await until(() => h.state === 'connected', 'connected');
    // A publication's data may be bytes, as a whole; not a Blob, nor bytes
    // inside a JSON value. rpc and send data are JSON only.
    for (const v of [new Blob(['x']), { nested: [new Uint16Array(1)] }]) {
      const e1 = await rejection(h.publish('chat:bin', v));
      check(e1.code === ErrorCode.BINARY && /binary/.test(e1.message), `publish ${Object.prototype.toString.call(v)}: ${e1.code} ${e1.message}`);
    }
    for (const v of [new ArrayBuffer(4), new Uint8Array(4), new DataView(new ArrayBuffer(2)), new Blob(['x']), { nested: [new Uint16Array(1)] }]) {
      check((await rejection(h.send(v))).code === ErrorCode.BINARY, `send ${Object.prototype.toString.call(v)}`);
      check((await rejection(h.rpc('echo', v))).code === ErrorCode.BINARY, `rpc ${Object.prototype.toString.call(v)}`);
    }
    await h.publish('chat:bin', { fine: true });
    check(h.state === 'connected' && disc.length === 0, `state ${h.state}, disconnects ${JSON.stringify(disc)}`);
    h.disconnect();
  },
};
