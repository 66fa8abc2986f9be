// herald.js: the JavaScript SDK of Herald, one dependency-free ES module.
//
// It speaks Herald's client protocol v1 (docs/protocol.md) over a WebSocket,
// or over HTTP-streaming or Server-Sent Events where WebSockets are blocked:
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
// and published as the npm package @heraldrt/herald (types in herald.d.ts).
// Under Node.js pass a WebSocket implementation: new Herald(url, { WebSocket })
// with `import { WebSocket } from 'ws'`.

export { VERSION } from './version.js';
export { ErrorCode, HeraldError } from './errors.js';
export { CloseCode, shouldReconnect } from './close-codes.js';
export { tokenExpiry } from './token-expiry.js';
export { Subscription } from './subscription.js';
export { Herald } from './client.js';
export * from './types.js';
