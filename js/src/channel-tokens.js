// Channel tokens: a subscription with getToken asks it for a token when it
// has none, shortly before the one it has expires (so that a resubscribe
// after a reconnect never sends an expired one), and once more when the
// server refuses a subscribe with 101, 103 or 109 (subscribe.js). Protocol
// v1 has no command to hand a live subscription a new channel token, and a
// v1 server checks the token only at subscribe: the subscription itself
// carries on past the token's expiry.

/**
 * @import { Herald } from './client.js'
 * @import { Subscription } from './subscription.js'
 */
import { backoffDelay } from './backoff.js';
import { ErrorCode, HeraldError } from './errors.js';
import { onSubscribeError, sendSubscribe } from './subscribe.js';
import { renewDelay, tokenExpiry } from './token-expiry.js';

/**
 * Reports whether sub must get a channel token from its getToken before it
 * subscribes: it has none, or the one it has expires within a second.
 * @param {Subscription} sub
 * @returns {boolean}
 */
export function needsToken(sub) {
  if (!sub._handlers.getToken) return false;
  if (!sub._token) return true;
  const exp = tokenExpiry(sub._token);
  return exp > 0 && exp - Date.now() < 1000;
}

/**
 * Gets a channel token for sub, then sends its subscribe on the connection
 * that asked, if it is still the current one. A getToken that throws fails
 * the subscription.
 * @param {Herald} c
 * @param {Subscription} sub
 */
export async function fetchTokenThenSubscribe(c, sub) {
  const gen = c._gen;
  const fetch = (sub._fetch = {}); // this fetch, told apart from later ones
  sub._cmdId = -1; // a subscribe is under way
  const current = () => sub._fetch === fetch && sub._cmdId === -1 && c._subs.get(sub.channel) === sub;
  let token;
  try {
    token = (await sub._handlers.getToken(sub.channel)) || '';
  } catch (err) {
    if (!current()) return;
    sub._cmdId = 0;
    if (gen !== c._gen) return; // the next connection asks again
    const herr = err instanceof HeraldError ? err : new HeraldError(ErrorCode.UNAUTHORIZED, `herald: getToken for ${JSON.stringify(sub.channel)} failed: ${err && err.message}`);
    onSubscribeError(c, sub, herr);
    return;
  }
  if (!current()) return;
  sub._cmdId = 0;
  setSubToken(c, sub, token);
  sub._tokenFresh = true;
  if (gen === c._gen && c._state === 'connected') sendSubscribe(c, sub);
}

/**
 * Keeps a new channel token and schedules fetching the next one shortly
 * before it expires.
 * @param {Herald} c
 * @param {Subscription} sub
 * @param {string} token
 */
function setSubToken(c, sub, token) {
  sub._token = token;
  armSubToken(c, sub);
}

/**
 * Schedules the fetch of a fresh channel token before sub's expires (5 s
 * before, at most a quarter of the time left).
 * @param {Herald} c
 * @param {Subscription} sub
 */
function armSubToken(c, sub) {
  clearTimeout(sub._tokenTimer);
  sub._tokenTimer = null;
  if (!sub._handlers.getToken || c._state === 'disconnected' || c._subs.get(sub.channel) !== sub) return;
  const exp = tokenExpiry(sub._token);
  if (!exp) return;
  const left = exp - Date.now();
  sub._tokenTimer = setTimeout(() => refreshSubToken(c, sub, 0), renewDelay(left));
}

/**
 * Fetches a fresh channel token ahead of the expiry of sub's; a failure is
 * an 'error' event, retried with backoff while the old token lasts (past
 * it, the next subscribe asks getToken itself).
 * @param {Herald} c
 * @param {Subscription} sub
 * @param {number} attempt how many fetches failed in a row
 */
async function refreshSubToken(c, sub, attempt) {
  sub._tokenTimer = null;
  if (sub._tokenRefreshing || c._subs.get(sub.channel) !== sub) return;
  sub._tokenRefreshing = true;
  try {
    const token = (await sub._handlers.getToken(sub.channel)) || '';
    sub._tokenRefreshing = false;
    if (c._subs.get(sub.channel) === sub) setSubToken(c, sub, token);
  } catch (err) {
    sub._tokenRefreshing = false;
    if (c._subs.get(sub.channel) !== sub) return;
    c._events.emit('error', err);
    const left = tokenExpiry(sub._token) - Date.now();
    if (left <= 0) return;
    sub._tokenTimer = setTimeout(() => refreshSubToken(c, sub, attempt + 1), Math.min(backoffDelay(attempt, c._opts), left));
  }
}
