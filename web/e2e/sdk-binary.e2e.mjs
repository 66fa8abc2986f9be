// End-to-end test of binary payloads in the browser SDK (/herald.js), in
// real headless Chromium, against a real node (web/sdk_e2e_test.go,
// TestSDKBinaryInChromium):
//
//   node sdk-binary.e2e.mjs <server-url>
//
// Four pages on one channel: Ada's speaks Protobuf over a WebSocket,
// Grace's JSON over a WebSocket (encoding: 'json'); Linus's and Ken's pages
// have no WebSocket constructor (removed before the page runs), so the SDK
// falls back to HTTP-streaming (Linus) and Server-Sent Events (Ken,
// forced), in JSON. Ada draws a picture on a canvas and publishes the
// PNG's bytes; the others get the same bytes (SHA-256) as a Uint8Array and
// show them as an image. Then Linus publishes a PNG of his own through the
// fallback (base64 with "binary":true, on a POST) and everyone gets its
// bytes; Linus reads both back from history. Last, Ada, Grace and Linus
// each publish two 40,000-byte payloads in one tick (over the 64 KiB
// message limit together: the SDK splits them into frames, or POSTs) and
// one of 70,000 bytes, which the SDK refuses with 106. Exits non-zero on
// any failure.
import { assert, launchChromium, serverArg, startWatchdog, step } from './harness.mjs';

const serverURL = serverArg('node sdk-binary.e2e.mjs <server-url>');
const stopWatchdog = startWatchdog(60_000, 'the binary payload test');
const channel = `img-${Math.random().toString(36).slice(2, 8)}`;
const log = [];


// Installed in every page: the SDK, subscribed to the channel, keeping
// what arrives in window.got; and helpers to paint a PNG, hash bytes and
// show bytes as an image.
function pageSetup({ channel, ws }) {
  window.got = [];
  window.sha256 = async (bytes) =>
    [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  window.paintPNG = async (label, hue) => {
    const canvas = document.createElement('canvas');
    canvas.width = 96;
    canvas.height = 64;
    const g = canvas.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 96, 64);
    grad.addColorStop(0, `hsl(${hue} 80% 55%)`);
    grad.addColorStop(1, `hsl(${hue + 120} 80% 35%)`);
    g.fillStyle = grad;
    g.fillRect(0, 0, 96, 64);
    g.fillStyle = '#fff';
    g.font = 'bold 20px sans-serif';
    g.fillText(label, 8, 40);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return new Uint8Array(await blob.arrayBuffer());
  };
  // showImage decodes bytes as a PNG in an <img> and returns its size.
  window.showImage = (bytes) =>
    new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(`${img.naturalWidth}x${img.naturalHeight}`);
      img.onerror = () => reject(new Error('the bytes do not decode as an image'));
      img.src = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
      document.body.append(img);
    });
  window.start = async (opts) => {
    const { Herald } = await import('/herald.js');
    window.herald = new Herald(ws, opts);
    const sub = window.herald.subscribe(channel, { onPublication: (p) => window.got.push(p) });
    window.herald.connect();
    await sub.ready;
    return { transport: window.herald.info.transport, encoding: window.herald.info.encoding };
  };
}

// received waits until the page has n publications and describes the
// last: whether its data is a Uint8Array, its hash and length, and the
// size of the image it shows.
async function received(page, n) {
  await page.waitForFunction((n) => window.got.length >= n, n, { timeout: 15_000 });
  return page.evaluate(async (n) => {
    const data = window.got[n - 1].data;
    if (!(data instanceof Uint8Array)) return { bytes: false, type: Object.prototype.toString.call(data) };
    return { bytes: true, sha: await window.sha256(data), length: data.length, image: await window.showImage(data) };
  }, n);
}

let browser;
let failed = false;
try {
  browser = await launchChromium();
  const env = { channel: `chat:${channel}`, ws: serverURL.replace(/^http/, 'ws') + '/ws' };
  const open = async (label, { noWebSocket = false, opts = {} } = {}) => {
    const context = await browser.newContext();
    if (noWebSocket) await context.addInitScript(() => delete window.WebSocket);
    await context.addInitScript(pageSetup, env);
    const page = await context.newPage();
    page.on('pageerror', (e) => log.push(`[${label} pageerror] ${e}`));
    page.on('console', (m) => m.type() === 'error' && log.push(`[${label} console] ${m.text()}`));
    await page.goto(`${serverURL}/_e2e/blank`);
    const info = await page.evaluate((opts) => window.start(opts), opts);
    step(`${label} subscribed to chat:${channel} over ${info.transport}, ${info.encoding}`);
    return { page, info };
  };
  const ada = await open('Ada');
  const grace = await open('Grace', { opts: { encoding: 'json' } });
  const linus = await open('Linus', { noWebSocket: true });
  const ken = await open('Ken', { noWebSocket: true, opts: { transport: 'sse' } });
  assert(ada.info.encoding === 'protobuf' && grace.info.encoding === 'json', `Ada and Grace speak ${ada.info.encoding}, ${grace.info.encoding}`);
  assert(linus.info.transport === 'http-stream' && linus.info.encoding === 'json', `Linus uses ${linus.info.transport}, ${linus.info.encoding}`);
  assert(ken.info.transport === 'sse' && ken.info.encoding === 'json', `Ken uses ${ken.info.transport}, ${ken.info.encoding}`);
  const everyone = [['Ada', ada], ['Grace', grace], ['Linus', linus], ['Ken', ken]];

  step('Ada paints a PNG and publishes its bytes');
  const sent = await ada.page.evaluate(async (channel) => {
    const png = await window.paintPNG('Ada', 210);
    const signature = [...png.slice(0, 8)].join();
    await window.herald.publish(channel, png);
    return { sha: await window.sha256(png), length: png.length, signature };
  }, env.channel);
  assert(sent.signature === '137,80,78,71,13,10,26,10', `Ada's canvas gave no PNG (signature ${sent.signature})`);
  step(`sent ${sent.length} bytes, SHA-256 ${sent.sha.slice(0, 16)}…`);
  for (const [label, who] of everyone) {
    const r = await received(who.page, 1);
    assert(r.bytes, `${label} received ${r.type}, want a Uint8Array`);
    assert(r.sha === sent.sha && r.length === sent.length, `${label} received ${r.length} bytes (SHA-256 ${r.sha}), want Ada's ${sent.length} (${sent.sha})`);
    assert(r.image === '96x64', `${label}'s image is ${r.image}, want 96x64`);
    step(`${label} received the same ${r.length} bytes and shows a ${r.image} image`);
  }

  step('Linus, without WebSocket, publishes a PNG of his own');
  const back = await linus.page.evaluate(async (channel) => {
    const png = await window.paintPNG('Linus', 20);
    await window.herald.publish(channel, png);
    return { sha: await window.sha256(png), length: png.length };
  }, env.channel);
  for (const [label, who] of everyone) {
    const r = await received(who.page, 2);
    assert(r.bytes && r.sha === back.sha && r.length === back.length && r.image === '96x64', `${label} received ${JSON.stringify(r)}, want Linus's ${JSON.stringify(back)}`);
  }
  step(`everyone received Linus's ${back.length} bytes`);

  step('Linus reads both back from history, in JSON');
  const history = await linus.page.evaluate(async (channel) => {
    const { publications } = await window.herald.history(channel);
    return Promise.all(publications.map(async (p) => (p.data instanceof Uint8Array ? window.sha256(p.data) : 'not bytes')));
  }, env.channel);
  assert(history.join() === [sent.sha, back.sha].join(), `history holds ${history}`);

  step('two 40,000-byte payloads in one tick go (in two frames), one of 70,000 is refused with 106');
  for (const [label, who] of [['Ada', ada], ['Grace', grace], ['Linus', linus]]) {
    const r = await who.page.evaluate(async (channel) => {
      const errs = [];
      window.herald.on('disconnected', (e) => errs.push(`disconnected ${e.code}`));
      const pair = await Promise.all([1, 2].map((v) => window.herald.publish(channel, new Uint8Array(40_000).fill(v))));
      let refused = '';
      try {
        await window.herald.publish(channel, new Uint8Array(70_000));
      } catch (err) {
        refused = `${err.code}`;
      }
      return { offsets: pair.map((p) => p.offset).join(), refused, state: window.herald.state, errs };
    }, env.channel);
    assert(r.refused === '106' && r.state === 'connected' && !r.errs.length && /^\d+,\d+$/.test(r.offsets), `${label}: ${JSON.stringify(r)}`);
  }
  const total = 2 + 3 * 2;
  for (const [label, who] of everyone) {
    await who.page.waitForFunction((n) => window.got.length >= n, total, { timeout: 15_000 });
    const sizes = await who.page.evaluate(() => window.got.slice(2).map((p) => `${p.data.length}:${p.data[0]}`).join());
    assert(sizes.split(',').length === 6 && sizes.split(',').every((s) => s === '40000:1' || s === '40000:2'), `${label} received ${sizes}`);
  }

  for (const [, { page }] of everyone) await page.evaluate(() => window.herald.disconnect());
  console.log('PASS: a PNG went as bytes between pages over Protobuf and the JSON fallback, and back from history');
} catch (err) {
  failed = true;
  console.error(`FAIL: ${err.message}`);
  if (log.length) console.error(`browser log:\n  ${log.join('\n  ')}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  stopWatchdog();
}
process.exit(failed ? 1 : 0);
