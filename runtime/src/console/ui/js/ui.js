// Shared pieces of the console's pages: Preact + htm (vendored, loaded as globals), formatting,
// dialogs, toasts, badges, type tags, errors, polling, and the keyboard shortcut registry.
// Every piece of data reaches the page as text through Preact, which escapes it: no page builds
// HTML from strings.

export const { h, render, Fragment } = window.preact;
export const { useState, useEffect, useRef, useCallback, useMemo, useReducer } = window.preactHooks;
export const html = window.htm.bind(h);

// Formatting.

const nf = new Intl.NumberFormat();
export const fmtInt = (n) => (n === undefined || n === null || Number.isNaN(n) ? '—' : nf.format(n));

export function fmtBytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function fmtMoney(n, currency = 'USD') {
  if (n === undefined || n === null) return '—';
  const digits = n !== 0 && Math.abs(n) < 1 ? 4 : 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

const pad2 = (n) => String(n).padStart(2, '0');

/** A time (seconds or milliseconds since the epoch, or a Date) as local "YYYY-MM-DD HH:MM:SS". */
export function fmtTime(t, unit = 's') {
  if (t === undefined || t === null || t === '') return '—';
  const d = t instanceof Date ? t : new Date(typeof t === 'string' ? t : Number(t) * (unit === 's' ? 1000 : 1));
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** "12 s ago", "3 min ago"... */
export function fmtAgo(ms) {
  if (ms === undefined || ms === null) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function fmtMs(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

// Small components.

const STATUS = {
  ACTIVE: 'ok', ENABLED: 'ok', AVAILABLE: 'ok', COMPLETED: 'ok',
  CREATING: 'warn', UPDATING: 'warn', ENABLING: 'warn', DISABLING: 'warn', IN_PROGRESS: 'warn', DELETING: 'err',
  FAILED: 'err', CANCELLED: 'err', DISABLED: '', ARCHIVED: '',
};

export function Badge({ status, children }) {
  const s = status || children;
  return html`<span class=${`badge ${STATUS[s] ?? 'info'}`}>${children ?? status}</span>`;
}

export function TypeTag({ type }) {
  return html`<span class=${`t t-${type}`} title=${`type ${type}`}>${type}</span>`;
}

export function Spinner({ label }) {
  return html`<span class="row muted small"><span class="spinner" aria-hidden="true"></span>${label || 'Loading…'}</span>`;
}

/** An error from tarn, shown with DynamoDB's exception name and message. */
export function ErrorBox({ error }) {
  if (!error) return null;
  const kind = error.kind || error.name || 'Error';
  return html`<div class="alert err" role="alert"><span class="kind">${kind}</span>: ${error.message || String(error)}</div>`;
}

export function Progress({ value, max }) {
  if (!max) return html`<div class="progress indeterminate" role="progressbar"><div></div></div>`;
  const pct = Math.max(0, Math.min(100, (100 * value) / max));
  return html`<div class="progress" role="progressbar" aria-valuenow=${Math.round(pct)} aria-valuemin="0" aria-valuemax="100"><div style=${{ width: `${pct}%` }}></div></div>`;
}

export function Card({ label, value, sub }) {
  return html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div>${sub ? html`<div class="sub">${sub}</div>` : null}</div>`;
}

export function Seg({ value, options, onChange, label }) {
  return html`<div class="seg" role="group" aria-label=${label}>
    ${options.map(([v, text]) => html`<button type="button" class=${value === v ? 'on' : ''} aria-pressed=${value === v} onClick=${() => onChange(v)}>${text}</button>`)}
  </div>`;
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Esc closes). `onClose` runs when it is
 * dismissed; `foot` holds its buttons.
 */
export function Dialog({ title, onClose, children, foot, wide, label }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const cancel = (e) => { e.preventDefault(); onClose(); };
    d.addEventListener('cancel', cancel);
    return () => d.removeEventListener('cancel', cancel);
  }, []);
  return html`<dialog ref=${ref} class=${wide ? 'wide' : ''} aria-label=${label || title}>
    <div class="dialog-head"><h2>${title}</h2><button type="button" class="btn link" aria-label="Close" onClick=${onClose}>✕</button></div>
    <div class="dialog-body">${children}</div>
    ${foot ? html`<div class="dialog-foot">${foot}</div>` : null}
  </dialog>`;
}

/** Asks to type `word` before a destructive action; calls `onConfirm` (which may throw an ApiError). */
export function ConfirmDialog({ title, message, word, action = 'Delete', onConfirm, onClose }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const ok = !word || typed === word;
  const go = async (e) => {
    e?.preventDefault();
    if (!ok || busy) return;
    setBusy(true); setError(null);
    try { await onConfirm(); onClose(); } catch (err) { setError(err); setBusy(false); }
  };
  return html`<${Dialog} title=${title} onClose=${onClose}
      foot=${html`<button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" form="confirm-form" class="btn danger solid" disabled=${!ok || busy}>${busy ? 'Working…' : action}</button>`}>
    <form id="confirm-form" class="stack" onSubmit=${go}>
      <p>${message}</p>
      ${word ? html`<div class="field"><label for="confirm-word">Type <strong>${word}</strong> to confirm</label>
        <input id="confirm-word" autocomplete="off" spellcheck="false" value=${typed} onInput=${(e) => setTyped(e.target.value)} autofocus /></div>` : null}
      <${ErrorBox} error=${error} />
    </form>
  <//>`;
}

// Toasts.

let toastListener = null;
export function toast(text, kind = '') {
  if (toastListener) toastListener({ text, kind, id: Math.random() });
}

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    toastListener = (t) => {
      setItems((xs) => [...xs, t]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== t.id)), t.kind === 'err' ? 7000 : 3500);
    };
    return () => { toastListener = null; };
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite">${items.map((t) => html`<div key=${t.id} class=${`toast ${t.kind}`}>${t.text}</div>`)}</div>`;
}

// Data loading.

/**
 * Loads `load()` now and whenever `deps` change; with `every` (ms), again on that interval while
 * `poll(data)` says so (default: always). Returns {data, error, loading, reload}.
 */
export function useLoad(load, deps, every = 0, poll = () => true) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++gen.current;
    try {
      const data = await load();
      if (mine === gen.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === gen.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    reload();
  }, [reload]);
  useEffect(() => {
    if (!every) return undefined;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible' && poll(state.data)) reload();
    }, every);
    return () => clearInterval(id);
  }, [reload, every, state.data]);
  return { ...state, reload };
}

// Keyboard shortcuts: pages register handlers for single keys; typing in a field never triggers
// them. "g" then a letter navigates.

const handlers = new Map();
let pendingG = false;

/** Registers `fn` for `key` while the calling component is mounted (the latest `fn` runs). */
export function useKey(key, fn) {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    const run = (e) => latest.current(e);
    const list = handlers.get(key) || [];
    list.push(run);
    handlers.set(key, list);
    return () => {
      const l = handlers.get(key) || [];
      l.splice(l.indexOf(run), 1);
    };
  }, [key]);
}

function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

export function installKeys(navigate) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e) || document.querySelector('dialog[open]')) return;
    if (pendingG) {
      pendingG = false;
      const to = { t: '#/tables', f: '#/functions' }[e.key];
      if (to) { e.preventDefault(); navigate(to); }
      return;
    }
    if (e.key === 'g') { pendingG = true; setTimeout(() => { pendingG = false; }, 1200); return; }
    const list = handlers.get(e.key);
    if (list && list.length) {
      e.preventDefault();
      list[list.length - 1](e);
    }
  });
}

/** Moves focus between rows of a table with j/k (and arrow keys), Enter opens. */
export function rowKeys(e, onOpen) {
  const row = e.currentTarget;
  if (e.key === 'Enter') { e.preventDefault(); onOpen(); return; }
  let next = null;
  if (e.key === 'j' || e.key === 'ArrowDown') next = row.nextElementSibling;
  if (e.key === 'k' || e.key === 'ArrowUp') next = row.previousElementSibling;
  if (next) { e.preventDefault(); e.stopPropagation(); next.focus(); }
}

/** Goes to a hash route. */
export function navigate(hash) {
  if (window.location.hash !== hash) window.location.hash = hash;
}

/** A table name is safe in a hash route; still, encode it. */
export const tableHref = (name, tab) => `#/tables/${encodeURIComponent(name)}${tab ? `/${tab}` : ''}`;
