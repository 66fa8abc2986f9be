// Refreshing the connection's token: when the connect result says the
// token expires, the client sends a new one from getToken in a `refresh`
// command, on the server's `refresh` push or shortly before the expiry,
// and the connection lives on without a reconnect.

/** @import { Herald } from './client.js' */
import { backoffDelay } from './backoff.js';
import { command } from './commands.js';
import { ErrorCode } from './errors.js';
import { renewDelay } from './token-expiry.js';

/**
 * Schedules the refresh of a connection whose token expires shortly before
 * the expiry, in case the server's `refresh` push does not come. Without
 * getToken there is nothing to refresh with: the server closes the
 * connection with 3005 at the expiry.
 * @param {Herald} c
 * @param {number} expires Unix seconds; 0: never
 */
export function armRefresh(c, expires) {
  clearTimeout(c._refreshTimer);
  c._refreshTimer = null;
  if (!expires || !c._opts.getToken) return;
  const left = expires * 1000 - Date.now();
  const gen = c._gen;
  c._refreshTimer = setTimeout(() => {
    c._refreshTimer = null;
    if (gen === c._gen) refresh(c);
  }, renewDelay(left));
}

/**
 * Gets a token from getToken and sends it in a `refresh` command on the
 * current connection, which then lives on without a reconnect. A failure is
 * reported as an 'error' event; 109 (the token was already expired), a
 * getToken error, a timeout or a busy server are retried with backoff until
 * the expiry. After 101 the server closes the connection (3500) and the
 * client stops; after 108 (the server cannot refresh) it closes it with
 * 3005 at the expiry and the client reconnects with a new token.
 * @param {Herald} c
 * @param {number} [attempt] how many refreshes of this connection failed in a row
 */
export async function refresh(c, attempt = 0) {
  const gen = c._gen;
  if (!c._opts.getToken || c._state !== 'connected' || c._refreshGen === gen) return;
  c._refreshGen = gen; // one refresh at a time; pushes meanwhile are answered by it
  clearTimeout(c._refreshTimer);
  c._refreshTimer = null;
  const live = () => gen === c._gen && c._state === 'connected';
  let err;
  try {
    const token = (await c._opts.getToken()) || '';
    if (!live()) return;
    const res = await command(c, { op: 'refresh', token });
    if (!live()) return;
    c._refreshGen = 0;
    c._token = token; // a reconnect uses the newest token
    c.info.expires = res.expires || 0;
    armRefresh(c, c.info.expires);
    return;
  } catch (e) {
    err = e;
  }
  if (!live()) return;
  c._refreshGen = 0;
  if (err && (err.code === ErrorCode.DISCONNECTED || err.code === ErrorCode.CLOSED)) return;
  c._events.emit('error', err);
  if (err && (err.code === ErrorCode.UNAUTHORIZED || err.code === ErrorCode.NOT_AVAILABLE)) return;
  const left = c.info.expires * 1000 - Date.now();
  if (left <= 0) return;
  c._refreshTimer = setTimeout(() => {
    c._refreshTimer = null;
    if (gen === c._gen) refresh(c, attempt + 1);
  }, Math.min(backoffDelay(attempt, c._opts), left));
}
