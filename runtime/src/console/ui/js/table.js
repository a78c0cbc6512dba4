// A table's page: its tabs, and the small ones kept here: Overview (settings, capacity, deletion
// protection, delete), TTL and Stream.

import { html, useState, useEffect, useLoad, useKey, Badge, Card, ErrorBox, Spinner, fmtInt, fmtBytes, fmtTime, tableHref, navigate, toast, TypeTag } from './ui.js';
import * as api from './api.js';
import { ItemsTab } from './items.js';
import { IndexesTab } from './indexes.js';
import { BackupsTab } from './backups.js';
import { TransferTab } from './transfer.js';
import { MetricsTab } from './metrics.js';
import { CostTab } from './cost.js';
import { DeleteTableDialog } from './tables.js';
import * as ddb from './ddb.js';

const TABS = [
  ['overview', 'Overview'], ['items', 'Items'], ['indexes', 'Indexes'], ['backups', 'Backups'],
  ['ttl', 'TTL'], ['stream', 'Stream'], ['transfer', 'Export & import'], ['metrics', 'Metrics'], ['cost', 'Cost'],
];

/** The attribute type of `name` in a TableDescription. */
export function attrType(desc, name) {
  const d = (desc.AttributeDefinitions || []).find((a) => a.AttributeName === name);
  return d ? d.AttributeType : 'S';
}

function busy(desc) {
  if (!desc) return true;
  if (desc.TableStatus !== 'ACTIVE') return true;
  return (desc.GlobalSecondaryIndexes || []).some((i) => i.IndexStatus !== 'ACTIVE');
}

export function TablePage({ name, tab }) {
  const table = useLoad(() => api.ddb('DescribeTable', { TableName: name }).then((r) => r.Table), [name], 1500, (d) => busy(d));
  TABS.forEach(([id], i) => useKey(String(i + 1), () => navigate(tableHref(name, id))));
  const desc = table.data;
  let body;
  if (!desc) {
    body = table.error ? html`<${ErrorBox} error=${table.error} />` : html`<${Spinner} />`;
  } else {
    const props = { name, desc, reload: table.reload };
    body = {
      overview: html`<${Overview} ...${props} />`,
      items: html`<${ItemsTab} ...${props} />`,
      indexes: html`<${IndexesTab} ...${props} />`,
      backups: html`<${BackupsTab} ...${props} />`,
      ttl: html`<${TtlTab} ...${props} />`,
      stream: html`<${StreamTab} ...${props} />`,
      transfer: html`<${TransferTab} ...${props} />`,
      metrics: html`<${MetricsTab} ...${props} />`,
      cost: html`<${CostTab} ...${props} />`,
    }[tab] || html`<p>No such tab.</p>`;
  }
  return html`<div>
    <div class="crumbs"><a href="#/tables">Tables</a> /</div>
    <div class="page-head">
      <h1><span class="mono">${name}</span>${desc ? html`<${Badge} status=${desc.TableStatus} />` : null}</h1>
    </div>
    <div class="tabs" role="tablist" aria-label="Table">
      ${TABS.map(([id, label], i) => html`<a role="tab" class=${`tab ${tab === id ? 'active' : ''}`} aria-selected=${tab === id} href=${tableHref(name, id)} title=${`${label} (${i + 1})`}>${label}</a>`)}
    </div>
    ${body}
  </div>`;
}

function keyText(desc, schema) {
  return (schema || []).map((k) => html`<span class="row" style=${{ display: 'inline-flex', marginRight: '12px' }}><span class="mono">${k.AttributeName}</span><${TypeTag} type=${attrType(desc, k.AttributeName)} /><span class="muted small">${k.KeyType === 'HASH' ? 'partition' : 'sort'}</span></span>`);
}

function Overview({ name, desc, reload }) {
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState(null);
  const [mode, setMode] = useState(desc.BillingModeSummary?.BillingMode || 'PROVISIONED');
  const [rcu, setRcu] = useState(desc.ProvisionedThroughput?.ReadCapacityUnits || 5);
  const [wcu, setWcu] = useState(desc.ProvisionedThroughput?.WriteCapacityUnits || 5);
  const billing = desc.BillingModeSummary?.BillingMode || 'PROVISIONED';
  const update = async (req, done) => {
    setError(null);
    try { await api.ddb('UpdateTable', { TableName: name, ...req }); toast(done); reload(); } catch (e) { setError(e); }
  };
  const saveCapacity = (e) => {
    e.preventDefault();
    const req = { BillingMode: mode };
    if (mode === 'PROVISIONED') req.ProvisionedThroughput = { ReadCapacityUnits: Number(rcu), WriteCapacityUnits: Number(wcu) };
    update(req, 'Capacity updated');
  };
  return html`<div>
    <div class="cards">
      <${Card} label="Status" value=${html`<${Badge} status=${desc.TableStatus} />`} sub=${desc.RestoreSummary?.RestoreInProgress ? 'restore in progress' : null} />
      <${Card} label="Items" value=${fmtInt(desc.ItemCount)} sub="exact (DynamoDB's ItemCount is refreshed about every six hours)" />
      <${Card} label="Size" value=${fmtBytes(desc.TableSizeBytes)} />
      <${Card} label="Capacity mode" value=${billing === 'PAY_PER_REQUEST' ? 'On-demand' : 'Provisioned'}
        sub=${billing === 'PAY_PER_REQUEST' ? null : `${desc.ProvisionedThroughput.ReadCapacityUnits} RCU · ${desc.ProvisionedThroughput.WriteCapacityUnits} WCU`} />
    </div>
    <${ErrorBox} error=${error} />
    <div class="grid2">
      <div class="panel"><div class="panel-head"><h2>Details</h2></div><div class="panel-body">
        <dl class="props">
          <dt>Keys</dt><dd>${keyText(desc, desc.KeySchema)}</dd>
          <dt>ARN</dt><dd class="mono small">${desc.TableArn}</dd>
          <dt>Created</dt><dd>${fmtTime(desc.CreationDateTime)}</dd>
          <dt>Table class</dt><dd>${desc.TableClassSummary?.TableClass || 'STANDARD'}</dd>
          <dt>Stream</dt><dd>${desc.StreamSpecification ? desc.StreamSpecification.StreamViewType : 'off'}</dd>
          <dt>Indexes</dt><dd>${(desc.GlobalSecondaryIndexes || []).length} global · ${(desc.LocalSecondaryIndexes || []).length} local</dd>
          ${desc.RestoreSummary ? html`<dt>Restored from</dt><dd class="mono small">${desc.RestoreSummary.SourceBackupArn || desc.RestoreSummary.SourceTableArn} at ${fmtTime(desc.RestoreSummary.RestoreDateTime)}</dd>` : null}
          <dt>Deletion protection</dt><dd class="row">${desc.DeletionProtectionEnabled ? html`<${Badge} status="ENABLED">on<//>` : html`<span class="muted">off</span>`}
            <button type="button" class="btn small" onClick=${() => update({ DeletionProtectionEnabled: !desc.DeletionProtectionEnabled }, desc.DeletionProtectionEnabled ? 'Deletion protection off' : 'Deletion protection on')}>${desc.DeletionProtectionEnabled ? 'Turn off' : 'Turn on'}</button></dd>
        </dl>
      </div></div>
      <div class="panel"><div class="panel-head"><h2>Capacity</h2></div><div class="panel-body">
        <form class="stack" onSubmit=${saveCapacity}>
          <div class="form-grid">
            <div class="field"><label for="cap-mode">Capacity mode</label>
              <select id="cap-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
                <option value="PAY_PER_REQUEST">On-demand</option><option value="PROVISIONED">Provisioned</option>
              </select></div>
            ${mode === 'PROVISIONED' ? html`
              <div class="field"><label for="cap-rcu">Read capacity units</label><input id="cap-rcu" type="number" min="1" value=${rcu} onInput=${(e) => setRcu(e.target.value)} /></div>
              <div class="field"><label for="cap-wcu">Write capacity units</label><input id="cap-wcu" type="number" min="1" value=${wcu} onInput=${(e) => setWcu(e.target.value)} /></div>` : null}
          </div>
          <div><button type="submit" class="btn">Save capacity</button></div>
        </form>
      </div></div>
    </div>
    <div class="panel"><div class="panel-head"><h2>Delete table</h2>
      <button type="button" class="btn danger" onClick=${() => setDeleting(true)}>Delete table…</button></div>
      <div class="panel-body muted small">Deletes the table, its items and its indexes. ${desc.DeletionProtectionEnabled ? 'Deletion protection is on: turn it off first.' : ''}</div>
    </div>
    ${deleting ? html`<${DeleteTableDialog} table=${{ name, deletion_protection: desc.DeletionProtectionEnabled }} onClose=${() => setDeleting(false)} onDeleted=${() => navigate('#/tables')} />` : null}
  </div>`;
}

function TtlTab({ name }) {
  const changing = (d) => !d || d.TimeToLiveStatus === 'ENABLING' || d.TimeToLiveStatus === 'DISABLING';
  const ttl = useLoad(() => api.ddb('DescribeTimeToLive', { TableName: name }).then((r) => r.TimeToLiveDescription), [name], 1500, changing);
  const [attr, setAttr] = useState('');
  const [error, setError] = useState(null);
  const d = ttl.data;
  useEffect(() => { if (d?.AttributeName) setAttr(d.AttributeName); }, [d?.AttributeName]);
  const enabled = d?.TimeToLiveStatus === 'ENABLED' || d?.TimeToLiveStatus === 'ENABLING';
  const change = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.ddb('UpdateTimeToLive', { TableName: name, TimeToLiveSpecification: { Enabled: !enabled, AttributeName: enabled ? d.AttributeName : attr.trim() } });
      toast(enabled ? 'TTL disabled' : 'TTL enabled');
      ttl.reload();
    } catch (err) { setError(err); }
  };
  return html`<div class="panel">
    <div class="panel-head"><h2>Time to live</h2>${d ? html`<${Badge} status=${d.TimeToLiveStatus} />` : null}</div>
    <div class="panel-body stack">
      <p class="muted small">Items whose TTL attribute holds a time (seconds since the epoch) in the past are deleted by tarn's sweeper within about a second. The attribute must be a Number; other items are left alone, as in DynamoDB.</p>
      <${ErrorBox} error=${ttl.error || error} />
      ${d ? html`<form class="row" onSubmit=${change}>
        <div class="field"><label for="ttl-attr">TTL attribute</label>
          <input id="ttl-attr" value=${attr} onInput=${(e) => setAttr(e.target.value)} disabled=${enabled} required spellcheck="false" placeholder="expiresAt" /></div>
        <button type="submit" class=${`btn ${enabled ? 'danger' : 'primary'}`} style=${{ alignSelf: 'flex-end' }} disabled=${changing(d)}
          title=${changing(d) ? 'DynamoDB takes no change while TTL is being turned on or off' : ''}>${enabled ? 'Disable TTL' : 'Enable TTL'}</button>
      </form>` : html`<${Spinner} />`}
      <${TtlDeleted} name=${name} />
    </div>
  </div>`;
}

// Items the sweeper deleted, from the metrics history: the last hour and since tarn started.
function TtlDeleted({ name }) {
  const m = useLoad(() => api.get(`tables/${encodeURIComponent(name)}/metrics`), [name], 10000);
  if (!m.data) return m.error ? html`<${ErrorBox} error=${m.error} />` : null;
  const hour = m.data.points.reduce((a, p) => a + (p.ttl_deleted_items || 0), 0);
  return html`<div class="cards" id="ttl-deleted">
    <${Card} label="Deleted by TTL" value=${fmtInt(hour)} sub="items, last hour" />
    <${Card} label="Deleted by TTL" value=${fmtInt(m.data.ttl_deleted_total)} sub="items, since tarn started" />
  </div>`;
}

function StreamRecord({ r }) {
  const [open, setOpen] = useState(false);
  const d = r.dynamodb || {};
  const image = d.NewImage || d.OldImage;
  return html`<tr class="clickable" tabindex="0" onClick=${() => setOpen(!open)} onKeyDown=${(e) => { if (e.key === 'Enter') setOpen(!open); }}>
    <td class="nowrap small">${fmtTime(d.ApproximateCreationDateTime)}</td>
    <td><${Badge} status=${r.eventName === 'REMOVE' ? 'DELETING' : r.eventName === 'INSERT' ? 'ACTIVE' : 'UPDATING'}>${r.eventName}<//></td>
    <td class="mono small">${ddb.preview({ M: d.Keys || {} }, 80)}</td>
    <td class="mono small">${open
      ? html`<pre style=${{ margin: 0, whiteSpace: 'pre-wrap' }}>${JSON.stringify({ Keys: d.Keys, OldImage: d.OldImage, NewImage: d.NewImage }, null, 2)}</pre>`
      : image ? ddb.preview({ M: image }, 100) : html`<span class="muted">—</span>`}</td>
    <td class="mono small muted">${d.SequenceNumber}</td>
  </tr>`;
}

function StreamTab({ name, desc, reload }) {
  const [auto, setAuto] = useState(true);
  const records = useLoad(() => api.get(`tables/${encodeURIComponent(name)}/stream?limit=50`), [name], auto ? 2000 : 0);
  const [view, setView] = useState(desc.StreamSpecification?.StreamViewType || 'NEW_AND_OLD_IMAGES');
  const [error, setError] = useState(null);
  const enabled = !!desc.StreamSpecification;
  const change = async (spec) => {
    setError(null);
    try { await api.ddb('UpdateTable', { TableName: name, StreamSpecification: spec }); toast(spec.StreamEnabled ? 'Stream enabled' : 'Stream disabled'); reload(); records.reload(); } catch (e) { setError(e); }
  };
  const rs = records.data ? [...records.data.records].reverse() : [];
  return html`<div>
    <div class="panel"><div class="panel-head"><h2>Stream</h2>${enabled ? html`<${Badge} status="ENABLED">${desc.StreamSpecification.StreamViewType}<//>` : html`<${Badge} status="DISABLED">off<//>`}</div>
      <div class="panel-body stack">
        <${ErrorBox} error=${error} />
        ${enabled ? html`<div class="row"><span class="muted small">${desc.LatestStreamArn}</span><span class="grow"></span>
            <button type="button" class="btn danger" onClick=${() => change({ StreamEnabled: false })}>Disable stream</button></div>`
          : html`<div class="row">
            <div class="field"><label for="stream-view">View type</label>
              <select id="stream-view" value=${view} onChange=${(e) => setView(e.target.value)}>
                <option value="NEW_AND_OLD_IMAGES">New and old images</option><option value="NEW_IMAGE">New image</option>
                <option value="OLD_IMAGE">Old image</option><option value="KEYS_ONLY">Keys only</option>
              </select></div>
            <button type="button" class="btn primary" style=${{ alignSelf: 'flex-end' }} onClick=${() => change({ StreamEnabled: true, StreamViewType: view })}>Enable stream</button></div>`}
      </div></div>
    <div class="panel"><div class="panel-head"><h2>Latest records</h2>
        <label class="field inline"><input type="checkbox" checked=${auto} onChange=${(e) => setAuto(e.target.checked)} /> live</label></div>
      <div class="panel-body flush table-wrap">
        <${ErrorBox} error=${records.error} />
        ${rs.length === 0 ? html`<div class="empty">${records.loading ? html`<${Spinner} />` : 'No records yet. Writes to the table appear here.'}</div>` : html`
        <table class="data" aria-label="Stream records"><thead><tr><th>Time</th><th>Event</th><th>Keys</th><th>Image</th><th>Sequence number</th></tr></thead>
          <tbody>${rs.map((r) => html`<${StreamRecord} key=${r.dynamodb.SequenceNumber} r=${r} />`)}</tbody></table>`}
      </div></div>
  </div>`;
}
