// Subscription: one client subscription to one channel, the object
// Herald.subscribe returns. Its state is kept by the client (subscribe.js,
// channel-tokens.js, delivery.js); this is its public face.

/**
 * @import { Herald } from './client.js'
 * @import { SubscriptionOptions, SubscribedContext, HistoryOptions, HistoryResult, PresenceResult } from './types.js'
 */
import { withTimeout } from './deadline.js';
import { unsubscribe } from './subscribe.js';

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
    unsubscribe(this._client, this);
  }
}

