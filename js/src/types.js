// The shapes the SDK hands to its users and takes from them: the client's
// options, publications, subscription handlers and contexts, history and
// presence results, the connect result. Types only: this module has no code.

/** @import { HeraldError } from './errors.js' */

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
 * @property {*} data the published JSON value, or a Uint8Array when bytes were published
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
 * @property {'json'|'protobuf'} encoding the encoding this connection speaks: Protobuf where the WebSocket negotiated it (the encoding option), else JSON
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
 * @property {'auto'|'json'|'binary'} [encoding] the encoding on a WebSocket (default 'auto': offers Protobuf then JSON, as the subprotocols "herald.protobuf" and "herald.json", and speaks what the server picks; 'json': JSON, offering no subprotocol, for a server from before the binary encoding, whose silence about subprotocols makes browsers fail the handshake; 'binary': Protobuf or no WebSocket); the fallback transports always speak JSON. Either way publications carry JSON values and bytes alike; the 'connected' event's info.encoding says which one a connection speaks
 * @property {number} [maxMessageSize] the largest frame the client sends, in bytes (default 65536, a server's default limit): commands of one tick leave in as many frames as it takes, and a command larger than that rejects with 106 before it is sent
 * @property {string} [fallbackUrl] where the fallback transports are: streams at fallbackUrl + "/stream" and "/sse", commands POSTed to fallbackUrl + "/cmd" (default: the URL with an http(s) scheme and its last path element removed, so ws://host/ws gives http://host)
 */

/**
 * The part of the WebSocket API the client uses: browsers' WebSocket and the
 * `ws` package's both have it.
 * @typedef {object} WebSocketLike
 * @property {number} readyState
 * @property {string} [protocol] the subprotocol the server chose ("" for none)
 * @property {string} [binaryType] set to 'arraybuffer'
 * @property {(data: string|Uint8Array) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {any} onopen
 * @property {any} onmessage
 * @property {any} onclose
 * @property {any} onerror
 */

/** @typedef {new (url: string, protocols?: string|string[]) => WebSocketLike} WebSocketConstructor */

export {};
