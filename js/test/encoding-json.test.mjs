// Unit tests of the JSON encoding's binary payloads and of the bytes
// helpers (src/bytes.js, src/payload.js, src/encoding-json.js), run by
// `npm test` (node --test) and go test ./js/ (TestSDKUnitTests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asBytes, base64ToBytes, bytesToBase64, utf8Length } from '../src/bytes.js';
import { jsonEncoding } from '../src/encoding-json.js';
import { ErrorCode } from '../src/errors.js';
import { publishPayload } from '../src/payload.js';

const sample = () => Uint8Array.from({ length: 256 }, (_, i) => i);

test('base64 round trip, as Node.js encodes it, past the chunk size', () => {
  for (const n of [0, 1, 2, 3, 255, 0x8000, 0x8001, 100_000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7919) & 0xff);
    const b64 = bytesToBase64(bytes);
    assert.equal(b64, Buffer.from(bytes).toString('base64'), `encode ${n} bytes`);
    assert.deepEqual(base64ToBytes(b64), bytes, `decode ${n} bytes`);
  }
  assert.throws(() => base64ToBytes('not base64!'));
});

test('utf8Length counts the bytes TextEncoder writes', () => {
  const enc = new TextEncoder();
  for (const s of ['', 'ascii', 'é', '€uro', '😀 smile', 'a\ud800b', '\udc00', 'x\ud83d', '中文 and 😀😀', '{"data":"yv4=","binary":true}']) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
});

test('asBytes takes the bytes of buffers and views, and nothing else', () => {
  const buf = new ArrayBuffer(8);
  new Uint8Array(buf).set([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...asBytes(buf)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...asBytes(new DataView(buf, 2, 3))], [3, 4, 5]);
  assert.deepEqual([...asBytes(new Uint16Array(buf, 4, 1))], [5, 6]);
  const u8 = new Uint8Array(buf, 1, 2);
  assert.equal(asBytes(u8), u8, 'a Uint8Array is taken as it is');
  const b = asBytes(Buffer.from([1, 2, 3]).subarray(1));
  assert.equal(b.constructor, Uint8Array, 'a Buffer is seen as a plain Uint8Array');
  assert.deepEqual([...b], [2, 3]);
  for (const v of [null, undefined, 'bytes', [1, 2], { length: 2 }, new Blob(['x'])]) assert.equal(asBytes(v), null);
});

test('publishPayload: bytes are binary, JSON values are not, a Blob is refused', () => {
  assert.deepEqual(publishPayload(new Uint8Array([1, 2])), { data: new Uint8Array([1, 2]), binary: true });
  assert.deepEqual(publishPayload({ a: 1 }), { data: { a: 1 }, binary: false });
  assert.deepEqual(publishPayload(undefined), { data: null, binary: false });
  assert.throws(() => publishPayload(new Blob(['x'])), (e) => e.code === ErrorCode.BINARY && /arrayBuffer\(\)/.test(e.message));
});

test('a binary publish is encoded as base64 with "binary":true', () => {
  const bytes = sample();
  const line = jsonEncoding.encode({ id: 3, op: 'publish', channel: 'c', data: bytes, binary: true, key: 'k' });
  assert.deepEqual(JSON.parse(line), { id: 3, op: 'publish', channel: 'c', data: Buffer.from(bytes).toString('base64'), binary: true, key: 'k' });
  assert.equal(JSON.parse(jsonEncoding.encode({ id: 4, op: 'publish', channel: 'c', data: { text: 'hi' } })).data.text, 'hi');
});

test('bytes where JSON must go are refused with code binary', () => {
  for (const data of [new Uint8Array(2), { nested: [new ArrayBuffer(1)] }, new Blob(['x'])]) {
    assert.throws(() => jsonEncoding.encode({ id: 1, op: 'rpc', method: 'm', data }), (e) => e.code === ErrorCode.BINARY);
  }
  // A publish with bytes inside a JSON value is not binary either.
  assert.throws(() => jsonEncoding.encode({ id: 1, op: 'publish', channel: 'c', data: { img: new Uint8Array(1) } }), (e) => e.code === ErrorCode.BINARY);
});

test('binary publications are decoded into bytes wherever they come', () => {
  const bytes = sample();
  const b64 = Buffer.from(bytes).toString('base64');
  const pub = { offset: 1, data: b64, binary: true };
  const frame = [
    { op: 'pub', channel: 'c', offset: 7, data: b64, binary: true },
    { op: 'pub', channel: 'c', offset: 8, data: 'plain string' },
    { op: 'sub', channel: 's', publications: [{ ...pub }] },
    { id: 1, result: { publications: [{ ...pub }, { offset: 2, data: { json: true } }] } },
    { id: 2, result: { client: 'x', subs: { s: { publications: [{ ...pub }] }, t: {} } } },
  ]
    .map((m) => JSON.stringify(m))
    .join('\n');
  const got = [];
  const errors = [];
  jsonEncoding.decode(frame, (m) => void got.push(m), (e) => errors.push(e));
  assert.deepEqual(errors, []);
  assert.equal(got.length, 5);
  assert.deepEqual(got[0].data, bytes);
  assert.equal(got[1].data, 'plain string', 'a string without "binary" stays a string');
  assert.deepEqual(got[2].publications[0].data, bytes);
  assert.deepEqual(got[3].result.publications[0].data, bytes);
  assert.deepEqual(got[3].result.publications[1].data, { json: true });
  assert.deepEqual(got[4].result.subs.s.publications[0].data, bytes);
});

test('a malformed message is reported and the rest of the frame still decoded', () => {
  const got = [];
  const errors = [];
  const frame = ['{"op":"ping"}', '{not json', '{"op":"pub","channel":"c","data":"***","binary":true}', '{"op":"message","data":1}'].join('\n');
  jsonEncoding.decode(frame, (m) => void got.push(m.op), (e) => errors.push(e.message));
  assert.deepEqual(got, ['ping', 'message']);
  assert.equal(errors.length, 2);
  jsonEncoding.decode(new ArrayBuffer(3), () => assert.fail('a binary frame was decoded'), (e) => errors.push(e.message));
  assert.match(errors[2], /binary frame/);
});

test('onMessage returning true stops the frame', () => {
  const got = [];
  jsonEncoding.decode('{"op":"a"}\n{"op":"b"}', (m) => got.push(m.op) > 0, () => {});
  assert.deepEqual(got, ['a']);
});
