// The SDK's encodings against the Go server's (package protocol), run by
// js.TestEncodingsAgreeWithGo:
//
//   node test/interop.mjs <messages.json>
//
// messages.json lists server messages the Go side encoded in both
// encodings ({name, json, protobuf}: the JSON text and the Protobuf frame
// in base64). Each pair must decode alike here, absent meaning zero as the
// spec says. Then the script prints, one JSON line each, the commands the
// SDK sends encoded in both encodings ({name, json, protobuf}), for the Go
// side to decode and compare.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { jsonEncoding } from '../src/encoding-json.js';
import { protobufEncoding } from '../src/encoding-protobuf.js';

const decodeOne = (enc, frame) => {
  const msgs = [];
  enc.decode(frame, (m) => void msgs.push(m), (e) => {
    throw e;
  });
  if (msgs.length !== 1) throw new Error(`${msgs.length} messages in the frame, want 1`);
  return msgs[0];
};

// zeroless drops what the spec counts as absent: zero, "", false, null
// data fields aside, and empty objects and arrays after that.
function zeroless(v) {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(zeroless);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const z = k === 'data' ? (x instanceof Uint8Array ? [...x] : x) : zeroless(x);
      if (z === 0 || z === '' || z === false || z === undefined) continue;
      if (k !== 'data' && z && typeof z === 'object' && !Array.isArray(z) && Object.keys(z).length === 0 && k !== 'result') continue;
      out[k] = z;
    }
    return out;
  }
  return v;
}

let failed = 0;
for (const { name, json, protobuf } of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  try {
    const a = zeroless(decodeOne(jsonEncoding, json));
    const b = zeroless(decodeOne(protobufEncoding, Buffer.from(protobuf, 'base64')));
    if (!isDeepStrictEqual(a, b)) throw new Error(`JSON decodes to ${JSON.stringify(a)}, Protobuf to ${JSON.stringify(b)}`);
  } catch (err) {
    failed++;
    console.error(`FAIL ${name}: ${err.message}`);
  }
}
if (failed) process.exit(1);

const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff]);
const commands = {
  connect: { id: 1, op: 'connect', name: 'herald-js', version: '0.1.0', token: 'jwt', data: { hello: ['server', 1] } },
  'publish bytes': { id: 2, op: 'publish', channel: 'img:cats', data: png, binary: true, key: 'k1' },
  'publish no bytes': { id: 3, op: 'publish', channel: 'img:cats', data: new Uint8Array(0), binary: true },
  'publish json': { id: 4, op: 'publish', channel: 'chat:a', data: { text: 'héllo ✓' } },
  'publish null': { id: 5, op: 'publish', channel: 'chat:a', data: null },
  subscribe: { id: 6, op: 'subscribe', channel: 'chat:a', token: 'ct', recover: true, offset: 2 ** 53 - 1, epoch: 'e1', presence: true },
  history: { id: 7, op: 'history', channel: 'chat:a', limit: 50, since: { offset: 3, epoch: 'e1' }, reverse: true },
  rpc: { id: 8, op: 'rpc', method: 'echo', data: [1, 'two'] },
  'rpc without data': { id: 9, op: 'rpc', method: 'time' },
  presence: { id: 10, op: 'presence', channel: 'chat:a' },
  refresh: { id: 11, op: 'refresh', token: 'jwt2' },
  unsubscribe: { id: 12, op: 'unsubscribe', channel: 'chat:a' },
  send: { op: 'send', data: { typing: true } },
  pong: { op: 'pong' },
};
for (const [name, cmd] of Object.entries(commands)) {
  console.log(JSON.stringify({ name, json: jsonEncoding.encode(cmd), protobuf: Buffer.from(protobufEncoding.encode(cmd)).toString('base64') }));
}
