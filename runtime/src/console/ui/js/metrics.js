// The Metrics tab: the table's last hour at 10-second resolution from tarn's metrics history
// (GET /console/api/tables/<name>/metrics): requests per operation, latency p50/p99, consumed
// read and write capacity, throttles and errors, item count and storage.

import { html, useLoad, ErrorBox, Spinner, Card, fmtInt, fmtBytes } from './ui.js';
import * as api from './api.js';
import { Chart } from './chart.js';

const sum = (xs) => xs.reduce((a, b) => a + (b || 0), 0);
const last = (xs) => { for (let i = xs.length - 1; i >= 0; i -= 1) if (xs[i] !== null && xs[i] !== undefined) return xs[i]; return null; };

export function MetricsTab({ name }) {
  const m = useLoad(() => api.get(`tables/${encodeURIComponent(name)}/metrics`), [name], 10000);
  if (!m.data) return m.error ? html`<${ErrorBox} error=${m.error} />` : html`<${Spinner} />`;
  const { step_seconds: step, points } = m.data;
  const times = points.map((p) => p.t);
  const col = (f) => points.map((p) => { const v = f(p); return v === undefined ? null : v; });
  const ops = [...new Set(points.flatMap((p) => Object.keys(p.requests || {})))].sort();
  const requests = ops.map((op) => ({ label: op, values: col((p) => (p.requests || {})[op] ?? 0) }));
  const total = (op) => sum(col((p) => (p.requests || {})[op] ?? 0));
  const perSecond = (f) => col((p) => { const v = f(p); return v === null || v === undefined ? null : v / step; });
  return html`<div>
    <${ErrorBox} error=${m.error} />
    <div class="cards" id="metrics-totals">
      ${ops.length === 0 ? html`<${Card} label="Requests" value="0" sub="in the last hour" />` : ops.map((op) => html`<${Card} label=${op} value=${fmtInt(total(op))} sub="requests, last hour" />`)}
      <${Card} label="Items" value=${fmtInt(last(col((p) => p.items)))} />
      <${Card} label="Storage" value=${fmtBytes(last(col((p) => p.bytes)))} />
    </div>
    <div class="charts">
      <${Chart} id="chart-requests" title=${`Requests per operation (per ${step} s)`} times=${times} series=${requests.length ? requests : [{ label: 'requests', values: col(() => 0) }]} />
      <${Chart} id="chart-latency" title="Latency" unit="ms" times=${times} series=${[{ label: 'p50', values: col((p) => p.latency_p50_ms) }, { label: 'p99', values: col((p) => p.latency_p99_ms) }]} />
      <${Chart} id="chart-capacity" title="Consumed capacity (units per second)" times=${times} series=${[{ label: 'read (RCU)', values: perSecond((p) => p.read_units) }, { label: 'write (WCU)', values: perSecond((p) => p.write_units) }]} />
      <${Chart} id="chart-errors" title=${`Throttles and errors (per ${step} s)`} times=${times} series=${[{ label: 'throttled', values: col((p) => p.throttles) }, { label: 'user errors', values: col((p) => p.user_errors) }, { label: 'system errors', values: col((p) => p.system_errors) }]} />
      <${Chart} id="chart-items" title="Item count" times=${times} series=${[{ label: 'items', values: col((p) => p.items) }]} />
      <${Chart} id="chart-storage" title="Storage" unit="B" times=${times} series=${[{ label: 'bytes', values: col((p) => p.bytes) }]} />
    </div>
    <p class="muted small">The last hour, ${step}-second steps, kept in memory by tarn (a restart starts it afresh). Latency is the server's time per successful request.</p>
  </div>`;
}
