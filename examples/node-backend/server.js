// A backend for Herald (docs/backend.md): run herald with
//
//   HERALD_WEBHOOK_SECRET=... herald serve --proxy-url http://127.0.0.1:3000/herald \
//     --webhook-url http://127.0.0.1:3000/herald/webhooks
//
// and it asks this server about every connect, subscribe, publish, RPC...
// and tells it what happened.
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
    default:
      return res.json({ error: { code: 1004, message: `no method ${req.body.method}` } });
  }
});

app.post('/herald/send', express.json(), (req, res) => res.json({ result: {} }));

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

// For the example's test: what arrived.
app.get('/events', (req, res) => res.json(events));

app.listen(port, '127.0.0.1', () => console.log(`backend listening on 127.0.0.1:${port}`));
