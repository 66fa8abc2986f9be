// herald.js: the browser SDK of Herald, one dependency-free ES module.
//
// It speaks Herald's client protocol v1 (docs/protocol.md) over a WebSocket:
//
//   import { Herald } from '/herald.js';
//
//   const herald = new Herald('wss://example.com/ws', { token });
//   herald.on('state', (state) => console.log('herald is', state));
//   const sub = herald.subscribe('chat:lobby', {
//     onPublication: (pub) => console.log(pub.data, 'from', pub.info?.user),
//   });
//   herald.connect();
//   await sub.ready;
//   const { publications } = await sub.history({ limit: 50 });
//   const { clients } = await sub.presence();
//   await herald.publish('chat:lobby', { text: 'hi' });
//   const answer = await herald.rpc('time', null, { timeout: 2000 });
//
// The client reconnects on its own (exponential backoff with full jitter)
// whenever the server allows it, resubscribes its channels, recovers what it
// missed on channels with history, and drops publications it has already
// seen. Every promise it returns rejects with a HeraldError whose `code` is
// the server's error code (a number, see ErrorCode) or a client-side string
// code ('timeout', 'disconnected', 'closed', 'unsubscribed', 'binary').
//
// Served by the herald binary at /herald.js (package github.com/heraldrt/herald/js),
// and published as the npm package `herald-js` (js/package.json, types in
// js/herald.d.ts). Under Node.js pass a WebSocket implementation:
// new Herald(url, { WebSocket }) with `import { WebSocket } from 'ws'`.

/** The SDK's version, sent in `connect` unless the `version` option is set. */
export const VERSION = '0.1.0';

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
   * The data holds binary values (ArrayBuffer, a typed array, DataView or
   * Blob): protocol v1 carries JSON only, and a binary frame would make the
   * server close the connection (3504). Encode the bytes (base64) or send
   * them another way.
   */
  BINARY: 'binary',
});

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

/**
 * @typedef {object} ClientInfo
 * @property {string} client the connection's id
 * @property {string} user the user id ("" for anonymous)
 * @property {*} [data] connection info set by the server's OnConnect
 */

/**
 * @typedef {object} Publication
 * @property {string} channel
 * @property {number} offset position in the channel's stream (0 for channels without history)
 * @property {*} data the published JSON value
 * @property {ClientInfo} [info] who published it, when a client did
 * @property {string} [key] the idempotency key it was published with
 * @property {number} [time] when the server received it, in Unix milliseconds
 */

/**
 * @typedef {object} SubscribedContext
 * @property {string} channel
 * @property {number} offset the channel's current offset
 * @property {string} epoch the channel's current epoch ("" without history)
 * @property {boolean} recoverable whether the channel keeps history for recovery
 * @property {boolean} recovered whether every missed publication was recovered
 * @property {boolean} resubscribed whether this follows an earlier subscription (a reconnect)
 * @property {boolean} wasRecovering whether the client asked to recover
 */

/**
 * @typedef {object} SubscriptionHandlers
 * @property {(pub: Publication) => void} [onPublication] each new publication, in order, never twice
 * @property {(ctx: SubscribedContext) => void} [onSubscribed] each time the server confirms the subscription (again after every reconnect)
 * @property {(ev: {channel: string, info: ClientInfo}) => void} [onJoin] someone subscribed (asks the server for join/leave pushes)
 * @property {(ev: {channel: string, info: ClientInfo}) => void} [onLeave] someone unsubscribed
 * @property {(err: HeraldError) => void} [onError] the server refused the subscription
 * @property {(ev: {channel: string, code: number, reason: string}) => void} [onUnsubscribed] the server or unsubscribe() ended it
 */

/**
 * @typedef {object} SubscriptionTokenOptions
 * @property {string} [token] a channel token (a JWT with a `channel` claim) sent with `subscribe`, for channels that need one (private channels, namespaces whose subscribe access is `token`)
 * @property {(channel: string) => (string|Promise<string>)} [getToken] called for a channel token when the subscription has none, when the one it has expires (shortly before, so that a resubscribe after a reconnect never sends an expired one), and once more when the server refuses the subscription with 101, 103 or 109
 */

/**
 * What Herald.subscribe takes: the handlers and the channel token options.
 * @typedef {SubscriptionHandlers & SubscriptionTokenOptions} SubscriptionOptions
 */

/**
 * @typedef {object} StreamPosition
 * @property {number} offset
 * @property {string} epoch
 */

/**
 * @typedef {object} HistoryOptions
 * @property {number} [limit] the most publications to return (0 or absent: the channel's history size)
 * @property {StreamPosition} [since] return the publications after this position (before it with reverse); absent: from the oldest (the newest with reverse)
 * @property {boolean} [reverse] newest first
 * @property {number} [timeout] in ms (default: the client's timeout)
 */

/**
 * @typedef {object} HistoryResult
 * @property {number} offset the channel's latest offset
 * @property {string} epoch the channel's epoch
 * @property {Publication[]} publications oldest first (newest first with reverse)
 */

/**
 * @typedef {object} PresenceEntry
 * @property {string} user the user id ("" for anonymous)
 * @property {*} [info] connection info set by the server's OnConnect
 */

/**
 * @typedef {object} PresenceResult
 * @property {Record<string, PresenceEntry>} clients the connections subscribed to the channel now, by client id (this one included)
 */

/**
 * @typedef {object} ConnectInfo
 * @property {string} client the connection's id
 * @property {string} node the server node that serves it
 * @property {string} user the user id ("" for anonymous)
 * @property {number} ping the server's ping interval in seconds (0: no pings)
 * @property {number} expires when the connection's token expires, Unix seconds (0: never)
 * @property {*} [data] application data from the server's OnConnect
 * @property {'websocket'|'http-stream'|'sse'} transport the transport this connection uses
 */

/**
 * @typedef {object} HeraldOptions
 * @property {string} [token] a JWT sent in `connect`
 * @property {() => (string|Promise<string>)} [getToken] called for a token before the first connect, again when the server says the token expired, and to refresh a connection whose token expires (on the server's `refresh` push)
 * @property {string} [name] the client's name sent in `connect` (default "herald-js")
 * @property {string} [version] the client's version sent in `connect` (default VERSION)
 * @property {*} [data] any JSON sent in `connect` for the server's OnConnect
 * @property {number} [minBackoff] first reconnect delay cap in ms (default 500)
 * @property {number} [maxBackoff] largest reconnect delay in ms (default 20000)
 * @property {number} [timeout] default command and connect timeout in ms (default 10000)
 * @property {number} [pingMargin] how long past the server's ping interval silence is tolerated, in ms (default 10000)
 * @property {WebSocketConstructor} [WebSocket] a WebSocket implementation (default globalThis.WebSocket); under Node.js 20 pass the `ws` package's: `import { WebSocket } from 'ws'`
 * @property {'auto'|'websocket'|'http-stream'|'sse'} [transport] how to reach the server (default 'auto': a WebSocket, else HTTP-streaming, else Server-Sent Events, tried in that order on every attempt); the 'connected' event's info.transport says which one a connection uses
 * @property {string} [fallbackUrl] where the fallback transports are: streams at fallbackUrl + "/stream" and "/sse", commands POSTed to fallbackUrl + "/cmd" (default: the URL with an http(s) scheme and its last path element removed, so ws://host/ws gives http://host)
 */

/**
 * The part of the WebSocket API the client uses: browsers' WebSocket and the
 * `ws` package's both have it.
 * @typedef {object} WebSocketLike
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {any} onopen
 * @property {any} onmessage
 * @property {any} onclose
 * @property {any} onerror
 */

/** @typedef {new (url: string) => WebSocketLike} WebSocketConstructor */

const STATES = ['disconnected', 'connecting', 'connected', 'reconnecting'];

// The transports the 'auto' choice tries, in order.
const TRANSPORTS = ['websocket', 'http-stream', 'sse'];

// How long before a connection's expiry the client refreshes on its own
// when the server's `refresh` push has not come (at most a quarter of the
// lifetime left). The server asks earlier (30 s before by default).
// Channel tokens are fetched again as long before their expiry.
const REFRESH_FALLBACK_MS = 5000;

// isBinary reports whether v is a binary value, which JSON cannot carry.
function isBinary(v) {
  return (
    v instanceof ArrayBuffer ||
    ArrayBuffer.isView(v) ||
    (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) ||
    (typeof Blob !== 'undefined' && v instanceof Blob)
  );
}

function binaryError(what) {
  return new HeraldError(
    ErrorCode.BINARY,
    `herald: ${what} holds binary data (ArrayBuffer, typed array, DataView or Blob); protocol v1 carries JSON only: encode the bytes (base64) first`,
  );
}

// noBinary is a JSON.stringify replacer that refuses binary values nested
// anywhere in a command's data.
function noBinary(_key, v) {
  if (v !== null && typeof v === 'object' && isBinary(v)) throw binaryError('the data');
  return v;
}

/**
 * Returns when a JWT expires (its `exp` claim, in Unix milliseconds), or 0
 * when it has none or is not a JWT. The token is not verified: the server
 * does that.
 * @param {string} token
 * @returns {number}
 */
export function tokenExpiry(token) {
  const part = typeof token === 'string' ? token.split('.')[1] : '';
  if (!part) return 0;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' && exp > 0 ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

// withTimeout rejects with a timeout error when p has not settled in ms.
function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new HeraldError(ErrorCode.TIMEOUT, `herald: ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One subscription to one channel, returned by Herald.subscribe. It stays
 * registered across reconnects until unsubscribe() is called.
 */
export class Subscription {
  /**
   * @param {Herald} client
   * @param {string} channel
   * @param {SubscriptionOptions} handlers
   */
  constructor(client, channel, handlers) {
    /** @type {string} */
    this.channel = channel;
    /**
     * 'subscribing' (waiting for the server), 'subscribed' or 'unsubscribed'.
     * @type {'subscribing'|'subscribed'|'unsubscribed'}
     */
    this.state = 'subscribing';
    /** The offset of the last publication seen (0 when unknown). */
    this.offset = 0;
    /** The channel's epoch as last seen ("" when unknown or without history). */
    this.epoch = '';
    /** @internal */ this._client = client;
    /** @internal */ this._handlers = handlers || {};
    /** @internal */ this._subscribedOnce = false;
    /** @internal */ this._cmdId = 0; // id of the subscribe in flight
    /** @internal */ this._retry = 0;
    /** @internal */ this._retryTimer = null;
    /** @internal */ this._token = (handlers && handlers.token) || '';
    /** @internal */ this._tokenFresh = false; // the token was fetched for the subscribe in flight
    /** @internal */ this._tokenTimer = null;
    /** @internal */ this._tokenRefreshing = false;
    /** @internal */ this._fetch = null; // the getToken call a subscribe waits for
    /** @internal */ this._settle = null;
    /**
     * Resolves with the context of the first successful subscribe; rejects
     * with a HeraldError when the subscription ends before that: the server
     * refused it (its code), unsubscribe() was called ('unsubscribed'), or
     * the client stopped for good ('closed').
     * @type {Promise<SubscribedContext>}
     */
    this.ready = new Promise((resolve, reject) => {
      this._settle = { resolve, reject };
    });
    this.ready.catch(() => {}); // rejections are for those who await it
  }

  /**
   * Reads the channel's history (see Herald.history). While the first
   * subscribe is under way it waits for it (up to the timeout), so that a
   * channel whose history needs a channel token is read with it.
   * @param {HistoryOptions} [opts]
   * @returns {Promise<HistoryResult>}
   */
  async history(opts = {}) {
    await this._whenReady(opts.timeout);
    return this._client.history(this.channel, opts);
  }

  /**
   * Reads who is subscribed to the channel (see Herald.presence). While the
   * first subscribe is under way it waits for it, as history() does.
   * @param {{timeout?: number}} [opts]
   * @returns {Promise<PresenceResult>}
   */
  async presence(opts = {}) {
    await this._whenReady(opts.timeout);
    return this._client.presence(this.channel, opts);
  }

  /** @internal */
  _whenReady(timeout) {
    if (this._subscribedOnce || this.state === 'unsubscribed') return Promise.resolve();
    const ms = timeout > 0 ? timeout : this._client._opts.timeout;
    return withTimeout(this.ready, ms, `not subscribed to ${JSON.stringify(this.channel)}`);
  }

  /** @internal */
  _resolveReady(ctx) {
    if (this._settle) this._settle.resolve(ctx);
    this._settle = null;
  }

  /** @internal */
  _rejectReady(err) {
    if (this._settle) this._settle.reject(err);
    this._settle = null;
  }

  /**
   * Publishes data to this subscription's channel (see Herald.publish).
   * @param {*} data
   * @param {{key?: string, timeout?: number}} [opts]
   * @returns {Promise<{offset: number, epoch: string}>}
   */
  publish(data, opts) {
    return this._client.publish(this.channel, data, opts);
  }

  /**
   * Ends the subscription: the server stops sending its publications and the
   * client no longer resubscribes it. Calling it twice does nothing.
   */
  unsubscribe() {
    this._client._unsubscribe(this);
  }
}

/**
 * A connection to a Herald server. Create it, subscribe, then connect():
 * subscriptions made before or while disconnected are sent once connected.
 */
export class Herald {
  /**
   * @param {string} url the WebSocket endpoint, e.g. "wss://example.com/ws"
   * @param {HeraldOptions} [opts]
   */
  constructor(url, opts = {}) {
    if (!url) throw new TypeError('herald: a WebSocket URL is required, e.g. new Herald("ws://127.0.0.1:8080/ws")');
    /** @type {string} */
    this.url = url;
    /** @internal */ this._opts = {
      token: opts.token || '',
      getToken: opts.getToken || null,
      name: opts.name || 'herald-js',
      version: opts.version || VERSION,
      data: opts.data,
      minBackoff: opts.minBackoff > 0 ? opts.minBackoff : 500,
      maxBackoff: opts.maxBackoff > 0 ? opts.maxBackoff : 20000,
      timeout: opts.timeout > 0 ? opts.timeout : 10000,
      pingMargin: opts.pingMargin >= 0 ? opts.pingMargin : 10000,
      WebSocket: opts.WebSocket || globalThis.WebSocket,
      transport: opts.transport || 'auto',
      fallbackUrl: opts.fallbackUrl || fallbackBase(url),
    };
    if (this._opts.maxBackoff < this._opts.minBackoff) this._opts.maxBackoff = this._opts.minBackoff;
    /** @private */ this._token = this._opts.token;

    /** @private @type {'disconnected'|'connecting'|'connected'|'reconnecting'} */
    this._state = 'disconnected';
    /**
     * Result of the last successful connect: {client, node, user, ping, expires, data}.
     * `expires` (Unix seconds, 0 for never) follows the refreshes of the token.
     * @type {ConnectInfo|null}
     */
    this.info = null;

    /** @private */ this._listeners = new Map(); // event -> Set<fn>
    /** @private */ this._subs = new Map(); // channel -> Subscription
    /** @private */ this._serverSubs = new Map(); // channel -> {offset, epoch}, server-side subscriptions

    /** @private */ this._ws = null;
    /** @private */ this._gen = 0; // increments with every socket, so late events of old sockets are ignored
    /** @private */ this._nextId = 1;
    /** @private */ this._pending = new Map(); // id -> {resolve, reject, timer}
    /** @private */ this._waiting = []; // commands issued while not connected: {frame, resolve, reject, timer, expectsReply}
    /** @private */ this._outbox = []; // frames to write in the next microtask, newline-joined
    /** @private */ this._flushScheduled = false;

    /** @private */ this._attempt = 0;
    /** @private */ this._reconnectTimer = null;
    /** @private */ this._connectTimer = null;
    /** @private */ this._silenceTimer = null;
    /** @private */ this._pingMs = 0;
    /** @private */ this._lastSeen = 0; // when the last frame arrived (Date.now())
    /** @private */ this._refreshToken = false;
    /** @private */ this._refreshTimer = null; // the fallback refresh, or the retry of a failed one
    /** @private */ this._refreshGen = 0; // the connection (gen) whose refresh is under way
    /** @private */ this._onOnline = () => {
      if (this._state === 'reconnecting' && this._reconnectTimer) {
        clearTimeout(this._reconnectTimer);
        this._reconnectTimer = null;
        this._open();
      }
    };
  }

  /**
   * The connection state: 'disconnected', 'connecting' (the first attempt),
   * 'connected' or 'reconnecting' (waiting to retry, or retrying).
   * @returns {'disconnected'|'connecting'|'connected'|'reconnecting'}
   */
  get state() {
    return this._state;
  }

  /**
   * Listens for an event; returns a function that removes the listener.
   *
   * - 'state' (state, previous): the connection state changed.
   * - 'connected' (info): connected; info is the connect result {client, node, user, ping, expires, data}.
   * - 'disconnected' ({code, reason, reconnect}): a connection ended, or the client stopped trying.
   * - 'error' (HeraldError|Error): something failed that no promise reports.
   * - 'message' (data): a `message` push (Session.Send on the server).
   * - 'subscribed' (ctx), 'publication' (pub), 'unsubscribed' ({channel, code, reason}): server-side subscriptions.
   * - 'join', 'leave' ({channel, info}): presence events of server-side subscriptions.
   * @param {string} event
   * @param {Function} fn
   * @returns {() => void}
   */
  on(event, fn) {
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /**
   * Removes a listener added with on().
   * @param {string} event
   * @param {Function} fn
   */
  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
  }

  /**
   * Starts connecting; does nothing when already connected or connecting.
   * The client keeps reconnecting until disconnect() is called or the server
   * closes with a code that forbids it.
   */
  connect() {
    if (this._state !== 'disconnected') return;
    this._attempt = 0;
    if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('online', this._onOnline);
    this._setState('connecting');
    this._open();
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions stay
   * registered and are sent again by a later connect(). Commands waiting for
   * a reply reject with code 'closed'.
   */
  disconnect() {
    if (this._state === 'disconnected') return;
    const wasConnected = this._state === 'connected';
    this._closeSocket(1000, 'client disconnect');
    this._stop({ code: 1000, reason: 'disconnect called', reconnect: false }, wasConnected);
  }

  /**
   * Subscribes to a channel. The subscription is sent now when connected, or
   * as soon as the client connects, and again after every reconnect (asking
   * the server to recover missed publications when the channel has history).
   * The options carry the handlers and, for channels that need one, a
   * channel token (`token`, or `getToken(channel)` to fetch one when needed
   * and again before it expires). `sub.ready` resolves once the server
   * confirms the first subscribe.
   * @param {string} channel
   * @param {SubscriptionOptions} [handlers]
   * @returns {Subscription}
   * @throws {Error} when already subscribed to the channel
   */
  subscribe(channel, handlers = {}) {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('herald: subscribe needs a channel name');
    if (this._subs.has(channel)) {
      throw new Error(`herald: already subscribed to ${JSON.stringify(channel)}; call unsubscribe() on the existing subscription first`);
    }
    const sub = new Subscription(this, channel, handlers);
    this._subs.set(channel, sub);
    if (this._state === 'connected') this._sendSubscribes([sub]);
    return sub;
  }

  /**
   * Returns the client's subscription to channel, if any.
   * @param {string} channel
   * @returns {Subscription|undefined}
   */
  getSubscription(channel) {
    return this._subs.get(channel);
  }

  /**
   * Publishes data (any JSON value) to a channel. Waits for the connection
   * when not connected, up to the timeout.
   * @param {string} channel
   * @param {*} data
   * @param {{key?: string, timeout?: number}} [opts] key makes the publish idempotent: retrying with the same key publishes once
   * @returns {Promise<{offset: number, epoch: string}>}
   */
  async publish(channel, data, opts = {}) {
    if (isBinary(data)) throw binaryError('publish');
    const cmd = { op: 'publish', channel, data: data === undefined ? null : data };
    if (opts.key) cmd.key = opts.key;
    const res = await this._command(cmd, opts.timeout);
    return { offset: res.offset || 0, epoch: res.epoch || '' };
  }

  /**
   * Calls an RPC method registered on the server with OnRPC and resolves
   * with the data it returns. Waits for the connection when not connected,
   * up to the timeout.
   * @param {string} method
   * @param {*} [data]
   * @param {{timeout?: number}} [opts]
   * @returns {Promise<*>}
   */
  async rpc(method, data, opts = {}) {
    if (isBinary(data)) throw binaryError('rpc');
    const cmd = { op: 'rpc', method };
    if (data !== undefined) cmd.data = data;
    const res = await this._command(cmd, opts.timeout);
    return res.data;
  }

  /**
   * Sends an asynchronous message to the server's OnMessage handler. There is
   * no reply: the promise resolves once the message is handed to the socket.
   * Waits for the connection when not connected, up to the timeout.
   * @param {*} data
   * @param {{timeout?: number}} [opts]
   * @returns {Promise<void>}
   */
  send(data, opts = {}) {
    if (isBinary(data)) return Promise.reject(binaryError('send'));
    return this._enqueue({ op: 'send', data: data === undefined ? null : data }, opts.timeout, false);
  }

  /**
   * Reads the publications a channel keeps (its namespace needs history).
   * The connection need not be subscribed, unless the channel's history
   * needs a channel token (then use the subscription's history()).
   * Rejects with 108 on a channel without history, 103 when not allowed.
   * @param {string} channel
   * @param {HistoryOptions} [opts]
   * @returns {Promise<HistoryResult>}
   */
  async history(channel, opts = {}) {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('herald: history needs a channel name');
    const cmd = { op: 'history', channel };
    if (opts.limit > 0) cmd.limit = Math.floor(opts.limit);
    if (opts.since) cmd.since = { offset: opts.since.offset || 0, epoch: opts.since.epoch || '' };
    if (opts.reverse) cmd.reverse = true;
    const res = await this._command(cmd, opts.timeout);
    const pubs = Array.isArray(res.publications) ? res.publications : [];
    return {
      offset: res.offset || 0,
      epoch: res.epoch || '',
      publications: pubs.map((p) => ({ channel, offset: p.offset || 0, data: p.data, info: p.info, key: p.key, time: p.time })),
    };
  }

  /**
   * Reads who is subscribed to a channel now (its namespace needs presence):
   * a map from client id to {user, info}. Rejects with 108 on a channel
   * without presence, 103 when not allowed. Apply 'join' and 'leave' on top
   * of it by client id.
   * @param {string} channel
   * @param {{timeout?: number}} [opts]
   * @returns {Promise<PresenceResult>}
   */
  async presence(channel, opts = {}) {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('herald: presence needs a channel name');
    const res = await this._command({ op: 'presence', channel }, opts.timeout);
    return { clients: res.clients && typeof res.clients === 'object' ? res.clients : {} };
  }

  // ---------------------------------------------------------------- events

  /** @private */
  _emit(event, ...args) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) this._safeCall(fn, args, event);
  }

  /** @private */
  _safeCall(fn, args, what) {
    try {
      fn(...args);
    } catch (err) {
      if (what === 'error') {
        console.error('herald: error listener threw', err);
      } else {
        this._emit('error', err);
      }
    }
  }

  /** @private */
  _setState(state) {
    if (!STATES.includes(state) || state === this._state) return;
    const prev = this._state;
    this._state = state;
    this._emit('state', state, prev);
  }

  // ------------------------------------------------------------ connecting

  /** @private */
  async _open() {
    const gen = ++this._gen;
    if (this._opts.getToken && (!this._token || this._refreshToken)) {
      try {
        this._token = (await this._opts.getToken()) || '';
        this._refreshToken = false;
      } catch (err) {
        if (gen !== this._gen) return;
        this._emit('error', err);
        this._lost({ code: 0, reason: 'getToken failed', reconnect: true }, false);
        return;
      }
      if (gen !== this._gen) return;
    }
    const order = this._opts.transport === 'auto' ? TRANSPORTS : [this._opts.transport];
    this._connectTimer = setTimeout(() => {
      if (gen !== this._gen) return;
      this._emit('error', new HeraldError(ErrorCode.TIMEOUT, `herald: no connect reply from ${this.url} within ${this._opts.timeout} ms`));
      this._closeSocket(1000, 'connect timeout');
      this._lost({ code: 0, reason: 'connect timeout', reconnect: true }, false);
    }, this._opts.timeout);
    this._tryTransport(gen, order, 0);
  }

  // _tryTransport opens order[i]; when it fails before it opens, the next
  // one is tried, and the last one's failure counts as the attempt's.
  /** @private */
  _tryTransport(gen, order, i) {
    const kind = order[i];
    let ws;
    try {
      if (kind === 'websocket') {
        if (typeof this._opts.WebSocket !== 'function') throw new TypeError('herald: no WebSocket in this environment');
        ws = new this._opts.WebSocket(this.url);
      } else if (kind === 'http-stream' || kind === 'sse') {
        ws = new StreamSocket(this._opts.fallbackUrl, kind);
      } else {
        throw new TypeError(`herald: unknown transport ${JSON.stringify(kind)}; use 'auto', 'websocket', 'http-stream' or 'sse'`);
      }
    } catch (err) {
      if (i + 1 < order.length) {
        this._tryTransport(gen, order, i + 1);
        return;
      }
      // A malformed URL or no transport at all: retrying cannot help.
      clearTimeout(this._connectTimer);
      this._emit('error', err);
      this._stop({ code: 0, reason: String(err && err.message), reconnect: false }, false);
      return;
    }
    this._ws = ws;
    this._transport = kind;
    let opened = false;
    ws.onopen = () => {
      if (gen !== this._gen) return;
      opened = true;
      const cmd = { id: this._nextId++, op: 'connect', name: this._opts.name, version: this._opts.version };
      if (this._token) cmd.token = this._token;
      if (this._opts.data !== undefined) cmd.data = this._opts.data;
      this._pending.set(cmd.id, {
        resolve: (res) => this._onConnected(gen, res),
        // A refused connect: the server closes the socket next, with a
        // code that says whether to try again.
        reject: (err) => {
          if (err.code !== ErrorCode.DISCONNECTED && err.code !== ErrorCode.CLOSED) this._emit('error', err);
        },
        timer: null,
      });
      this._write(JSON.stringify(cmd));
    };
    ws.onmessage = (ev) => {
      if (gen !== this._gen) return;
      this._onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen !== this._gen) return;
      this._ws = null;
      if (!opened && i + 1 < order.length) {
        this._tryTransport(gen, order, i + 1);
        return;
      }
      this._lost({ code: ev.code, reason: ev.reason, reconnect: shouldReconnect(ev.code) }, this._state === 'connected');
    };
    // onerror carries no detail in browsers; onclose follows it.
    ws.onerror = () => {};
  }

  /** @private */
  _onConnected(gen, res) {
    if (gen !== this._gen) return;
    clearTimeout(this._connectTimer);
    this._connectTimer = null;
    this._attempt = 0;
    this.info = {
      client: res.client || '',
      node: res.node || '',
      user: res.user || '',
      ping: res.ping || 0,
      expires: res.expires || 0,
      data: res.data,
      transport: this._transport,
    };
    this._pingMs = this.info.ping > 0 ? this.info.ping * 1000 + this._opts.pingMargin : 0;
    this._lastSeen = Date.now();
    this._armSilence(this._pingMs);
    this._armRefresh(this.info.expires);
    this._setState('connected');
    this._emit('connected', this.info);
    if (res.subs) {
      for (const [channel, r] of Object.entries(res.subs)) this._onServerSub(channel, r || {});
    }
    const subs = [...this._subs.values()];
    if (subs.length) this._sendSubscribes(subs);
    const waiting = this._waiting;
    this._waiting = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      this._dispatch(w);
    }
  }

  // _armSilence detects a silent server: the server pings every `ping`
  // seconds, so a connection with no frame for longer than that (plus the
  // margin) is dead even if the socket does not know it yet. One timer per
  // connection, re-armed only when it fires, so frames cost no timer work.
  /** @private */
  _armSilence(delay) {
    clearTimeout(this._silenceTimer);
    this._silenceTimer = null;
    if (!this._pingMs) return;
    const gen = this._gen;
    this._silenceTimer = setTimeout(() => {
      if (gen !== this._gen) return;
      const quiet = Date.now() - this._lastSeen;
      if (quiet < this._pingMs) {
        this._armSilence(this._pingMs - quiet);
        return;
      }
      this._closeSocket(1000, 'no ping from server');
      this._lost({ code: 0, reason: `no message from the server in ${quiet} ms`, reconnect: true }, this._state === 'connected');
    }, delay);
  }

  // ------------------------------------------------------------ refreshing

  // _armRefresh schedules the refresh of a connection whose token expires
  // (Unix seconds; 0: never) shortly before the expiry, in case the
  // server's `refresh` push does not come. Without getToken there is
  // nothing to refresh with: the server closes the connection with 3005 at
  // the expiry.
  /** @private */
  _armRefresh(expires) {
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (!expires || !this._opts.getToken) return;
    const left = expires * 1000 - Date.now();
    const gen = this._gen;
    this._refreshTimer = setTimeout(() => {
      this._refreshTimer = null;
      if (gen === this._gen) this._refresh();
    }, Math.max(0, left - Math.min(REFRESH_FALLBACK_MS, left / 4)));
  }

  // _refresh gets a token from getToken and sends it in a `refresh`
  // command on the current connection, which then lives on without a
  // reconnect. A failure is reported as an 'error' event; 109 (the token
  // was already expired), a getToken error, a timeout or a busy server are
  // retried with backoff until the expiry. After 101 the server closes the
  // connection (3500) and the client stops; after 108 (the server cannot
  // refresh) it closes it with 3005 at the expiry and the client
  // reconnects with a new token.
  /** @private */
  async _refresh(attempt = 0) {
    const gen = this._gen;
    if (!this._opts.getToken || this._state !== 'connected' || this._refreshGen === gen) return;
    this._refreshGen = gen; // one refresh at a time; pushes meanwhile are answered by it
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    const live = () => gen === this._gen && this._state === 'connected';
    let err;
    try {
      const token = (await this._opts.getToken()) || '';
      if (!live()) return;
      const res = await this._command({ op: 'refresh', token });
      if (!live()) return;
      this._refreshGen = 0;
      this._token = token; // a reconnect uses the newest token
      this.info.expires = res.expires || 0;
      this._armRefresh(this.info.expires);
      return;
    } catch (e) {
      err = e;
    }
    if (!live()) return;
    this._refreshGen = 0;
    if (err && (err.code === ErrorCode.DISCONNECTED || err.code === ErrorCode.CLOSED)) return;
    this._emit('error', err);
    if (err && (err.code === ErrorCode.UNAUTHORIZED || err.code === ErrorCode.NOT_AVAILABLE)) return;
    const left = this.info.expires * 1000 - Date.now();
    if (left <= 0) return;
    const cap = Math.min(this._opts.maxBackoff, this._opts.minBackoff * 2 ** Math.min(attempt, 30));
    this._refreshTimer = setTimeout(() => {
      this._refreshTimer = null;
      if (gen === this._gen) this._refresh(attempt + 1);
    }, Math.min(Math.floor(Math.random() * cap), left));
  }

  // Closes the current socket and makes the client ignore its later events.
  /** @private */
  _closeSocket(code, reason) {
    const ws = this._ws;
    this._ws = null;
    this._gen++;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  // _lost handles the end of one socket: it fails what was in flight and
  // either schedules a reconnect or stops.
  /** @private */
  _lost(info, wasConnected) {
    this._clearConnectionTimers();
    this._failPending(new HeraldError(ErrorCode.DISCONNECTED, `herald: connection lost before the reply (${describe(info)})`));
    for (const sub of this._subs.values()) {
      clearTimeout(sub._retryTimer);
      sub._retryTimer = null;
      sub._cmdId = 0;
      if (sub.state === 'subscribed') sub.state = 'subscribing';
    }
    this._serverSubs.clear();
    if (info.code === CloseCode.TOKEN_EXPIRED) {
      if (this._opts.getToken) {
        this._refreshToken = true;
      } else {
        // The same token would be refused again.
        info = { ...info, reconnect: false, reason: `${info.reason || 'token expired'}; pass getToken to reconnect with a new token` };
      }
    }
    if (!info.reconnect) {
      this._stop(info, wasConnected);
      return;
    }
    if (wasConnected) this._emit('disconnected', info);
    this._setState('reconnecting');
    const cap = Math.min(this._opts.maxBackoff, this._opts.minBackoff * 2 ** Math.min(this._attempt, 30));
    const delay = Math.floor(Math.random() * cap); // full jitter
    this._attempt++;
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      this._open();
    }, delay);
  }

  // _stop ends the client's life until the next connect().
  /** @private */
  _stop(info, wasConnected) {
    this._gen++;
    this._ws = null;
    this._clearConnectionTimers();
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this._onOnline);
    const err = new HeraldError(ErrorCode.CLOSED, `herald: client stopped (${describe(info)})`);
    this._failPending(err);
    const waiting = this._waiting;
    this._waiting = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    for (const sub of this._subs.values()) {
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
    this._serverSubs.clear();
    this._emit('disconnected', info);
    this._setState('disconnected');
  }

  /** @private */
  _clearConnectionTimers() {
    clearTimeout(this._connectTimer);
    clearTimeout(this._silenceTimer);
    clearTimeout(this._refreshTimer);
    this._connectTimer = this._silenceTimer = this._refreshTimer = null;
    this._outbox = [];
  }

  /** @private */
  _failPending(err) {
    const pending = this._pending;
    this._pending = new Map();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  // -------------------------------------------------------------- commands

  // _command sends a command that expects a reply and resolves with its result.
  /** @private */
  _command(cmd, timeout) {
    return this._enqueue(cmd, timeout, true);
  }

  /** @private */
  _enqueue(cmd, timeout, expectsReply) {
    if (this._state === 'disconnected') {
      return Promise.reject(new HeraldError(ErrorCode.CLOSED, 'herald: not connected; call connect() first'));
    }
    return new Promise((resolve, reject) => {
      const w = { cmd, resolve, reject, expectsReply, timeout: timeout > 0 ? timeout : this._opts.timeout, timer: null };
      if (this._state === 'connected') {
        this._dispatch(w);
        return;
      }
      w.timer = setTimeout(() => {
        const i = this._waiting.indexOf(w);
        if (i >= 0) this._waiting.splice(i, 1);
        reject(new HeraldError(ErrorCode.TIMEOUT, `herald: not connected within ${w.timeout} ms`));
      }, w.timeout);
      this._waiting.push(w);
    });
  }

  /** @private */
  _dispatch(w) {
    let frame;
    if (!w.expectsReply) {
      try {
        frame = JSON.stringify(w.cmd, noBinary);
      } catch (err) {
        w.reject(err);
        return;
      }
      this._write(frame);
      w.resolve();
      return;
    }
    const id = this._nextId++;
    try {
      frame = JSON.stringify({ id, ...w.cmd }, noBinary);
    } catch (err) {
      w.reject(err); // data that is not JSON (a cycle, a BigInt, binary)
      return;
    }
    const p = { resolve: w.resolve, reject: w.reject, timer: null };
    p.timer = setTimeout(() => {
      this._pending.delete(id);
      w.reject(new HeraldError(ErrorCode.TIMEOUT, `herald: no reply to ${w.cmd.op} within ${w.timeout} ms`));
    }, w.timeout);
    this._pending.set(id, p);
    this._write(frame);
  }

  // _write queues one message; the messages of one tick leave in one frame.
  /** @private */
  _write(msg) {
    this._outbox.push(msg);
    if (this._flushScheduled) return;
    this._flushScheduled = true;
    queueMicrotask(() => {
      this._flushScheduled = false;
      const out = this._outbox;
      this._outbox = [];
      if (!out.length || !this._ws || this._ws.readyState !== 1) return;
      try {
        this._ws.send(out.join('\n'));
      } catch (err) {
        this._emit('error', err);
      }
    });
  }

  // ---------------------------------------------------------- subscriptions

  /** @private */
  _sendSubscribes(subs) {
    for (const sub of subs) {
      if (sub._cmdId || this._subs.get(sub.channel) !== sub) continue;
      if (this._needsToken(sub)) {
        this._fetchTokenThenSubscribe(sub);
        continue;
      }
      this._sendSubscribe(sub);
    }
  }

  // _needsToken reports whether sub must get a channel token from its
  // getToken before it subscribes: it has none, or the one it has expires
  // within a second.
  /** @private */
  _needsToken(sub) {
    if (!sub._handlers.getToken) return false;
    if (!sub._token) return true;
    const exp = tokenExpiry(sub._token);
    return exp > 0 && exp - Date.now() < 1000;
  }

  // _fetchTokenThenSubscribe gets a channel token for sub, then sends its
  // subscribe on the connection that asked, if it is still the current one.
  /** @private */
  async _fetchTokenThenSubscribe(sub) {
    const gen = this._gen;
    const fetch = (sub._fetch = {}); // this fetch, told apart from later ones
    sub._cmdId = -1; // a subscribe is under way
    const current = () => sub._fetch === fetch && sub._cmdId === -1 && this._subs.get(sub.channel) === sub;
    let token;
    try {
      token = (await sub._handlers.getToken(sub.channel)) || '';
    } catch (err) {
      if (!current()) return;
      sub._cmdId = 0;
      if (gen !== this._gen) return; // the next connection asks again
      const herr = err instanceof HeraldError ? err : new HeraldError(ErrorCode.UNAUTHORIZED, `herald: getToken for ${JSON.stringify(sub.channel)} failed: ${err && err.message}`);
      this._onSubscribeError(sub, herr);
      return;
    }
    if (!current()) return;
    sub._cmdId = 0;
    this._setSubToken(sub, token);
    sub._tokenFresh = true;
    if (gen === this._gen && this._state === 'connected') this._sendSubscribe(sub);
  }

  // _setSubToken keeps a new channel token and schedules fetching the next
  // one shortly before it expires.
  /** @private */
  _setSubToken(sub, token) {
    sub._token = token;
    this._armSubToken(sub);
  }

  // _armSubToken schedules the fetch of a fresh channel token before sub's
  // expires (5 s before, at most a quarter of the time left), so that a
  // resubscribe after a reconnect never sends an expired token. Protocol v1
  // has no command to hand a live subscription a new channel token, and a
  // v1 server checks the token only at subscribe: the subscription itself
  // carries on past the token's expiry.
  /** @private */
  _armSubToken(sub) {
    clearTimeout(sub._tokenTimer);
    sub._tokenTimer = null;
    if (!sub._handlers.getToken || this._state === 'disconnected' || this._subs.get(sub.channel) !== sub) return;
    const exp = tokenExpiry(sub._token);
    if (!exp) return;
    const left = exp - Date.now();
    sub._tokenTimer = setTimeout(() => this._refreshSubToken(sub, 0), Math.max(0, left - Math.min(REFRESH_FALLBACK_MS, left / 4)));
  }

  /** @private */
  async _refreshSubToken(sub, attempt) {
    sub._tokenTimer = null;
    if (sub._tokenRefreshing || this._subs.get(sub.channel) !== sub) return;
    sub._tokenRefreshing = true;
    try {
      const token = (await sub._handlers.getToken(sub.channel)) || '';
      sub._tokenRefreshing = false;
      if (this._subs.get(sub.channel) === sub) this._setSubToken(sub, token);
    } catch (err) {
      sub._tokenRefreshing = false;
      if (this._subs.get(sub.channel) !== sub) return;
      this._emit('error', err);
      // Try again with backoff while the old token lasts; past it, the next
      // subscribe asks getToken itself.
      const left = tokenExpiry(sub._token) - Date.now();
      if (left <= 0) return;
      const cap = Math.min(this._opts.maxBackoff, this._opts.minBackoff * 2 ** Math.min(attempt, 30));
      sub._tokenTimer = setTimeout(() => this._refreshSubToken(sub, attempt + 1), Math.min(Math.floor(Math.random() * cap), left));
    }
  }

  /** @private */
  _sendSubscribe(sub) {
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
    const id = this._nextId++;
    sub._cmdId = id;
    this._pending.set(id, {
      timer: null,
      resolve: (res) => {
        if (sub._cmdId !== id) return;
        sub._cmdId = 0;
        if (this._subs.get(sub.channel) !== sub) return; // unsubscribed meanwhile
        this._onSubscribed(sub, res || {}, wasRecovering);
      },
      reject: (err) => {
        if (sub._cmdId !== id) return;
        sub._cmdId = 0;
        if (this._subs.get(sub.channel) !== sub || err.code === ErrorCode.DISCONNECTED || err.code === ErrorCode.CLOSED) return;
        if (sub._handlers.getToken && !tokenFresh && [ErrorCode.UNAUTHORIZED, ErrorCode.PERMISSION_DENIED, ErrorCode.TOKEN_EXPIRED].includes(err.code)) {
          // The token the subscription held may have expired or been
          // revoked: ask getToken for another one, once.
          sub._token = '';
          if (this._state === 'connected') this._sendSubscribes([sub]);
          return;
        }
        this._onSubscribeError(sub, err);
      },
    });
    this._write(JSON.stringify({ id, ...cmd }));
  }

  /** @private */
  _onSubscribed(sub, res, wasRecovering) {
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
    if (sub._handlers.onSubscribed) this._safeCall(sub._handlers.onSubscribed, [ctx], 'onSubscribed');
    sub._resolveReady(ctx);
    for (const p of pubs) this._deliver(sub, sub.channel, p);
    if (offset > sub.offset) sub.offset = offset;
  }

  /** @private */
  _onSubscribeError(sub, err) {
    if (err.temporary && this._state === 'connected') {
      // The server was busy or failed: try again after a backoff.
      const cap = Math.min(this._opts.maxBackoff, this._opts.minBackoff * 2 ** Math.min(sub._retry++, 30));
      sub._retryTimer = setTimeout(() => {
        sub._retryTimer = null;
        if (this._state === 'connected' && this._subs.get(sub.channel) === sub) this._sendSubscribes([sub]);
      }, Math.floor(Math.random() * cap));
      return;
    }
    this._subs.delete(sub.channel);
    sub.state = 'unsubscribed';
    clearTimeout(sub._tokenTimer);
    sub._tokenTimer = null;
    sub._rejectReady(err);
    if (sub._handlers.onError) this._safeCall(sub._handlers.onError, [err], 'onError');
    else this._emit('error', err);
    if (sub._handlers.onUnsubscribed) {
      this._safeCall(sub._handlers.onUnsubscribed, [{ channel: sub.channel, code: err.code, reason: err.message }], 'onUnsubscribed');
    }
  }

  /** @internal */
  _unsubscribe(sub) {
    if (this._subs.get(sub.channel) !== sub) return;
    this._subs.delete(sub.channel);
    clearTimeout(sub._retryTimer);
    sub._retryTimer = null;
    clearTimeout(sub._tokenTimer);
    sub._tokenTimer = null;
    const wasActive = sub.state === 'subscribed' || sub._cmdId > 0;
    sub._cmdId = 0;
    sub.state = 'unsubscribed';
    sub._rejectReady(new HeraldError(ErrorCode.UNSUBSCRIBED, `herald: unsubscribed from ${JSON.stringify(sub.channel)} before the server confirmed the subscription`));
    if (wasActive && this._state === 'connected') {
      // The reply does not matter: the subscription is gone either way.
      this._command({ op: 'unsubscribe', channel: sub.channel }).catch(() => {});
    }
    if (sub._handlers.onUnsubscribed) {
      this._safeCall(sub._handlers.onUnsubscribed, [{ channel: sub.channel, code: 0, reason: 'unsubscribe called' }], 'onUnsubscribed');
    }
  }

  // _deliver hands a publication to a subscription, unless its offset shows
  // it was seen already.
  /** @private */
  _deliver(sub, channel, p) {
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
      if (sub._handlers.onPublication) this._safeCall(sub._handlers.onPublication, [pub], 'onPublication');
    } else {
      this._emit('publication', pub);
    }
  }

  /** @private */
  _onServerSub(channel, res) {
    const pos = { offset: res.offset || 0, epoch: res.epoch || '' };
    this._serverSubs.set(channel, pos);
    const pubs = Array.isArray(res.publications) ? res.publications : [];
    if (pubs.length) pos.offset = 0;
    this._emit('subscribed', {
      channel,
      offset: res.offset || 0,
      epoch: pos.epoch,
      recoverable: Boolean(res.recoverable),
      recovered: Boolean(res.recovered),
      resubscribed: false,
      wasRecovering: false,
    });
    for (const p of pubs) this._deliver(pos, channel, p);
    if ((res.offset || 0) > pos.offset) pos.offset = res.offset;
  }

  // ---------------------------------------------------------------- frames

  /** @private */
  _onFrame(data) {
    if (typeof data !== 'string') {
      this._emit('error', new Error('herald: ignored a binary frame; protocol v1 uses text frames'));
      return;
    }
    this._lastSeen = Date.now();
    // The server batches messages into one frame, separated by '\n'.
    for (const line of data.split('\n')) {
      if (!line.trim()) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        this._emit('error', new Error(`herald: ignored a malformed message: ${line.slice(0, 120)}`));
        continue;
      }
      if (msg === null || typeof msg !== 'object') continue;
      const gen = this._gen;
      if (msg.id) this._onReply(msg);
      else this._onPush(msg);
      if (gen !== this._gen) return; // the connection ended while handling it
    }
  }

  /** @private */
  _onReply(msg) {
    const p = this._pending.get(msg.id);
    if (!p) return; // timed out, or a reply to a command of an older connection
    this._pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) {
      const code = msg.error.code ?? ErrorCode.INTERNAL;
      p.reject(new HeraldError(code, msg.error.message || `herald: error ${code}`));
    } else {
      p.resolve(msg.result || {});
    }
  }

  /** @private */
  _onPush(msg) {
    switch (msg.op) {
      case 'ping':
        this._write('{"op":"pong"}');
        return;
      case 'pub': {
        const sub = this._subs.get(msg.channel);
        if (sub) {
          if (sub.state === 'subscribed') this._deliver(sub, msg.channel, msg);
          return;
        }
        const pos = this._serverSubs.get(msg.channel);
        if (pos) this._deliver(pos, msg.channel, msg);
        return;
      }
      case 'join':
      case 'leave': {
        const ev = { channel: msg.channel, info: msg.info };
        const sub = this._subs.get(msg.channel);
        const fn = sub && (msg.op === 'join' ? sub._handlers.onJoin : sub._handlers.onLeave);
        if (fn) this._safeCall(fn, [ev], msg.op);
        else if (!sub) this._emit(msg.op, ev);
        return;
      }
      case 'sub':
        this._onServerSub(msg.channel, msg);
        return;
      case 'unsub': {
        const ev = { channel: msg.channel, code: msg.code || 0, reason: msg.reason || '' };
        const sub = this._subs.get(msg.channel);
        if (sub) {
          this._subs.delete(msg.channel);
          clearTimeout(sub._retryTimer);
          clearTimeout(sub._tokenTimer);
          sub._tokenTimer = null;
          sub._cmdId = 0;
          sub.state = 'unsubscribed';
          sub._rejectReady(new HeraldError(ev.code || ErrorCode.UNSUBSCRIBED, ev.reason || 'herald: unsubscribed by the server'));
          if (sub._handlers.onUnsubscribed) this._safeCall(sub._handlers.onUnsubscribed, [ev], 'onUnsubscribed');
        } else if (this._serverSubs.delete(msg.channel)) {
          this._emit('unsubscribed', ev);
        }
        return;
      }
      case 'message':
        this._emit('message', msg.data);
        return;
      case 'refresh':
        // The token expires soon: send a new one (with getToken).
        this._refresh();
        return;
      case 'disconnect': {
        // A close frame with the same code follows; act now, so that a
        // socket that never delivers it cannot hold the client.
        const info = {
          code: msg.code || 0,
          reason: msg.reason || '',
          reconnect: typeof msg.reconnect === 'boolean' ? msg.reconnect : shouldReconnect(msg.code || 0),
        };
        const wasConnected = this._state === 'connected';
        this._closeSocket(1000, '');
        this._lost(info, wasConnected);
        return;
      }
      default:
      // Unknown pushes are ignored, so that newer servers can add some.
    }
  }
}

// fallbackBase derives where the fallback transports are from the WebSocket
// URL: ws://host/ws gives http://host (docs/protocol.md, section 2.6).
function fallbackBase(url) {
  try {
    const u = new URL(url, globalThis.location ? globalThis.location.href : undefined);
    u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
    u.pathname = u.pathname.replace(/\/[^/]*$/, '');
    u.search = u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

// StreamSocket is a fallback transport behind the part of the WebSocket API
// the client uses: the server's messages come down one streamed response
// (HTTP-streaming read with fetch, or Server-Sent Events read with an
// EventSource), and what send() gets goes up as POSTs to /cmd, one at a
// time, each with the stream's session id, secret and the next seq (a POST
// that fails on the way is sent again with the same seq, which the server
// runs once). The close code is the one of the server's disconnect push
// (1006 without one): a stream has no close frame.
class StreamSocket {
  constructor(base, kind) {
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._cmdUrl = base + '/cmd';
    this._seq = 0;
    this._queue = [];
    this._posting = false;
    this._code = 1006;
    this._reason = 'stream lost';
    this._hello = false;
    if (kind === 'sse') {
      if (typeof globalThis.EventSource !== 'function') throw new TypeError('herald: no EventSource in this environment');
      const es = new EventSource(base + '/sse', { withCredentials: true });
      this._es = es;
      es.addEventListener('session', (ev) => this._onHello(ev.data));
      es.onmessage = (ev) => this._onData(ev.data);
      // An EventSource reports the end of its stream as an error (and
      // would reconnect by itself): this socket ends there.
      es.onerror = () => this._end();
    } else {
      if (typeof globalThis.fetch !== 'function') throw new TypeError('herald: no fetch in this environment');
      this._abort = new AbortController();
      this._read(base + '/stream');
    }
  }

  /** @private */
  async _read(url) {
    try {
      const resp = await fetch(url, { signal: this._abort.signal, credentials: 'include', cache: 'no-store' });
      if (!resp.ok || !resp.body) throw new Error(`herald: ${url} answered ${resp.status}`);
      const reader = resp.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        const cut = buf.lastIndexOf('\n');
        if (cut < 0) continue;
        const lines = buf.slice(0, cut);
        buf = buf.slice(cut + 1);
        if (!this._hello) {
          const nl = lines.indexOf('\n');
          this._onHello(nl < 0 ? lines : lines.slice(0, nl));
          if (nl >= 0) this._onData(lines.slice(nl + 1));
        } else {
          this._onData(lines);
        }
      }
    } catch {
      /* the stream failed or was aborted */
    }
    this._end();
  }

  /** @private */
  _onHello(data) {
    if (this._hello || this.readyState > 1) return;
    try {
      const h = JSON.parse(data);
      this._session = h.session;
      this._secret = h.secret;
    } catch {
      this._end();
      return;
    }
    this._hello = true;
    this.readyState = 1;
    if (this.onopen) this.onopen({});
  }

  /** @private */
  _onData(data) {
    if (this.readyState !== 1 || !data) return;
    // Remember the disconnect push's code: it is the stream's close code.
    if (data.includes('"disconnect"')) {
      for (const line of data.split('\n')) {
        try {
          const m = JSON.parse(line);
          if (m && m.op === 'disconnect' && !m.id) {
            this._code = m.code;
            this._reason = m.reason || '';
          }
        } catch {
          /* the client's decoder reports it */
        }
      }
    }
    if (this.onmessage) this.onmessage({ data });
  }

  send(data) {
    if (this.readyState !== 1) return;
    this._queue.push(String(data));
    if (!this._posting) this._post();
  }

  /** @private */
  async _post() {
    this._posting = true;
    while (this._queue.length && this.readyState === 1) {
      const frame = this._queue.join('\n');
      this._queue = [];
      const body = JSON.stringify({ session: this._session, secret: this._secret, seq: ++this._seq }) + '\n' + frame;
      for (let attempt = 0; this.readyState === 1; attempt++) {
        let status = 0;
        try {
          const resp = await fetch(this._cmdUrl, { method: 'POST', body, credentials: 'include', headers: { 'Content-Type': 'text/plain' } });
          status = resp.status;
        } catch {
          /* a network error: try again */
        }
        if (status >= 200 && status < 300) break;
        if (status && status !== 429 && status < 500) {
          this._end();
          break;
        }
        if (attempt >= 5) {
          this._end();
          break;
        }
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      }
    }
    this._posting = false;
  }

  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (this._es) this._es.close();
    if (this._abort) this._abort.abort();
  }

  /** @private */
  _end() {
    if (this.readyState === 3 && this._ended) return;
    this._ended = true;
    this.close();
    if (this.onclose) this.onclose({ code: this._code, reason: this._reason });
  }
}


function describe(info) {
  return info.code ? `code ${info.code}${info.reason ? ': ' + info.reason : ''}` : info.reason || 'closed';
}
