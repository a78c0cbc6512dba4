// The Functions page: the active version and earlier ones (rollback), the functions with their
// invocations, errors, durations and instantiation time, the routes, the stream mappings
// (processed, failed, checkpoint, iterator age), the schedules (last and next run), and a live
// log tail.

import { html, useState, useEffect, useRef, useLoad, useKey, Badge, Card, ErrorBox, Spinner, fmtInt, fmtMs, fmtTime, toast, ConfirmDialog, navigate } from './ui.js';
import * as api from './api.js';
import { FunctionMetrics } from './metrics.js';

const MAX_LINES = 2000;

function LogTail({ functions, initial }) {
  const [fn, setFn] = useState(initial || '');
  const [live, setLive] = useState(true);
  const [lines, setLines] = useState([]);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState(null);
  const box = useRef(null);
  const stick = useRef(true);
  useEffect(() => { setFn(initial || ''); }, [initial]);
  useEffect(() => {
    setLines([]);
    setError(null);
    const ctl = new AbortController();
    const q = `logs?tail=200${live ? '&follow=1' : ''}${fn ? `&function=${encodeURIComponent(fn)}` : ''}`;
    let pending = [];
    let timer = null;
    const flush = () => {
      timer = null;
      const add = pending;
      pending = [];
      setLines((xs) => { const all = xs.concat(add); return all.length > MAX_LINES ? all.slice(all.length - MAX_LINES) : all; });
    };
    api.follow(q, (line) => {
      pending.push(line);
      if (!timer) timer = setTimeout(flush, 50);
    }, ctl.signal).catch((e) => { if (e.name !== 'AbortError') setError(e); });
    return () => { ctl.abort(); if (timer) clearTimeout(timer); };
  }, [fn, live]);
  useEffect(() => {
    const b = box.current;
    if (b && stick.current) b.scrollTop = b.scrollHeight;
  }, [lines]);
  const onScroll = (e) => { const b = e.currentTarget; stick.current = b.scrollHeight - b.scrollTop - b.clientHeight < 24; };
  const shown = filter ? lines.filter((l) => l.message.toLowerCase().includes(filter.toLowerCase()) || l.request_id.includes(filter)) : lines;
  const time = (ms) => { const d = new Date(ms); return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`; };
  return html`<div class="panel" id="log-tail">
    <div class="panel-head"><h2>Logs ${live ? html`<span class="badge ok">live</span>` : null}</h2>
      <div class="row">
        <label class="sr-only" for="log-fn">Function</label>
        <select id="log-fn" value=${fn} onChange=${(e) => setFn(e.target.value)}>
          <option value="">All functions</option>
          ${functions.map((f) => html`<option value=${f.name}>${f.name}</option>`)}
        </select>
        <label class="sr-only" for="log-filter">Filter</label>
        <input id="log-filter" placeholder="Filter text or request id" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
        <label class="field inline"><input type="checkbox" checked=${live} onChange=${(e) => setLive(e.target.checked)} /> follow</label>
        <button type="button" class="btn small" onClick=${() => setLines([])}>Clear</button>
      </div></div>
    <div class="panel-body">
      <${ErrorBox} error=${error} />
      <div class="log" ref=${box} onScroll=${onScroll} role="log" aria-live="off" aria-label="Function logs">
        ${shown.length === 0 ? html`<div class="muted">No log lines yet${live ? ': new ones appear as functions run.' : '.'}</div>` : shown.map((l, i) => html`<div class="log-line" key=${i}>
          <span class="muted" title=${fmtTime(l.time_ms, 'ms')}>${time(l.time_ms)}</span>
          <span class=${`lvl-${l.level}`}>${l.level}</span>
          <span class="rid" title=${`${l.function} v${l.version} · ${l.request_id} · ${l.stream}`}>${fn ? l.request_id : l.function}</span>
          <span>${l.message}</span>
        </div>`)}
      </div>
    </div>
  </div>`;
}

export function FunctionsPage({ fn }) {
  const data = useLoad(() => api.get('functions'), [], 3000);
  const [rollback, setRollback] = useState(null);
  useKey('r', () => data.reload());
  const d = data.data;
  if (!d) return html`<div><div class="page-head"><h1>Functions</h1></div>${data.error ? html`<${ErrorBox} error=${data.error} />` : html`<${Spinner} />`}</div>`;
  const fns = d.functions || [];
  const invocations = fns.reduce((a, f) => a + f.metrics.invocations, 0);
  const errors = fns.reduce((a, f) => a + f.metrics.errors, 0);
  const streams = d.status?.streams || {};
  const schedules = d.status?.schedules || {};
  return html`<div>
    <div class="page-head"><h1>Functions</h1>
      <button type="button" class="btn" onClick=${() => data.reload()} title="Refresh (r)">Refresh</button></div>
    <${ErrorBox} error=${data.error} />
    <div class="cards">
      <${Card} label="Active version" value=${d.version ? `v${d.version}` : 'none'} sub=${d.version ? `${(d.versions || []).length} versions stored` : 'deploy with tarn deploy or tarn serve --app'} />
      <${Card} label="Functions" value=${fns.length} sub=${`${(d.routes || []).length} routes`} />
      <${Card} label="Invocations" value=${fmtInt(invocations)} sub="since the version loaded" />
      <${Card} label="Errors" value=${fmtInt(errors)} />
    </div>
    <div class="panel"><div class="panel-head"><h2>Functions</h2></div>
      <div class="panel-body flush table-wrap">
        ${fns.length === 0 ? html`<div class="empty">No functions deployed.</div>` : html`
        <table class="data" aria-label="Functions"><thead><tr><th>Name</th><th>Kind</th><th class="num">Invocations</th><th class="num">Errors</th><th class="num">Mean duration</th><th class="num" title="Of the newest 10-second step with invocations">Duration p50 / p99</th><th class="num">Mean instantiation</th><th class="num" title="Of the newest 10-second step with invocations">Instantiation p50 / p99</th><th>Limits</th><th>Tables</th></tr></thead>
          <tbody>${fns.map((f) => html`<tr key=${f.name} class=${`clickable ${fn === f.name ? 'active' : ''}`} tabindex="0" data-function=${f.name}
              onClick=${() => navigate(`#/functions/${encodeURIComponent(f.name)}`)} onKeyDown=${(e) => { if (e.key === 'Enter') navigate(`#/functions/${encodeURIComponent(f.name)}`); }}>
            <td class="mono">${f.name}${fn === f.name ? html` <span class="badge info plain">logs below</span>` : null}</td>
            <td>${f.kind}</td>
            <td class="num">${fmtInt(f.metrics.invocations)}</td>
            <td class="num">${f.metrics.errors ? html`<span style=${{ color: 'var(--err)' }}>${fmtInt(f.metrics.errors)}</span>` : '0'}${f.metrics.timeouts ? html` <span class="muted small">(${f.metrics.timeouts} timeouts)</span>` : null}</td>
            <td class="num">${f.metrics.invocations ? fmtMs(f.metrics.mean_duration_us / 1000) : '—'}</td>
            <td class="num">${f.recent?.duration_ms ? `${fmtMs(f.recent.duration_ms.p50)} / ${fmtMs(f.recent.duration_ms.p99)}` : '—'}</td>
            <td class="num">${f.metrics.invocations ? fmtMs(f.metrics.mean_instantiate_us / 1000) : '—'}</td>
            <td class="num">${f.recent?.instantiation_ms ? `${fmtMs(f.recent.instantiation_ms.p50)} / ${fmtMs(f.recent.instantiation_ms.p99)}` : '—'}</td>
            <td class="small">${f.memory_mb} MB · ${f.timeout_ms} ms</td>
            <td class="small mono">${Object.entries(f.tables || {}).map(([t, a]) => `${t} (${a})`).join(', ') || '—'}</td>
          </tr>`)}</tbody></table>`}
      </div></div>
    <div class="grid2" style=${{ marginTop: '16px' }}>
      <div class="panel"><div class="panel-head"><h2>Routes</h2></div>
        <div class="panel-body flush table-wrap">
          ${(d.routes || []).length === 0 ? html`<div class="empty">No routes.</div>` : html`
          <table class="data" aria-label="Routes"><thead><tr><th>Method</th><th>Path</th><th>Function</th></tr></thead>
            <tbody>${d.routes.map((r) => html`<tr><td class="mono">${r.method || 'any'}</td><td class="mono">${r.path}</td><td class="mono">${r.function}</td></tr>`)}</tbody></table>`}
        </div></div>
      <div class="panel"><div class="panel-head"><h2>Versions</h2></div>
        <div class="panel-body flush table-wrap">
          ${(d.versions || []).length === 0 ? html`<div class="empty">No versions stored.</div>` : html`
          <table class="data" aria-label="Versions"><thead><tr><th>Version</th><th>Created</th><th>From</th><th>Functions</th><th></th></tr></thead>
            <tbody>${[...d.versions].reverse().map((v) => html`<tr key=${v.version}>
              <td>v${v.version} ${v.version === d.version ? html`<${Badge} status="ACTIVE">active<//>` : null}</td>
              <td class="small">${fmtTime(v.created_ms, 'ms')}</td>
              <td class="small">${v.origin}</td>
              <td class="small mono">${v.functions.join(', ')}</td>
              <td>${v.version !== d.version ? html`<button type="button" class="btn small" onClick=${() => setRollback(v.version)}>${v.version < d.version ? 'Roll back' : 'Activate'}</button>` : null}</td>
            </tr>`)}</tbody></table>`}
        </div></div>
    </div>
    <div class="panel"><div class="panel-head"><h2>Stream mappings</h2></div>
      <div class="panel-body flush table-wrap">
        ${(d.mappings || []).length === 0 ? html`<div class="empty">No stream mappings.</div>` : html`
        <table class="data" aria-label="Stream mappings"><thead><tr><th>Table → function</th><th class="num">Processed</th><th class="num">Failed</th><th class="num">Retries</th><th>Checkpoint</th><th class="num">Iterator age</th><th class="num">Delay p50 / p99</th><th>Last error</th></tr></thead>
          <tbody>${d.mappings.map((m) => { const s = streams[m.name] || {}; return html`<tr key=${m.name}>
            <td class="mono">${m.table} → ${m.function}</td>
            <td class="num">${fmtInt(s.processed ?? 0)}</td>
            <td class="num">${fmtInt(s.failed ?? 0)}</td>
            <td class="num">${fmtInt(s.retries ?? 0)}</td>
            <td class="mono small">${s.checkpoint || '—'}</td>
            <td class="num">${s.iterator_age_ms !== undefined ? fmtMs(s.iterator_age_ms) : '—'}</td>
            <td class="num">${s.delay_ms_p50 !== undefined && s.delay_ms_p50 !== null ? `${fmtMs(s.delay_ms_p50)} / ${fmtMs(s.delay_ms_p99)}` : '—'}</td>
            <td class="small">${s.last_error || ''}</td>
          </tr>`; })}</tbody></table>`}
      </div></div>
    <div class="panel"><div class="panel-head"><h2>Schedules</h2></div>
      <div class="panel-body flush table-wrap">
        ${(d.schedules || []).length === 0 ? html`<div class="empty">No schedules.</div>` : html`
        <table class="data" aria-label="Schedules"><thead><tr><th>Cron (UTC, seconds first)</th><th>Function</th><th>Last run</th><th>Next run</th><th class="num">Runs</th><th class="num">Failures</th><th class="num">Skipped</th><th>Last error</th></tr></thead>
          <tbody>${d.schedules.map((c) => { const s = schedules[c.name] || {}; return html`<tr key=${c.name}>
            <td class="mono">${c.cron}</td><td class="mono">${c.function}</td>
            <td class="small" title=${s.last_run || ''}>${s.last_run ? fmtTime(s.last_run) : 'not yet'}</td>
            <td class="small" title=${s.next_run || ''}>${s.next_run ? fmtTime(s.next_run) : '—'}</td>
            <td class="num">${fmtInt(s.runs ?? 0)}</td><td class="num">${fmtInt(s.failures ?? 0)}</td><td class="num">${fmtInt(s.skipped ?? 0)}</td>
            <td class="small">${s.last_error || ''}</td>
          </tr>`; })}</tbody></table>`}
      </div></div>
    ${fn && fns.some((f) => f.name === fn) ? html`<${FunctionMetrics} name=${fn} />` : null}
    <${LogTail} functions=${fns} initial=${fn} />
    ${rollback ? html`<${ConfirmDialog} title=${`Activate version ${rollback}`} action="Activate" message=${`Version ${rollback} becomes the active one: its functions, routes, stream mappings and schedules replace the current ones (requests in flight finish on the version they started on).`}
        onClose=${() => setRollback(null)} onConfirm=${async () => { const r = await api.post('functions/rollback', { version: rollback }); toast(`Version ${r.version} active`); data.reload(); }} />` : null}
  </div>`;
}
