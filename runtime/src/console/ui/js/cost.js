// The Cost tab: what this table would cost a month on Amazon DynamoDB, in on-demand and in
// provisioned mode, from its consumed capacity (the metrics history) and its storage, at the
// us-east-1 list prices of tarn's price file (its date is shown).

import { html, useLoad, ErrorBox, Spinner, fmtInt, fmtMoney, fmtBytes } from './ui.js';
import * as api from './api.js';

export function CostTab({ name }) {
  const cost = useLoad(() => api.get(`tables/${encodeURIComponent(name)}/cost`), [name], 10000);
  if (!cost.data) return cost.error ? html`<${ErrorBox} error=${cost.error} />` : html`<${Spinner} />`;
  const { usage: u, estimate: e, prices: p } = cost.data;
  const money = (n) => fmtMoney(n, p.currency);
  const minutes = Math.round(u.window_seconds / 60);
  const row = (label, od, pv, cls = '') => html`<tr class=${cls}><td>${label}</td><td class="num">${od}</td><td class="num">${pv}</td></tr>`;
  return html`<div>
    <${ErrorBox} error=${cost.error} />
    <div class="cards">
      <div class="card"><div class="label">On-demand</div><div class="value" id="cost-on-demand">${money(e.total_on_demand)}</div><div class="sub">per month</div></div>
      <div class="card"><div class="label">Provisioned (sized to peak)</div><div class="value" id="cost-provisioned">${money(e.total_provisioned)}</div><div class="sub">per month · ${fmtInt(e.provisioned.read_units)} RCU, ${fmtInt(e.provisioned.write_units)} WCU</div></div>
      ${e.configured ? html`<div class="card"><div class="label">As configured</div><div class="value">${money(e.configured.reads + e.configured.writes + e.storage + e.pitr + e.backups)}</div><div class="sub">${fmtInt(e.configured.read_units)} RCU, ${fmtInt(e.configured.write_units)} WCU</div></div>` : null}
      <div class="card"><div class="label">Billed storage</div><div class="value">${fmtBytes(e.storage_gb * 2 ** 30)}</div><div class="sub">${fmtInt(u.billed_items)} items and index entries</div></div>
    </div>
    <div class="panel"><div class="panel-head"><h2>Per month on DynamoDB (${p.region})</h2></div>
      <div class="panel-body flush table-wrap">
        <table class="data cost" aria-label="Monthly cost">
          <thead><tr><th></th><th class="num">On-demand</th><th class="num">Provisioned</th></tr></thead>
          <tbody>
            ${row('Reads', html`${money(e.on_demand.reads)} <span class="muted small">${fmtInt(Math.round(e.on_demand.read_units))} RRU</span>`, html`${money(e.provisioned.reads)} <span class="muted small">${fmtInt(e.provisioned.read_units)} RCU</span>`)}
            ${row('Writes', html`${money(e.on_demand.writes)} <span class="muted small">${fmtInt(Math.round(e.on_demand.write_units))} WRU</span>`, html`${money(e.provisioned.writes)} <span class="muted small">${fmtInt(e.provisioned.write_units)} WCU</span>`)}
            ${row('Storage', money(e.storage), money(e.storage))}
            ${row('Point-in-time recovery', money(e.pitr), money(e.pitr))}
            ${row('On-demand backups', money(e.backups), money(e.backups))}
            ${row('Total', money(e.total_on_demand), money(e.total_provisioned), 'total')}
          </tbody>
        </table>
      </div>
      <div class="panel-body small muted stack">
        <span>${u.window_seconds > 0
          ? `Traffic: the last ${minutes} minutes (${fmtInt(Math.round(u.read_units))} read and ${fmtInt(Math.round(u.write_units))} write units consumed; busiest 10-second step ${+u.peak_read_per_second.toFixed(2)} RCU / ${+u.peak_write_per_second.toFixed(2)} WCU a second), carried over ${p.hours_per_month} hours.`
          : 'No traffic figures yet: throughput shows as none until the metrics history has some.'}</span>
        <span>Provisioned capacity is sized so the busiest step's rate uses ${Math.round(cost.data.target_utilization * 100)}% of it (auto scaling's default target), at least 1 unit. Storage counts the table and its indexes plus ${p.features.item_overhead_bytes} bytes per item; the free tier (${p.free_tier.storage_gb} GB, ${p.free_tier.provisioned_rcu} RCU and ${p.free_tier.provisioned_wcu} WCU per account) is not subtracted.</span>
        <span id="cost-prices">Prices: ${p.region} list prices in ${p.currency}, ${u.table_class === 'STANDARD_INFREQUENT_ACCESS' ? 'Standard-IA' : 'Standard'} table class, read on ${p.read_on} from ${p.source} (tarn's price file, runtime/src/console/prices.toml).</span>
      </div>
    </div>
  </div>`;
}
