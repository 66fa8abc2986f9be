// Subscribing: the subscribe command of each client subscription (sent
// again after every reconnect, with `recover`, `offset` and `epoch` once
// the channel's epoch is known), its reply and its refusal, and the
// subscription's end (unsubscribe(), or the server's `unsub` push).

/**
 * @import { Herald } from './client.js'
 * @import { Subscription } from './subscription.js'
 */
import { backoffDelay } from './backoff.js';
import { fetchTokenThenSubscribe, needsToken } from './channel-tokens.js';
import { command, write } from './commands.js';
import { deliver } from './delivery.js';
import { ErrorCode, HeraldError } from './errors.js';

/**
 * Sends the subscribe of each of subs that has none under way, fetching a
 * channel token first where one is needed.
 * @param {Herald} c
 * @param {Subscription[]} subs
 */
export function sendSubscribes(c, subs) {
  for (const sub of subs) {
    if (sub._cmdId || c._subs.get(sub.channel) !== sub) continue;
    if (needsToken(sub)) {
      fetchTokenThenSubscribe(c, sub);
      continue;
    }
    sendSubscribe(c, sub);
  }
}

/**
 * Sends sub's subscribe command, asking to recover what was missed when the
 * channel's epoch is known, and handles its reply.
 * @param {Herald} c
 * @param {Subscription} sub
 */
export function sendSubscribe(c, sub) {
  const cmd = { op: 'subscribe', channel: sub.channel };
  if (sub._token) cmd.token = sub._token;
  const tokenFresh = sub._tokenFresh;
  sub._tokenFresh = false;
  const wasRecovering = sub._subscribedOnce && sub.epoch !== '';
  if (wasRecovering) {
    cmd.recover = true;
    cmd.offset = sub.offset;
    cmd.epoch = sub.epoch;
  }
  if (sub._handlers.onJoin || sub._handlers.onLeave) cmd.presence = true;
  const id = c._nextId++;
  sub._cmdId = id;
  c._pending.set(id, {
    timer: null,
    resolve: (res) => {
      if (sub._cmdId !== id) return;
      sub._cmdId = 0;
      if (c._subs.get(sub.channel) !== sub) return; // unsubscribed meanwhile
      onSubscribed(c, sub, res || {}, wasRecovering);
    },
    reject: (err) => {
      if (sub._cmdId !== id) return;
      sub._cmdId = 0;
      if (c._subs.get(sub.channel) !== sub || err.code === ErrorCode.DISCONNECTED || err.code === ErrorCode.CLOSED) return;
      if (sub._handlers.getToken && !tokenFresh && [ErrorCode.UNAUTHORIZED, ErrorCode.PERMISSION_DENIED, ErrorCode.TOKEN_EXPIRED].includes(err.code)) {
        // The token the subscription held may have expired or been
        // revoked: ask getToken for another one, once.
        sub._token = '';
        if (c._state === 'connected') sendSubscribes(c, [sub]);
        return;
      }
      onSubscribeError(c, sub, err);
    },
  });
  write(c, { id, ...cmd });
}

/**
 * Handles a subscribe reply: moves sub to where the stream is (or keeps its
 * offset when the reply recovered what was missed), tells onSubscribed and
 * sub.ready, then delivers the recovered publications.
 * @param {Herald} c
 * @param {Subscription} sub
 * @param {*} res the subscribe result
 * @param {boolean} wasRecovering whether the subscribe asked to recover
 */
function onSubscribed(c, sub, res, wasRecovering) {
  const resubscribed = sub._subscribedOnce;
  sub._subscribedOnce = true;
  sub._retry = 0;
  sub.state = 'subscribed';
  const epoch = res.epoch || '';
  const offset = res.offset || 0;
  const recovered = Boolean(res.recovered);
  const pubs = Array.isArray(res.publications) ? res.publications : [];
  if (epoch !== sub.epoch) {
    // Another generation of the stream: offsets start over, and what the
    // reply carries or what follows it is new.
    sub.epoch = epoch;
    sub.offset = pubs.length ? Math.max(0, (pubs[0].offset || 1) - 1) : offset;
  } else if (!recovered && !pubs.length) {
    // The same stream, but the gap was not recovered (the ctx says so):
    // continue from where the stream is now.
    sub.offset = offset;
  }
  // Otherwise recovered publications are checked against the offset the
  // client already had, so none is delivered twice.
  const ctx = { channel: sub.channel, offset, epoch, recoverable: Boolean(res.recoverable), recovered, resubscribed, wasRecovering };
  if (sub._handlers.onSubscribed) c._events.safeCall(sub._handlers.onSubscribed, [ctx], 'onSubscribed');
  sub._resolveReady(ctx);
  for (const p of pubs) deliver(c, sub, sub.channel, p);
  if (offset > sub.offset) sub.offset = offset;
}

/**
 * Handles a refused subscribe: a temporary error is retried after a
 * backoff; any other ends the subscription (onError, or an 'error' event,
 * then onUnsubscribed).
 * @param {Herald} c
 * @param {Subscription} sub
 * @param {HeraldError} err
 */
export function onSubscribeError(c, sub, err) {
  if (err.temporary && c._state === 'connected') {
    // The server was busy or failed: try again after a backoff.
    const delay = backoffDelay(sub._retry++, c._opts);
    sub._retryTimer = setTimeout(() => {
      sub._retryTimer = null;
      if (c._state === 'connected' && c._subs.get(sub.channel) === sub) sendSubscribes(c, [sub]);
    }, delay);
    return;
  }
  c._subs.delete(sub.channel);
  sub.state = 'unsubscribed';
  clearTimeout(sub._tokenTimer);
  sub._tokenTimer = null;
  sub._rejectReady(err);
  if (sub._handlers.onError) c._events.safeCall(sub._handlers.onError, [err], 'onError');
  else c._events.emit('error', err);
  if (sub._handlers.onUnsubscribed) {
    c._events.safeCall(sub._handlers.onUnsubscribed, [{ channel: sub.channel, code: err.code, reason: err.message }], 'onUnsubscribed');
  }
}

/**
 * Ends a subscription at the user's request (Subscription.unsubscribe):
 * the client forgets it and tells the server when it was subscribed.
 * Calling it twice does nothing.
 * @param {Herald} c
 * @param {Subscription} sub
 */
export function unsubscribe(c, sub) {
  if (c._subs.get(sub.channel) !== sub) return;
  c._subs.delete(sub.channel);
  clearTimeout(sub._retryTimer);
  sub._retryTimer = null;
  clearTimeout(sub._tokenTimer);
  sub._tokenTimer = null;
  const wasActive = sub.state === 'subscribed' || sub._cmdId > 0;
  sub._cmdId = 0;
  sub.state = 'unsubscribed';
  sub._rejectReady(new HeraldError(ErrorCode.UNSUBSCRIBED, `herald: unsubscribed from ${JSON.stringify(sub.channel)} before the server confirmed the subscription`));
  if (wasActive && c._state === 'connected') {
    // The reply does not matter: the subscription is gone either way.
    command(c, { op: 'unsubscribe', channel: sub.channel }).catch(() => {});
  }
  if (sub._handlers.onUnsubscribed) {
    c._events.safeCall(sub._handlers.onUnsubscribed, [{ channel: sub.channel, code: 0, reason: 'unsubscribe called' }], 'onUnsubscribed');
  }
}

/**
 * Ends a subscription the server ended (the `unsub` push).
 * @param {Herald} c
 * @param {Subscription} sub
 * @param {{channel: string, code: number, reason: string}} ev what onUnsubscribed gets
 */
export function endByServer(c, sub, ev) {
  c._subs.delete(ev.channel);
  clearTimeout(sub._retryTimer);
  clearTimeout(sub._tokenTimer);
  sub._tokenTimer = null;
  sub._cmdId = 0;
  sub.state = 'unsubscribed';
  sub._rejectReady(new HeraldError(ev.code || ErrorCode.UNSUBSCRIBED, ev.reason || 'herald: unsubscribed by the server'));
  if (sub._handlers.onUnsubscribed) c._events.safeCall(sub._handlers.onUnsubscribed, [ev], 'onUnsubscribed');
}
