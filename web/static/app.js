// The Herald demo chat: choose a name, join a room (channel chat:<room>),
// send and receive messages. Everything real-time goes through the public
// API of the browser SDK served at /herald.js:
//
// - the room's last messages on joining, and again after a reconnect that
//   could not recover what was missed: history();
// - who is in the room: presence(), then onJoin/onLeave on top of it, by
//   client id (presence and join/leave must be on: herald --presence
//   --join-leave; the page says so when they are not);
// - the typing indicator and people's names: publications on a second
//   channel of the room, chat:<room>/typing. Publish rather than send: a
//   send goes to the server application's OnMessage handler, which the
//   herald binary does not have, while a publication reaches everyone in
//   the room with no server code. Its history (when the server keeps one)
//   tells a newcomer the names of those already there, since presence
//   carries only client and user ids in open mode.
// - after a reconnect, onSubscribed's `recovered` says whether anything was
//   missed, and the page says which;
// - /time and /feedback, typed in the composer, go to the application's
//   backend through Herald's HTTP proxy, as an RPC and a send (commands.js).
import { Herald } from '/herald.js';
import { Commands, isCommand } from '/commands.js';

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
  members: $('members'),
  memberList: $('member-list'),
  memberCount: $('member-count'),
  membersNote: $('members-note'),
  typing: $('typing'),
};

const STATE_LABELS = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  disconnected: 'Disconnected',
};
const MAX_MESSAGES = 500; // older ones leave the page
const GROUP_WINDOW_MS = 5 * 60 * 1000; // consecutive messages of one author within this share a header
const HISTORY_LIMIT = 50; // messages shown on joining
const TYPING_EVERY_MS = 2000; // at most one typing signal this often
const TYPING_SHOWN_MS = 4000; // how long "X is typing" lasts after a signal

const wsURL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
// ?transport=http-stream (or sse, websocket) forces one transport, to try
// the fallbacks; the SDK's default tries WebSocket, then the others.
const forcedTransport = new URLSearchParams(location.search).get('transport');
const herald = new Herald(wsURL, {
  name: 'herald-demo',
  version: '1.0.0',
  ...(['websocket', 'http-stream', 'sse'].includes(forcedTransport) ? { transport: forcedTransport } : {}),
});

/**
 * The room being shown, or null on the join screen: {room, user, sub,
 * signals, members: Map(client id -> user id), names: Map(client id ->
 * name), typing: Map(client id -> timer), lastTyping}.
 */
let current = null;
/** Local messages waiting for the server, by idempotency key. */
const outgoing = new Map();
/** Keys of the messages this tab sent, to recognise them when they come back. */
const sentKeys = new Set();
/** The slash commands, which the application's backend answers. */
const commands = new Commands(herald, (parts, kind, data) => notice(parts, kind, data));

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
  if (current) leaveSubscriptions();
  outgoing.clear();
  el.messages.replaceChildren();
  const channel = `chat:${room}`;
  const cur = { user, room, sub: null, signals: null, members: new Map(), names: new Map(), typing: new Map(), lastTyping: 0 };
  current = cur;
  cur.sub = herald.subscribe(channel, {
    onSubscribed: (ctx) => {
      if (current !== cur) return;
      if (!ctx.resubscribed) {
        notice(`You joined #${room} as ${user}.`);
        loadHistory(cur, ctx.offset, false);
      } else if (ctx.recovered) {
        notice('Reconnected, nothing missed.', 'ok');
      } else if (!ctx.recoverable) {
        notice('Reconnected. This server keeps no history of the room, so messages sent while you were away are lost.', 'warn');
      } else {
        notice('Reconnected, some messages could not be recovered; reloaded.', 'warn');
        loadHistory(cur, ctx.offset, true);
      }
      loadMembers(cur);
      el.composer.dataset.ready = 'true';
    },
    onPublication: (pub) => current === cur && receive(pub),
    onJoin: ({ info }) => current === cur && memberJoined(cur, info),
    onLeave: ({ info }) => current === cur && memberLeft(cur, info),
    onError: (err) => notice(`Could not join #${room}: ${err.message}`, 'error'),
  });
  cur.signals = herald.subscribe(`${channel}/typing`, {
    onSubscribed: (ctx) => {
      if (current !== cur) return;
      // Names announced while this page was away are in the channel's history.
      if (!ctx.resubscribed || !ctx.recovered) learnNames(cur);
      signal(cur, 'here'); // tell those in the room our name (again after a reconnect)
    },
    onPublication: (pub) => current === cur && onSignal(cur, pub),
    onError: () => {}, // no typing indicator, no names: the chat works without them
  });
  if (location.hash !== `#${room}`) history.replaceState(null, '', `#${room}`);
  document.title = `#${room} \u00b7 Herald chat`;
  el.roomTitle.textContent = `#${room}`;
  el.roomSub.textContent = `${channel} \u00b7 you are ${user}`;
  el.text.placeholder = `Message #${room} (/help for commands)`;
  el.join.hidden = true;
  el.chat.hidden = false;
  renderMembers(cur);
  renderTyping(cur);
  showEmpty();
  el.text.focus();
}

function leaveSubscriptions() {
  current.sub.unsubscribe();
  current.signals.unsubscribe();
  for (const t of current.typing.values()) clearTimeout(t.timer);
}

function leaveRoom() {
  if (!current) return;
  leaveSubscriptions();
  current = null;
  outgoing.clear();
  el.messages.replaceChildren();
  el.memberList.replaceChildren();
  el.typing.textContent = '';
  delete el.composer.dataset.ready;
  history.replaceState(null, '', location.pathname);
  document.title = 'Herald chat';
  el.chat.hidden = true;
  el.join.hidden = false;
  el.name.focus();
}

// ---------------------------------------------------------------- history

// loadHistory shows the room's last messages, up to the position the
// subscription started from (later ones arrive as publications). With
// reload, what the page showed is dropped first: it may have gaps.
async function loadHistory(cur, upTo, reload) {
  let res;
  try {
    res = await cur.sub.history({ limit: HISTORY_LIMIT, reverse: true });
  } catch (err) {
    if (current === cur && err.code !== 108) notice(`Could not load earlier messages: ${err.message}`, 'warn');
    return; // 108: the server keeps no history
  }
  if (current !== cur) return;
  const pubs = res.publications.filter((p) => !upTo || p.offset <= upTo).reverse();
  if (reload) {
    // Keep the notices and what is still being sent; the messages come back from history.
    for (const li of [...el.messages.querySelectorAll('.msg:not(.pending):not(.failed), .history-mark')]) li.remove();
  }
  if (!pubs.length) return;
  el.messages.querySelector('.empty')?.remove();
  const frag = document.createDocumentFragment();
  let prev = null;
  for (const p of pubs) {
    learnName(cur, p);
    prev = buildMessage(messageOf(p), prev);
    prev.classList.add('earlier');
    frag.append(prev);
  }
  const mark = document.createElement('li');
  mark.className = 'notice history-mark';
  mark.textContent = pubs.length === 1 ? 'Earlier message' : `Earlier messages (${pubs.length})`;
  frag.prepend(mark);
  el.messages.prepend(frag);
  scrollToBottom();
}

// ---------------------------------------------------------------- members

async function loadMembers(cur) {
  let res;
  try {
    res = await cur.sub.presence();
  } catch (err) {
    if (current !== cur) return;
    cur.members.clear();
    el.membersNote.hidden = false;
    el.membersNote.textContent =
      err.code === 108 ? 'Start herald with --presence --join-leave to see who is here.' : `Unavailable: ${err.message}`;
    renderMembers(cur);
    return;
  }
  if (current !== cur) return;
  el.membersNote.hidden = true;
  cur.members = new Map(Object.entries(res.clients).map(([id, c]) => [id, c.user || '']));
  renderMembers(cur);
}

function memberJoined(cur, info) {
  if (!info || !info.client) return;
  cur.members.set(info.client, info.user || '');
  renderMembers(cur);
}

function memberLeft(cur, info) {
  if (!info || !cur.members.delete(info.client)) return;
  stopTyping(cur, info.client);
  renderMembers(cur);
}

function nameOf(cur, client) {
  if (client === herald.info?.client) return cur.user;
  return cur.names.get(client) || cur.members.get(client) || `Guest ${client.slice(0, 4)}`;
}

function renderMembers(cur) {
  const me = herald.info?.client;
  const ids = [...cur.members.keys()].sort((a, b) => (a === me ? -1 : b === me ? 1 : nameOf(cur, a).localeCompare(nameOf(cur, b))));
  el.memberList.replaceChildren(
    ...ids.map((id) => {
      const name = nameOf(cur, id);
      const li = document.createElement('li');
      li.className = `member${id === me ? ' me' : ''}`;
      li.dataset.client = id;
      const avatar = document.createElement('span');
      avatar.className = 'avatar';
      avatar.setAttribute('aria-hidden', 'true');
      avatar.textContent = initials(name);
      avatar.style.setProperty('--hue', String(hue(name)));
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = name;
      li.append(avatar, who);
      return li;
    }),
  );
  el.memberCount.textContent = cur.members.size ? `(${cur.members.size})` : '';
}

// ------------------------------------------------------ names and typing

// signal publishes a small event on the room's typing channel: 'here' (our
// name, on joining) or 'typing'.
function signal(cur, type) {
  cur.signals.publish({ type, user: cur.user }).catch(() => {});
}

// learnNames reads the typing channel's recent events for the names of
// those already in the room.
async function learnNames(cur) {
  try {
    const res = await cur.signals.history({ limit: 100 });
    if (current !== cur) return;
    for (const p of res.publications) learnName(cur, p);
    renderMembers(cur);
  } catch {
    // No history on this server: names arrive with messages and signals.
  }
}

function learnName(cur, pub) {
  const user = pub.data && typeof pub.data.user === 'string' ? pub.data.user.trim().slice(0, 32) : '';
  if (user && pub.info?.client) cur.names.set(pub.info.client, user);
}

function onSignal(cur, pub) {
  const client = pub.info?.client;
  if (!client || client === herald.info?.client) return;
  const known = cur.names.get(client);
  learnName(cur, pub);
  if (cur.names.get(client) !== known && cur.members.has(client)) renderMembers(cur);
  if (pub.data?.type !== 'typing') return;
  const t = cur.typing.get(client);
  if (t) clearTimeout(t.timer);
  cur.typing.set(client, { timer: setTimeout(() => stopTyping(cur, client), TYPING_SHOWN_MS) });
  renderTyping(cur);
}

function stopTyping(cur, client) {
  const t = cur.typing.get(client);
  if (!t) return;
  clearTimeout(t.timer);
  cur.typing.delete(client);
  renderTyping(cur);
}

function renderTyping(cur) {
  const names = [...cur.typing.keys()].map((id) => nameOf(cur, id));
  el.typing.textContent =
    names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing\u2026`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing\u2026`
          : 'Several people are typing\u2026';
}

el.text.addEventListener('input', () => {
  if (!current || !el.text.value.trim() || herald.state !== 'connected') return;
  if (isCommand(el.text.value.trim())) return; // a command is not for the room
  const now = Date.now();
  if (now - current.lastTyping < TYPING_EVERY_MS) return;
  current.lastTyping = now;
  signal(current, 'typing');
});

// ---------------------------------------------------------------- sending

el.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  let text = el.text.value.trim();
  if (!text || !current) return;
  el.text.value = '';
  current.lastTyping = 0;
  if (commands.run(text, { room: current.room, user: current.user })) return;
  if (text.startsWith('//')) text = text.slice(1); // "//" escapes a leading slash
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

// messageOf turns a publication into what renderMessage shows.
function messageOf(pub) {
  const data = pub.data && typeof pub.data === 'object' ? pub.data : {};
  const text = typeof data.text === 'string' ? data.text : JSON.stringify(pub.data);
  const user = typeof data.user === 'string' && data.user.trim() ? data.user.slice(0, 32) : 'anonymous';
  const mine = Boolean(pub.key && sentKeys.has(pub.key));
  return { user, text: text.slice(0, 4000), time: pub.time || Date.now(), mine, key: pub.key };
}

function receive(pub) {
  if (pub.key && sentKeys.has(pub.key)) {
    // Our own message coming back: it is in the room (already shown).
    markSent(pub.key, pub.time);
    return;
  }
  learnName(current, pub);
  if (pub.info?.client) stopTyping(current, pub.info.client);
  renderMessage(messageOf(pub));
}

// ---------------------------------------------------------------- rendering

function renderMessage(m) {
  const atBottom = isNearBottom();
  el.messages.querySelector('.empty')?.remove();
  const li = buildMessage(m, el.messages.lastElementChild);
  el.messages.append(li);
  trim();
  if (m.mine || atBottom) scrollToBottom();
  else el.jump.hidden = false;
  return li;
}

// buildMessage makes the list item of a message that follows prev.
function buildMessage({ user, text, time, mine }, prev) {
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
  return li;
}

// notice shows a line from the page, not from a person: text is a string,
// or an array of strings and {code} objects (shown as code); data goes to
// the item's dataset.
function notice(text, kind = 'info', data = {}) {
  if (!current) return;
  const atBottom = isNearBottom();
  const li = document.createElement('li');
  li.className = `notice ${kind}`;
  for (const part of Array.isArray(text) ? text : [text]) {
    if (typeof part === 'string') {
      li.append(part);
    } else {
      const code = document.createElement('code');
      code.textContent = part.code;
      li.append(code);
    }
  }
  Object.assign(li.dataset, data);
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
