// What the server sends: each frame is split into its messages (the server
// batches them) by the connection's encoding; replies settle their command
// (commands.js) and pushes are handled here.

/** @import { Herald } from './client.js' */
import { shouldReconnect } from './close-codes.js';
import { onReply, write } from './commands.js';
import { closeSocket, lost } from './connection.js';
import { deliver, onServerSub } from './delivery.js';
import { refresh } from './refresh.js';
import { endByServer } from './subscribe.js';

/**
 * Handles one frame of the current connection: a string (JSON) or bytes
 * (the binary encoding). What cannot be decoded is an 'error' event.
 * @param {Herald} c
 * @param {*} data
 */
export function onFrame(c, data) {
  c._lastSeen = Date.now();
  const gen = c._gen;
  c._encoding.decode(
    data,
    (msg) => {
      if (msg.id) onReply(c, msg);
      else onPush(c, msg);
      return gen !== c._gen; // the connection ended while handling it
    },
    (err) => c._events.emit('error', err),
  );
}

/**
 * Handles one push (a message without an id). Unknown pushes are ignored,
 * so that newer servers can add some.
 * @param {Herald} c
 * @param {*} msg
 */
function onPush(c, msg) {
  switch (msg.op) {
    case 'ping':
      write(c, { op: 'pong' });
      return;
    case 'pub': {
      const sub = c._subs.get(msg.channel);
      if (sub) {
        if (sub.state === 'subscribed') deliver(c, sub, msg.channel, msg);
        return;
      }
      const pos = c._serverSubs.get(msg.channel);
      if (pos) deliver(c, pos, msg.channel, msg);
      return;
    }
    case 'join':
    case 'leave': {
      const ev = { channel: msg.channel, info: msg.info };
      const sub = c._subs.get(msg.channel);
      const fn = sub && (msg.op === 'join' ? sub._handlers.onJoin : sub._handlers.onLeave);
      if (fn) c._events.safeCall(fn, [ev], msg.op);
      else if (!sub) c._events.emit(msg.op, ev);
      return;
    }
    case 'sub':
      onServerSub(c, msg.channel, msg);
      return;
    case 'unsub': {
      const ev = { channel: msg.channel, code: msg.code || 0, reason: msg.reason || '' };
      const sub = c._subs.get(msg.channel);
      if (sub) {
        endByServer(c, sub, ev);
      } else if (c._serverSubs.delete(msg.channel)) {
        c._events.emit('unsubscribed', ev);
      }
      return;
    }
    case 'message':
      c._events.emit('message', msg.data);
      return;
    case 'refresh':
      // The token expires soon: send a new one (with getToken).
      refresh(c);
      return;
    case 'disconnect': {
      // A close frame with the same code follows; act now, so that a
      // socket that never delivers it cannot hold the client.
      const info = {
        code: msg.code || 0,
        reason: msg.reason || '',
        reconnect: typeof msg.reconnect === 'boolean' ? msg.reconnect : shouldReconnect(msg.code || 0),
      };
      const wasConnected = c._state === 'connected';
      closeSocket(c, 1000, '');
      lost(c, info, wasConnected);
      return;
    }
    default:
    // Unknown pushes are ignored, so that newer servers can add some.
  }
}
