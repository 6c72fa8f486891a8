'use strict';
// wsserver page: uploads (XHR PUT with progress), the file list, and the live log
// over /ws/log. Server data (file names, log text) only ever goes into textContent.
const $ = (id) => document.getElementById(id);
const MAX_LINES = 2000;  // log lines kept in the page, and records buffered while paused
const PARALLEL = 2;      // uploads at once
const LEVELS = {DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
const pad = (n, w = 2) => String(n).padStart(w, '0');
const fileUrl = (name) => '/uploads/' + encodeURIComponent(name);

function size(n) {
  if (n < 1024) return n + ' B';
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < 3);
  return (n < 10 ? n.toFixed(1) : Math.round(n)) + ' ' + 'KMGT'[i] + 'B';
}
function date(s) {
  const d = new Date(s * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function clock(t) {
  if (typeof t !== 'number') return '';
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
// The server's error bodies are "413 Payload Too Large\n<reason>\n".
const reason = (status, text) => (text || '').trim().split('\n').join(': ') || 'HTTP ' + status;

/* ---------- File list ---------- */
const filesMsg = $('files-msg'), table = $('list');
let listSeq = 0;

async function refresh() {
  const seq = ++listSeq;
  try {
    const res = await fetch('/uploads/', {headers: {Accept: 'application/json'}, cache: 'no-store'});
    if (!res.ok) throw new Error(reason(res.status, await res.text()));
    const files = await res.json();
    if (seq === listSeq) render(files);
  } catch (e) {
    if (seq === listSeq) filesMsg.textContent = 'Could not load the list: ' + e.message;
  }
}

function render(files) {
  const total = files.reduce((a, f) => a + f.size, 0);
  filesMsg.textContent = files.length ?
    `${files.length} file${files.length === 1 ? '' : 's'}, ${size(total)}` : 'No files yet.';
  table.hidden = !files.length;
  table.tBodies[0].replaceChildren(...files.map((f) => {
    const a = el('a', null, f.name), del = el('button', 'del', 'Delete'), tr = el('tr');
    a.href = fileUrl(f.name);
    a.download = f.name;
    del.type = 'button';
    del.setAttribute('aria-label', 'Delete ' + f.name);
    del.onclick = () => remove(f.name, del);
    tr.append(el('td', 'name'), el('td', 'num', size(f.size)), el('td', 'date', date(f.mtime)), el('td'));
    tr.cells[0].append(a);
    tr.cells[3].append(del);
    return tr;
  }));
}

async function remove(name, button) {
  if (!confirm(`Delete "${name}"?`)) return;
  button.disabled = true;
  try {
    const res = await fetch(fileUrl(name), {method: 'DELETE'});
    if (!res.ok && res.status !== 404) throw new Error(reason(res.status, await res.text()));
    refresh();
  } catch (e) {
    button.disabled = false;
    filesMsg.textContent = `Could not delete "${name}": ${e.message}`;
  }
}

/* ---------- Uploads ---------- */
const queueEl = $('queue'), waitingUploads = [];
let running = 0;

function add(files) {
  for (const file of files) waitingUploads.push({file, ui: item(file)});
  next();
}

function next() {
  while (running < PARALLEL && waitingUploads.length) {
    running++;
    upload(waitingUploads.shift()).then(() => { running--; refresh(); next(); });
  }
}

function item(file) {
  const li = el('li'), bar = el('progress'), pct = el('span', 'pct', '0%'), st = el('span', 'st', 'waiting');
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute('aria-label', 'Upload of ' + file.name);
  st.setAttribute('role', 'status');
  li.append(el('span', 'fname', file.name), el('span', 'fsize', size(file.size)), bar, pct, st);
  // Keep the list short: forget the oldest successful uploads.
  while (queueEl.children.length >= 20 && queueEl.firstChild.classList.contains('ok')) queueEl.firstChild.remove();
  queueEl.append(li);
  return {
    set(p) { bar.value = Math.round(p * 100); pct.textContent = bar.value + '%'; },
    state(cls, text) { li.className = cls; st.textContent = text; },
  };
}

function upload({file, ui}) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', fileUrl(file.name));
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && e.total) ui.set(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        ui.set(1);
        ui.state('ok', xhr.status === 204 ? 'done (replaced)' : 'done');
      } else {
        ui.state('bad', 'failed: ' + reason(xhr.status, xhr.responseText));
      }
      resolve();
    };
    xhr.onerror = xhr.onabort = () => { ui.state('bad', 'failed: connection lost'); resolve(); };
    ui.state('busy', 'uploading');
    xhr.send(file);
  });
}

const drop = $('drop'), picker = $('files');
picker.onchange = () => { add([...picker.files]); picker.value = ''; };
for (const t of ['dragenter', 'dragover']) {
  drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); });
}
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  add([...e.dataTransfer.files]);
});
// A file dropped beside the zone must not make the browser leave the page.
for (const t of ['dragover', 'drop']) window.addEventListener(t, (e) => e.preventDefault());

/* ---------- Live log ---------- */
const logEl = $('log'), latest = $('latest'), waitingEl = $('waiting'), pauseBtn = $('pause');
let lines = [];    // shown: {el, lv, text}, oldest first, at most MAX_LINES
let pending = [];  // received, not shown yet (the next frame, or while paused)
let paused = false, stick = true, scheduled = false, minLevel = 10, needle = '';

function receive(rec) {
  pending.push(rec);
  if (pending.length >= 2 * MAX_LINES) pending = pending.slice(-MAX_LINES);
  if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
}

// One DOM update per frame, however many records arrived.
function flush() {
  scheduled = false;
  if (pending.length > MAX_LINES) pending = pending.slice(-MAX_LINES);
  waitingEl.textContent = paused && pending.length ? pending.length + ' waiting' : '';
  if (paused || !pending.length) return;
  const frag = document.createDocumentFragment();
  for (const rec of pending) {
    const line = make(rec);
    lines.push(line);
    frag.append(line.el);
  }
  pending = [];
  logEl.append(frag);
  if (lines.length > MAX_LINES) for (const line of lines.splice(0, lines.length - MAX_LINES)) line.el.remove();
  follow();
}

function make(rec) {
  const d = el('div', 'l');
  if ('dropped' in rec) {
    const n = Number(rec.dropped);
    d.className = 'l dropped';
    d.textContent = `${n} line${n === 1 ? '' : 's'} dropped: this viewer fell behind`;
    return {el: d, meta: true};
  }
  const level = String(rec.level), time = clock(rec.t), name = String(rec.name || ''), msg = String(rec.msg);
  const lv = LEVELS[level] || 20;
  if (LEVELS[level]) d.classList.add(level.toLowerCase());
  d.append(el('span', 't', time), ' ', el('span', 'lv', level), ' ', el('span', 'n', name), ' ', msg);
  const line = {el: d, lv, text: `${time} ${level} ${name} ${msg}`.toLowerCase()};
  d.hidden = !shows(line);
  return line;
}

const shows = (line) => line.meta || (line.lv >= minLevel && line.text.includes(needle));

function follow() {
  if (stick) logEl.scrollTop = logEl.scrollHeight;
  else latest.hidden = false;
}

function refilter() {
  minLevel = Number($('level').value);
  needle = $('filter').value.trim().toLowerCase();
  for (const line of lines) line.el.hidden = !shows(line);
  follow();
}

// Auto-scroll while the view is at the bottom; scrolling up pauses it.
logEl.addEventListener('scroll', () => {
  stick = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 8;
  if (stick) latest.hidden = true;
});
latest.onclick = () => { stick = true; latest.hidden = true; follow(); };
$('level').onchange = refilter;
$('filter').oninput = refilter;
pauseBtn.onclick = () => {
  paused = !paused;
  pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  pauseBtn.setAttribute('aria-pressed', paused);
  flush();
};
$('clear').onclick = () => { lines = []; pending = []; logEl.replaceChildren(); flush(); };

/* ---------- Connection ---------- */
const stateEl = $('state');
const seen = new Set(), order = [];  // recent record keys, to skip history seen already
let delay = 0.5, everLive = false, catchingUp = false;

function setState(cls, text, countdown) {
  stateEl.className = 'state ' + cls;
  stateEl.replaceChildren(text);
  // The countdown is visible but not announced every second.
  if (countdown) stateEl.append(el('span', null, countdown));
  if (countdown) stateEl.lastChild.setAttribute('aria-hidden', 'true');
}

function accept(rec) {
  if (!('dropped' in rec)) {
    const key = `${rec.t}|${rec.name}|${rec.msg}`;
    // After a reconnect the server replays its history: skip what is shown already.
    if (catchingUp && seen.has(key)) return;
    catchingUp = false;
    seen.add(key);
    order.push(key);
    if (order.length > 2 * MAX_LINES) seen.delete(order.shift());
  }
  receive(rec);
}

// A browser's WebSocket cannot send Authorization: behind --auth it carries the token that
// /ws/token gives this page (the fetch sends the credentials the browser has); null without.
async function wsUrl(path) {
  const res = await fetch('/ws/token', {cache: 'no-store'});
  const token = res.ok ? (await res.json()).token : null;
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path +
    (token ? '?token=' + encodeURIComponent(token) : '');
}

async function connect() {
  setState('wait', 'connecting…');
  let url;
  try { url = await wsUrl('/ws/log'); } catch (e) { return retry(); }
  const ws = new WebSocket(url);
  ws.onopen = () => {
    delay = 0.5;
    catchingUp = everLive;
    everLive = true;
    setState('live', 'live');
  };
  ws.onmessage = (e) => {
    let rec;
    try { rec = JSON.parse(e.data); } catch (err) { rec = null; }
    accept(rec && typeof rec === 'object' ? rec : {t: Date.now() / 1000, level: 'WARNING', name: 'page', msg: String(e.data)});
  };
  ws.onclose = retry;
}

// Exponential backoff: 0.5 s doubling to 10 s, each wait jittered by +-20 %.
function retry() {
  const until = Date.now() + delay * (0.8 + 0.4 * Math.random()) * 1000;
  delay = Math.min(delay * 2, 10);
  (function tick() {
    const left = until - Date.now();
    if (left <= 0) return connect();
    setState('retry', 'reconnecting', ` in ${Math.ceil(left / 1000)} s`);
    setTimeout(tick, Math.min(left, 250));
  })();
}

refresh();
connect();
