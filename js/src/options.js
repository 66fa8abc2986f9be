// The client's options: the defaults that fill in what new Herald(url,
// opts) leaves out (the options themselves are HeraldOptions, types.js).

/** @import { HeraldOptions } from './types.js' */
import { subprotocols } from './encodings.js';
import { fallbackBase } from './transports.js';
import { VERSION } from './version.js';

/**
 * Fills in the defaults of the options the client was given; throws a
 * TypeError for an encoding it does not know.
 * @param {string} url the WebSocket endpoint
 * @param {HeraldOptions} opts
 */
export function resolveOptions(url, opts) {
  const o = {
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
    encoding: opts.encoding || 'auto',
    maxMessageSize: opts.maxMessageSize > 0 ? opts.maxMessageSize : 65536,
    fallbackUrl: opts.fallbackUrl || fallbackBase(url),
  };
  if (o.maxBackoff < o.minBackoff) o.maxBackoff = o.minBackoff;
  subprotocols(o.encoding); // throws for an unknown one
  return o;
}
