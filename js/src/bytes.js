// Bytes: binary payloads as the SDK hands them out (Uint8Array), and the
// base64 that carries them in the JSON encoding.

/**
 * Returns the bytes of an ArrayBuffer or of a view on one (a typed array,
 * a DataView, or a Node.js Buffer) as a plain Uint8Array over the same
 * memory, or null for anything else.
 * @param {*} v
 * @returns {Uint8Array|null}
 */
export function asBytes(v) {
  if (v instanceof Uint8Array && v.constructor === Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) return new Uint8Array(v);
  return null;
}

/**
 * Returns how many bytes the UTF-8 encoding of s takes, without encoding
 * it (a lone surrogate counts as the 3 bytes of U+FFFD, as TextEncoder
 * writes it).
 * @param {string} s
 * @returns {number}
 */
export function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

// How many bytes go through String.fromCharCode at once: its arguments
// live on the stack.
const CHUNK = 0x8000;

/**
 * Encodes bytes as base64 (standard alphabet, padded: RFC 4648, section 4).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function bytesToBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

/**
 * Decodes base64 (standard alphabet; padding optional) into bytes; throws
 * on anything else.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function base64ToBytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
