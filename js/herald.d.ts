// Generated from the JSDoc of src/ by `npm run types` (scripts/types.mjs: tsc, then dts-bundle-generator). Do not edit.
/** The SDK's version, sent in `connect` unless the `version` option is set. */
export const VERSION: "0.1.0";
/**
 * Returns when a JWT expires (its `exp` claim, in Unix milliseconds), or 0
 * when it has none or is not a JWT. The token is not verified: the server
 * does that.
 * @param {string} token
 * @returns {number}
 */
export function tokenExpiry(token: string): number;
/**
 * Error codes. The numeric ones come from the server in command replies
 * (100 to 199; 1000 and up belong to the application); the string ones are
 * raised by the client itself.
 */
export type ErrorCode = number | string;
/**
 * Error codes. The numeric ones come from the server in command replies
 * (100 to 199; 1000 and up belong to the application); the string ones are
 * raised by the client itself.
 * @readonly
 * @enum {number|string}
 */
export const ErrorCode: Readonly<{
	INTERNAL: 100;
	UNAUTHORIZED: 101;
	UNKNOWN_CHANNEL: 102;
	PERMISSION_DENIED: 103;
	METHOD_NOT_FOUND: 104;
	ALREADY_SUBSCRIBED: 105;
	LIMIT_EXCEEDED: 106;
	BAD_REQUEST: 107;
	NOT_AVAILABLE: 108;
	TOKEN_EXPIRED: 109;
	TOO_MANY_REQUESTS: 110;
	NOT_SUBSCRIBED: 111;
	/** The application's backend (the HTTP proxy) did not answer usably: retry later. */
	BACKEND_UNAVAILABLE: 112;
	/** No reply arrived within the command's timeout. */
	TIMEOUT: "timeout";
	/** The connection was lost before the reply arrived; the command may or may not have run. */
	DISCONNECTED: "disconnected";
	/** The client was stopped (disconnect() or a close code that forbids reconnecting). */
	CLOSED: "closed";
	/** The subscription was removed before the command could run. */
	UNSUBSCRIBED: "unsubscribed";
	/**
	 * The data holds binary values where only JSON can go: a publication's
	 * data may be bytes (a Uint8Array, another typed array, an ArrayBuffer or
	 * a DataView, as the whole data), but not a Blob (read it with
	 * `await blob.arrayBuffer()` first) nor bytes inside a JSON value; the
	 * data of rpc, send and connect is JSON only.
	 */
	BINARY: "binary";
}>;
/**
 * The error every promise of the SDK rejects with.
 */
export class HeraldError extends Error {
	/**
	 * @param {number|string} code a server error code or a client-side code (see ErrorCode)
	 * @param {string} message
	 */
	constructor(code: number | string, message: string);
	/** @type {number|string} */
	code: number | string;
	/**
	 * Reports whether retrying the same command later may succeed: the server
	 * failed (100), was busy (110), the application's backend did not answer
	 * (112), or the reply never came.
	 * @returns {boolean}
	 */
	get temporary(): boolean;
}
export type ClientInfo = {
	/**
	 * the connection's id
	 */
	client: string;
	/**
	 * the user id ("" for anonymous)
	 */
	user: string;
	/**
	 * connection info set by the server's OnConnect
	 */
	data?: any;
};
export type Publication = {
	channel: string;
	/**
	 * position in the channel's stream (0 for channels without history)
	 */
	offset: number;
	/**
	 * the published JSON value, or a Uint8Array when bytes were published
	 */
	data: any;
	/**
	 * who published it, when a client did
	 */
	info?: ClientInfo;
	/**
	 * the idempotency key it was published with
	 */
	key?: string;
	/**
	 * when the server received it, in Unix milliseconds
	 */
	time?: number;
};
export type SubscribedContext = {
	channel: string;
	/**
	 * the channel's current offset
	 */
	offset: number;
	/**
	 * the channel's current epoch ("" without history)
	 */
	epoch: string;
	/**
	 * whether the channel keeps history for recovery
	 */
	recoverable: boolean;
	/**
	 * whether every missed publication was recovered
	 */
	recovered: boolean;
	/**
	 * whether this follows an earlier subscription (a reconnect)
	 */
	resubscribed: boolean;
	/**
	 * whether the client asked to recover
	 */
	wasRecovering: boolean;
};
export type SubscriptionHandlers = {
	/**
	 * each new publication, in order, never twice
	 */
	onPublication?: (pub: Publication) => void;
	/**
	 * each time the server confirms the subscription (again after every reconnect)
	 */
	onSubscribed?: (ctx: SubscribedContext) => void;
	/**
	 * someone subscribed (asks the server for join/leave pushes)
	 */
	onJoin?: (ev: {
		channel: string;
		info: ClientInfo;
	}) => void;
	/**
	 * someone unsubscribed
	 */
	onLeave?: (ev: {
		channel: string;
		info: ClientInfo;
	}) => void;
	/**
	 * the server refused the subscription
	 */
	onError?: (err: HeraldError) => void;
	/**
	 * the server or unsubscribe() ended it
	 */
	onUnsubscribed?: (ev: {
		channel: string;
		code: number;
		reason: string;
	}) => void;
};
export type SubscriptionTokenOptions = {
	/**
	 * a channel token (a JWT with a `channel` claim) sent with `subscribe`, for channels that need one (private channels, namespaces whose subscribe access is `token`)
	 */
	token?: string;
	/**
	 * called for a channel token when the subscription has none, when the one it has expires (shortly before, so that a resubscribe after a reconnect never sends an expired one), and once more when the server refuses the subscription with 101, 103 or 109
	 */
	getToken?: (channel: string) => (string | Promise<string>);
};
/**
 * What Herald.subscribe takes: the handlers and the channel token options.
 */
export type SubscriptionOptions = SubscriptionHandlers & SubscriptionTokenOptions;
export type StreamPosition = {
	offset: number;
	epoch: string;
};
export type HistoryOptions = {
	/**
	 * the most publications to return (0 or absent: the channel's history size)
	 */
	limit?: number;
	/**
	 * return the publications after this position (before it with reverse); absent: from the oldest (the newest with reverse)
	 */
	since?: StreamPosition;
	/**
	 * newest first
	 */
	reverse?: boolean;
	/**
	 * in ms (default: the client's timeout)
	 */
	timeout?: number;
};
export type HistoryResult = {
	/**
	 * the channel's latest offset
	 */
	offset: number;
	/**
	 * the channel's epoch
	 */
	epoch: string;
	/**
	 * oldest first (newest first with reverse)
	 */
	publications: Publication[];
};
export type PresenceEntry = {
	/**
	 * the user id ("" for anonymous)
	 */
	user: string;
	/**
	 * connection info set by the server's OnConnect
	 */
	info?: any;
};
export type PresenceResult = {
	/**
	 * the connections subscribed to the channel now, by client id (this one included)
	 */
	clients: Record<string, PresenceEntry>;
};
export type ConnectInfo = {
	/**
	 * the connection's id
	 */
	client: string;
	/**
	 * the server node that serves it
	 */
	node: string;
	/**
	 * the user id ("" for anonymous)
	 */
	user: string;
	/**
	 * the server's ping interval in seconds (0: no pings)
	 */
	ping: number;
	/**
	 * when the connection's token expires, Unix seconds (0: never)
	 */
	expires: number;
	/**
	 * application data from the server's OnConnect
	 */
	data?: any;
	/**
	 * the transport this connection uses
	 */
	transport: "websocket" | "http-stream" | "sse";
	/**
	 * the encoding this connection speaks: Protobuf where the WebSocket negotiated it (the encoding option), else JSON
	 */
	encoding: "json" | "protobuf";
};
export type HeraldOptions = {
	/**
	 * a JWT sent in `connect`
	 */
	token?: string;
	/**
	 * called for a token before the first connect, again when the server says the token expired, and to refresh a connection whose token expires (on the server's `refresh` push)
	 */
	getToken?: () => (string | Promise<string>);
	/**
	 * the client's name sent in `connect` (default "herald-js")
	 */
	name?: string;
	/**
	 * the client's version sent in `connect` (default VERSION)
	 */
	version?: string;
	/**
	 * any JSON sent in `connect` for the server's OnConnect
	 */
	data?: any;
	/**
	 * first reconnect delay cap in ms (default 500)
	 */
	minBackoff?: number;
	/**
	 * largest reconnect delay in ms (default 20000)
	 */
	maxBackoff?: number;
	/**
	 * default command and connect timeout in ms (default 10000)
	 */
	timeout?: number;
	/**
	 * how long past the server's ping interval silence is tolerated, in ms (default 10000)
	 */
	pingMargin?: number;
	/**
	 * a WebSocket implementation (default globalThis.WebSocket); under Node.js 20 pass the `ws` package's: `import { WebSocket } from 'ws'`
	 */
	WebSocket?: WebSocketConstructor;
	/**
	 * how to reach the server (default 'auto': a WebSocket, else HTTP-streaming, else Server-Sent Events, tried in that order on every attempt); the 'connected' event's info.transport says which one a connection uses
	 */
	transport?: "auto" | "websocket" | "http-stream" | "sse";
	/**
	 * the encoding on a WebSocket (default 'auto': offers Protobuf then JSON, as the subprotocols "herald.protobuf" and "herald.json", and speaks what the server picks; 'json': JSON, offering no subprotocol, for a server from before the binary encoding, whose silence about subprotocols makes browsers fail the handshake; 'binary': Protobuf or no WebSocket); the fallback transports always speak JSON. Either way publications carry JSON values and bytes alike; the 'connected' event's info.encoding says which one a connection speaks
	 */
	encoding?: "auto" | "json" | "binary";
	/**
	 * the largest frame the client sends, in bytes (default 65536, a server's default limit): commands of one tick leave in as many frames as it takes, and a command larger than that rejects with 106 before it is sent
	 */
	maxMessageSize?: number;
	/**
	 * where the fallback transports are: streams at fallbackUrl + "/stream" and "/sse", commands POSTed to fallbackUrl + "/cmd" (default: the URL with an http(s) scheme and its last path element removed, so ws://host/ws gives http://host)
	 */
	fallbackUrl?: string;
};
/**
 * The part of the WebSocket API the client uses: browsers' WebSocket and the
 * `ws` package's both have it.
 */
export type WebSocketLike = {
	readyState: number;
	/**
	 * the subprotocol the server chose ("" for none)
	 */
	protocol?: string;
	/**
	 * set to 'arraybuffer'
	 */
	binaryType?: string;
	send: (data: string | Uint8Array) => void;
	close: (code?: number, reason?: string) => void;
	onopen: any;
	onmessage: any;
	onclose: any;
	onerror: any;
};
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
/**
 * A connection to a Herald server. Create it, subscribe, then connect():
 * subscriptions made before or while disconnected are sent once connected.
 */
export class Herald {
	/**
	 * @param {string} url the WebSocket endpoint, e.g. "wss://example.com/ws"
	 * @param {HeraldOptions} [opts]
	 */
	constructor(url: string, opts?: HeraldOptions);
	/** @type {string} */
	url: string;
	/**
	 * Result of the last successful connect: {client, node, user, ping, expires, data}.
	 * `expires` (Unix seconds, 0 for never) follows the refreshes of the token.
	 * @type {ConnectInfo|null}
	 */
	info: ConnectInfo | null;
	/**
	 * The connection state: 'disconnected', 'connecting' (the first attempt),
	 * 'connected' or 'reconnecting' (waiting to retry, or retrying).
	 * @returns {'disconnected'|'connecting'|'connected'|'reconnecting'}
	 */
	get state(): "disconnected" | "connecting" | "connected" | "reconnecting";
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
	on(event: string, fn: Function): () => void;
	/**
	 * Removes a listener added with on().
	 * @param {string} event
	 * @param {Function} fn
	 */
	off(event: string, fn: Function): void;
	/**
	 * Starts connecting; does nothing when already connected or connecting.
	 * The client keeps reconnecting until disconnect() is called or the server
	 * closes with a code that forbids it.
	 */
	connect(): void;
	/**
	 * Closes the connection and stops reconnecting. Subscriptions stay
	 * registered and are sent again by a later connect(). Commands waiting for
	 * a reply reject with code 'closed'.
	 */
	disconnect(): void;
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
	subscribe(channel: string, handlers?: SubscriptionOptions): Subscription;
	/**
	 * Returns the client's subscription to channel, if any.
	 * @param {string} channel
	 * @returns {Subscription|undefined}
	 */
	getSubscription(channel: string): Subscription | undefined;
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
	publish(channel: string, data: any, opts?: {
		key?: string;
		timeout?: number;
	}): Promise<{
		offset: number;
		epoch: string;
	}>;
	/**
	 * Calls an RPC method registered on the server with OnRPC and resolves
	 * with the data it returns. Waits for the connection when not connected,
	 * up to the timeout.
	 * @param {string} method
	 * @param {*} [data]
	 * @param {{timeout?: number}} [opts]
	 * @returns {Promise<*>}
	 */
	rpc(method: string, data?: any, opts?: {
		timeout?: number;
	}): Promise<any>;
	/**
	 * Sends an asynchronous message to the server's OnMessage handler. There is
	 * no reply: the promise resolves once the message is handed to the socket.
	 * Waits for the connection when not connected, up to the timeout.
	 * @param {*} data
	 * @param {{timeout?: number}} [opts]
	 * @returns {Promise<void>}
	 */
	send(data: any, opts?: {
		timeout?: number;
	}): Promise<void>;
	/**
	 * Reads the publications a channel keeps (its namespace needs history).
	 * The connection need not be subscribed, unless the channel's history
	 * needs a channel token (then use the subscription's history()).
	 * Rejects with 108 on a channel without history, 103 when not allowed.
	 * @param {string} channel
	 * @param {HistoryOptions} [opts]
	 * @returns {Promise<HistoryResult>}
	 */
	history(channel: string, opts?: HistoryOptions): Promise<HistoryResult>;
	/**
	 * Reads who is subscribed to a channel now (its namespace needs presence):
	 * a map from client id to {user, info}. Rejects with 108 on a channel
	 * without presence, 103 when not allowed. Apply 'join' and 'leave' on top
	 * of it by client id.
	 * @param {string} channel
	 * @param {{timeout?: number}} [opts]
	 * @returns {Promise<PresenceResult>}
	 */
	presence(channel: string, opts?: {
		timeout?: number;
	}): Promise<PresenceResult>;
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
	constructor(client: Herald, channel: string, handlers: SubscriptionOptions);
	/** @type {string} */
	channel: string;
	/**
	 * 'subscribing' (waiting for the server), 'subscribed' or 'unsubscribed'.
	 * @type {'subscribing'|'subscribed'|'unsubscribed'}
	 */
	state: "subscribing" | "subscribed" | "unsubscribed";
	/** The offset of the last publication seen (0 when unknown). */
	offset: number;
	/** The channel's epoch as last seen ("" when unknown or without history). */
	epoch: string;
	/**
	 * Resolves with the context of the first successful subscribe; rejects
	 * with a HeraldError when the subscription ends before that: the server
	 * refused it (its code), unsubscribe() was called ('unsubscribed'), or
	 * the client stopped for good ('closed').
	 * @type {Promise<SubscribedContext>}
	 */
	ready: Promise<SubscribedContext>;
	/**
	 * Reads the channel's history (see Herald.history). While the first
	 * subscribe is under way it waits for it (up to the timeout), so that a
	 * channel whose history needs a channel token is read with it.
	 * @param {HistoryOptions} [opts]
	 * @returns {Promise<HistoryResult>}
	 */
	history(opts?: HistoryOptions): Promise<HistoryResult>;
	/**
	 * Reads who is subscribed to the channel (see Herald.presence). While the
	 * first subscribe is under way it waits for it, as history() does.
	 * @param {{timeout?: number}} [opts]
	 * @returns {Promise<PresenceResult>}
	 */
	presence(opts?: {
		timeout?: number;
	}): Promise<PresenceResult>;
	/**
	 * Publishes data to this subscription's channel (see Herald.publish).
	 * @param {*} data
	 * @param {{key?: string, timeout?: number}} [opts]
	 * @returns {Promise<{offset: number, epoch: string}>}
	 */
	publish(data: any, opts?: {
		key?: string;
		timeout?: number;
	}): Promise<{
		offset: number;
		epoch: string;
	}>;
	/**
	 * Ends the subscription: the server stops sending its publications and the
	 * client no longer resubscribes it. Calling it twice does nothing.
	 */
	unsubscribe(): void;
}
/**
 * Reports whether a client closed with `code` should reconnect, exactly as
 * the server's protocol.ShouldReconnect does: 3000-3499 yes, 3500-4999 no;
 * among standard WebSocket codes a normal close (1000) and the client's own
 * protocol errors (1002, 1003, 1007, 1009) no, every other abnormal close yes.
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code: number): boolean;
/**
 * Close codes the server sends in the `disconnect` push and the close frame.
 * 3000 to 3499 mean "reconnect"; 3500 to 3999 mean "do not reconnect".
 */
export type CloseCode = number;
/**
 * Close codes the server sends in the `disconnect` push and the close frame.
 * 3000 to 3499 mean "reconnect"; 3500 to 3999 mean "do not reconnect".
 * @readonly
 * @enum {number}
 */
export const CloseCode: Readonly<{
	SHUTDOWN: 3000;
	NO_PONG: 3001;
	SLOW_CONSUMER: 3002;
	INSUFFICIENT_STATE: 3003;
	FORCE_RECONNECT: 3004;
	TOKEN_EXPIRED: 3005;
	CONNECT_TIMEOUT: 3006;
	SERVER_ERROR: 3007;
	INVALID_TOKEN: 3500;
	BAD_REQUEST: 3501;
	CONNECTION_LIMIT: 3502;
	FORBIDDEN: 3503;
	UNSUPPORTED: 3504;
}>;

export {};
