// Delivery: publications reach their subscription in order and never
// twice. Each subscription (and each server-side subscription) keeps the
// channel's epoch and the offset of the last publication seen; one at or
// below that offset is a duplicate (batched, or recovered again after a
// reconnect) and is dropped.

/**
 * @import { Herald } from './client.js'
 * @typedef {{offset: number, epoch: string}} Position where a server-side subscription is in its channel's stream
 */
import { Subscription } from './subscription.js';

/**
 * Hands a publication to a subscription (its onPublication) or, for a
 * server-side subscription, to the 'publication' event, unless its offset
 * shows it was seen already.
 * @param {Herald} c
 * @param {Subscription|Position} sub
 * @param {string} channel
 * @param {*} p the publication as the server sent it
 */
export function deliver(c, sub, channel, p) {
  const offset = p.offset || 0;
  if (p.epoch && p.epoch !== sub.epoch) {
    // The stream started over (offset 1 of a new epoch): nothing was
    // missed, offsets count again from here.
    sub.epoch = p.epoch;
    sub.offset = 0;
  }
  if (offset > 0) {
    if (offset <= sub.offset) return; // a duplicate
    sub.offset = offset;
  }
  const pub = { channel, offset, data: p.data, info: p.info, key: p.key, time: p.time };
  if (sub instanceof Subscription) {
    if (sub._handlers.onPublication) c._events.safeCall(sub._handlers.onPublication, [pub], 'onPublication');
  } else {
    c._events.emit('publication', pub);
  }
}

/**
 * Takes a server-side subscription (in the connect result, or a `sub`
 * push): emits 'subscribed', then delivers the publications it carries.
 * @param {Herald} c
 * @param {string} channel
 * @param {*} res the subscription as the server sent it
 */
export function onServerSub(c, channel, res) {
  const pos = { offset: res.offset || 0, epoch: res.epoch || '' };
  c._serverSubs.set(channel, pos);
  const pubs = Array.isArray(res.publications) ? res.publications : [];
  if (pubs.length) pos.offset = 0;
  c._events.emit('subscribed', {
    channel,
    offset: res.offset || 0,
    epoch: pos.epoch,
    recoverable: Boolean(res.recoverable),
    recovered: Boolean(res.recovered),
    resubscribed: false,
    wasRecovering: false,
  });
  for (const p of pubs) deliver(c, pos, channel, p);
  if ((res.offset || 0) > pos.offset) pos.offset = res.offset;
}
