// Herald dashboard. It receives snapshots of the node (herald.Stats) from
// ./events as Server-Sent Events, computes rates from successive snapshots,
// and draws them on <canvas> by hand. Everything the server sends reaches the
// page as text (textContent), never as HTML.

const WINDOW_MS = 5 * 60 * 1000; // the most the charts show
const MIN_SPAN_MS = 30 * 1000; // the least, while samples accumulate
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;

const $ = (id) => document.getElementById(id);

const state = {
  samples: [], // {t, connections, ..., messages_in, ...}, oldest first
  intervalMs: 1000,
  last: null, // the latest Stats
  lastAt: 0, // performance.now() when it came
  source: null,
  retryTimer: 0,
  retryDelay: RETRY_MIN_MS,
  hover: null, // {chart, x}: the pointer over a chart
};

// ---- formatting ----

const intFmt = new Intl.NumberFormat('en-US');
const clockFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function fmtInt(n) {
  return intFmt.format(Math.round(n));
}

function fmtCompact(n) {
  const a = Math.abs(n);
  if (a < 1e4) return fmtInt(n);
  for (const [div, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= div) {
      const v = n / div;
      return (Math.abs(v) < 100 ? v.toFixed(1) : Math.round(v)) + suffix;
    }
  }
  return fmtInt(n);
}

function fmtRate(v) {
  if (v === 0) return '0';
  if (Math.abs(v) < 1) return v.toFixed(2);
  if (Math.abs(v) < 10) return v.toFixed(1);
  return fmtCompact(Math.round(v));
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

function fmtBytes(v) {
  let i = 0;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 || Math.abs(v) >= 10 ? String(Math.round(v)) : v.toFixed(1);
  return `${s} ${BYTE_UNITS[i]}`;
}

function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

function fmtAgo(ms) {
  const s = Math.round(ms / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

// Close codes of the protocol (docs/protocol.md, section 9) and WebSocket's.
const CODES = {
  1000: 'normal', 1001: 'going away', 1002: 'protocol error', 1006: 'connection lost',
  1008: 'policy', 1009: 'too large', 1011: 'server error',
  3000: 'shutdown', 3001: 'no pong', 3002: 'slow consumer', 3003: 'state lost',
  3004: 'reconnect', 3005: 'token expired', 3006: 'connect timeout', 3007: 'server error',
  3500: 'invalid token', 3501: 'bad request', 3502: 'connection limit', 3503: 'forbidden',
  3504: 'unsupported',
};

function codeClass(code) {
  if (code === 1000 || code === 1001) return 'normal';
  if (code >= 3000 && code < 3500) return 'reconnect';
  if (code >= 3500 && code < 5000) return 'terminal';
  return 'abnormal';
}

function codeChip(code, extra) {
  const chip = el('span', `code ${codeClass(code)}`);
  chip.append(el('b', '', String(code)), document.createTextNode(CODES[code] || 'other'));
  if (extra) chip.append(document.createTextNode(extra));
  return chip;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- colours, read from the stylesheet so that dark mode follows it ----

let palette = {};

function readPalette() {
  const cs = getComputedStyle(document.documentElement);
  const v = (name) => cs.getPropertyValue(name).trim();
  palette = {
    '--series-1': v('--series-1'),
    '--series-2': v('--series-2'),
    grid: v('--grid'),
    muted: v('--muted'),
    text: v('--text'),
    surface: v('--surface'),
    font: v('--font'),
  };
}

function withAlpha(hex, a) {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  let h = m[1];
  if (h.length === 3) h = h.replace(/./g, (c) => c + c);
  const n = parseInt(h, 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

// ---- samples and rates ----

function sampleOf(s) {
  return {
    t: Date.parse(s.time),
    connections: s.connections, users: s.users, channels: s.channels, subscriptions: s.subscriptions,
    messages_in: s.messages_in, messages_out: s.messages_out,
    bytes_in: s.bytes_in, bytes_out: s.bytes_out,
    publications: s.publications, deliveries: s.deliveries,
  };
}

function addSample(s) {
  const last = state.samples[state.samples.length - 1];
  if (!Number.isFinite(s.t) || (last && s.t <= last.t)) return false;
  state.samples.push(s);
  const keepFrom = s.t - WINDOW_MS - gapMs();
  let i = 0;
  while (i < state.samples.length - 2 && state.samples[i + 1].t < keepFrom) i++;
  if (i > 0) state.samples.splice(0, i);
  return true;
}

// gapMs is the silence after which a line breaks instead of bridging.
function gapMs() {
  return Math.max(3 * state.intervalMs, 5000);
}

// rates returns {t, v} points of key's per-second rate, with null where
// the line breaks (a gap, or counters that went back: another process).
function rates(key) {
  const out = [];
  const s = state.samples;
  for (let i = 1; i < s.length; i++) {
    const dt = s[i].t - s[i - 1].t;
    const dv = s[i][key] - s[i - 1][key];
    if (dt <= 0) continue;
    if (dt > gapMs() || dv < 0) {
      out.push(null);
      continue;
    }
    out.push({ t: s[i].t, v: (dv * 1000) / dt });
  }
  return out;
}

function gauge(key) {
  const out = [];
  const s = state.samples;
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && s[i].t - s[i - 1].t > gapMs()) out.push(null);
    out.push({ t: s[i].t, v: s[i][key] });
  }
  return out;
}

// ---- charts ----

const CHARTS = [
  {
    id: 'chart-messages', fmt: fmtRate, axis: fmtCompact,
    series: [
      { key: 'messages_in', label: 'received', color: '--series-1' },
      { key: 'messages_out', label: 'sent', color: '--series-2' },
    ],
  },
  {
    id: 'chart-deliveries', fmt: fmtRate, axis: fmtCompact,
    series: [
      { key: 'deliveries', label: 'deliveries', color: '--series-1' },
      { key: 'publications', label: 'publications', color: '--series-2' },
    ],
  },
  {
    id: 'chart-bytes', fmt: (v) => `${fmtBytes(v)}/s`, axis: fmtBytes, bytes: true,
    series: [
      { key: 'bytes_in', label: 'received', color: '--series-1' },
      { key: 'bytes_out', label: 'sent', color: '--series-2' },
    ],
  },
];

// nice125 rounds v up to 1, 2 or 5 times a power of ten.
function nice125(v) {
  if (!(v > 0)) return 0;
  const p = 10 ** Math.floor(Math.log10(v));
  const f = v / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

// axisStep picks the distance between grid lines for a maximum of max.
function axisStep(max, bytes) {
  const raw = max / 4;
  if (!bytes) return nice125(raw) || 0.25;
  if (!(raw > 0)) return 256;
  const unit = 1024 ** Math.max(0, Math.floor(Math.log(raw) / Math.log(1024)));
  return nice125(raw / unit) * unit;
}

// prepare sizes a canvas to its box and the screen's pixel ratio.
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return null;
  const pw = Math.round(w * dpr);
  const ph = Math.round(h * dpr);
  if (canvas.width !== pw || canvas.height !== ph) {
    canvas.width = pw;
    canvas.height = ph;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

// segments splits points at their nulls into runs of {x, y}.
function segments(points, x, y) {
  const out = [];
  let run = [];
  for (const p of points) {
    if (p === null) {
      if (run.length) out.push(run);
      run = [];
      continue;
    }
    run.push({ x: x(p.t), y: y(p.v) });
  }
  if (run.length) out.push(run);
  return out;
}

function strokeAndFill(ctx, runs, color, baseY, topY, fillAlpha, width) {
  for (const run of runs) {
    if (fillAlpha > 0 && run.length > 1) {
      const g = ctx.createLinearGradient(0, topY, 0, baseY);
      g.addColorStop(0, withAlpha(color, fillAlpha));
      g.addColorStop(1, withAlpha(color, 0));
      ctx.beginPath();
      ctx.moveTo(run[0].x, baseY);
      for (const p of run) ctx.lineTo(p.x, p.y);
      ctx.lineTo(run[run.length - 1].x, baseY);
      ctx.closePath();
      ctx.fillStyle = g;
      ctx.fill();
    }
    ctx.beginPath();
    run.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    if (run.length === 1) ctx.lineTo(run[0].x + 0.5, run[0].y);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    ctx.stroke();
  }
}

function latestT() {
  const s = state.samples;
  return s.length ? s[s.length - 1].t : Date.now();
}

// timeRange is what the charts show: from the first sample, at least
// MIN_SPAN_MS and at most WINDOW_MS back, to the latest sample (the server's
// clock, so the browser's does not matter).
function timeRange() {
  const end = latestT();
  const first = state.samples.length ? state.samples[0].t : end;
  const span = Math.min(WINDOW_MS, Math.max(end - first, MIN_SPAN_MS));
  return { start: end - span, end, span };
}

const TICK_STEPS_S = [5, 10, 15, 30, 60, 120];

function fmtAgoTick(s) {
  if (s === 0) return 'now';
  if (s < 60) return `−${s}s`;
  if (s % 60 === 0) return `−${s / 60} min`;
  return `−${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}`;
}

function drawChart(chart) {
  const canvas = chart.canvas;
  const prep = prepare(canvas);
  if (!prep) return;
  const { ctx, w, h } = prep;
  const font = palette.font || 'system-ui, sans-serif';
  const pad = { l: 56, r: 10, t: 8, b: 22 };
  const plotW = w - pad.l - pad.r;
  const plotH = h - pad.t - pad.b;
  const { start, span } = timeRange();
  const data = chart.series.map((s) => rates(s.key));

  let max = 0;
  for (const pts of data) for (const p of pts) if (p && p.t >= start && p.v > max) max = p.v;
  const step = axisStep(max, chart.bytes);
  const top = max > 0 ? step * Math.ceil(max / step - 1e-9) : step * 4;
  const x = (t) => pad.l + ((t - start) / span) * plotW;
  const y = (v) => pad.t + plotH - (v / top) * plotH;

  // Grid and axes.
  ctx.font = `11px ${font}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  ctx.lineWidth = 1;
  for (let v = 0; v <= top + step / 2; v += step) {
    const gy = Math.round(y(v)) + 0.5;
    ctx.strokeStyle = palette.grid;
    ctx.beginPath();
    ctx.moveTo(pad.l, gy);
    ctx.lineTo(pad.l + plotW, gy);
    ctx.stroke();
    ctx.fillStyle = palette.muted;
    ctx.fillText(chart.axis(v), pad.l - 8, gy);
  }
  ctx.textBaseline = 'top';
  ctx.fillStyle = palette.muted;
  const tick = TICK_STEPS_S.find((st) => span / 1000 / st <= 6) || TICK_STEPS_S[TICK_STEPS_S.length - 1];
  for (let ago = 0; ago * 1000 <= span; ago += tick) {
    const gx = pad.l + plotW * (1 - (ago * 1000) / span);
    if (ago > 0 && gx < pad.l + 18) break;
    ctx.textAlign = ago === 0 ? 'right' : 'center';
    ctx.fillText(fmtAgoTick(ago), gx, pad.t + plotH + 7);
  }

  // The series, clipped to the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(pad.l, pad.t - 2, plotW + 2, plotH + 4);
  ctx.clip();
  chart.series.forEach((s, i) => {
    const color = palette[s.color];
    strokeAndFill(ctx, segments(data[i], x, y), color, pad.t + plotH, pad.t, i === 0 ? 0.28 : 0.16, 1.8);
  });
  ctx.restore();

  const points = data[0].filter((p) => p && p.t >= start).length;
  if (points < 2) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = palette.muted;
    ctx.font = `12px ${font}`;
    ctx.fillText('collecting samples…', pad.l + plotW / 2, pad.t + plotH / 2);
  }

  // The pointer: a cross-hair and the values under it, in the legend.
  let at = null;
  if (state.hover && state.hover.chart === chart && points > 0) {
    const t = start + ((state.hover.x - pad.l) / plotW) * span;
    let best = null;
    for (const p of data[0]) if (p && (!best || Math.abs(p.t - t) < Math.abs(best.t - t))) best = p;
    if (best) {
      at = best.t;
      const hx = Math.round(x(at)) + 0.5;
      ctx.strokeStyle = palette.muted;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(hx, pad.t);
      ctx.lineTo(hx, pad.t + plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      chart.series.forEach((s, i) => {
        const p = data[i].find((q) => q && q.t === at);
        if (!p) return;
        ctx.beginPath();
        ctx.arc(hx, y(p.v), 3.5, 0, 2 * Math.PI);
        ctx.fillStyle = palette.surface;
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.strokeStyle = palette[s.color];
        ctx.stroke();
      });
    }
  }
  updateLegend(chart, data, at);
}

function buildLegend(chart) {
  const legend = chart.root.querySelector('.legend');
  chart.values = chart.series.map((s) => {
    const item = el('span');
    const swatch = el('i');
    swatch.style.background = palette[s.color];
    const value = el('b', '', '—');
    item.append(swatch, document.createTextNode(s.label), value);
    legend.append(item);
    return { swatch, value };
  });
  chart.when = el('span', 'when');
  legend.append(chart.when);
}

function updateLegend(chart, data, at) {
  chart.series.forEach((s, i) => {
    const pts = data[i];
    let p = null;
    if (at !== null) p = pts.find((q) => q && q.t === at) || null;
    else for (let j = pts.length - 1; j >= 0 && !p; j--) p = pts[j];
    chart.values[i].value.textContent = p ? chart.fmt(p.v) : '—';
    chart.values[i].swatch.style.background = palette[s.color];
  });
  chart.when.textContent = at !== null ? clockFmt.format(new Date(at)) : '';
}

function drawSpark(card) {
  const prep = prepare(card.canvas);
  if (!prep) return;
  const { ctx, w, h } = prep;
  const { start, span } = timeRange();
  const pts = gauge(card.key);
  // From the lowest to the highest value shown, with a margin: a flat line
  // runs through the middle.
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) {
    if (p && p.t >= start) {
      lo = Math.min(lo, p.v);
      hi = Math.max(hi, p.v);
    }
  }
  if (lo > hi) lo = hi = 0;
  const margin = Math.max((hi - lo) * 0.2, 1);
  lo = Math.max(0, lo - margin);
  hi += margin;
  const x = (t) => ((t - start) / span) * w;
  const y = (v) => h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, w, h);
  ctx.clip();
  strokeAndFill(ctx, segments(pts, x, y), palette['--series-1'], h, 0, 0.22, 1.5);
  ctx.restore();
}

// ---- rendering a snapshot ----

const kpis = [...document.querySelectorAll('.kpi')].map((root) => ({
  root, key: root.dataset.key, canvas: root.querySelector('canvas'),
}));

const charts = CHARTS.map((c) => {
  const root = $(c.id);
  return { ...c, root, canvas: root.querySelector('canvas') };
});

function drawAll() {
  for (const c of charts) drawChart(c);
  for (const k of kpis) drawSpark(k);
}

function setText(id, text) {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

function render(st) {
  setText('node-name', st.name || '—');
  $('node-name').title = st.name || '';
  setText('uptime', fmtDuration(st.uptime));
  $('draining').hidden = !st.draining;

  for (const key of ['connections', 'users', 'channels', 'subscriptions']) {
    const e = $(`kpi-${key}`);
    setText(`kpi-${key}`, fmtInt(st[key] || 0));
    e.dataset.value = String(st[key] || 0);
  }
  let sub = `${fmtInt(st.connects || 0)} connects since start`;
  if (st.slow_consumers) sub += ` · ${fmtInt(st.slow_consumers)} slow`;
  setText('sub-connections', sub);
  setText('sub-users', st.users ? `${(st.connections / st.users).toFixed(1)} connections each` : 'signed-in, distinct');
  setText('sub-channels', 'with local subscribers');
  setText('sub-subscriptions', st.connections ? `${(st.subscriptions / st.connections).toFixed(1)} per connection` : '—');

  renderNodes(st.nodes || [], st.name);
  renderChannels(st.top_channels || [], st.channels || 0);
  const now = Date.parse(st.time) || Date.now();
  renderDisconnects(st.recent_disconnects || [], now);
  renderErrors(st.recent_errors || [], now);

  document.title = `${fmtInt(st.connections || 0)} connections · ${st.name} · Herald`;
  setText('updated', clockFmt.format(new Date(now)));
  setText('interval', state.intervalMs >= 1000 ? `${(state.intervalMs / 1000).toFixed(state.intervalMs % 1000 ? 1 : 0)} s` : `${state.intervalMs} ms`);
}

// renderNodes lists the cluster's live nodes, this one marked.
function renderNodes(list, self) {
  $('node-rows').replaceChildren(...list.map((n) => {
    const tr = el('tr');
    const name = el('td', 'mono', n.name);
    if (n.name === self) name.append(el('span', 'unit', ' (this node)'));
    if (n.draining) name.append(el('span', 'unit', ' draining'));
    tr.append(name, el('td', 'mono', n.version || '—'), el('td', '', fmtInt(n.connections)),
      el('td', '', fmtInt(n.subscriptions)), el('td', '', fmtDuration(n.uptime)));
    return tr;
  }));
  setText('nodes-note', list.length > 1 ? `${list.length} nodes joined through the broker` : 'this node alone');
}

function renderChannels(list, total) {
  const ol = $('channel-list');
  const top = list.reduce((m, c) => Math.max(m, c.subscribers), 0) || 1;
  ol.replaceChildren(...list.map((c) => {
    const li = el('li');
    const name = el('span', 'name', c.channel);
    name.title = c.channel;
    const bar = el('span', 'bar');
    const fill = el('span');
    fill.style.width = `${Math.max(2, (c.subscribers / top) * 100)}%`;
    bar.append(fill);
    li.append(name, el('span', 'count', fmtInt(c.subscribers)), bar);
    return li;
  }));
  $('channels-empty').hidden = list.length > 0;
  setText('channels-note', total > list.length ? `top ${list.length} of ${fmtInt(total)}` : 'by subscribers');
}

function renderDisconnects(list, now) {
  const rows = list.slice().reverse().map((d) => {
    const tr = el('tr');
    const when = el('td', 'when', fmtAgo(now - Date.parse(d.time)));
    when.title = new Date(d.time).toLocaleString();
    const code = el('td');
    code.append(codeChip(d.code));
    const reason = el('td', d.reason ? '' : 'none', d.reason || '—');
    reason.title = d.reason || '';
    const client = el('td', 'mono', d.client || '—');
    const user = el('td', d.user ? 'mono' : 'none', d.user || 'anonymous');
    tr.append(when, code, reason, client, user);
    return tr;
  });
  $('disconnect-rows').replaceChildren(...rows);
  $('disconnects-empty').hidden = list.length > 0;
  $('disconnects').querySelector('table').hidden = list.length === 0;

  const counts = new Map();
  for (const d of list) counts.set(d.code, (counts.get(d.code) || 0) + 1);
  const chips = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([code, n]) => {
    const chip = codeChip(code, ` ×${n}`);
    chip.title = `${n} of the last ${list.length} disconnects`;
    return chip;
  });
  $('code-summary').replaceChildren(...chips);
}

function renderErrors(list, now) {
  const items = list.slice().reverse().map((e) => {
    const li = el('li');
    const time = el('time', '', fmtAgo(now - Date.parse(e.time)));
    time.dateTime = e.time;
    time.title = new Date(e.time).toLocaleString();
    li.append(time, el('span', 'msg', e.message));
    return li;
  });
  $('error-list').replaceChildren(...items);
  $('errors-empty').hidden = list.length > 0;
  setText('errors-note', list.length ? `${list.length} kept` : '');
}

// ---- the stream ----

function setStatus(name, text) {
  document.body.dataset.state = name;
  setText('status-text', text || name);
}

function onHistory(h) {
  if (h.interval_ms > 0) state.intervalMs = h.interval_ms;
  for (const s of h.samples || []) addSample(sampleOf(s));
}

function onStats(st) {
  state.last = st;
  state.lastAt = performance.now();
  addSample(sampleOf(st));
  setStatus(st.draining ? 'stale' : 'live', st.draining ? 'draining' : 'live');
  render(st);
  drawAll();
}

function parse(e, fn) {
  try {
    fn(JSON.parse(e.data));
  } catch (err) {
    console.error('dashboard: bad event', e.type, err);
  }
}

function connect() {
  clearTimeout(state.retryTimer);
  const es = new EventSource('events');
  state.source = es;
  setStatus(state.last ? 'reconnecting' : 'connecting');
  es.addEventListener('open', () => {
    state.retryDelay = RETRY_MIN_MS;
  });
  es.addEventListener('history', (e) => parse(e, onHistory));
  es.addEventListener('stats', (e) => parse(e, onStats));
  es.addEventListener('error', () => {
    if (es.readyState !== EventSource.CLOSED) {
      setStatus('reconnecting');
      return;
    }
    // The server refused the stream (it is shutting down, or the password
    // changed): try again later, less and less often.
    es.close();
    const delay = state.retryDelay;
    state.retryDelay = Math.min(delay * 2, RETRY_MAX_MS);
    setStatus('offline', `offline · retry in ${Math.round(delay / 1000)} s`);
    state.retryTimer = setTimeout(connect, delay);
  });
}

// A stream that went quiet without an error (a proxy holding it) shows as
// stale.
setInterval(() => {
  if (document.body.dataset.state !== 'live' || !state.lastAt) return;
  const quiet = performance.now() - state.lastAt;
  if (quiet > 3 * state.intervalMs + 2000) setStatus('stale', `no data for ${Math.round(quiet / 1000)} s`);
}, 1000);

// ---- start ----

readPalette();
for (const c of charts) {
  buildLegend(c);
  c.canvas.addEventListener('pointermove', (e) => {
    const r = c.canvas.getBoundingClientRect();
    state.hover = { chart: c, x: e.clientX - r.left };
    drawChart(c);
  });
  c.canvas.addEventListener('pointerleave', () => {
    state.hover = null;
    drawChart(c);
  });
}
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  readPalette();
  drawAll();
});
new ResizeObserver(() => drawAll()).observe(document.querySelector('main'));
drawAll();
connect();
