// A backend for Herald (docs/backend.md): run herald with
//
//   HERALD_WEBHOOK_SECRET=... herald serve --proxy-url http://127.0.0.1:3000/herald \
//     --webhook-url http://127.0.0.1:3000/herald/webhooks
//
// and it asks this server about every connect, subscribe, publish, RPC...
// and tells it what happened. It also serves the /time and /feedback
// commands of the demo chat at herald's / (README.md: herald serve --config
// demo.yaml).
'use strict';
const crypto = require('node:crypto');
const express = require('express');

const port = Number(process.env.PORT || 3000);
const webhookSecret = process.env.HERALD_WEBHOOK_SECRET || '';

// Your sessions: session id (the sid cookie) -> user. A real app has a store.
const sessions = new Map([['sid-ann', 'ann'], ['sid-bob', 'bob']]);
// The webhook events received, verified and de-duplicated by id.
const events = [];
const seen = new Set();
// The demo's /feedback messages, which arrive with send: the last 100.
const feedback = [];
const FEEDBACK_KEPT = 100;

const app = express();

// Parses the Cookie header (no dependency needed for one cookie).
function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

// Herald forwards only the cookies its config lists (proxy: {cookies: [sid]}).
app.post('/herald/connect', express.json(), (req, res) => {
  const user = sessions.get(cookie(req, 'sid'));
  if (!user) return res.json({ error: { code: 101, message: 'log in first' } });
  res.json({ result: { user, info: { name: user }, channels: [`inbox:${user}`] } });
});

app.post('/herald/refresh', express.json(), (req, res) => res.json({ result: {} }));

app.post('/herald/subscribe', express.json(), (req, res) => {
  if (req.body.channel.startsWith('admin:')) {
    return res.json({ error: { code: 103, message: 'admins only' } });
  }
  res.json({ result: {} });
});

app.post('/herald/publish', express.json(), (req, res) => res.json({ result: {} }));

app.post('/herald/rpc', express.json(), (req, res) => {
  switch (req.body.method) {
    case 'whoami':
      return res.json({ result: { user: req.body.user } });
    case 'sum':
      return res.json({ result: (req.body.data || []).reduce((a, b) => a + b, 0) });
    case 'time': {
      // The server's clock, which the demo's /time shows: a browser's own
      // clock may be wrong, the backend's is the one your app trusts.
      const now = new Date();
      return res.json({
        result: { now: now.toISOString(), unix_ms: now.getTime(), zone: Intl.DateTimeFormat().resolvedOptions().timeZone, server: 'node-backend' },
      });
    }
    default:
      return res.json({ error: { code: 1004, message: `no method ${req.body.method}` } });
  }
});

// A send is one-way: Herald forwards the client's message and expects any
// 2xx. The demo's /feedback sends {type: "feedback", text, room, name}.
app.post('/herald/send', express.json(), (req, res) => {
  const d = req.body.data;
  if (d && d.type === 'feedback' && typeof d.text === 'string' && d.text.trim()) {
    const entry = {
      text: d.text.trim().slice(0, 2000),
      room: typeof d.room === 'string' ? d.room.slice(0, 64) : '',
      name: typeof d.name === 'string' ? d.name.slice(0, 32) : '',
      client: req.body.client,
      user: req.body.user,
      time_ms: Date.now(),
    };
    feedback.push(entry);
    if (feedback.length > FEEDBACK_KEPT) feedback.shift();
    console.log(`feedback from ${entry.name || entry.client} in #${entry.room}: ${entry.text}`);
  }
  res.sendStatus(204);
});

// Verifies Herald-Signature: t=UNIX,v1=HEX, an HMAC-SHA256 of "t.body".
function verify(secret, header, body, nowSeconds) {
  const parts = Object.create(null);
  const sigs = [];
  for (const kv of (header || '').split(',')) {
    const [k, v] = kv.trim().split('=');
    if (k === 'v1') sigs.push(v); else parts[k] = v;
  }
  const t = Number(parts.t);
  if (!Number.isInteger(t) || sigs.length === 0) return false;
  if (Math.abs(nowSeconds - t) > 300) return false; // the replay window
  const want = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  return sigs.some((s) => {
    const got = Buffer.from(s, 'hex');
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  });
}

// The raw body is what was signed: parse JSON only after verifying.
app.post('/herald/webhooks', express.raw({ type: 'application/json', limit: '5mb' }), (req, res) => {
  if (!verify(webhookSecret, req.get('Herald-Signature'), req.body, Date.now() / 1000)) {
    return res.status(401).send('bad signature');
  }
  for (const e of JSON.parse(req.body.toString('utf8')).events) {
    if (seen.has(e.id)) continue; // delivery is at least once
    seen.add(e.id);
    events.push(e);
  }
  res.sendStatus(204);
});

// For the example's tests: what arrived.
app.get('/events', (req, res) => res.json(events));
app.get('/feedback', (req, res) => res.json(feedback));

app.listen(port, '127.0.0.1', () => console.log(`backend listening on 127.0.0.1:${port}`));
