// Close codes: what the server's `disconnect` push and close frame say, and
// whether the client reconnects after them.

/**
 * Close codes the server sends in the `disconnect` push and the close frame.
 * 3000 to 3499 mean "reconnect"; 3500 to 3999 mean "do not reconnect".
 * @readonly
 * @enum {number}
 */
export const CloseCode = Object.freeze({
  SHUTDOWN: 3000,
  NO_PONG: 3001,
  SLOW_CONSUMER: 3002,
  INSUFFICIENT_STATE: 3003,
  FORCE_RECONNECT: 3004,
  TOKEN_EXPIRED: 3005,
  CONNECT_TIMEOUT: 3006,
  SERVER_ERROR: 3007,
  INVALID_TOKEN: 3500,
  BAD_REQUEST: 3501,
  CONNECTION_LIMIT: 3502,
  FORBIDDEN: 3503,
  UNSUPPORTED: 3504,
});

/**
 * Reports whether a client closed with `code` should reconnect, exactly as
 * the server's protocol.ShouldReconnect does: 3000-3499 yes, 3500-4999 no;
 * among standard WebSocket codes a normal close (1000) and the client's own
 * protocol errors (1002, 1003, 1007, 1009) no, every other abnormal close yes.
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code) {
  if (code >= 3000 && code < 3500) return true;
  if (code >= 3500 && code < 5000) return false;
  return ![1000, 1002, 1003, 1007, 1009].includes(code);
}

/**
 * Describes how a connection ended, for error messages: "code 3503:
 * forbidden", or the reason alone when there is no code.
 * @param {{code: number, reason?: string}} info
 * @returns {string}
 */
export function describeClose(info) {
  return info.code ? `code ${info.code}${info.reason ? ': ' + info.reason : ''}` : info.reason || 'closed';
}
