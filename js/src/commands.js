// Commands: what the client sends and the replies it waits for. A command
// issued while not connected waits for the connection (up to its timeout);
// one that expects a reply gets an id and waits in client._pending; the
// messages written in one tick leave in one frame, in the connection's
// encoding (client._encoding).

/**
 * @import { Herald } from './client.js'
 * @typedef {{cmd: any, resolve: Function, reject: Function, expectsReply: boolean, timeout: number, timer: any}} Waiting a command on its way: waiting for the connection, then dispatched
 */
import { utf8Length } from './bytes.js';
import { ErrorCode, HeraldError } from './errors.js';

/**
 * Sends a command that expects a reply and resolves with its result.
 * @param {Herald} c
 * @param {*} cmd the command without its id
 * @param {number} [timeout] in ms (default: the client's timeout)
 * @returns {Promise<*>}
 */
export function command(c, cmd, timeout) {
  return enqueue(c, cmd, timeout, true);
}

/**
 * Sends a command now when connected, or once connected; rejects with
 * 'closed' when the client is stopped, and with 'timeout' when no
 * connection came within the timeout.
 * @param {Herald} c
 * @param {*} cmd
 * @param {number|undefined} timeout
 * @param {boolean} expectsReply false for `send`, which resolves once written
 * @returns {Promise<*>}
 */
export function enqueue(c, cmd, timeout, expectsReply) {
  if (c._state === 'disconnected') {
    return Promise.reject(new HeraldError(ErrorCode.CLOSED, 'herald: not connected; call connect() first'));
  }
  return new Promise((resolve, reject) => {
    /** @type {Waiting} */
    const w = { cmd, resolve, reject, expectsReply, timeout: timeout > 0 ? timeout : c._opts.timeout, timer: null };
    if (c._state === 'connected') {
      dispatch(c, w);
      return;
    }
    w.timer = setTimeout(() => {
      const i = c._waiting.indexOf(w);
      if (i >= 0) c._waiting.splice(i, 1);
      reject(new HeraldError(ErrorCode.TIMEOUT, `herald: not connected within ${w.timeout} ms`));
    }, w.timeout);
    c._waiting.push(w);
  });
}

/**
 * Writes a command on the current connection; one that expects a reply
 * waits for it up to its timeout.
 * @param {Herald} c
 * @param {Waiting} w
 */
export function dispatch(c, w) {
  if (!w.expectsReply) {
    try {
      write(c, w.cmd);
    } catch (err) {
      w.reject(err);
      return;
    }
    w.resolve();
    return;
  }
  const id = c._nextId++;
  try {
    write(c, { id, ...w.cmd });
  } catch (err) {
    w.reject(err); // data the encoding cannot carry (a cycle, a BigInt, misplaced bytes)
    return;
  }
  const p = { resolve: w.resolve, reject: w.reject, timer: null };
  p.timer = setTimeout(() => {
    c._pending.delete(id);
    w.reject(new HeraldError(ErrorCode.TIMEOUT, `herald: no reply to ${w.cmd.op} within ${w.timeout} ms`));
  }, w.timeout);
  c._pending.set(id, p);
}

/**
 * Encodes one message in the connection's encoding and queues it; the
 * messages of one tick leave together, in as few frames as the message
 * size limit allows (the maxMessageSize option: a server closes a
 * connection that sends a larger frame with 1009, docs/protocol.md 2.4).
 * Throws, before anything is queued, what the encoding throws for data it
 * cannot carry, and 106 for a message over the limit.
 * @param {Herald} c
 * @param {*} msg
 */
export function write(c, msg) {
  const chunk = c._encoding.encode(msg);
  const size = typeof chunk === 'string' ? utf8Length(chunk) : chunk.length;
  const limit = c._opts.maxMessageSize;
  if (size > limit) {
    throw new HeraldError(
      ErrorCode.LIMIT_EXCEEDED,
      `herald: the ${msg.op} command takes ${size} bytes, over the ${limit}-byte message size limit (a server's default is 64 KiB; the maxMessageSize option follows a server configured otherwise)`,
    );
  }
  c._outbox.push({ chunk, size });
  if (c._flushScheduled) return;
  c._flushScheduled = true;
  queueMicrotask(() => {
    c._flushScheduled = false;
    const out = c._outbox;
    c._outbox = [];
    if (!out.length || !c._ws || c._ws.readyState !== 1) return;
    try {
      for (const frame of frames(out, limit, c._encoding.separator)) c._ws.send(c._encoding.join(frame));
    } catch (err) {
      c._events.emit('error', err);
    }
  });
}

/**
 * Groups queued chunks, in order, into frames of at most limit bytes,
 * counting separator bytes between two chunks of a frame.
 * @param {Array<{chunk: *, size: number}>} out
 * @param {number} limit
 * @param {number} separator
 * @returns {Array<Array<*>>}
 */
function frames(out, limit, separator) {
  const result = [];
  let frame = [];
  let size = 0;
  for (const { chunk, size: n } of out) {
    if (frame.length && size + separator + n > limit) {
      result.push(frame);
      frame = [];
      size = 0;
    }
    size += (frame.length ? separator : 0) + n;
    frame.push(chunk);
  }
  if (frame.length) result.push(frame);
  return result;
}

/**
 * Settles the command a reply answers: resolves with its result, or rejects
 * with its error as a HeraldError.
 * @param {Herald} c
 * @param {*} msg the reply, with its id
 */
export function onReply(c, msg) {
  const p = c._pending.get(msg.id);
  if (!p) return; // timed out, or a reply to a command of an older connection
  c._pending.delete(msg.id);
  clearTimeout(p.timer);
  if (msg.error) {
    const code = msg.error.code ?? ErrorCode.INTERNAL;
    p.reject(new HeraldError(code, msg.error.message || `herald: error ${code}`));
  } else {
    p.resolve(msg.result || {});
  }
}

/**
 * Rejects every command waiting for a reply with err.
 * @param {Herald} c
 * @param {HeraldError} err
 */
export function failPending(c, err) {
  const pending = c._pending;
  c._pending = new Map();
  for (const p of pending.values()) {
    clearTimeout(p.timer);
    p.reject(err);
  }
}
