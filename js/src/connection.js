// The connection's life, the client's state machine: open a transport
// (trying the next when one fails), send `connect`, become connected, watch
// for a silent server, and when the socket ends either reconnect after a
// backoff or stop. Every socket gets a new generation (client._gen), so
// that late events of an old socket are ignored.
//
//   disconnected --connect()--> connecting --connect reply--> connected
//   connected/connecting --socket lost, may reconnect--> reconnecting --backoff--> (open again)
//   any --disconnect(), or a close code that forbids reconnecting--> disconnected

/**
 * @import { Herald } from './client.js'
 * @typedef {{code: number, reason: string, reconnect: boolean}} CloseInfo how a connection ended, as the 'disconnected' event tells it
 */
import { backoffDelay } from './backoff.js';
import { CloseCode, describeClose, shouldReconnect } from './close-codes.js';
import { dispatch, failPending, write } from './commands.js';
import { onServerSub } from './delivery.js';
import { jsonEncoding } from './encoding-json.js';
import { encodingOf, subprotocols } from './encodings.js';
import { ErrorCode, HeraldError } from './errors.js';
import { onFrame } from './pushes.js';
import { armRefresh } from './refresh.js';
import { sendSubscribes } from './subscribe.js';
import { openSocket, TRANSPORTS } from './transports.js';

const STATES = ['disconnected', 'connecting', 'connected', 'reconnecting'];

/**
 * Moves the client to state and emits 'state' (state, previous), when it
 * changes.
 * @param {Herald} c
 * @param {'disconnected'|'connecting'|'connected'|'reconnecting'} state
 */
export function setState(c, state) {
  if (!STATES.includes(state) || state === c._state) return;
  const prev = c._state;
  c._state = state;
  c._events.emit('state', state, prev);
}

/**
 * Starts one connection attempt: gets a token from getToken when the client
 * has none (or the last one expired), arms the connect timeout, and opens
 * the first transport of the order.
 * @param {Herald} c
 */
export async function open(c) {
  const gen = ++c._gen;
  if (c._opts.getToken && (!c._token || c._refreshToken)) {
    try {
      c._token = (await c._opts.getToken()) || '';
      c._refreshToken = false;
    } catch (err) {
      if (gen !== c._gen) return;
      c._events.emit('error', err);
      lost(c, { code: 0, reason: 'getToken failed', reconnect: true }, false);
      return;
    }
    if (gen !== c._gen) return;
  }
  const order = c._opts.transport === 'auto' ? TRANSPORTS : [c._opts.transport];
  c._connectTimer = setTimeout(() => {
    if (gen !== c._gen) return;
    c._events.emit('error', new HeraldError(ErrorCode.TIMEOUT, `herald: no connect reply from ${c.url} within ${c._opts.timeout} ms`));
    closeSocket(c, 1000, 'connect timeout');
    lost(c, { code: 0, reason: 'connect timeout', reconnect: true }, false);
  }, c._opts.timeout);
  tryTransport(c, gen, order, 0);
}

/**
 * Opens order[i]; when it fails before it opens, the next one is tried, and
 * the last one's failure counts as the attempt's. Once open, it takes the
 * encoding the server chose (a WebSocket's subprotocol; the fallback
 * transports speak JSON) and sends `connect`.
 * @param {Herald} c
 * @param {number} gen the attempt's generation
 * @param {string[]} order the transports to try
 * @param {number} i
 */
function tryTransport(c, gen, order, i) {
  const kind = order[i];
  let ws;
  try {
    ws = openSocket(kind, c.url, c._opts, kind === 'websocket' ? subprotocols(c._opts.encoding) : []);
  } catch (err) {
    if (i + 1 < order.length) {
      tryTransport(c, gen, order, i + 1);
      return;
    }
    // A malformed URL or no transport at all: retrying cannot help.
    clearTimeout(c._connectTimer);
    c._events.emit('error', err);
    stop(c, { code: 0, reason: String(err && err.message), reconnect: false }, false);
    return;
  }
  c._ws = ws;
  c._transport = kind;
  let opened = false;
  ws.onopen = () => {
    if (gen !== c._gen) return;
    opened = true;
    c._encoding = kind === 'websocket' ? encodingOf(ws.protocol) : jsonEncoding;
    const cmd = { id: c._nextId++, op: 'connect', name: c._opts.name, version: c._opts.version };
    if (c._token) cmd.token = c._token;
    if (c._opts.data !== undefined) cmd.data = c._opts.data;
    c._pending.set(cmd.id, {
      resolve: (res) => onConnected(c, gen, res),
      // A refused connect: the server closes the socket next, with a
      // code that says whether to try again.
      reject: (err) => {
        if (err.code !== ErrorCode.DISCONNECTED && err.code !== ErrorCode.CLOSED) c._events.emit('error', err);
      },
      timer: null,
    });
    try {
      write(c, cmd);
    } catch (err) {
      // The connect data cannot be encoded: retrying cannot help.
      c._pending.delete(cmd.id);
      closeSocket(c, 1000, 'bad connect data');
      c._events.emit('error', err);
      stop(c, { code: 0, reason: `the connect data cannot be sent: ${err && err.message}`, reconnect: false }, false);
    }
  };
  ws.onmessage = (ev) => {
    if (gen !== c._gen) return;
    onFrame(c, ev.data);
  };
  ws.onclose = (ev) => {
    if (gen !== c._gen) return;
    c._ws = null;
    if (!opened && i + 1 < order.length) {
      tryTransport(c, gen, order, i + 1);
      return;
    }
    lost(c, { code: ev.code, reason: ev.reason, reconnect: shouldReconnect(ev.code) }, c._state === 'connected');
  };
  // onerror carries no detail in browsers; onclose follows it.
  ws.onerror = () => {};
}

/**
 * Handles the connect reply: the client is connected; it keeps the connect
 * result in client.info, arms the silence and refresh timers, takes the
 * server-side subscriptions, resubscribes its own and sends the commands
 * that waited for the connection.
 * @param {Herald} c
 * @param {number} gen the attempt's generation
 * @param {*} res the connect result
 */
function onConnected(c, gen, res) {
  if (gen !== c._gen) return;
  clearTimeout(c._connectTimer);
  c._connectTimer = null;
  c._attempt = 0;
  c.info = {
    client: res.client || '',
    node: res.node || '',
    user: res.user || '',
    ping: res.ping || 0,
    expires: res.expires || 0,
    data: res.data,
    transport: /** @type {'websocket'|'http-stream'|'sse'} */ (c._transport),
    encoding: /** @type {'json'|'protobuf'} */ (c._encoding.name),
  };
  c._pingMs = c.info.ping > 0 ? c.info.ping * 1000 + c._opts.pingMargin : 0;
  c._lastSeen = Date.now();
  armSilence(c, c._pingMs);
  armRefresh(c, c.info.expires);
  setState(c, 'connected');
  c._events.emit('connected', c.info);
  if (res.subs) {
    for (const [channel, r] of Object.entries(res.subs)) onServerSub(c, channel, r || {});
  }
  const subs = [...c._subs.values()];
  if (subs.length) sendSubscribes(c, subs);
  const waiting = c._waiting;
  c._waiting = [];
  for (const w of waiting) {
    clearTimeout(w.timer);
    dispatch(c, w);
  }
}

/**
 * Detects a silent server: the server pings every `ping` seconds, so a
 * connection with no frame for longer than that (plus the margin) is dead
 * even if the socket does not know it yet. One timer per connection,
 * re-armed only when it fires, so frames cost no timer work.
 * @param {Herald} c
 * @param {number} delay ms until the next look
 */
function armSilence(c, delay) {
  clearTimeout(c._silenceTimer);
  c._silenceTimer = null;
  if (!c._pingMs) return;
  const gen = c._gen;
  c._silenceTimer = setTimeout(() => {
    if (gen !== c._gen) return;
    const quiet = Date.now() - c._lastSeen;
    if (quiet < c._pingMs) {
      armSilence(c, c._pingMs - quiet);
      return;
    }
    closeSocket(c, 1000, 'no ping from server');
    lost(c, { code: 0, reason: `no message from the server in ${quiet} ms`, reconnect: true }, c._state === 'connected');
  }, delay);
}

/**
 * Closes the current socket and makes the client ignore its later events.
 * @param {Herald} c
 * @param {number} code
 * @param {string} reason
 */
export function closeSocket(c, code, reason) {
  const ws = c._ws;
  c._ws = null;
  c._gen++;
  if (!ws) return;
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  try {
    ws.close(code, reason);
  } catch {
    /* already closed */
  }
}

/**
 * Handles the end of one socket: it fails what was in flight and either
 * schedules a reconnect or stops.
 * @param {Herald} c
 * @param {CloseInfo} info
 * @param {boolean} wasConnected whether the socket had connected (then 'disconnected' is emitted)
 */
export function lost(c, info, wasConnected) {
  clearConnectionTimers(c);
  failPending(c, new HeraldError(ErrorCode.DISCONNECTED, `herald: connection lost before the reply (${describeClose(info)})`));
  for (const sub of c._subs.values()) {
    clearTimeout(sub._retryTimer);
    sub._retryTimer = null;
    sub._cmdId = 0;
    if (sub.state === 'subscribed') sub.state = 'subscribing';
  }
  c._serverSubs.clear();
  if (info.code === CloseCode.TOKEN_EXPIRED) {
    if (c._opts.getToken) {
      c._refreshToken = true;
    } else {
      // The same token would be refused again.
      info = { ...info, reconnect: false, reason: `${info.reason || 'token expired'}; pass getToken to reconnect with a new token` };
    }
  }
  if (!info.reconnect) {
    stop(c, info, wasConnected);
    return;
  }
  if (wasConnected) c._events.emit('disconnected', info);
  setState(c, 'reconnecting');
  const delay = backoffDelay(c._attempt, c._opts);
  c._attempt++;
  c._reconnectTimer = setTimeout(() => {
    c._reconnectTimer = null;
    open(c);
  }, delay);
}

/**
 * Ends the client's life until the next connect(): what waits for a reply
 * or for the connection rejects with 'closed'.
 * @param {Herald} c
 * @param {CloseInfo} info
 * @param {boolean} wasConnected
 */
export function stop(c, info, wasConnected) {
  c._gen++;
  c._ws = null;
  clearConnectionTimers(c);
  clearTimeout(c._reconnectTimer);
  c._reconnectTimer = null;
  if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', c._onOnline);
  const err = new HeraldError(ErrorCode.CLOSED, `herald: client stopped (${describeClose(info)})`);
  failPending(c, err);
  const waiting = c._waiting;
  c._waiting = [];
  for (const w of waiting) {
    clearTimeout(w.timer);
    w.reject(err);
  }
  for (const sub of c._subs.values()) {
    clearTimeout(sub._retryTimer);
    sub._retryTimer = null;
    clearTimeout(sub._tokenTimer);
    sub._tokenTimer = null;
    sub._cmdId = 0;
    if (sub.state === 'subscribed') sub.state = 'subscribing';
    // The server stopped the client: a subscription still waiting for its
    // first subscribe will not get it (disconnect() leaves it waiting for
    // the next connect()).
    if (info.code !== 1000) sub._rejectReady(err);
  }
  c._serverSubs.clear();
  c._events.emit('disconnected', info);
  setState(c, 'disconnected');
}

/**
 * Clears the timers of one connection and drops what it had not written.
 * @param {Herald} c
 */
function clearConnectionTimers(c) {
  clearTimeout(c._connectTimer);
  clearTimeout(c._silenceTimer);
  clearTimeout(c._refreshTimer);
  c._connectTimer = c._silenceTimer = c._refreshTimer = null;
  c._outbox = [];
}
