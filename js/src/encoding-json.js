// The JSON encoding, protocol v1's own and the only one of the fallback
// transports: one JSON object per message, several joined by newlines in
// one text frame. Binary publication data travels as a base64 string
// with "binary":true beside it (docs/protocol.md, section 2.7); this
// module turns it into bytes and back, so that the client sees a
// Uint8Array.

import { base64ToBytes, bytesToBase64 } from './bytes.js';
import { noBinary } from './payload.js';

/** @import { Encoding } from './encodings.js' */

/**
 * Encodes one message; throws the 'binary' error for bytes where JSON must
 * go, and a TypeError for what JSON cannot hold (a cycle, a BigInt).
 * @param {*} msg a command, with data as a Uint8Array when binary is set
 * @returns {string}
 */
function encode(msg) {
  if (msg.binary && msg.data instanceof Uint8Array) msg = { ...msg, data: bytesToBase64(msg.data) };
  return JSON.stringify(msg, noBinary);
}

/**
 * Splits a text frame into its messages and calls onMessage with each,
 * binary publication data decoded into a Uint8Array; onError gets what
 * could not be decoded (the other messages of the frame still are).
 * @param {*} frame
 * @param {(msg: *) => boolean|void} onMessage returns true to stop (the connection ended)
 * @param {(err: Error) => void} onError
 */
function decode(frame, onMessage, onError) {
  if (typeof frame !== 'string') {
    onError(new Error('herald: ignored a binary frame; this connection speaks JSON, in text frames'));
    return;
  }
  // The server batches messages into one frame, separated by '\n'.
  for (const line of frame.split('\n')) {
    if (!line.trim()) continue;
    let msg;
    try {
      msg = JSON.parse(line);
      if (msg !== null && typeof msg === 'object') decodeBinaryData(msg);
    } catch {
      onError(new Error(`herald: ignored a malformed message: ${line.slice(0, 120)}`));
      continue;
    }
    if (msg === null || typeof msg !== 'object') continue;
    if (onMessage(msg)) return;
  }
}

/**
 * Replaces the base64 data of the binary publications a message carries
 * (the `pub` push; the publications of a `sub` push, of a subscribe or
 * history result, and of the connect result's subscriptions) with bytes.
 * @param {*} msg
 */
function decodeBinaryData(msg) {
  decodePub(msg);
  decodePubs(msg.publications);
  const res = msg.result;
  if (res && typeof res === 'object') {
    decodePubs(res.publications);
    if (res.subs && typeof res.subs === 'object') for (const s of Object.values(res.subs)) decodePubs(s && s.publications);
  }
}

/** @param {*} list */
function decodePubs(list) {
  if (Array.isArray(list)) for (const p of list) decodePub(p);
}

/** @param {*} p */
function decodePub(p) {
  if (p && p.binary === true && typeof p.data === 'string') p.data = base64ToBytes(p.data);
}

/**
 * The JSON encoding.
 * @type {Encoding}
 */
export const jsonEncoding = Object.freeze({
  name: 'json',
  separator: 1,
  encode,
  join: (/** @type {Array<*>} */ chunks) => chunks.join('\n'),
  decode,
});
