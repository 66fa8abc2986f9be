// The error every promise of the SDK rejects with, and its codes.

/**
 * Error codes. The numeric ones come from the server in command replies
 * (100 to 199; 1000 and up belong to the application); the string ones are
 * raised by the client itself.
 * @readonly
 * @enum {number|string}
 */
export const ErrorCode = Object.freeze({
  INTERNAL: 100,
  UNAUTHORIZED: 101,
  UNKNOWN_CHANNEL: 102,
  PERMISSION_DENIED: 103,
  METHOD_NOT_FOUND: 104,
  ALREADY_SUBSCRIBED: 105,
  LIMIT_EXCEEDED: 106,
  BAD_REQUEST: 107,
  NOT_AVAILABLE: 108,
  TOKEN_EXPIRED: 109,
  TOO_MANY_REQUESTS: 110,
  NOT_SUBSCRIBED: 111,
  /** The application's backend (the HTTP proxy) did not answer usably: retry later. */
  BACKEND_UNAVAILABLE: 112,
  /** No reply arrived within the command's timeout. */
  TIMEOUT: 'timeout',
  /** The connection was lost before the reply arrived; the command may or may not have run. */
  DISCONNECTED: 'disconnected',
  /** The client was stopped (disconnect() or a close code that forbids reconnecting). */
  CLOSED: 'closed',
  /** The subscription was removed before the command could run. */
  UNSUBSCRIBED: 'unsubscribed',
  /**
   * The data holds binary values where only JSON can go: a publication's
   * data may be bytes (a Uint8Array, another typed array, an ArrayBuffer or
   * a DataView, as the whole data), but not a Blob (read it with
   * `await blob.arrayBuffer()` first) nor bytes inside a JSON value; the
   * data of rpc, send and connect is JSON only.
   */
  BINARY: 'binary',
});

/**
 * The error every promise of the SDK rejects with.
 */
export class HeraldError extends Error {
  /**
   * @param {number|string} code a server error code or a client-side code (see ErrorCode)
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'HeraldError';
    /** @type {number|string} */
    this.code = code;
  }

  /**
   * Reports whether retrying the same command later may succeed: the server
   * failed (100), was busy (110), the application's backend did not answer
   * (112), or the reply never came.
   * @returns {boolean}
   */
  get temporary() {
    return /** @type {Array<number|string>} */ ([ErrorCode.INTERNAL, ErrorCode.TOO_MANY_REQUESTS, ErrorCode.BACKEND_UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.DISCONNECTED]).includes(this.code);
  }
}
