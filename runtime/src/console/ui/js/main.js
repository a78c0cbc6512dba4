// The console's shell: session, hash routes, the sidebar, the shortcuts help, and the pages.
//   #/tables                      the tables list
//   #/tables/<name>/<tab>         a table (overview, items, indexes, backups, ttl, stream, transfer, metrics, cost)
//   #/functions                   functions, versions, routes, triggers, logs

import { html, render, useState, useEffect, useLoad, Toasts, installKeys, useKey, Dialog, fmtInt, tableHref, navigate } from './ui.js';
import * as api from './api.js';
import { TablesPage } from './tables.js';
import { TablePage } from './table.js';
import { FunctionsPage } from './functions.js';

function parseRoute() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'functions') return { page: 'functions', fn: parts[1] || null };
  if (parts[0] === 'tables' && parts[1]) return { page: 'table', table: parts[1], tab: parts[2] || 'overview' };
  return { page: 'tables' };
}

function Sidebar({ route, tables }) {
  const [filter, setFilter] = useState('');
  const shown = (tables || []).filter((t) => t.name.toLowerCase().includes(filter.toLowerCase()));
  return html`<nav class="sidebar" aria-label="Console">
    <a class=${`nav-link ${route.page === 'tables' ? 'active' : ''}`} href="#/tables">Tables <span class="count">${tables ? fmtInt(tables.length) : ''}</span></a>
    <a class=${`nav-link ${route.page === 'functions' ? 'active' : ''}`} href="#/functions">Functions</a>
    <div class="section">Tables</div>
    ${tables && tables.length > 8 ? html`<input aria-label="Filter tables" placeholder="Filter…" value=${filter} onInput=${(e) => setFilter(e.target.value)} style=${{ margin: '0 6px 6px' }} />` : null}
    ${shown.map((t) => html`<a key=${t.name} class=${`nav-link nav-table ${route.table === t.name ? 'active' : ''}`} href=${tableHref(t.name, route.table === t.name ? route.tab : 'items')} title=${t.name}>${t.name}</a>`)}
  </nav>`;
}

// The region switch: the regions that have tables and the server's (GET regions), and
// "Other…" for a region with no tables yet. Switching reloads the console in that region.
function RegionSwitch({ current }) {
  const regions = useLoad(() => api.get('regions'), []);
  const list = regions.data ? regions.data.regions : [current];
  const names = list.includes(current) ? list : [...list, current].sort();
  const choose = (value) => {
    let r = value;
    if (r === '') {
      r = (window.prompt('Region name (such as eu-west-1)') || '').trim();
      if (!/^[a-z0-9-]{1,64}$/.test(r)) return;
    }
    api.setRegion(r);
    window.location.hash = '#/tables';
    window.location.reload();
  };
  return html`<label class="region small" title="Tables are regional: each region has its own">Region
    <select aria-label="Region" value=${current} onChange=${(e) => choose(e.target.value)}>
      ${names.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}
      <option value="">Other…</option>
    </select>
  </label>`;
}

function Help({ onClose }) {
  const keys = [
    ['?', 'this help'], ['g t', 'go to tables'], ['g f', 'go to functions'], ['/', 'focus the search or query field'],
    ['n', 'new table (tables) or new item (items)'], ['r', 'refresh'], ['1 … 9', 'switch tab on a table page'],
    ['j / k', 'next / previous row'], ['Enter', 'open the focused row'], ['[ / ]', 'previous / next page of items'],
    ['Esc', 'close a dialog'],
  ];
  return html`<${Dialog} title="Keyboard shortcuts" onClose=${onClose}>
    <div class="keys">${keys.map(([k, d]) => html`<span>${k.split(' ').map((x) => html`<kbd>${x}</kbd> `)}</span><span>${d}</span>`)}</div>
  <//>`;
}

function App({ session }) {
  const [route, setRoute] = useState(parseRoute());
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useKey('?', () => setHelp(true));
  const tables = useLoad(() => api.get('tables'), [], 3000, (d) => !d || d.tables.some((t) => t.status !== 'ACTIVE' || t.restoring));
  const list = tables.data ? tables.data.tables : null;
  let page;
  if (route.page === 'table') {
    page = html`<${TablePage} key=${route.table} name=${route.table} tab=${route.tab} tables=${tables} />`;
  } else if (route.page === 'functions') {
    page = html`<${FunctionsPage} fn=${route.fn} />`;
  } else {
    page = html`<${TablesPage} tables=${tables} />`;
  }
  useEffect(() => {
    document.title = route.page === 'table' ? `${route.table} · tarn console` : route.page === 'functions' ? 'Functions · tarn console' : 'Tables · tarn console';
  }, [route]);
  return html`<div class="shell">
    <header class="topbar">
      <div class="brand"><span class="brand-mark" aria-hidden="true"></span><a href="#/tables">tarn console</a></div>
      ${session.dynamodb_endpoint ? html`<span class="endpoint" title="Point the AWS CLI, boto3 or any SDK here">DynamoDB API: http://${session.dynamodb_endpoint} · ${session.region}</span>` : null}
      <${RegionSwitch} current=${session.region} />
      ${session.node ? html`<span class="node" data-node=${session.node} title=${'This cluster node serves the console; its tables are the engine\'s (' + session.engine + '). Function logs are this node\'s.'}>node ${session.node}</span>` : null}
      <span class="spacer"></span>
      <button type="button" class="btn link small" onClick=${() => setHelp(true)} title="Keyboard shortcuts">Shortcuts <kbd>?</kbd></button>
      <span class="muted small">tarn ${session.version}</span>
      <button type="button" class="btn small" onClick=${() => api.logout()}>Sign out</button>
    </header>
    <${Sidebar} route=${route} tables=${list} />
    <main class="main" id="main">${page}</main>
    ${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}
    <${Toasts} />
  </div>`;
}

async function start() {
  installKeys(navigate);
  try {
    const session = await api.session();
    render(html`<${App} session=${session} />`, document.getElementById('app'));
  } catch (e) {
    if (e.status !== 401) {
      render(html`<p class="boot">The console could not start: ${String(e)}</p>`, document.getElementById('app'));
    }
  }
}

start();
