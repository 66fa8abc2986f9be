// Payloads: what `data` may be. A publication's data is any JSON value or
// bytes (an ArrayBuffer, a typed array or a DataView, published as their
// bytes and received as a Uint8Array); every other data (connect, rpc,
// send) is JSON only. A Blob, or bytes nested inside a JSON value, are
// refused before anything is sent.

import { asBytes } from './bytes.js';
import { ErrorCode, HeraldError } from './errors.js';

/**
 * Reports whether v is a binary value, which JSON cannot carry.
 * @param {*} v
 * @returns {boolean}
 */
export function isBinary(v) {
  return (
    v instanceof ArrayBuffer ||
    ArrayBuffer.isView(v) ||
    (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) ||
    (typeof Blob !== 'undefined' && v instanceof Blob)
  );
}

/**
 * Returns the 'binary' error for data that holds binary values where they
 * cannot go.
 * @param {string} what the command, or "the data"
 * @returns {HeraldError}
 */
export function binaryError(what) {
  return new HeraldError(
    ErrorCode.BINARY,
    `herald: ${what} holds binary data where only JSON can go: publish takes bytes (a Uint8Array, ArrayBuffer or DataView, as the whole data; read a Blob with await blob.arrayBuffer() first), rpc, send and connect data are JSON only`,
  );
}

/**
 * A JSON.stringify replacer that refuses binary values nested anywhere in a
 * command's data.
 * @param {string} _key
 * @param {*} v
 * @returns {*}
 */
export function noBinary(_key, v) {
  if (v !== null && typeof v === 'object' && isBinary(v)) throw binaryError('the data');
  return v;
}

/**
 * Returns the data and binary flag of a publish command: bytes as a
 * Uint8Array with binary set, any other value as it is (undefined as
 * null). Throws the 'binary' error for a Blob.
 * @param {*} data
 * @returns {{data: *, binary: boolean}}
 */
export function publishPayload(data) {
  const bytes = asBytes(data);
  if (bytes) return { data: bytes, binary: true };
  if (isBinary(data)) throw binaryError('publish');
  return { data: data === undefined ? null : data, binary: false };
}
