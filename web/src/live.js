// The websocket /api/ws: one socket for the app, reconnected with backoff. Components ask for
// what they show (subscribe(id, spec)) and get the matching entity events; after a reconnect or
// a server "resync" every listener is told to re-read (onResync), since events may be missed.

const subs = new Map(); // id -> spec
const listeners = new Set();
const resyncers = new Set();
let ws = null;
let open = false;
let retry = 500;
let wanted = false;
const statusListeners = new Set();

function send(msg) {
  if (open) ws.send(JSON.stringify(msg));
}

function setStatus(s) {
  for (const fn of statusListeners) fn(s);
}

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
  ws = new WebSocket(url);
  ws.onopen = () => {
    retry = 500;
  };
  ws.onmessage = (m) => {
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    if (ev.type === 'authenticated') {
      open = true; // the cookie authenticated the upgrade; subscriptions may go now
      setStatus('live');
      for (const [id, spec] of subs) send({ type: 'subscribe', id, ...spec });
      for (const fn of resyncers) fn();
    } else if (ev.type === 'resync') {
      for (const fn of resyncers) fn();
    } else if (ev.entityType) {
      for (const fn of listeners) fn(ev);
    }
  };
  ws.onclose = () => {
    open = false;
    ws = null;
    setStatus('offline');
    if (wanted) setTimeout(() => wanted && !ws && connect(), retry);
    retry = Math.min(retry * 2, 10000);
  };
}

export function start() {
  wanted = true;
  if (!ws) connect();
}

export function stop() {
  wanted = false;
  subs.clear();
  if (ws) {
    ws.onclose = null; // a later start() must not be undone by this socket's close event
    ws.close();
  }
  ws = null;
  open = false;
  setStatus('offline');
}

/** Replaces subscription id with spec ({quickIds, prefixes, kinds, events}); null removes it. */
export function subscribe(id, spec) {
  const had = subs.has(id);
  const same = had && JSON.stringify(subs.get(id)) === JSON.stringify(spec);
  if (same) return;
  if (had) send({ type: 'unsubscribe', id });
  if (spec) {
    subs.set(id, spec);
    send({ type: 'subscribe', id, ...spec });
  } else subs.delete(id);
}

export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onResync(fn) {
  resyncers.add(fn);
  return () => resyncers.delete(fn);
}

export function onStatus(fn) {
  statusListeners.add(fn);
  fn(open ? 'live' : 'offline');
  return () => statusListeners.delete(fn);
}
