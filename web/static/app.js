// The Herald demo chat: choose a name, join a room (channel chat:<room>),
// send and receive messages. Everything real-time goes through the browser
// SDK served at /herald.js.
import { Herald } from '/herald.js';

const $ = (id) => document.getElementById(id);
const el = {
  status: $('status'),
  statusLabel: document.querySelector('#status .status-label'),
  join: $('join'),
  joinForm: $('join-form'),
  name: $('name'),
  room: $('room'),
  chat: $('chat'),
  roomTitle: $('room-title'),
  roomSub: $('room-sub'),
  leave: $('leave'),
  messages: $('messages'),
  jump: $('jump'),
  composer: $('composer'),
  text: $('text'),
};

const STATE_LABELS = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  disconnected: 'Disconnected',
};
const MAX_MESSAGES = 500; // older ones leave the page
const GROUP_WINDOW_MS = 5 * 60 * 1000; // consecutive messages of one author within this share a header

const wsURL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
const herald = new Herald(wsURL, { name: 'herald-demo', version: '1.0.0' });

/** The room being shown: {room, user, sub} or null on the join screen. */
let current = null;
/** Local messages waiting for the server, by idempotency key. */
const outgoing = new Map();
/** Keys of the messages this tab sent, to recognise them when they come back. */
const sentKeys = new Set();

// ------------------------------------------------------------------ status

herald.on('state', (state, prev) => {
  el.status.dataset.state = state;
  el.statusLabel.textContent = STATE_LABELS[state] || state;
  el.status.title = state === 'connected' && herald.info ? `Client ${herald.info.client} on node ${herald.info.node}` : '';
  if (state === 'connected') {
    el.status.dataset.client = herald.info?.client || '';
  }
  if (!current) return;
  if (prev === 'connected' && state !== 'connected') {
    notice(state === 'reconnecting' ? 'Connection lost. Reconnecting\u2026' : 'Disconnected.', 'warn');
  }
});
herald.on('disconnected', (ev) => {
  if (!ev.reconnect && ev.code !== 1000) {
    notice(`The server closed the connection (${ev.reason || 'code ' + ev.code}). Reload the page to try again.`, 'error');
  }
});
herald.on('error', (err) => console.warn('herald:', err));

// ---------------------------------------------------------------- joining

const savedName = safeStorage('get', 'herald-demo-name');
if (savedName) el.name.value = savedName;
el.room.value = roomFromHash() || safeStorage('get', 'herald-demo-room') || 'lobby';

el.room.addEventListener('input', () => {
  const clean = cleanRoom(el.room.value);
  if (clean !== el.room.value) el.room.value = clean;
});

el.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const user = el.name.value.trim().replace(/\s+/g, ' ').slice(0, 32);
  const room = cleanRoom(el.room.value).replace(/^[-.]+|[-.]+$/g, '');
  if (!user) return el.name.focus();
  if (!room) return el.room.focus();
  safeStorage('set', 'herald-demo-name', user);
  safeStorage('set', 'herald-demo-room', room);
  enterRoom(user, room);
});

el.leave.addEventListener('click', () => leaveRoom());

window.addEventListener('hashchange', () => {
  const room = roomFromHash();
  if (current && room && room !== current.room) enterRoom(current.user, room);
});

function enterRoom(user, room) {
  if (current) current.sub.unsubscribe();
  outgoing.clear();
  el.messages.replaceChildren();
  const channel = `chat:${room}`;
  const sub = herald.subscribe(channel, {
    onSubscribed: (ctx) => {
      if (!ctx.resubscribed) {
        notice(`You joined #${room} as ${user}.`);
      } else if (ctx.recovered) {
        notice('Reconnected. Messages sent while you were away were recovered.', 'ok');
      } else {
        notice('Reconnected, but the server no longer has every message sent while you were away.', 'ok');
      }
      el.composer.dataset.ready = 'true';
    },
    onPublication: (pub) => receive(pub),
    onError: (err) => notice(`Could not join #${room}: ${err.message}`, 'error'),
  });
  current = { user, room, sub };
  if (location.hash !== `#${room}`) history.replaceState(null, '', `#${room}`);
  document.title = `#${room} \u00b7 Herald chat`;
  el.roomTitle.textContent = `#${room}`;
  el.roomSub.textContent = `${channel} \u00b7 you are ${user}`;
  el.text.placeholder = `Message #${room}`;
  el.join.hidden = true;
  el.chat.hidden = false;
  showEmpty();
  el.text.focus();
}

function leaveRoom() {
  if (!current) return;
  current.sub.unsubscribe();
  current = null;
  outgoing.clear();
  el.messages.replaceChildren();
  delete el.composer.dataset.ready;
  history.replaceState(null, '', location.pathname);
  document.title = 'Herald chat';
  el.chat.hidden = true;
  el.join.hidden = false;
  el.name.focus();
}

// ---------------------------------------------------------------- sending

el.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = el.text.value.trim();
  if (!text || !current) return;
  el.text.value = '';
  const key = randomKey();
  const item = renderMessage({ user: current.user, text, time: Date.now(), mine: true, key });
  item.classList.add('pending');
  outgoing.set(key, { item, text, channel: current.sub.channel, user: current.user });
  sentKeys.add(key);
  if (sentKeys.size > MAX_MESSAGES) sentKeys.delete(sentKeys.values().next().value);
  publish(key);
});

// publish sends (or resends) one outgoing message. The idempotency key makes
// a retry safe: if the first attempt did reach the server, it is not
// published twice.
function publish(key) {
  const out = outgoing.get(key);
  if (!out) return;
  out.item.classList.remove('failed');
  out.item.classList.add('pending');
  setNote(out.item, 'Sending\u2026');
  herald
    .publish(out.channel, { user: out.user, text: out.text }, { key })
    .then(() => markSent(key))
    .catch((err) => {
      if (!outgoing.has(key)) return;
      out.item.classList.remove('pending');
      out.item.classList.add('failed');
      const note = setNote(out.item, `Not sent (${err.message}). `);
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'retry';
      retry.textContent = 'Retry';
      retry.addEventListener('click', () => publish(key));
      note.append(retry);
    });
}

function markSent(key, time) {
  const out = outgoing.get(key);
  if (!out) return;
  outgoing.delete(key);
  out.item.classList.remove('pending', 'failed');
  setNote(out.item, '');
  if (time) setTime(out.item, time);
}

// --------------------------------------------------------------- receiving

function receive(pub) {
  const data = pub.data && typeof pub.data === 'object' ? pub.data : {};
  const text = typeof data.text === 'string' ? data.text : JSON.stringify(pub.data);
  const user = typeof data.user === 'string' && data.user.trim() ? data.user.slice(0, 32) : 'anonymous';
  if (pub.key && sentKeys.has(pub.key)) {
    // Our own message coming back: it is in the room (already shown).
    markSent(pub.key, pub.time);
    return;
  }
  renderMessage({ user, text: text.slice(0, 4000), time: pub.time || Date.now(), mine: false, key: pub.key });
}

// ---------------------------------------------------------------- rendering

function renderMessage({ user, text, time, mine }) {
  const atBottom = isNearBottom();
  el.messages.querySelector('.empty')?.remove();

  const prev = el.messages.lastElementChild;
  const continues =
    prev &&
    prev.classList.contains('msg') &&
    prev.dataset.user === user &&
    prev.classList.contains('mine') === mine &&
    time - Number(prev.dataset.time) < GROUP_WINDOW_MS;

  const li = document.createElement('li');
  li.className = `msg ${mine ? 'mine' : 'theirs'}${continues ? ' cont' : ''}`;
  li.dataset.user = user;
  li.dataset.time = String(time);

  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(user);
  avatar.style.setProperty('--hue', String(hue(user)));

  const body = document.createElement('div');
  body.className = 'msg-body';
  const meta = document.createElement('div');
  meta.className = 'meta';
  const author = document.createElement('span');
  author.className = 'author';
  author.textContent = mine ? `${user} (you)` : user;
  author.style.setProperty('--hue', String(hue(user)));
  const when = document.createElement('time');
  meta.append(author, when);
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.textContent = text;
  const note = document.createElement('div');
  note.className = 'note';
  body.append(meta, bubble, note);
  li.append(avatar, body);
  setTime(li, time);

  el.messages.append(li);
  trim();
  if (mine || atBottom) scrollToBottom();
  else el.jump.hidden = false;
  return li;
}

function notice(text, kind = 'info') {
  if (!current) return;
  const atBottom = isNearBottom();
  const li = document.createElement('li');
  li.className = `notice ${kind}`;
  li.textContent = text;
  el.messages.append(li);
  trim();
  if (atBottom) scrollToBottom();
}

function showEmpty() {
  const li = document.createElement('li');
  li.className = 'empty';
  const strong = document.createElement('strong');
  strong.textContent = 'No messages yet';
  const span = document.createElement('span');
  span.textContent = 'Say hello, or open this room in another tab.';
  li.append(strong, span);
  el.messages.append(li);
}

function setTime(li, ms) {
  li.dataset.time = String(ms);
  const t = li.querySelector('time');
  const d = new Date(ms);
  t.dateTime = d.toISOString();
  t.textContent = d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  t.title = d.toLocaleString();
}

function setNote(li, text) {
  const note = li.querySelector('.note');
  note.textContent = text;
  return note;
}

function trim() {
  while (el.messages.childElementCount > MAX_MESSAGES) el.messages.firstElementChild.remove();
}

function isNearBottom() {
  const m = el.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scrollToBottom() {
  el.messages.scrollTop = el.messages.scrollHeight;
  el.jump.hidden = true;
}

el.messages.addEventListener('scroll', () => {
  if (isNearBottom()) el.jump.hidden = true;
});
el.jump.addEventListener('click', () => scrollToBottom());

// ----------------------------------------------------------------- helpers

function cleanRoom(s) {
  return s
    .toLowerCase()
    .replace(/^#/, '')
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9_.-]/g, '')
    .slice(0, 32);
}

function roomFromHash() {
  return cleanRoom(decodeURIComponent(location.hash.slice(1)));
}

function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : [parts[0] || '?'];
  return letters.map((p) => [...p][0].toUpperCase()).join('');
}

// hue gives each name a stable colour.
function hue(name) {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.codePointAt(0), 16777619);
  return Math.abs(h) % 360;
}

function randomKey() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b); // unlike randomUUID, also available on plain http
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function safeStorage(op, key, value) {
  try {
    if (op === 'get') return localStorage.getItem(key);
    localStorage.setItem(key, value);
  } catch {
    // Storage may be disabled; the demo works without it.
  }
  return null;
}

herald.connect();
if (!el.name.value) el.name.focus();
else el.room.focus();

// Exposed for poking around in the console.
window.herald = herald;
