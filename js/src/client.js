// Herald: the client's public face. Its state lives here; what it does is
// in one module per job: connection.js (the connection's life: open,
// connected, lost, stop, reconnect), refresh.js (the connection's token),
// commands.js (commands and their replies), subscribe.js, channel-tokens.js
// and delivery.js (subscriptions, their tokens and their publications), and
// pushes.js (what the server sends).

/**
 * @import { ConnectInfo, HeraldOptions, SubscriptionOptions, HistoryOptions, HistoryResult, PresenceResult } from './types.js'
 */
import { command, enqueue } from './commands.js';
import { closeSocket, open, setState, stop } from './connection.js';
import { jsonEncoding } from './encoding-json.js';
import { Emitter } from './events.js';
import { resolveOptions } from './options.js';
import { binaryError, isBinary, publishPayload } from './payload.js';
import { sendSubscribes } from './subscribe.js';
import { Subscription } from './subscription.js';

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
    /** @internal */ this._opts = resolveOptions(url, opts);
    /** @internal */ this._token = this._opts.token;

    /** @internal */ this._state = /** @type {'disconnected'|'connecting'|'connected'|'reconnecting'} */ ('disconnected');
    /**
     * Result of the last successful connect: {client, node, user, ping, expires, data}.
     * `expires` (Unix seconds, 0 for never) follows the refreshes of the token.
     * @type {ConnectInfo|null}
     */
    this.info = null;

    /** @internal */ this._events = new Emitter();
    /** @internal */ this._subs = new Map(); // channel -> Subscription
    /** @internal */ this._serverSubs = new Map(); // channel -> {offset, epoch}, server-side subscriptions

    /** @internal */ this._ws = null;
    /** @internal */ this._transport = ''; // the kind of this._ws: 'websocket', 'http-stream' or 'sse'
    /** @internal */ this._encoding = jsonEncoding; // of this._ws: JSON, or the binary encoding its subprotocol chose
    /** @internal */ this._gen = 0; // increments with every socket, so late events of old sockets are ignored
    /** @internal */ this._nextId = 1;
    /** @internal */ this._pending = new Map(); // id -> {resolve, reject, timer}
    /** @internal */ this._waiting = []; // commands issued while not connected: {cmd, resolve, reject, timer, expectsReply}
    /** @internal */ this._outbox = []; // frames to write in the next microtask, newline-joined
    /** @internal */ this._flushScheduled = false;

    /** @internal */ this._attempt = 0;
    /** @internal */ this._reconnectTimer = null;
    /** @internal */ this._connectTimer = null;
    /** @internal */ this._silenceTimer = null;
    /** @internal */ this._pingMs = 0;
    /** @internal */ this._lastSeen = 0; // when the last frame arrived (Date.now())
    /** @internal */ this._refreshToken = false;
    /** @internal */ this._refreshTimer = null; // the fallback refresh, or the retry of a failed one
    /** @internal */ this._refreshGen = 0; // the connection (gen) whose refresh is under way
    /** @internal */ this._onOnline = () => {
      if (this._state === 'reconnecting' && this._reconnectTimer) {
        clearTimeout(this._reconnectTimer);
        this._reconnectTimer = null;
        open(this);
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
    return this._events.on(event, fn);
  }

  /**
   * Removes a listener added with on().
   * @param {string} event
   * @param {Function} fn
   */
  off(event, fn) {
    this._events.off(event, fn);
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
    setState(this, 'connecting');
    open(this);
  }

  /**
   * Closes the connection and stops reconnecting. Subscriptions stay
   * registered and are sent again by a later connect(). Commands waiting for
   * a reply reject with code 'closed'.
   */
  disconnect() {
    if (this._state === 'disconnected') return;
    const wasConnected = this._state === 'connected';
    closeSocket(this, 1000, 'client disconnect');
    stop(this, { code: 1000, reason: 'disconnect called', reconnect: false }, wasConnected);
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
    if (this._state === 'connected') sendSubscribes(this, [sub]);
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
   * Publishes data to a channel: any JSON value, or bytes (a Uint8Array,
   * another typed array, an ArrayBuffer or a DataView), which subscribers
   * receive as a Uint8Array. Waits for the connection when not connected,
   * up to the timeout.
   * @param {string} channel
   * @param {*} data
   * @param {{key?: string, timeout?: number}} [opts] key makes the publish idempotent: retrying with the same key publishes once
   * @returns {Promise<{offset: number, epoch: string}>}
   */
  async publish(channel, data, opts = {}) {
    const payload = publishPayload(data);
    const cmd = { op: 'publish', channel, data: payload.data };
    if (payload.binary) cmd.binary = true;
    if (opts.key) cmd.key = opts.key;
    const res = await command(this, cmd, opts.timeout);
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
    const res = await command(this, cmd, opts.timeout);
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
    return enqueue(this, { op: 'send', data: data === undefined ? null : data }, opts.timeout, false);
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
    const res = await command(this, cmd, opts.timeout);
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
    const res = await command(this, { op: 'presence', channel }, opts.timeout);
    return { clients: res.clients && typeof res.clients === 'object' ? res.clients : {} };
  }
}
