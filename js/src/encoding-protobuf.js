// The binary encoding: Protobuf (protocol/herald.proto), negotiated with
// the WebSocket subprotocol "herald.protobuf" (docs/protocol.md, section
// 2.7). Each message travels behind its length as a varint, several in one
// binary frame. A client sends Command and the server ServerMessage; this
// module maps them to and from the objects the rest of the client uses,
// which are those of the JSON encoding: `data` fields hold the UTF-8 text
// of a JSON value, except a binary publication's, which holds its bytes
// (handed out as a Uint8Array). The wire format itself is read and written
// by @bufbuild/protobuf.

import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { asBytes } from './bytes.js';
import { noBinary } from './payload.js';

/** @import { Encoding } from './encodings.js' */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes one command as a size-delimited Command; throws the 'binary'
 * error for bytes where JSON must go, and a TypeError for what JSON cannot
 * hold.
 * @param {*} cmd a command, with data as a Uint8Array when binary is set
 * @returns {Uint8Array}
 */
function encode(cmd) {
  const w = new BinaryWriter().fork();
  if (cmd.id) w.tag(1, WireType.Varint).uint64(cmd.id);
  str(w, 2, cmd.op);
  str(w, 3, cmd.channel);
  if (cmd.binary && cmd.data instanceof Uint8Array) {
    w.tag(4, WireType.LengthDelimited).bytes(cmd.data);
    w.tag(5, WireType.Varint).bool(true);
  } else if (cmd.data !== undefined) {
    w.tag(4, WireType.LengthDelimited).bytes(jsonBytes(cmd.data));
  }
  str(w, 6, cmd.key);
  str(w, 7, cmd.token);
  str(w, 8, cmd.name);
  str(w, 9, cmd.version);
  if (cmd.recover) w.tag(11, WireType.Varint).bool(true);
  if (cmd.offset) w.tag(12, WireType.Varint).uint64(cmd.offset);
  str(w, 13, cmd.epoch);
  if (cmd.presence) w.tag(14, WireType.Varint).bool(true);
  str(w, 15, cmd.method);
  if (cmd.since) {
    w.tag(16, WireType.LengthDelimited).fork();
    if (cmd.since.offset) w.tag(1, WireType.Varint).uint64(cmd.since.offset);
    str(w, 2, cmd.since.epoch);
    w.join();
  }
  if (cmd.limit) w.tag(17, WireType.Varint).int64(cmd.limit);
  if (cmd.reverse) w.tag(18, WireType.Varint).bool(true);
  return w.join().finish();
}

/**
 * Writes a string field unless it is empty (proto3's default).
 * @param {BinaryWriter} w
 * @param {number} field
 * @param {string|undefined} s
 */
function str(w, field, s) {
  if (s) w.tag(field, WireType.LengthDelimited).string(s);
}

/**
 * Returns the UTF-8 text of v as JSON.
 * @param {*} v
 * @returns {Uint8Array}
 */
function jsonBytes(v) {
  const text = JSON.stringify(v, noBinary);
  return utf8.encode(text === undefined ? 'null' : text);
}

/**
 * Splits a binary frame into its size-delimited ServerMessages and calls
 * onMessage with each, as the JSON encoding would have decoded it; onError
 * gets what could not be decoded. A length prefix that does not fit the
 * frame ends the frame.
 * @param {*} frame
 * @param {(msg: *) => boolean|void} onMessage returns true to stop (the connection ended)
 * @param {(err: Error) => void} onError
 */
function decode(frame, onMessage, onError) {
  const bytes = asBytes(frame);
  if (!bytes) {
    onError(new Error('herald: ignored a text frame; this connection speaks Protobuf, in binary frames'));
    return;
  }
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    let body;
    try {
      body = r.bytes();
    } catch (err) {
      onError(new Error(`herald: ignored the rest of a malformed binary frame: ${err && err.message}`));
      return;
    }
    let msg;
    try {
      msg = serverMessage(body);
    } catch (err) {
      onError(new Error(`herald: ignored a malformed message: ${err && err.message}`));
      continue;
    }
    if (onMessage(msg)) return;
  }
}

/**
 * Decodes a ServerMessage into the object of its JSON form.
 * @param {Uint8Array} buf
 * @returns {*}
 */
function serverMessage(buf) {
  const r = new BinaryReader(buf);
  /** @type {*} */
  const m = {};
  /** @type {Uint8Array|undefined} */
  let data;
  let binary = false;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1: m.id = Number(r.uint64()); break;
      case 2: m.op = r.string(); break;
      case 3: m.channel = r.string(); break;
      case 4: m.offset = Number(r.uint64()); break;
      case 5: m.epoch = r.string(); break;
      case 6: data = r.bytes(); break;
      case 7: binary = r.bool(); break;
      case 8: m.info = clientInfo(r.bytes()); break;
      case 9: m.key = r.string(); break;
      case 10: m.time = Number(r.int64()); break;
      case 11: m.result = result(r.bytes()); break;
      case 12: m.error = error(r.bytes()); break;
      case 13: m.code = r.int32(); break;
      case 14: m.reason = r.string(); break;
      case 15: m.reconnect = r.bool(); break;
      case 16: m.recoverable = r.bool(); break;
      case 17: m.recovered = r.bool(); break;
      case 18: (m.publications ||= []).push(publication(r.bytes())); break;
      default: r.skip(wt, no);
    }
  }
  if (data !== undefined || m.op === 'pub') m.data = payload(data, binary);
  if (binary) m.binary = true;
  // Absent means zero, and the server sends `reconnect` only when true
  // (in JSON it always sends it).
  if (m.op === 'disconnect' && m.reconnect === undefined) m.reconnect = false;
  return m;
}

/**
 * Decodes a Result (every command's result fields, flat).
 * @param {Uint8Array} buf
 * @returns {*}
 */
function result(buf) {
  const r = new BinaryReader(buf);
  /** @type {*} */
  const res = {};
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1: res.client = r.string(); break;
      case 2: res.node = r.string(); break;
      case 3: res.user = r.string(); break;
      case 4: res.ping = Number(r.int64()); break;
      case 5: res.expires = Number(r.int64()); break;
      case 6: res.data = json(r.bytes()); break;
      case 7: mapEntry(r.bytes(), (res.subs ||= {}), result); break;
      case 8: res.offset = Number(r.uint64()); break;
      case 9: res.epoch = r.string(); break;
      case 10: res.recoverable = r.bool(); break;
      case 11: res.recovered = r.bool(); break;
      case 12: (res.publications ||= []).push(publication(r.bytes())); break;
      case 13: mapEntry(r.bytes(), (res.clients ||= {}), presenceInfo); break;
      default: r.skip(wt, no);
    }
  }
  return res;
}

/**
 * Decodes one entry of a map<string, V> field into into[key].
 * @param {Uint8Array} buf
 * @param {Record<string, *>} into
 * @param {(buf: Uint8Array) => *} value decodes V
 */
function mapEntry(buf, into, value) {
  const r = new BinaryReader(buf);
  let key = '';
  let v = value(new Uint8Array(0));
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) key = r.string();
    else if (no === 2) v = value(r.bytes());
    else r.skip(wt, no);
  }
  into[key] = v;
}

/**
 * Decodes a Publication.
 * @param {Uint8Array} buf
 * @returns {*}
 */
function publication(buf) {
  const r = new BinaryReader(buf);
  /** @type {*} */
  const p = {};
  /** @type {Uint8Array|undefined} */
  let data;
  let binary = false;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1: p.offset = Number(r.uint64()); break;
      case 2: data = r.bytes(); break;
      case 3: binary = r.bool(); break;
      case 4: p.info = clientInfo(r.bytes()); break;
      case 5: p.key = r.string(); break;
      case 6: p.time = Number(r.int64()); break;
      default: r.skip(wt, no);
    }
  }
  p.data = payload(data, binary);
  if (binary) p.binary = true;
  return p;
}

/**
 * Decodes a ClientInfo: {client, user, data}.
 * @param {Uint8Array} buf
 * @returns {*}
 */
function clientInfo(buf) {
  const r = new BinaryReader(buf);
  /** @type {*} */
  const info = { client: '', user: '' };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) info.client = r.string();
    else if (no === 2) info.user = r.string();
    else if (no === 3) info.data = json(r.bytes());
    else r.skip(wt, no);
  }
  return info;
}

/**
 * Decodes a PresenceInfo: {user, info}.
 * @param {Uint8Array} buf
 * @returns {*}
 */
function presenceInfo(buf) {
  const r = new BinaryReader(buf);
  /** @type {*} */
  const e = { user: '' };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) e.user = r.string();
    else if (no === 2) e.info = json(r.bytes());
    else r.skip(wt, no);
  }
  return e;
}

/**
 * Decodes an Error: {code, message}.
 * @param {Uint8Array} buf
 * @returns {{code: number, message: string}}
 */
function error(buf) {
  const r = new BinaryReader(buf);
  const e = { code: 0, message: '' };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) e.code = r.int32();
    else if (no === 2) e.message = r.string();
    else r.skip(wt, no);
  }
  return e;
}

/**
 * Returns a publication's data: its bytes (a copy, not a view on the
 * frame) when binary, else the JSON value its text holds (null when empty).
 * @param {Uint8Array|undefined} data
 * @param {boolean} binary
 * @returns {*}
 */
function payload(data, binary) {
  if (binary) return data ? data.slice() : new Uint8Array(0);
  return data && data.length ? json(data) : null;
}

/**
 * Parses the UTF-8 text of a JSON value.
 * @param {Uint8Array} bytes
 * @returns {*}
 */
function json(bytes) {
  return JSON.parse(utf8Decoder.decode(bytes));
}

/**
 * The Protobuf encoding.
 * @type {Encoding}
 */
export const protobufEncoding = Object.freeze({
  name: 'protobuf',
  separator: 0,
  encode,
  join: (/** @type {Uint8Array[]} */ chunks) => {
    if (chunks.length === 1) return chunks[0];
    let n = 0;
    for (const c of chunks) n += c.length;
    const out = new Uint8Array(n);
    n = 0;
    for (const c of chunks) {
      out.set(c, n);
      n += c.length;
    }
    return out;
  },
  decode,
});
