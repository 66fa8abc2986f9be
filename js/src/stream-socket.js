// The fallback transports' socket: HTTP-streaming or Server-Sent Events
// down, POSTed commands up, behind the part of the WebSocket API the client
// uses (docs/protocol.md, section 2.6).

import { utf8Length } from './bytes.js';

/**
 * StreamSocket is a fallback transport behind the part of the WebSocket API
 * the client uses: the server's messages come down one streamed response
 * (HTTP-streaming read with fetch, or Server-Sent Events read with an
 * EventSource), and what send() gets goes up as POSTs to /cmd, one at a
 * time, each with the stream's session id, secret and the next seq (a POST
 * that fails on the way is sent again with the same seq, which the server
 * runs once). The close code is the one of the server's disconnect push
 * (1006 without one): a stream has no close frame.
 */
export class StreamSocket {
  /**
   * Opens the stream; throws when this environment lacks what it needs
   * (fetch, or EventSource).
   * @param {string} base where the fallback endpoints are (the fallbackUrl option)
   * @param {'http-stream'|'sse'} kind
   * @param {number} [maxMessageSize] the most bytes of commands in one POST (each frame it is sent is at most that)
   */
  constructor(base, kind, maxMessageSize = 65536) {
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._cmdUrl = base + '/cmd';
    this._seq = 0;
    this._queue = [];
    this._limit = maxMessageSize;
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

  /**
   * Queues a frame of commands for the next POST to /cmd.
   * @param {string} data
   */
  send(data) {
    if (this.readyState !== 1) return;
    this._queue.push(String(data));
    if (!this._posting) this._post();
  }

  /** @private */
  async _post() {
    this._posting = true;
    while (this._queue.length && this.readyState === 1) {
      // The frames queued meanwhile, joined while they fit the limit.
      let n = 1;
      let size = utf8Length(this._queue[0]);
      while (n < this._queue.length && size + 1 + utf8Length(this._queue[n]) <= this._limit) size += 1 + utf8Length(this._queue[n++]);
      const frame = this._queue.slice(0, n).join('\n');
      this._queue = this._queue.slice(n);
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

  /** Ends the stream and stops sending what is queued. */
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
