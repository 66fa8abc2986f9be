// Binary values: protocol v1 carries JSON only, so the client refuses data
// that is or holds binary values before anything is sent.

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
 * Returns the 'binary' error for a command whose data is binary.
 * @param {string} what the command, or "the data"
 * @returns {HeraldError}
 */
export function binaryError(what) {
  return new HeraldError(
    ErrorCode.BINARY,
    `herald: ${what} holds binary data (ArrayBuffer, typed array, DataView or Blob); protocol v1 carries JSON only: encode the bytes (base64) first`,
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
