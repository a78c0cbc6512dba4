// The tables list (status, items, size, billing mode, PITR, TTL, stream) and the Create table
// dialog (keys, global and local indexes, billing mode and capacity, stream, deletion protection).

import { html, useState, useKey, Badge, Dialog, ErrorBox, Spinner, fmtInt, fmtBytes, fmtTime, rowKeys, tableHref, navigate, toast, ConfirmDialog } from './ui.js';
import * as api from './api.js';

const KEY_TYPES = [['S', 'String'], ['N', 'Number'], ['B', 'Binary']];

function TypeSelect({ value, onChange, id, label }) {
  return html`<select id=${id} aria-label=${label} value=${value} onChange=${(e) => onChange(e.target.value)}>
    ${KEY_TYPES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
  </select>`;
}

function KeyField({ id, label, name, type, onName, onType, optional }) {
  return html`<div class="field">
    <label for=${id}>${label}${optional ? ' (optional)' : ''}</label>
    <div class="row">
      <input id=${id} class="grow" value=${name} onInput=${(e) => onName(e.target.value)} spellcheck="false" autocomplete="off" placeholder=${optional ? 'none' : 'attribute name'} />
      <${TypeSelect} id=${`${id}-type`} label=${`${label} type`} value=${type} onChange=${onType} />
    </div>
  </div>`;
}

const newIndex = (local) => ({ name: '', pk: '', pkType: 'S', sk: '', skType: 'S', projection: 'ALL', include: '', local });

/** The Projection of an index row. */
export function projectionOf(ix) {
  const p = { ProjectionType: ix.projection };
  if (ix.projection === 'INCLUDE') p.NonKeyAttributes = ix.include.split(',').map((s) => s.trim()).filter(Boolean);
  return p;
}

/** CreateTable's request from the dialog's state. */
export function createTableRequest(f) {
  const defs = new Map();
  const def = (name, type) => { if (name) defs.set(name, type); };
  const keySchema = (pk, sk) => [{ AttributeName: pk, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' }] : [])];
  def(f.pk, f.pkType);
  def(f.sk, f.skType);
  const req = { TableName: f.name.trim(), KeySchema: keySchema(f.pk, f.sk), BillingMode: f.billing };
  const provisioned = f.billing === 'PROVISIONED';
  const throughput = { ReadCapacityUnits: Number(f.rcu), WriteCapacityUnits: Number(f.wcu) };
  if (provisioned) req.ProvisionedThroughput = throughput;
  const gsis = f.indexes.filter((i) => !i.local);
  const lsis = f.indexes.filter((i) => i.local);
  if (gsis.length) {
    req.GlobalSecondaryIndexes = gsis.map((i) => {
      def(i.pk, i.pkType); def(i.sk, i.skType);
      return { IndexName: i.name, KeySchema: keySchema(i.pk, i.sk), Projection: projectionOf(i), ...(provisioned ? { ProvisionedThroughput: throughput } : {}) };
    });
  }
  if (lsis.length) {
    req.LocalSecondaryIndexes = lsis.map((i) => {
      def(i.sk, i.skType);
      return { IndexName: i.name, KeySchema: keySchema(f.pk, i.sk), Projection: projectionOf(i) };
    });
  }
  req.AttributeDefinitions = [...defs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
  if (f.stream !== 'OFF') req.StreamSpecification = { StreamEnabled: true, StreamViewType: f.stream };
  if (f.protection) req.DeletionProtectionEnabled = true;
  if (f.tableClass !== 'STANDARD') req.TableClass = f.tableClass;
  return req;
}

function IndexRow({ ix, update, remove, n }) {
  const set = (k) => (v) => update({ ...ix, [k]: v });
  return html`<div class="panel" style=${{ boxShadow: 'none' }}><div class="panel-body stack">
    <div class="spread"><strong>${ix.local ? 'Local' : 'Global'} secondary index ${n}</strong>
      <button type="button" class="btn small" onClick=${remove}>Remove</button></div>
    <div class="form-grid">
      <div class="field"><label for=${`ix${n}-name`}>Index name</label><input id=${`ix${n}-name`} value=${ix.name} onInput=${(e) => set('name')(e.target.value)} spellcheck="false" /></div>
      ${ix.local ? null : html`<${KeyField} id=${`ix${n}-pk`} label="Partition key" name=${ix.pk} type=${ix.pkType} onName=${set('pk')} onType=${set('pkType')} />`}
      <${KeyField} id=${`ix${n}-sk`} label="Sort key" name=${ix.sk} type=${ix.skType} onName=${set('sk')} onType=${set('skType')} optional=${!ix.local} />
      <div class="field"><label for=${`ix${n}-proj`}>Projection</label>
        <select id=${`ix${n}-proj`} value=${ix.projection} onChange=${(e) => set('projection')(e.target.value)}>
          <option value="ALL">All attributes</option><option value="KEYS_ONLY">Keys only</option><option value="INCLUDE">Include…</option>
        </select></div>
      ${ix.projection === 'INCLUDE' ? html`<div class="field"><label for=${`ix${n}-inc`}>Attributes (comma separated)</label><input id=${`ix${n}-inc`} value=${ix.include} onInput=${(e) => set('include')(e.target.value)} /></div>` : null}
    </div>
  </div></div>`;
}

export function CreateTableDialog({ onClose, onCreated }) {
  const [f, setF] = useState({
    name: '', pk: '', pkType: 'S', sk: '', skType: 'S', billing: 'PAY_PER_REQUEST', rcu: 5, wcu: 5,
    indexes: [], stream: 'OFF', protection: false, tableClass: 'STANDARD',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (k) => (v) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const req = createTableRequest(f);
      await api.ddb('CreateTable', req);
      toast(`Creating table ${req.TableName}`);
      onCreated(req.TableName);
    } catch (err) { setError(err); setBusy(false); }
  };
  const indexes = f.indexes;
  return html`<${Dialog} title="Create table" wide onClose=${onClose}
    foot=${html`<span class="hint muted small">Tables are created with DynamoDB's CreateTable, validated as DynamoDB does.</span>
      <button type="button" class="btn" onClick=${onClose}>Cancel</button>
      <button type="submit" form="create-table" class="btn primary" disabled=${busy}>${busy ? 'Creating…' : 'Create table'}</button>`}>
    <form id="create-table" class="stack" onSubmit=${submit}>
      <div class="form-grid">
        <div class="field"><label for="ct-name">Table name</label>
          <input id="ct-name" value=${f.name} onInput=${(e) => set('name')(e.target.value)} required spellcheck="false" autocomplete="off" autofocus placeholder="Music" /></div>
        <${KeyField} id="ct-pk" label="Partition key" name=${f.pk} type=${f.pkType} onName=${set('pk')} onType=${set('pkType')} />
        <${KeyField} id="ct-sk" label="Sort key" name=${f.sk} type=${f.skType} onName=${set('sk')} onType=${set('skType')} optional />
      </div>
      <div class="form-grid">
        <div class="field"><label for="ct-billing">Capacity mode</label>
          <select id="ct-billing" value=${f.billing} onChange=${(e) => set('billing')(e.target.value)}>
            <option value="PAY_PER_REQUEST">On-demand</option><option value="PROVISIONED">Provisioned</option>
          </select></div>
        ${f.billing === 'PROVISIONED' ? html`
          <div class="field"><label for="ct-rcu">Read capacity units</label><input id="ct-rcu" type="number" min="1" value=${f.rcu} onInput=${(e) => set('rcu')(e.target.value)} /></div>
          <div class="field"><label for="ct-wcu">Write capacity units</label><input id="ct-wcu" type="number" min="1" value=${f.wcu} onInput=${(e) => set('wcu')(e.target.value)} /></div>` : null}
        <div class="field"><label for="ct-class">Table class</label>
          <select id="ct-class" value=${f.tableClass} onChange=${(e) => set('tableClass')(e.target.value)}>
            <option value="STANDARD">Standard</option><option value="STANDARD_INFREQUENT_ACCESS">Standard-IA</option>
          </select></div>
        <div class="field"><label for="ct-stream">Stream</label>
          <select id="ct-stream" value=${f.stream} onChange=${(e) => set('stream')(e.target.value)}>
            <option value="OFF">Off</option><option value="NEW_AND_OLD_IMAGES">New and old images</option>
            <option value="NEW_IMAGE">New image</option><option value="OLD_IMAGE">Old image</option><option value="KEYS_ONLY">Keys only</option>
          </select></div>
      </div>
      <label class="field inline"><input type="checkbox" checked=${f.protection} onChange=${(e) => set('protection')(e.target.checked)} /> Deletion protection</label>
      ${indexes.map((ix, i) => html`<${IndexRow} key=${i} n=${i + 1} ix=${ix}
          update=${(v) => set('indexes')(indexes.map((x, j) => (j === i ? v : x)))}
          remove=${() => set('indexes')(indexes.filter((_, j) => j !== i))} />`)}
      <div class="row">
        <button type="button" class="btn small" onClick=${() => set('indexes')([...indexes, newIndex(false)])}>Add global index</button>
        <button type="button" class="btn small" onClick=${() => set('indexes')([...indexes, newIndex(true)])}>Add local index</button>
      </div>
      <${ErrorBox} error=${error} />
    </form>
  <//>`;
}

function onOff(v) {
  return v ? html`<${Badge} status="ENABLED">on<//>` : html`<span class="muted">off</span>`;
}

export function TablesPage({ tables }) {
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(null);
  useKey('n', () => setCreating(true));
  useKey('r', () => tables.reload());
  const rows = tables.data ? tables.data.tables : [];
  return html`<div>
    <div class="page-head">
      <h1>Tables</h1>
      <div class="row">
        <button type="button" class="btn" onClick=${() => tables.reload()} title="Refresh (r)">Refresh</button>
        <button type="button" class="btn primary" onClick=${() => setCreating(true)} title="New table (n)">Create table</button>
      </div>
    </div>
    <${ErrorBox} error=${tables.error} />
    <div class="panel"><div class="panel-body flush table-wrap">
      ${tables.loading && !tables.data ? html`<div class="empty"><${Spinner} /></div>` : rows.length === 0 ? html`<div class="empty">No tables yet. <button type="button" class="btn link" onClick=${() => setCreating(true)}>Create one</button> or use the AWS CLI, boto3 or any SDK.</div>` : html`
      <table class="data" aria-label="Tables">
        <thead><tr><th>Name</th><th>Status</th><th class="num">Items</th><th class="num">Size</th><th>Capacity</th><th>PITR</th><th>TTL</th><th>Stream</th><th class="num">Indexes</th><th>Created</th><th></th></tr></thead>
        <tbody>${rows.map((t) => html`<tr key=${t.name} class="clickable" tabindex="0" data-table=${t.name}
              onClick=${(e) => { if (!e.target.closest('button,a')) navigate(tableHref(t.name, 'items')); }}
              onKeyDown=${(e) => rowKeys(e, () => navigate(tableHref(t.name, 'items')))}>
            <td><a href=${tableHref(t.name)} class="mono">${t.name}</a>${t.deletion_protection ? html` <span class="badge plain" title="Deletion protection is on">protected</span>` : null}</td>
            <td><${Badge} status=${t.status} />${t.restoring ? html` <span class="badge warn">restoring</span>` : null}</td>
            <td class="num">${fmtInt(t.items)}</td>
            <td class="num">${fmtBytes(t.size_bytes)}</td>
            <td>${t.billing_mode === 'PAY_PER_REQUEST' ? 'On-demand' : `Provisioned ${t.read_capacity}/${t.write_capacity}`}</td>
            <td>${onOff(t.pitr === 'ENABLED')}</td>
            <td>${t.ttl && t.ttl.TimeToLiveStatus === 'ENABLED' ? html`<span class="mono">${t.ttl.AttributeName}</span>` : html`<span class="muted">off</span>`}</td>
            <td>${t.stream ? html`<span class="small">${t.stream}</span>` : html`<span class="muted">off</span>`}</td>
            <td class="num">${t.indexes}</td>
            <td class="nowrap small muted">${fmtTime(t.created)}</td>
            <td><button type="button" class="btn small danger" onClick=${() => setDeleting(t)} aria-label=${`Delete ${t.name}`}>Delete</button></td>
          </tr>`)}</tbody>
      </table>`}
    </div></div>
    ${creating ? html`<${CreateTableDialog} onClose=${() => setCreating(false)} onCreated=${(name) => { setCreating(false); tables.reload(); navigate(tableHref(name, 'overview')); }} />` : null}
    ${deleting ? html`<${DeleteTableDialog} table=${deleting} onClose=${() => setDeleting(null)} onDeleted=${() => tables.reload()} />` : null}
  </div>`;
}

export function DeleteTableDialog({ table, onClose, onDeleted }) {
  return html`<${ConfirmDialog} title=${`Delete table ${table.name}`} word=${table.name}
    message=${table.deletion_protection
      ? 'Deletion protection is on for this table: DynamoDB will refuse until it is turned off (Overview tab).'
      : 'The table and all its items and indexes are deleted. Backups are kept; with PITR on, it can be restored within its recovery period.'}
    onClose=${onClose}
    onConfirm=${async () => { await api.ddb('DeleteTable', { TableName: table.name }); toast(`Deleting table ${table.name}`); onDeleted(); }} />`;
}
