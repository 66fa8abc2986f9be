// Encodings: how the client's messages are written on a connection. JSON
// (protocol v1's own, and the fallback transports' only one) or the binary
// encoding, Protobuf, chosen per WebSocket by its subprotocol
// (docs/protocol.md, section 2.7): the client offers what the encoding
// option allows and the server picks.

import { jsonEncoding } from './encoding-json.js';
import { protobufEncoding } from './encoding-protobuf.js';

/**
 * An encoding: encode one message to a chunk, join the chunks of one tick
 * into a frame, and decode a frame into messages (in the shape of their
 * JSON form, binary publication data as a Uint8Array).
 * @typedef {object} Encoding
 * @property {string} name 'json' or 'protobuf'
 * @property {number} separator how many bytes join two messages in a frame
 * @property {(msg: *) => *} encode one message's chunk: a string (JSON) or bytes
 * @property {(chunks: Array<*>) => *} join the frame that carries the chunks
 * @property {(frame: *, onMessage: (msg: *) => (boolean|void), onError: (err: Error) => void) => void} decode
 */

/** The WebSocket subprotocols that choose an encoding. */
export const SUBPROTOCOL_JSON = 'herald.json';
export const SUBPROTOCOL_PROTOBUF = 'herald.protobuf';

/**
 * Returns the WebSocket subprotocols to offer for the encoding option:
 * 'auto' offers Protobuf, then JSON; 'binary' Protobuf alone; 'json' none,
 * which a server takes as JSON (as every server before the binary encoding
 * does).
 * @param {string} choice 'auto', 'json' or 'binary'
 * @returns {string[]}
 */
export function subprotocols(choice) {
  if (choice === 'json') return [];
  if (choice === 'binary') return [SUBPROTOCOL_PROTOBUF];
  if (choice === 'auto') return [SUBPROTOCOL_PROTOBUF, SUBPROTOCOL_JSON];
  throw new TypeError(`herald: unknown encoding ${JSON.stringify(choice)}; use 'auto', 'json' or 'binary'`);
}

/**
 * Returns the encoding a WebSocket's negotiated subprotocol selects:
 * Protobuf for "herald.protobuf", JSON for anything else ("" included).
 * @param {string|undefined} protocol
 * @returns {Encoding}
 */
export function encodingOf(protocol) {
  return protocol === SUBPROTOCOL_PROTOBUF ? protobufEncoding : jsonEncoding;
}
