// The browser side of the binary encoding's choice (docs/benchmarks.md,
// "Binary encoding: the choice"): decoding the `pub` push with a 128-byte
// binary payload with the libraries a browser SDK would use, and the JSON
// push as the SDK decodes it today. Run it in a scratch directory:
//
//   d=$(mktemp -d) && cp protocol/testdata/encoding_choice/{bench.mjs,package.json} $d &&
//     (cd $d && npm install --ignore-scripts && taskset -c 1 node bench.mjs)
import { encode, decode, Decoder } from '@msgpack/msgpack';
import protobuf from 'protobufjs';
import { BinaryReader } from '@bufbuild/protobuf/wire';

const payload = new Uint8Array(128); for (let i = 0; i < 128; i++) payload[i] = [0xA5, 0x00, 0x7F, 0xFF][i % 4];
const pub = { op: 'pub', channel: 'chat:lobby', offset: 123456, data: payload, info: { client: '9c1e4b7a0f3d2e81', user: 'alice' }, time: 1764127800123 };
const mp = encode(pub);

const root = protobuf.Root.fromJSON({ nested: {
  Info: { fields: { client: { type: 'string', id: 1 }, user: { type: 'string', id: 2 }, data: { type: 'string', id: 3 } } },
  Push: { fields: { op: { type: 'string', id: 1 }, channel: { type: 'string', id: 2 }, offset: { type: 'uint64', id: 3 }, epoch: { type: 'string', id: 4 },
    data: { type: 'bytes', id: 5 }, info: { type: 'Info', id: 6 }, key: { type: 'string', id: 7 }, time: { type: 'int64', id: 8 } } } } });
const Push = root.lookupType('Push');
const pb = Push.encode(Push.fromObject(pub)).finish();

function bufbuildDecode(bytes) {
  const r = new BinaryReader(bytes); const m = {};
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1: m.op = r.string(); break;
      case 2: m.channel = r.string(); break;
      case 3: m.offset = Number(r.uint64()); break;
      case 4: m.epoch = r.string(); break;
      case 5: m.data = r.bytes(); break;
      case 6: { const end = r.uint32() + r.pos; const i = {}; while (r.pos < end) { const [n2] = r.tag(); if (n2 === 1) i.client = r.string(); else if (n2 === 2) i.user = r.string(); else i.data = r.string(); } m.info = i; break; }
      case 7: m.key = r.string(); break;
      case 8: m.time = Number(r.int64()); break;
      default: r.skip(wt);
    }
  }
  return m;
}

const json = JSON.stringify({ op: 'pub', channel: 'chat:lobby', offset: 123456, data: 'abcd'.repeat(31) + 'ab', info: pub.info, time: pub.time });

const dec = new Decoder();
const cases = {
  'json (JSON.parse, 128-byte JSON string data)': () => JSON.parse(json),
  'msgpack (@msgpack/msgpack decode)': () => decode(mp),
  'msgpack (@msgpack/msgpack reused Decoder)': () => dec.decode(mp),
  'protobuf (protobufjs Type.decode)': () => Push.decode(pb),
  'protobuf (@bufbuild/protobuf BinaryReader)': () => bufbuildDecode(pb),
};
for (const [name, fn] of Object.entries(cases)) { const o = fn(); if ((o.data.length !== 128 && o.data.length !== 126) || o.channel !== 'chat:lobby') throw new Error(name); }
const N = 300000, rounds = 5;
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 50000; i++) fn();
  const res = [];
  for (let r = 0; r < rounds; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < N; i++) fn(); res.push(Number(process.hrtime.bigint() - t) / N); }
  res.sort((a, b) => a - b);
  console.log(`${name}: median ${res[2].toFixed(0)} ns/op (range ${res[0].toFixed(0)}-${res[4].toFixed(0)}), ${name.startsWith('msgpack') ? mp.length : name.startsWith('json') ? json.length : pb.length} bytes`);
}
