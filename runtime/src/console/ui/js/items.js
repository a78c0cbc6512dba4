// The Items tab: Scan or Query (on the table or an index) with a key condition, filters and
// pages (one page at a time, never the whole table), the results with every value's type, and
// the item editor (DynamoDB JSON or plain JSON, nested maps and lists; create, edit, delete).

import { html, useState, useEffect, useRef, useKey, Dialog, ErrorBox, Spinner, Seg, TypeTag, fmtInt, rowKeys, toast, ConfirmDialog } from './ui.js';
import * as api from './api.js';
import * as ddb from './ddb.js';
import { attrType } from './table.js';

const SK_OPS = [['', 'any'], ['=', '='], ['<', '<'], ['<=', '<='], ['>', '>'], ['>=', '>='], ['between', 'between'], ['begins_with', 'begins with']];
const FILTER_OPS = [['=', '='], ['<>', '≠'], ['<', '<'], ['<=', '<='], ['>', '>'], ['>=', '>='], ['begins_with', 'begins with'], ['contains', 'contains'], ['exists', 'exists'], ['not_exists', 'not exists']];
/** Most requests one page may take to fill itself when a filter drops items. */
const MAX_REQUESTS_PER_PAGE = 10;
const MAX_COLUMNS = 24;

/** The key schema of the table or of index `index`. */
function keySchemaOf(desc, index) {
  if (!index) return desc.KeySchema;
  const ix = [...(desc.GlobalSecondaryIndexes || []), ...(desc.LocalSecondaryIndexes || [])].find((i) => i.IndexName === index);
  return ix ? ix.KeySchema : desc.KeySchema;
}

/** `#a.#b` placeholders for a (dotted) attribute path, registering the names in `names`. */
function pathExpr(path, prefix, names) {
  return path.split('.').map((part, i) => {
    const p = `#${prefix}${i}`;
    names[p] = part;
    return p;
  }).join('.');
}

/** The Scan or Query request of the query bar's state (without paging). */
export function buildRequest(name, desc, q) {
  const req = { TableName: name, Limit: Number(q.pageSize) };
  if (q.index) req.IndexName = q.index;
  const names = {};
  const values = {};
  const schema = keySchemaOf(desc, q.index);
  if (q.mode === 'query') {
    const pk = schema.find((k) => k.KeyType === 'HASH').AttributeName;
    const sk = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    names['#pk'] = pk;
    values[':pk'] = ddb.scalar(attrType(desc, pk), q.pk);
    let cond = '#pk = :pk';
    if (sk && q.skOp) {
      names['#sk'] = sk;
      const t = attrType(desc, sk);
      values[':sk'] = ddb.scalar(t, q.sk);
      if (q.skOp === 'between') {
        values[':sk2'] = ddb.scalar(t, q.sk2);
        cond += ' AND #sk BETWEEN :sk AND :sk2';
      } else if (q.skOp === 'begins_with') {
        cond += ' AND begins_with(#sk, :sk)';
      } else {
        cond += ` AND #sk ${q.skOp} :sk`;
      }
    }
    req.KeyConditionExpression = cond;
    if (q.descending) req.ScanIndexForward = false;
  }
  const filters = q.filters.filter((f) => f.name.trim());
  if (filters.length) {
    req.FilterExpression = filters.map((f, i) => {
      const p = pathExpr(f.name.trim(), `f${i}_`, names);
      const v = `:f${i}`;
      if (f.op === 'exists') return `attribute_exists(${p})`;
      if (f.op === 'not_exists') return `attribute_not_exists(${p})`;
      values[v] = ddb.scalar(f.type, f.value);
      if (f.op === 'begins_with' || f.op === 'contains') return `${f.op}(${p}, ${v})`;
      return `${p} ${f.op} ${v}`;
    }).join(' AND ');
  }
  if (Object.keys(names).length) req.ExpressionAttributeNames = names;
  if (Object.keys(values).length) req.ExpressionAttributeValues = values;
  return req;
}

/** Runs one page: up to `pageSize` items from `startKey`, in as few requests as DynamoDB allows. */
async function runPage(op, req, startKey) {
  const items = [];
  let scanned = 0;
  let key = startKey;
  let requests = 0;
  do {
    const r = await api.ddb(op, { ...req, ...(key ? { ExclusiveStartKey: key } : {}) });
    items.push(...(r.Items || []));
    scanned += r.ScannedCount || 0;
    key = r.LastEvaluatedKey || null;
    requests += 1;
  } while (key && items.length < req.Limit && requests < MAX_REQUESTS_PER_PAGE);
  return { items, scanned, next: key };
}

/** A deep copy with raw JSON numbers turned into plain values (what JSON.stringify writes). */
const plainCopy = (v) => JSON.parse(JSON.stringify(v));

function Cell({ av }) {
  if (!av) return html`<span class="muted">·</span>`;
  const t = ddb.typeOf(av);
  return html`<span class="cell"><${TypeTag} type=${t} /><span class="v" title=${ddb.preview(av, 2000)}>${ddb.preview(av)}</span></span>`;
}

function Tree({ item }) {
  const node = (name, av) => {
    const t = ddb.typeOf(av);
    const x = av[t];
    let kids = null;
    if (t === 'M') kids = Object.entries(x).map(([k, v]) => node(k, v));
    if (t === 'L') kids = x.map((v, i) => node(`[${i}]`, v));
    return html`<li><span class="name">${name}</span> <${TypeTag} type=${t} /> ${kids ? html`<span class="muted">${t === 'M' ? `${kids.length} attributes` : `${kids.length} elements`}</span><ul>${kids}</ul>` : html`<span class="val">${ddb.preview(av, 200)}</span>`}</li>`;
  };
  return html`<ul class="tree" aria-label="Attribute types">${Object.entries(item).map(([k, v]) => node(k, v))}</ul>`;
}

/** The item editor: create (`item` null) or edit `item`. */
export function ItemEditor({ name, desc, item, onClose, onSaved }) {
  const schema = desc.KeySchema;
  const isNew = !item;
  const template = () => {
    const o = {};
    for (const k of schema) o[k.AttributeName] = attrType(desc, k.AttributeName) === 'N' ? { N: '0' } : { S: '' };
    return o;
  };
  const keyNames = schema.map((k) => k.AttributeName);
  const initialFormat = item && ddb.itemNeedsTypes(item) ? 'dynamodb' : 'json';
  const [format, setFormat] = useState(initialFormat);
  const [text, setText] = useState(() => {
    const it = item || template();
    return initialFormat === 'dynamodb' ? ddb.itemToDynamoText(it, keyNames) : ddb.itemToPlainText(it, keyNames);
  });
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const area = useRef(null);
  useEffect(() => {
    // Start at the top of the item, not where autofocus put the caret.
    const ta = area.current;
    if (ta) { ta.setSelectionRange(0, 0); ta.scrollTop = 0; }
  }, []);
  // The editor's text as an item (DynamoDB JSON, plain objects), or why it is not one.
  let parsed = null;
  let parseError = null;
  try { parsed = plainCopy(ddb.readItem(text, format)); } catch (e) { parseError = e; }
  const typed = parsed && ddb.looksLikeDynamoItem(parsed) ? parsed : null;

  const switchFormat = (f) => {
    if (f === format) return;
    try {
      const it = plainCopy(ddb.readItem(text, format));
      if (f === 'dynamodb') {
        setText(ddb.itemToDynamoText(it, keyNames));
        setNote(null);
      } else {
        if (!ddb.looksLikeDynamoItem(it)) throw new TypeError('Some values are not DynamoDB JSON values ({"S": "…"}, {"N": "…"}…); fix them before switching.');
        setText(ddb.itemToPlainText(it, keyNames));
        setNote(ddb.itemNeedsTypes(it) ? 'Plain JSON shows sets as lists and binary as strings: saving in this format stores them so.' : null);
      }
      setFormat(f);
      setError(null);
    } catch (e) { setError(e); }
  };

  const onPaste = (e) => {
    const pasted = e.clipboardData?.getData('text') || '';
    if (format !== 'json') return;
    try {
      if (ddb.looksLikeDynamoItem(ddb.parseExact(pasted))) {
        e.preventDefault();
        setText(pasted);
        setFormat('dynamodb');
        setNote('The pasted item is DynamoDB JSON (every value typed): switched to DynamoDB JSON.');
      }
    } catch (_) { /* not a whole item: paste as usual */ }
  };

  const save = async (e) => {
    e?.preventDefault();
    setError(null);
    let it;
    try { it = ddb.readItem(text, format); } catch (err) { setError(err); return; }
    setBusy(true);
    try {
      const pk = schema[0].AttributeName;
      const oldKey = item ? ddb.keyOf(item, schema) : null;
      const newKey = ddb.keyOf(plainCopy(it), schema);
      const keyChanged = oldKey && JSON.stringify(oldKey) !== JSON.stringify(newKey);
      if (isNew) {
        await api.ddb('PutItem', { TableName: name, Item: it, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': pk } });
      } else if (keyChanged) {
        await api.ddb('TransactWriteItems', { TransactItems: [
          { Put: { TableName: name, Item: it, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': pk } } },
          { Delete: { TableName: name, Key: oldKey } },
        ] });
      } else {
        await api.ddb('PutItem', { TableName: name, Item: it });
      }
      toast(isNew ? 'Item created' : 'Item saved');
      onSaved();
    } catch (err) {
      if (err.kind === 'ConditionalCheckFailedException') err.message = `${err.message} (an item with this key exists already)`;
      setError(err);
      setBusy(false);
    }
  };

  const onKeyDown = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') save(e);
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey) {
      // Tab indents in the editor; Esc then Tab leaves it.
      const ta = e.target;
      if (ta.dataset.escaped === '1') { ta.dataset.escaped = '0'; return; }
      e.preventDefault();
      const { selectionStart: s, selectionEnd: end } = ta;
      const v = `${ta.value.slice(0, s)}  ${ta.value.slice(end)}`;
      setText(v);
      requestAnimationFrame(() => { ta.selectionStart = ta.selectionEnd = s + 2; });
    }
    if (e.key === 'Escape') e.target.dataset.escaped = '1';
  };

  return html`<${Dialog} title=${isNew ? 'Create item' : 'Edit item'} wide onClose=${onClose}
    foot=${html`<span class="hint muted small"><kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves</span>
      ${isNew ? null : html`<button type="button" class="btn danger" onClick=${() => setConfirmDelete(true)}>Delete item</button>`}
      <button type="button" class="btn" onClick=${onClose}>Cancel</button>
      <button type="submit" form="item-form" class="btn primary" disabled=${busy}>${busy ? 'Saving…' : isNew ? 'Create item' : 'Save item'}</button>`}>
    <form id="item-form" class="stack" onSubmit=${save}>
      <div class="spread">
        <${Seg} label="Format" value=${format} onChange=${switchFormat} options=${[['json', 'JSON'], ['dynamodb', 'DynamoDB JSON']]} />
        <span class="muted small">${format === 'json' ? 'Numbers become N, strings S, true/false BOOL, null NULL, objects M, arrays L.' : 'Every value typed: {"S": "…"}, {"N": "…"}, {"M": {…}}, {"L": […]}, {"SS": […]}…'}</span>
      </div>
      <label class="sr-only" for="item-text">Item</label>
      <textarea id="item-text" ref=${area} class=${`editor ${parseError ? 'invalid' : ''}`} spellcheck="false" autocomplete="off" autofocus
        value=${text} onInput=${(e) => { setText(e.target.value); setError(null); }} onPaste=${onPaste} onKeyDown=${onKeyDown}
        aria-invalid=${!!parseError} aria-describedby="item-status"></textarea>
      <div id="item-status" class="small ${parseError ? '' : 'muted'}">${parseError
        ? html`<span style=${{ color: 'var(--err)' }}>${parseError.message}</span>`
        : html`${Object.keys(parsed).length} attributes · ${format === 'json' ? 'JSON' : 'DynamoDB JSON'}`}</div>
      ${note ? html`<div class="alert info">${note}</div>` : null}
      <${ErrorBox} error=${error} />
      ${typed ? html`<details open=${!isNew}><summary class="small muted">Attribute types</summary><${Tree} item=${ddb.keysFirst(typed, keyNames)} /></details>` : null}
    </form>
    ${confirmDelete ? html`<${ConfirmDialog} title="Delete item" message="This item is deleted from the table." onClose=${() => setConfirmDelete(false)}
      onConfirm=${async () => { await api.ddb('DeleteItem', { TableName: name, Key: ddb.keyOf(item, schema) }); toast('Item deleted'); onSaved(); }} />` : null}
  <//>`;
}

function FilterRow({ f, onChange, onRemove, i }) {
  const set = (k) => (e) => onChange({ ...f, [k]: e.target.value });
  const needsValue = f.op !== 'exists' && f.op !== 'not_exists';
  return html`<div class="filter-row">
    <input aria-label=${`Filter ${i + 1} attribute`} placeholder="attribute" value=${f.name} onInput=${set('name')} spellcheck="false" />
    <select aria-label=${`Filter ${i + 1} condition`} value=${f.op} onChange=${set('op')}>${FILTER_OPS.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>
    ${needsValue ? html`
      <select aria-label=${`Filter ${i + 1} type`} value=${f.type} onChange=${set('type')}>
        <option value="S">String</option><option value="N">Number</option><option value="BOOL">Boolean</option><option value="B">Binary</option>
      </select>
      <input aria-label=${`Filter ${i + 1} value`} placeholder="value" value=${f.value} onInput=${set('value')} />` : null}
    <button type="button" class="btn small" onClick=${onRemove} aria-label=${`Remove filter ${i + 1}`}>✕</button>
  </div>`;
}

export function ItemsTab({ name, desc, reload }) {
  const [q, setQ] = useState({ mode: 'scan', index: '', pk: '', skOp: '', sk: '', sk2: '', descending: false, filters: [], pageSize: 50 });
  const [pages, setPages] = useState([null]); // start keys of the pages seen so far
  const [page, setPage] = useState(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(undefined); // undefined: closed; null: new; item: edit
  const [selected, setSelected] = useState(new Set());
  const [confirmDelete, setConfirmDelete] = useState(false);
  const pkRef = useRef(null);
  const ran = useRef(null);
  const set = (k) => (v) => setQ((x) => ({ ...x, [k]: v }));
  const indexes = [...(desc.GlobalSecondaryIndexes || []), ...(desc.LocalSecondaryIndexes || [])];
  const schema = keySchemaOf(desc, q.index);
  const pkName = schema.find((k) => k.KeyType === 'HASH').AttributeName;
  const skName = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;

  const run = async (startKeys = [null], at = 0, query = q) => {
    setLoading(true); setError(null);
    try {
      const req = buildRequest(name, desc, query);
      const result = await runPage(query.mode === 'query' ? 'Query' : 'Scan', req, startKeys[at]);
      ran.current = { query, startKeys, at };
      setPages(startKeys);
      setPage({ ...result, at });
      setSelected(new Set());
    } catch (e) { setError(e); }
    setLoading(false);
  };
  useEffect(() => { run(); }, [name]);
  const rerun = () => (ran.current ? run(ran.current.startKeys, ran.current.at, ran.current.query) : run());
  const next = () => {
    if (!page?.next || loading) return;
    const keys = [...pages.slice(0, page.at + 1), page.next];
    run(keys, page.at + 1, ran.current.query);
  };
  const prev = () => { if (page && page.at > 0 && !loading) run(pages, page.at - 1, ran.current.query); };
  const submit = (e) => { e.preventDefault(); run([null], 0, q); };

  useKey('n', () => setEditing(null));
  useKey('r', () => rerun());
  useKey(']', () => next());
  useKey('[', () => prev());
  useKey('/', () => { const el = pkRef.current || document.getElementById('filter-add'); el?.focus(); });

  // Columns: the keys first, then attributes in the order they first appear.
  const items = page?.items || [];
  const keyNames = [...new Set([...desc.KeySchema.map((k) => k.AttributeName), ...schema.map((k) => k.AttributeName)])];
  const seen = new Set(keyNames);
  const columns = [...keyNames];
  for (const it of items) for (const k of Object.keys(it)) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  const shownColumns = columns.slice(0, MAX_COLUMNS);
  const keyId = (it) => JSON.stringify(ddb.keyOf(it, desc.KeySchema));
  const toggle = (it) => setSelected((s) => { const n = new Set(s); const k = keyId(it); if (n.has(k)) n.delete(k); else n.add(k); return n; });

  const deleteSelected = async () => {
    const keys = items.filter((it) => selected.has(keyId(it))).map((it) => ddb.keyOf(it, desc.KeySchema));
    for (let i = 0; i < keys.length; i += 25) {
      let requests = { [name]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) };
      for (let tries = 0; requests && Object.keys(requests).length && tries < 8; tries += 1) {
        const r = await api.ddb('BatchWriteItem', { RequestItems: requests });
        requests = r.UnprocessedItems;
      }
    }
    toast(`${keys.length} item${keys.length === 1 ? '' : 's'} deleted`);
    rerun(); reload();
  };

  return html`<div>
    <div class="panel">
      <form class="panel-body stack" onSubmit=${submit} aria-label="Scan or query">
        <div class="query-bar">
          <${Seg} label="Operation" value=${q.mode} onChange=${set('mode')} options=${[['scan', 'Scan'], ['query', 'Query']]} />
          <div class="field"><label for="q-index">Table or index</label>
            <select id="q-index" value=${q.index} onChange=${(e) => set('index')(e.target.value)}>
              <option value="">${name} (table)</option>
              ${indexes.map((i) => html`<option value=${i.IndexName}>${i.IndexName} (index)</option>`)}
            </select></div>
          ${q.mode === 'query' ? html`
            <div class="field"><label for="q-pk">${pkName} <span class="muted">(partition key, =)</span></label>
              <input id="q-pk" ref=${pkRef} value=${q.pk} onInput=${(e) => set('pk')(e.target.value)} required spellcheck="false" placeholder=${`${pkName} value`} /></div>
            ${skName ? html`
              <div class="field"><label for="q-skop">${skName} <span class="muted">(sort key)</span></label>
                <div class="row">
                  <select id="q-skop" value=${q.skOp} onChange=${(e) => set('skOp')(e.target.value)}>${SK_OPS.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select>
                  ${q.skOp ? html`<input aria-label="Sort key value" value=${q.sk} onInput=${(e) => set('sk')(e.target.value)} spellcheck="false" />` : null}
                  ${q.skOp === 'between' ? html`<span class="muted">and</span><input aria-label="Sort key upper value" value=${q.sk2} onInput=${(e) => set('sk2')(e.target.value)} />` : null}
                </div></div>
              <label class="field inline"><input type="checkbox" checked=${q.descending} onChange=${(e) => set('descending')(e.target.checked)} /> descending</label>` : null}` : null}
          <div class="field"><label for="q-size">Page size</label>
            <select id="q-size" value=${q.pageSize} onChange=${(e) => set('pageSize')(Number(e.target.value))}>
              ${[25, 50, 100, 200].map((n) => html`<option value=${n}>${n}</option>`)}
            </select></div>
          <button type="submit" class="btn primary" id="q-run" disabled=${loading}>${q.mode === 'query' ? 'Run query' : 'Run scan'}</button>
        </div>
        ${q.filters.map((f, i) => html`<${FilterRow} key=${i} i=${i} f=${f}
            onChange=${(v) => set('filters')(q.filters.map((x, j) => (j === i ? v : x)))}
            onRemove=${() => set('filters')(q.filters.filter((_, j) => j !== i))} />`)}
        <div><button type="button" id="filter-add" class="btn small" onClick=${() => set('filters')([...q.filters, { name: '', op: '=', type: 'S', value: '' }])}>Add filter</button></div>
      </form>
    </div>
    <div class="panel">
      <div class="panel-head">
        <h2>Items <span class="muted small">${page ? `${fmtInt(items.length)} returned${page.scanned !== items.length ? ` · ${fmtInt(page.scanned)} read` : ''} · ${fmtInt(desc.ItemCount)} in the table` : ''}</span></h2>
        <div class="row">
          ${selected.size ? html`<button type="button" class="btn danger" onClick=${() => setConfirmDelete(true)}>Delete ${selected.size} selected</button>` : null}
          <button type="button" class="btn" onClick=${rerun} title="Refresh (r)">Refresh</button>
          <button type="button" class="btn primary" onClick=${() => setEditing(null)} title="New item (n)">Create item</button>
        </div>
      </div>
      <${ErrorBox} error=${error} />
      <div class="panel-body flush table-wrap">
        ${!page ? html`<div class="empty">${loading ? html`<${Spinner} />` : null}</div>` : items.length === 0 ? html`<div class="empty">No items on this page.</div>` : html`
        <table class="data items" aria-label="Items">
          <thead><tr><th class="check"><span class="sr-only">Select</span></th>${shownColumns.map((c) => html`<th>${c}${keyNames.includes(c) ? html`<span class="key-mark" title="key attribute">KEY</span>` : null}</th>`)}
            ${columns.length > shownColumns.length ? html`<th class="muted">+${columns.length - shownColumns.length} more</th>` : null}</tr></thead>
          <tbody>${items.map((it) => html`<tr class="clickable" tabindex="0" key=${keyId(it)}
              onClick=${(e) => { if (e.target.type !== 'checkbox') setEditing(it); }}
              onKeyDown=${(e) => rowKeys(e, () => setEditing(it))}>
            <td class="check"><input type="checkbox" aria-label="Select item" checked=${selected.has(keyId(it))} onChange=${() => toggle(it)} /></td>
            ${shownColumns.map((c) => html`<td><${Cell} av=${it[c]} /></td>`)}
            ${columns.length > shownColumns.length ? html`<td></td>` : null}
          </tr>`)}</tbody>
        </table>`}
      </div>
      <div class="pager">
        <button type="button" class="btn small" onClick=${prev} disabled=${!page || page.at === 0 || loading} title="Previous page ([)">← Previous</button>
        <span class="muted small">Page ${page ? page.at + 1 : 1}</span>
        <button type="button" class="btn small" id="q-next" onClick=${next} disabled=${!page?.next || loading} title="Next page (])">Next →</button>
        ${loading ? html`<${Spinner} />` : null}
        <span class="grow"></span>
        <span class="muted small">Each page is one ${q.mode === 'query' ? 'Query' : 'Scan'} with Limit ${q.pageSize} (more when a filter drops items): the table is never read whole.</span>
      </div>
    </div>
    ${editing !== undefined ? html`<${ItemEditor} name=${name} desc=${desc} item=${editing}
        onClose=${() => setEditing(undefined)} onSaved=${() => { setEditing(undefined); rerun(); reload(); }} />` : null}
    ${confirmDelete ? html`<${ConfirmDialog} title=${`Delete ${selected.size} items`} message="The selected items are deleted (BatchWriteItem)." onClose=${() => setConfirmDelete(false)} onConfirm=${deleteSelected} />` : null}
  </div>`;
}
