// Metrics from tarn's in-memory history (the last hour, one point per 10-second step; each
// point's counts are of its step alone):
// - the table's Metrics tab (GET /console/api/tables/<name>/metrics): requests per operation,
//   latency p50/p99 of an operation, consumed read and write capacity, throttles and errors,
//   item count and storage;
// - a function's charts on the Functions page (GET /console/api/functions/<name>/metrics):
//   invocations, errors and throttles, duration p50/p99, instantiation p50/p99.

import { html, useState, useLoad, ErrorBox, Spinner, Card, fmtInt, fmtBytes, fmtMs } from './ui.js';
import * as api from './api.js';
import { Chart } from './chart.js';

const sum = (xs) => xs.reduce((a, b) => a + (b || 0), 0);
const last = (xs) => { for (let i = xs.length - 1; i >= 0; i -= 1) if (xs[i] !== null && xs[i] !== undefined) return xs[i]; return null; };
const column = (points, f) => points.map((p) => { const v = f(p); return v === undefined ? null : v; });

function Footnote({ step }) {
  return html`<p class="muted small">The last hour, ${step}-second steps, kept in memory by tarn (a restart starts it afresh); the newest step shows once it closes.</p>`;
}

export function MetricsTab({ name }) {
  const m = useLoad(() => api.get(`tables/${encodeURIComponent(name)}/metrics`), [name], 10000);
  const [chosen, setChosen] = useState('');
  if (!m.data) return m.error ? html`<${ErrorBox} error=${m.error} />` : html`<${Spinner} />`;
  const { step_seconds: step, points } = m.data;
  const times = points.map((p) => p.t);
  const col = (f) => column(points, f);
  const ops = [...new Set(points.flatMap((p) => Object.keys(p.requests || {})))].sort();
  const total = (op) => sum(col((p) => (p.requests || {})[op] ?? 0));
  const busiest = ops.reduce((a, op) => (a === null || total(op) > total(a) ? op : a), null);
  const latencyOp = ops.includes(chosen) ? chosen : busiest;
  const requests = ops.map((op) => ({ label: op, values: col((p) => (p.requests || {})[op] ?? 0) }));
  const perSecond = (f) => col((p) => f(p) / step);
  const errors = sum(col((p) => p.user_errors + p.system_errors));
  return html`<div id="table-metrics">
    <${ErrorBox} error=${m.error} />
    <div class="cards" id="metrics-totals">
      ${ops.length === 0 ? html`<${Card} label="Requests" value="0" sub="in the last hour" />`
        : ops.map((op) => html`<${Card} label=${op} value=${fmtInt(total(op))} sub="requests, last hour" />`)}
      <${Card} label="Errors" value=${fmtInt(errors)} sub=${`${fmtInt(sum(col((p) => p.throttled_requests)))} throttled · ${fmtInt(sum(col((p) => p.conditional_check_failed_requests)))} conditions failed`} />
      <${Card} label="Items" value=${fmtInt(last(col((p) => p.item_count)))} />
      <${Card} label="Storage" value=${fmtBytes(last(col((p) => p.size_bytes)))} />
    </div>
    <div class="charts">
      <${Chart} id="chart-requests" title=${`Requests per operation (per ${step} s step)`} times=${times}
        series=${requests.length ? requests : [{ label: 'requests', values: col(() => 0) }]} />
      <div class="chart-wrap">
        <${Chart} id="chart-latency" title=${`Latency of successful ${latencyOp || 'requests'}`} unit="ms" times=${times}
          series=${[{ label: 'p50', values: col((p) => p.latency_ms?.[latencyOp]?.p50) }, { label: 'p99', values: col((p) => p.latency_ms?.[latencyOp]?.p99) }]} />
        ${ops.length > 1 ? html`<label class="chart-pick"><span class="sr-only">Operation</span>
          <select id="latency-op" value=${latencyOp} onChange=${(e) => setChosen(e.target.value)}>
            ${ops.map((op) => html`<option value=${op}>${op}</option>`)}
          </select></label>` : null}
      </div>
      <${Chart} id="chart-capacity" title="Consumed capacity (units per second)" times=${times}
        series=${[{ label: 'read (RCU)', values: perSecond((p) => p.read_capacity_units) }, { label: 'write (WCU)', values: perSecond((p) => p.write_capacity_units) }]} />
      <${Chart} id="chart-errors" title=${`Throttles and errors (per ${step} s step)`} times=${times}
        series=${[{ label: 'throttled', values: col((p) => p.throttled_requests) }, { label: 'user errors', values: col((p) => p.user_errors) },
          { label: 'system errors', values: col((p) => p.system_errors) }, { label: 'conditions failed', values: col((p) => p.conditional_check_failed_requests) }]} />
      <${Chart} id="chart-items" title="Item count" times=${times} series=${[{ label: 'items', values: col((p) => p.item_count) }]} />
      <${Chart} id="chart-storage" title="Storage" unit="B" times=${times} series=${[{ label: 'bytes', values: col((p) => p.size_bytes) }]} />
    </div>
    <${Footnote} step=${step} />
  </div>`;
}

/** The last hour of one function: invocations, errors, duration and instantiation time. */
export function FunctionMetrics({ name }) {
  const m = useLoad(() => api.get(`functions/${encodeURIComponent(name)}/metrics`), [name], 10000);
  if (!m.data) return m.error ? html`<${ErrorBox} error=${m.error} />` : html`<${Spinner} />`;
  const { step_seconds: step, points } = m.data;
  const times = points.map((p) => p.t);
  const col = (f) => column(points, f);
  const recent = [...points].reverse().find((p) => p.duration_ms);
  return html`<div class="panel" id="function-metrics"><div class="panel-head"><h2><span class="mono">${name}</span> over the last hour</h2></div>
    <div class="panel-body">
      <div class="cards">
        <${Card} label="Invocations" value=${fmtInt(sum(col((p) => p.invocations)))} sub="last hour" />
        <${Card} label="Errors" value=${fmtInt(sum(col((p) => p.errors)))} sub=${`${fmtInt(sum(col((p) => p.throttles)))} throttled`} />
        <${Card} label="Duration p50 / p99" value=${recent ? `${fmtMs(recent.duration_ms.p50)} / ${fmtMs(recent.duration_ms.p99)}` : '—'} sub="latest step with invocations" />
        <${Card} label="Instantiation p50 / p99" value=${recent?.instantiation_ms ? `${fmtMs(recent.instantiation_ms.p50)} / ${fmtMs(recent.instantiation_ms.p99)}` : '—'} sub="latest step with invocations" />
      </div>
      <div class="charts">
        <${Chart} id="chart-invocations" title=${`Invocations and errors (per ${step} s step)`} times=${times}
          series=${[{ label: 'invocations', values: col((p) => p.invocations) }, { label: 'errors', values: col((p) => p.errors) }, { label: 'throttled', values: col((p) => p.throttles) }]} />
        <${Chart} id="chart-duration" title="Duration" unit="ms" times=${times}
          series=${[{ label: 'p50', values: col((p) => p.duration_ms?.p50) }, { label: 'p99', values: col((p) => p.duration_ms?.p99) }]} />
        <${Chart} id="chart-instantiation" title="Instantiation" unit="ms" times=${times}
          series=${[{ label: 'p50', values: col((p) => p.instantiation_ms?.p50) }, { label: 'p99', values: col((p) => p.instantiation_ms?.p99) }]} />
      </div>
      <${Footnote} step=${step} />
    </div></div>`;
}
