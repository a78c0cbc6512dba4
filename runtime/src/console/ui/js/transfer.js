// The Export & import tab: export the table (ExportTableToPointInTime, DynamoDB's S3 export
// layout in a directory: bucket `b` is `<export root>/b`) and import an export or DynamoDB JSON /
// CSV files into a new table (ImportTable), each with its progress while it runs.

import { html, useState, useEffect, useLoad, Badge, ErrorBox, Spinner, fmtInt, fmtBytes, fmtTime, toast, tableHref } from './ui.js';
import * as api from './api.js';
import { attrType } from './table.js';

const running = (s) => s === 'IN_PROGRESS';

async function exportsOf(arn) {
  const list = await api.ddb('ListExports', { TableArn: arn, MaxResults: 25 });
  const details = await Promise.all(list.ExportSummaries.map((s) => api.ddb('DescribeExport', { ExportArn: s.ExportArn }).then((d) => d.ExportDescription)));
  return details.sort((a, b) => (b.StartTime || 0) - (a.StartTime || 0)).slice(0, 10);
}

async function imports() {
  const list = await api.ddb('ListImports', { PageSize: 25 });
  const details = await Promise.all(list.ImportSummaryList.map((s) => api.ddb('DescribeImport', { ImportArn: s.ImportArn }).then((d) => d.ImportTableDescription)));
  return details.sort((a, b) => (b.StartTime || 0) - (a.StartTime || 0)).slice(0, 10);
}

function ExportPanel({ name, desc, onExported }) {
  const pitr = useLoad(() => api.ddb('DescribeContinuousBackups', { TableName: name }), [name]);
  const list = useLoad(() => exportsOf(desc.TableArn), [name], 1500, (d) => !d || d.some((e) => running(e.ExportStatus)));
  const [bucket, setBucket] = useState('console-exports');
  const [prefix, setPrefix] = useState(name);
  const [error, setError] = useState(null);
  const pitrOn = pitr.data?.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED';
  const start = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.ddb('ExportTableToPointInTime', { TableArn: desc.TableArn, S3Bucket: bucket.trim(), S3Prefix: prefix.trim() || undefined, ExportFormat: 'DYNAMODB_JSON' });
      toast('Export started');
      onExported(bucket.trim(), prefix.trim());
      list.reload();
    } catch (err) { setError(err); }
  };
  return html`<div class="panel">
    <div class="panel-head"><h2>Export to a bucket</h2></div>
    <div class="panel-body stack">
      <p class="muted small">Writes DynamoDB's S3 export layout (gzipped DynamoDB JSON, manifests) under the bucket's directory: a bucket name is a directory under tarn's export root (<code>--export-root</code>), <code>file:///abs/path</code> any directory. As in DynamoDB, exports need point-in-time recovery.</p>
      ${pitr.data && !pitrOn ? html`<div class="alert warn">Point-in-time recovery is off for this table: enable it on the <a href=${tableHref(name, 'backups')}>Backups</a> tab first.</div>` : null}
      <form class="row" onSubmit=${start}>
        <div class="field"><label for="ex-bucket">S3 bucket</label><input id="ex-bucket" value=${bucket} onInput=${(e) => setBucket(e.target.value)} required spellcheck="false" /></div>
        <div class="field"><label for="ex-prefix">Prefix</label><input id="ex-prefix" value=${prefix} onInput=${(e) => setPrefix(e.target.value)} spellcheck="false" /></div>
        <button type="submit" class="btn primary" style=${{ alignSelf: 'flex-end' }}>Start export</button>
      </form>
      <${ErrorBox} error=${error || list.error} />
    </div>
    <div class="panel-body flush table-wrap">
      ${!list.data ? html`<div class="empty"><${Spinner} /></div>` : list.data.length === 0 ? html`<div class="empty">No exports of this table.</div>` : html`
      <table class="data" aria-label="Exports"><thead><tr><th>Started</th><th>Status</th><th>Destination</th><th class="num">Items</th><th class="num">Size</th><th>Finished</th></tr></thead>
        <tbody>${list.data.map((x) => html`<tr key=${x.ExportArn}>
          <td class="small">${fmtTime(x.StartTime)}</td>
          <td><${Badge} status=${x.ExportStatus} />${x.FailureMessage ? html`<div class="small" style=${{ color: 'var(--err)' }}>${x.FailureMessage}</div>` : null}</td>
          <td class="mono small">${x.S3Bucket}/${x.ExportManifest ? x.ExportManifest.replace(/\/manifest-summary\.json$/, '') : x.S3Prefix || ''}</td>
          <td class="num">${fmtInt(x.ItemCount)}${running(x.ExportStatus) ? html` <span class="spinner" aria-label="running"></span>` : null}</td>
          <td class="num">${fmtBytes(x.BilledSizeBytes)}</td>
          <td class="small">${fmtTime(x.EndTime)}</td>
        </tr>`)}</tbody></table>`}
    </div>
  </div>`;
}

function ImportPanel({ name, desc, source }) {
  const list = useLoad(imports, [], 1500, (d) => !d || d.some((i) => running(i.ImportStatus)));
  const pk = desc.KeySchema.find((k) => k.KeyType === 'HASH').AttributeName;
  const sk = desc.KeySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  const [f, setF] = useState({ bucket: source.bucket, prefix: source.prefix, format: 'DYNAMODB_JSON', compression: 'GZIP', table: `${name}-imported`, pk, pkType: attrType(desc, pk), sk: sk || '', skType: sk ? attrType(desc, sk) : 'S' });
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF((x) => ({ ...x, [k]: e.target.value }));
  useEffect(() => {
    if (source.stamp) setF((x) => ({ ...x, bucket: source.bucket, prefix: source.prefix }));
  }, [source.stamp]);
  const start = async (e) => {
    e.preventDefault();
    setError(null);
    const defs = [{ AttributeName: f.pk, AttributeType: f.pkType }];
    const schema = [{ AttributeName: f.pk, KeyType: 'HASH' }];
    if (f.sk) { defs.push({ AttributeName: f.sk, AttributeType: f.skType }); schema.push({ AttributeName: f.sk, KeyType: 'RANGE' }); }
    try {
      await api.ddb('ImportTable', {
        S3BucketSource: { S3Bucket: f.bucket.trim(), S3KeyPrefix: f.prefix.trim() || undefined },
        InputFormat: f.format, InputCompressionType: f.compression,
        TableCreationParameters: { TableName: f.table.trim(), AttributeDefinitions: defs, KeySchema: schema, BillingMode: 'PAY_PER_REQUEST' },
      });
      toast(`Import into ${f.table.trim()} started`);
      list.reload();
    } catch (err) { setError(err); }
  };
  const typeSel = (id, k) => html`<select id=${id} aria-label="type" value=${f[k]} onChange=${set(k)}><option value="S">String</option><option value="N">Number</option><option value="B">Binary</option></select>`;
  return html`<div class="panel">
    <div class="panel-head"><h2>Import into a new table</h2></div>
    <div class="panel-body stack">
      <p class="muted small">Reads an export (a prefix holding <code>manifest-files.json</code>) or DynamoDB JSON / CSV files under the prefix into a new table. Bad lines are counted and skipped.</p>
      <form class="stack" onSubmit=${start}>
        <div class="form-grid">
          <div class="field"><label for="im-bucket">S3 bucket</label><input id="im-bucket" value=${f.bucket} onInput=${set('bucket')} required spellcheck="false" /></div>
          <div class="field"><label for="im-prefix">Key prefix</label><input id="im-prefix" value=${f.prefix} onInput=${set('prefix')} spellcheck="false" /></div>
          <div class="field"><label for="im-format">Format</label><select id="im-format" value=${f.format} onChange=${set('format')}><option value="DYNAMODB_JSON">DynamoDB JSON</option><option value="CSV">CSV</option></select></div>
          <div class="field"><label for="im-comp">Compression</label><select id="im-comp" value=${f.compression} onChange=${set('compression')}><option value="GZIP">GZIP</option><option value="NONE">None</option></select></div>
          <div class="field"><label for="im-table">New table</label><input id="im-table" value=${f.table} onInput=${set('table')} required spellcheck="false" /></div>
          <div class="field"><label for="im-pk">Partition key</label><div class="row"><input id="im-pk" class="grow" value=${f.pk} onInput=${set('pk')} required />${typeSel('im-pk-type', 'pkType')}</div></div>
          <div class="field"><label for="im-sk">Sort key (optional)</label><div class="row"><input id="im-sk" class="grow" value=${f.sk} onInput=${set('sk')} />${typeSel('im-sk-type', 'skType')}</div></div>
        </div>
        <div><button type="submit" class="btn primary">Start import</button></div>
      </form>
      <${ErrorBox} error=${error || list.error} />
    </div>
    <div class="panel-body flush table-wrap">
      ${!list.data ? html`<div class="empty"><${Spinner} /></div>` : list.data.length === 0 ? html`<div class="empty">No imports yet.</div>` : html`
      <table class="data" aria-label="Imports"><thead><tr><th>Started</th><th>Table</th><th>Status</th><th class="num">Processed</th><th class="num">Imported</th><th class="num">Errors</th><th>Finished</th></tr></thead>
        <tbody>${list.data.map((x) => {
          const t = (x.TableArn || '').split(':table/')[1] || '';
          return html`<tr key=${x.ImportArn}>
            <td class="small">${fmtTime(x.StartTime)}</td>
            <td><a class="mono" href=${tableHref(t, 'items')}>${t}</a></td>
            <td><${Badge} status=${x.ImportStatus} />${x.FailureMessage ? html`<div class="small" style=${{ color: 'var(--err)' }}>${x.FailureMessage}</div>` : null}</td>
            <td class="num">${fmtInt(x.ProcessedItemCount)}${running(x.ImportStatus) ? html` <span class="spinner" aria-label="running"></span>` : null}</td>
            <td class="num">${fmtInt(x.ImportedItemCount)}</td>
            <td class="num">${fmtInt(x.ErrorCount)}</td>
            <td class="small">${fmtTime(x.EndTime)}</td>
          </tr>`;
        })}</tbody></table>`}
    </div>
  </div>`;
}

export function TransferTab({ name, desc }) {
  const [source, setSource] = useState({ bucket: 'console-exports', prefix: name, stamp: 0 });
  return html`<div>
    <${ExportPanel} name=${name} desc=${desc} onExported=${(bucket, prefix) => setSource({ bucket, prefix, stamp: Date.now() })} />
    <${ImportPanel} name=${name} desc=${desc} source=${source} />
  </div>`;
}
