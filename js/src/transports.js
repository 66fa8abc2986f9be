// Transports: which ones the client tries, in what order, and how it opens
// each: a WebSocket, or a StreamSocket for the HTTP-streaming and SSE
// fallbacks (docs/protocol.md, section 2.6).

import { StreamSocket } from './stream-socket.js';

/** The transports the 'auto' choice tries, in order. */
export const TRANSPORTS = ['websocket', 'http-stream', 'sse'];

/**
 * Opens a socket of the given kind; throws when it cannot be had here (no
 * WebSocket, fetch or EventSource in this environment, a malformed URL, an
 * unknown kind). A WebSocket offers the given subprotocols (none: plain
 * JSON) and delivers binary frames as ArrayBuffers.
 * @param {string} kind 'websocket', 'http-stream' or 'sse'
 * @param {string} url the WebSocket endpoint
 * @param {{WebSocket: import('./types.js').WebSocketConstructor, fallbackUrl: string, maxMessageSize: number}} opts
 * @param {string[]} protocols the WebSocket subprotocols to offer
 * @returns {import('./types.js').WebSocketLike}
 */
export function openSocket(kind, url, opts, protocols) {
  if (kind === 'websocket') {
    if (typeof opts.WebSocket !== 'function') throw new TypeError('herald: no WebSocket in this environment');
    const ws = protocols.length ? new opts.WebSocket(url, protocols) : new opts.WebSocket(url);
    ws.binaryType = 'arraybuffer';
    return ws;
  }
  if (kind === 'http-stream' || kind === 'sse') return new StreamSocket(opts.fallbackUrl, kind, opts.maxMessageSize);
  throw new TypeError(`herald: unknown transport ${JSON.stringify(kind)}; use 'auto', 'websocket', 'http-stream' or 'sse'`);
}

/**
 * Derives where the fallback transports are from the WebSocket URL:
 * ws://host/ws gives http://host (docs/protocol.md, section 2.6).
 * @param {string} url
 * @returns {string}
 */
export function fallbackBase(url) {
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
