// Unit tests of the Protobuf encoding (src/encoding-protobuf.js) against
// the field numbers of protocol/herald.proto, written and read here with
// @bufbuild/protobuf's wire API; the Go server's encoder is the other side
// in the browser and Node.js tests (web/sdk_e2e_test.go). Run by `npm
// test` and go test ./js/ (TestSDKUnitTests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { protobufEncoding as pb } from '../src/encoding-protobuf.js';
import { jsonEncoding } from '../src/encoding-json.js';
import { encodingOf, subprotocols } from '../src/encodings.js';
import { ErrorCode } from '../src/errors.js';

const { Varint, LengthDelimited } = WireType;
const utf8 = new TextEncoder();
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0x00]);

// fields reads one size-delimited message (the whole of buf) into
// [field, value] pairs: varints as bigint, length-delimited as bytes.
function fields(buf, delimited = false) {
  const r = new BinaryReader(buf);
  const body = delimited ? r.bytes() : buf;
  assert.equal(r.pos, delimited ? r.len : 0, 'one message, nothing after it');
  const rr = new BinaryReader(body);
  const out = [];
  while (rr.pos < rr.len) {
    const [no, wt] = rr.tag();
    out.push([no, wt === Varint ? rr.uint64() : rr.bytes()]);
  }
  return out;
}
const get = (fs, no) => fs.filter(([n]) => n === no).map(([, v]) => v);
const text = (b) => new TextDecoder().decode(b);

test('subprotocols follow the encoding option; the chosen one selects the encoding', () => {
  assert.deepEqual(subprotocols('auto'), ['herald.protobuf', 'herald.json']);
  assert.deepEqual(subprotocols('binary'), ['herald.protobuf']);
  assert.deepEqual(subprotocols('json'), []);
  assert.throws(() => subprotocols('msgpack'), TypeError);
  assert.equal(encodingOf('herald.protobuf').name, 'protobuf');
  for (const p of ['herald.json', '', undefined]) assert.equal(encodingOf(p).name, 'json');
});

test('a binary publish carries raw bytes and binary=true, size-delimited', () => {
  const buf = pb.encode({ id: 7, op: 'publish', channel: 'img:cats', data: png, binary: true, key: 'k1' });
  const f = fields(buf, true);
  assert.deepEqual(get(f, 1), [7n]);
  assert.equal(text(get(f, 2)[0]), 'publish');
  assert.equal(text(get(f, 3)[0]), 'img:cats');
  assert.deepEqual(get(f, 4)[0], png);
  assert.deepEqual(get(f, 5), [1n]);
  assert.equal(text(get(f, 6)[0]), 'k1');
});

test('JSON data is its UTF-8 text, binary unset; empty fields are left out', () => {
  const f = fields(pb.encode({ id: 1, op: 'publish', channel: 'c', data: { text: 'héllo' } }), true);
  assert.deepEqual(JSON.parse(text(get(f, 4)[0])), { text: 'héllo' });
  assert.deepEqual(get(f, 5), []);
  const rpc = fields(pb.encode({ id: 2, op: 'rpc', method: 'time' }), true);
  assert.deepEqual(rpc.map(([n]) => n), [1, 2, 15], 'rpc without data: id, op, method');
  const pong = fields(pb.encode({ op: 'pong' }), true);
  assert.deepEqual(pong.map(([n]) => n), [2]);
  const send = fields(pb.encode({ op: 'send', data: null }), true);
  assert.equal(text(get(send, 4)[0]), 'null');
});

test('connect, subscribe with recovery, history: every field at its number', () => {
  const c = fields(pb.encode({ id: 1, op: 'connect', name: 'herald-js', version: '0.1.0', token: 't', data: { a: 1 } }), true);
  assert.deepEqual([text(get(c, 8)[0]), text(get(c, 9)[0]), text(get(c, 7)[0]), text(get(c, 4)[0])], ['herald-js', '0.1.0', 't', '{"a":1}']);
  const s = fields(pb.encode({ id: 2, op: 'subscribe', channel: 'c', token: 'ct', recover: true, offset: 2 ** 40, epoch: 'e1', presence: true }), true);
  assert.deepEqual([get(s, 11)[0], get(s, 12)[0], text(get(s, 13)[0]), get(s, 14)[0]], [1n, 2n ** 40n, 'e1', 1n]);
  const h = fields(pb.encode({ id: 3, op: 'history', channel: 'c', limit: 50, reverse: true, since: { offset: 9, epoch: 'e2' } }), true);
  assert.deepEqual([get(h, 17)[0], get(h, 18)[0]], [50n, 1n]);
  const since = fields(get(h, 16)[0]);
  assert.deepEqual([since[0][1], text(since[1][1])], [9n, 'e2']);
});

test('bytes where JSON must go are refused with code binary', () => {
  for (const data of [new Uint8Array(1), { nested: new ArrayBuffer(1) }]) {
    assert.throws(() => pb.encode({ id: 1, op: 'rpc', method: 'm', data }), (e) => e.code === ErrorCode.BINARY);
  }
});

// Writers of the server's messages, field numbers from herald.proto.
function serverMessage(build) {
  const w = new BinaryWriter().fork();
  build(w);
  return w.join().finish();
}
function publication(w, no, { offset, data, binary, user, time }) {
  w.tag(no, LengthDelimited).fork();
  if (offset) w.tag(1, Varint).uint64(offset);
  if (data) w.tag(2, LengthDelimited).bytes(data);
  if (binary) w.tag(3, Varint).bool(true);
  if (user) w.tag(4, LengthDelimited).fork().tag(1, LengthDelimited).string('c-1').tag(2, LengthDelimited).string(user).join();
  if (time) w.tag(6, Varint).int64(time);
  w.join();
}
function decodeAll(frame) {
  const got = [];
  const errors = [];
  pb.decode(frame, (m) => void got.push(m), (e) => errors.push(e.message));
  return { got, errors };
}

test('a frame of several pushes decodes into their JSON form', () => {
  const frame = pb.join([
    serverMessage((w) => w.tag(2, LengthDelimited).string('ping')),
    serverMessage((w) => {
      w.tag(2, LengthDelimited).string('pub').tag(3, LengthDelimited).string('img:cats').tag(4, Varint).uint64(12).tag(5, LengthDelimited).string('e1');
      w.tag(6, LengthDelimited).bytes(png).tag(7, Varint).bool(true);
      w.tag(8, LengthDelimited).fork().tag(1, LengthDelimited).string('c-9').tag(2, LengthDelimited).string('ada').tag(3, LengthDelimited).bytes(utf8.encode('{"n":1}')).join();
      w.tag(9, LengthDelimited).string('k').tag(10, Varint).int64(1764127800123);
      w.tag(99, LengthDelimited).string('a field from a newer server');
    }),
    serverMessage((w) => w.tag(2, LengthDelimited).string('pub').tag(3, LengthDelimited).string('c').tag(6, LengthDelimited).bytes(utf8.encode('"text"'))),
    serverMessage((w) => w.tag(2, LengthDelimited).string('pub').tag(3, LengthDelimited).string('c')),
    serverMessage((w) => w.tag(2, LengthDelimited).string('disconnect').tag(13, Varint).int32(3503).tag(14, LengthDelimited).string('forbidden')),
  ]);
  const { got, errors } = decodeAll(frame.buffer); // as a browser hands it: an ArrayBuffer
  assert.deepEqual(errors, []);
  assert.deepEqual(got[0], { op: 'ping' });
  const pub = got[1];
  assert.deepEqual(pub.data, png);
  assert.equal(pub.data.buffer.byteLength, png.length, 'the bytes are a copy, not a view on the frame');
  assert.deepEqual(
    { ...pub, data: null },
    { op: 'pub', channel: 'img:cats', offset: 12, epoch: 'e1', data: null, binary: true, info: { client: 'c-9', user: 'ada', data: { n: 1 } }, key: 'k', time: 1764127800123 },
  );
  assert.equal(got[2].data, 'text');
  assert.equal(got[3].data, null, 'a pub without data is null, as in JSON');
  assert.deepEqual(got[4], { op: 'disconnect', code: 3503, reason: 'forbidden', reconnect: false });
});

test('replies: results with publications, subscriptions and presence; errors', () => {
  const frame = pb.join([
    serverMessage((w) => {
      w.tag(1, Varint).uint64(1).tag(11, LengthDelimited).fork();
      w.tag(1, LengthDelimited).string('c-1').tag(2, LengthDelimited).string('node-a').tag(4, Varint).int64(25).tag(5, Varint).int64(1900000000);
      w.tag(6, LengthDelimited).bytes(utf8.encode('{"motd":"hi"}'));
      w.tag(7, LengthDelimited).fork().tag(1, LengthDelimited).string('news').tag(2, LengthDelimited).fork().tag(8, Varint).uint64(3).tag(9, LengthDelimited).string('e').join().join();
      w.join();
    }),
    serverMessage((w) => {
      w.tag(1, Varint).uint64(2).tag(11, LengthDelimited).fork();
      w.tag(8, Varint).uint64(2).tag(9, LengthDelimited).string('e').tag(10, Varint).bool(true).tag(11, Varint).bool(true);
      publication(w, 12, { offset: 1, data: png, binary: true, user: 'ada', time: 5 });
      publication(w, 12, { offset: 2, data: utf8.encode('[1,2]') });
      w.join();
    }),
    serverMessage((w) => {
      w.tag(1, Varint).uint64(3).tag(11, LengthDelimited).fork();
      w.tag(13, LengthDelimited).fork().tag(1, LengthDelimited).string('c-1').tag(2, LengthDelimited).fork().tag(1, LengthDelimited).string('ada').tag(2, LengthDelimited).bytes(utf8.encode('{"x":true}')).join().join();
      w.join();
    }),
    serverMessage((w) => w.tag(1, Varint).uint64(4).tag(11, LengthDelimited).fork().join()),
    serverMessage((w) => w.tag(1, Varint).uint64(5).tag(12, LengthDelimited).fork().tag(1, Varint).int32(103).tag(2, LengthDelimited).string('permission denied').join()),
  ]);
  const { got, errors } = decodeAll(Buffer.from(frame)); // as the ws package hands it: a Buffer
  assert.deepEqual(errors, []);
  assert.deepEqual(got[0], { id: 1, result: { client: 'c-1', node: 'node-a', ping: 25, expires: 1900000000, data: { motd: 'hi' }, subs: { news: { offset: 3, epoch: 'e' } } } });
  assert.deepEqual(got[1].result.publications[0].data, png);
  assert.deepEqual(
    { ...got[1].result, publications: got[1].result.publications.map((p) => ({ ...p, data: p.binary ? 'bytes' : p.data })) },
    {
      offset: 2,
      epoch: 'e',
      recoverable: true,
      recovered: true,
      publications: [
        { offset: 1, data: 'bytes', binary: true, info: { client: 'c-1', user: 'ada' }, time: 5 },
        { offset: 2, data: [1, 2] },
      ],
    },
  );
  assert.deepEqual(got[2], { id: 3, result: { clients: { 'c-1': { user: 'ada', info: { x: true } } } } });
  assert.deepEqual(got[3], { id: 4, result: {} });
  assert.deepEqual(got[4], { id: 5, error: { code: 103, message: 'permission denied' } });
});

test('malformed frames: a bad message is skipped, a bad length ends the frame, text is refused', () => {
  const good = serverMessage((w) => w.tag(2, LengthDelimited).string('ping'));
  const badJSON = serverMessage((w) => w.tag(2, LengthDelimited).string('message').tag(6, LengthDelimited).bytes(utf8.encode('{nope')));
  let { got, errors } = decodeAll(pb.join([good, badJSON, good]));
  assert.deepEqual(got.map((m) => m.op), ['ping', 'ping']);
  assert.equal(errors.length, 1);
  ({ got, errors } = decodeAll(pb.join([good, Uint8Array.from([0x7f, 1, 2])])));
  assert.deepEqual(got.map((m) => m.op), ['ping']);
  assert.match(errors[0], /malformed binary frame/);
  ({ got, errors } = decodeAll('{"op":"ping"}'));
  assert.deepEqual(got, []);
  assert.match(errors[0], /text frame/);
});

test('onMessage returning true stops the frame', () => {
  const ping = serverMessage((w) => w.tag(2, LengthDelimited).string('ping'));
  const got = [];
  pb.decode(pb.join([ping, ping]), (m) => got.push(m.op) > 0, () => {});
  assert.equal(got.length, 1);
});

test('a disconnect push without reconnect means false, as the spec says', () => {
  const { got } = decodeAll(serverMessage((w) => w.tag(2, LengthDelimited).string('disconnect').tag(13, Varint).int32(3004)));
  assert.equal(got[0].reconnect, false);
  const { got: again } = decodeAll(serverMessage((w) => w.tag(2, LengthDelimited).string('disconnect').tag(13, Varint).int32(3004).tag(15, Varint).bool(true)));
  assert.equal(again[0].reconnect, true);
});

// docs/protocol.md, section 2.7, "Bytes on the wire".
const hex = (s) => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));
test("the spec's bytes on the wire, both ways", () => {
  assert.deepEqual(pb.encode({ id: 1, op: 'connect' }), hex('0b 08 01 12 07 63 6f 6e 6e 65 63 74'));
  assert.deepEqual(
    pb.encode({ id: 2, op: 'publish', channel: 'chat', data: Uint8Array.of(0xca, 0xfe), binary: true }),
    hex('17 08 02 12 07 70 75 62 6c 69 73 68 1a 04 63 68 61 74 22 02 ca fe 28 01'),
  );
  const frame = [
    '0e 08 01 5a 0a 0a 02 63 31 12 02 6e 31 20 19',
    '17 12 03 70 75 62 1a 04 63 68 61 74 20 01 2a 02 61 62 32 02 ca fe 38 01',
    '0a 08 02 5a 06 40 01 4a 02 61 62',
    '16 12 03 70 75 62 1a 04 63 68 61 74 20 02 32 07 7b 22 61 22 3a 31 7d',
  ].join(' ');
  const { got, errors } = decodeAll(hex(frame));
  assert.deepEqual(errors, []);
  assert.deepEqual(got, [
    { id: 1, result: { client: 'c1', node: 'n1', ping: 25 } },
    { op: 'pub', channel: 'chat', offset: 1, epoch: 'ab', data: Uint8Array.of(0xca, 0xfe), binary: true },
    { id: 2, result: { offset: 1, epoch: 'ab' } },
    { op: 'pub', channel: 'chat', offset: 2, data: { a: 1 } },
  ]);
  // ... and a JSON subscriber of chat gets the first one so.
  const json = [];
  jsonEncoding.decode('{"op":"pub","channel":"chat","offset":1,"epoch":"ab","data":"yv4=","binary":true}', (m) => void json.push(m), assert.fail);
  assert.deepEqual(json[0], got[1]);
});
