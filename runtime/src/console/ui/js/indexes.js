// The Indexes tab: the table's global and local secondary indexes (keys, projection, status,
// backfill, items, size), adding a global index (UpdateTable; tarn builds it online while
// writes go on) and deleting one.

import { html, useState, Badge, Dialog, ErrorBox, TypeTag, fmtInt, fmtBytes, toast, ConfirmDialog, Progress } from './ui.js';
import * as api from './api.js';
import { attrType } from './table.js';
import { projectionOf } from './tables.js';

function Keys({ desc, schema }) {
  return schema.map((k) => html`<span class="row" style=${{ display: 'inline-flex', marginRight: '10px' }}><span class="mono">${k.AttributeName}</span><${TypeTag} type=${attrType(desc, k.AttributeName)} /></span>`);
}

function AddIndexDialog({ name, desc, onClose, onDone }) {
  const [f, setF] = useState({ name: '', pk: '', pkType: 'S', sk: '', skType: 'S', projection: 'ALL', include: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF((x) => ({ ...x, [k]: e.target.value }));
  const provisioned = desc.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST';
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const defs = [{ AttributeName: f.pk, AttributeType: f.pkType }];
    const schema = [{ AttributeName: f.pk, KeyType: 'HASH' }];
    if (f.sk) { defs.push({ AttributeName: f.sk, AttributeType: f.skType }); schema.push({ AttributeName: f.sk, KeyType: 'RANGE' }); }
    const create = { IndexName: f.name.trim(), KeySchema: schema, Projection: projectionOf(f) };
    if (provisioned) create.ProvisionedThroughput = { ReadCapacityUnits: desc.ProvisionedThroughput.ReadCapacityUnits || 1, WriteCapacityUnits: desc.ProvisionedThroughput.WriteCapacityUnits || 1 };
    try {
      await api.ddb('UpdateTable', { TableName: name, AttributeDefinitions: defs, GlobalSecondaryIndexUpdates: [{ Create: create }] });
      toast(`Building index ${create.IndexName}`);
      onDone();
    } catch (err) { setError(err); setBusy(false); }
  };
  const typeSel = (id, k) => html`<select id=${id} aria-label="type" value=${f[k]} onChange=${set(k)}><option value="S">String</option><option value="N">Number</option><option value="B">Binary</option></select>`;
  return html`<${Dialog} title="Add a global secondary index" onClose=${onClose}
    foot=${html`<button type="button" class="btn" onClick=${onClose}>Cancel</button><button type="submit" form="add-index" class="btn primary" disabled=${busy}>${busy ? 'Adding…' : 'Add index'}</button>`}>
    <form id="add-index" class="stack" onSubmit=${submit}>
      <p class="muted small">The index is built in the background from the table's items while reads and writes go on (a build cut short by a restart resumes).</p>
      <div class="form-grid">
        <div class="field"><label for="ix-name">Index name</label><input id="ix-name" value=${f.name} onInput=${set('name')} required spellcheck="false" autofocus /></div>
        <div class="field"><label for="ix-pk">Partition key</label><div class="row"><input id="ix-pk" class="grow" value=${f.pk} onInput=${set('pk')} required spellcheck="false" />${typeSel('ix-pk-type', 'pkType')}</div></div>
        <div class="field"><label for="ix-sk">Sort key (optional)</label><div class="row"><input id="ix-sk" class="grow" value=${f.sk} onInput=${set('sk')} spellcheck="false" />${typeSel('ix-sk-type', 'skType')}</div></div>
        <div class="field"><label for="ix-proj">Projection</label><select id="ix-proj" value=${f.projection} onChange=${set('projection')}>
          <option value="ALL">All attributes</option><option value="KEYS_ONLY">Keys only</option><option value="INCLUDE">Include…</option></select></div>
        ${f.projection === 'INCLUDE' ? html`<div class="field"><label for="ix-inc">Attributes (comma separated)</label><input id="ix-inc" value=${f.include} onInput=${set('include')} /></div>` : null}
      </div>
      <${ErrorBox} error=${error} />
    </form>
  <//>`;
}

export function IndexesTab({ name, desc, reload }) {
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState(null);
  const gsis = desc.GlobalSecondaryIndexes || [];
  const lsis = desc.LocalSecondaryIndexes || [];
  const rows = [...gsis.map((i) => ({ ...i, kind: 'global' })), ...lsis.map((i) => ({ ...i, kind: 'local', IndexStatus: 'ACTIVE' }))];
  return html`<div class="panel">
    <div class="panel-head"><h2>Secondary indexes</h2><button type="button" class="btn primary" onClick=${() => setAdding(true)}>Add global index</button></div>
    <div class="panel-body flush table-wrap">
      ${rows.length === 0 ? html`<div class="empty">No secondary indexes. Global ones can be added to a table with data; local ones only at creation.</div>` : html`
      <table class="data" aria-label="Indexes">
        <thead><tr><th>Name</th><th>Kind</th><th>Keys</th><th>Projection</th><th>Status</th><th class="num">Items</th><th class="num">Size</th><th></th></tr></thead>
        <tbody>${rows.map((i) => html`<tr key=${i.IndexName}>
          <td class="mono">${i.IndexName}</td>
          <td>${i.kind}</td>
          <td><${Keys} desc=${desc} schema=${i.KeySchema} /></td>
          <td>${i.Projection.ProjectionType}${i.Projection.NonKeyAttributes ? html` <span class="muted small">(${i.Projection.NonKeyAttributes.join(', ')})</span>` : null}</td>
          <td><div class="stack"><span><${Badge} status=${i.IndexStatus} />${i.Backfilling ? html` <span class="badge warn">backfilling</span>` : null}</span>
            ${i.Backfilling ? html`<${Progress} value=${i.ItemCount} max=${desc.ItemCount} />` : null}</div></td>
          <td class="num">${fmtInt(i.ItemCount)}</td>
          <td class="num">${fmtBytes(i.IndexSizeBytes)}</td>
          <td>${i.kind === 'global' && i.IndexStatus === 'ACTIVE' ? html`<button type="button" class="btn small danger" onClick=${() => setDeleting(i.IndexName)}>Delete</button>` : null}</td>
        </tr>`)}</tbody>
      </table>`}
    </div>
    ${adding ? html`<${AddIndexDialog} name=${name} desc=${desc} onClose=${() => setAdding(false)} onDone=${() => { setAdding(false); reload(); }} />` : null}
    ${deleting ? html`<${ConfirmDialog} title=${`Delete index ${deleting}`} word=${deleting} message="The index is deleted; the table's items stay." onClose=${() => setDeleting(null)}
        onConfirm=${async () => { await api.ddb('UpdateTable', { TableName: name, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: deleting } }] }); toast(`Deleting index ${deleting}`); reload(); }} />` : null}
  </div>`;
}
