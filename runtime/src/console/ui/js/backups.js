// The Backups tab: point-in-time recovery (enable, disable, the restorable window, restore to a
// point in time), on-demand backups (create, list, restore, delete), and the progress of every
// restore made from this table while it runs.

import { html, useState, useLoad, Badge, Dialog, ErrorBox, Spinner, Progress, fmtInt, fmtBytes, fmtTime, toast, ConfirmDialog, tableHref } from './ui.js';
import * as api from './api.js';

/** Item counts restores are expected to reach, by target table (kept while the page is open). */
const expected = new Map();

const pad2 = (n) => String(n).padStart(2, '0');
function localInput(secs) {
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function stamp() {
  const d = new Date();
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
}

function PitrRestoreDialog({ name, pitr, itemCount, onClose, onStarted }) {
  const [target, setTarget] = useState(`${name}-restored-${stamp()}`);
  const [latest, setLatest] = useState(true);
  const [when, setWhen] = useState(localInput(pitr.LatestRestorableDateTime || Date.now() / 1000));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const req = { SourceTableName: name, TargetTableName: target.trim() };
    if (latest) req.UseLatestRestorableTime = true;
    else req.RestoreDateTime = new Date(when).getTime() / 1000;
    try {
      await api.ddb('RestoreTableToPointInTime', req);
      expected.set(req.TargetTableName, itemCount);
      toast(`Restoring into ${req.TargetTableName}`);
      onStarted();
    } catch (err) { setError(err); setBusy(false); }
  };
  return html`<${Dialog} title="Restore to a point in time" onClose=${onClose}
    foot=${html`<button type="button" class="btn" onClick=${onClose}>Cancel</button><button type="submit" form="pitr-restore" class="btn primary" disabled=${busy}>${busy ? 'Starting…' : 'Restore'}</button>`}>
    <form id="pitr-restore" class="stack" onSubmit=${submit}>
      <p class="muted small">Restorable from ${fmtTime(pitr.EarliestRestorableDateTime)} to ${fmtTime(pitr.LatestRestorableDateTime)} (your local time). The table is restored into a new table.</p>
      <div class="field"><label for="pitr-target">New table name</label><input id="pitr-target" value=${target} onInput=${(e) => setTarget(e.target.value)} required spellcheck="false" /></div>
      <label class="field inline"><input type="radio" name="pitr-when" checked=${latest} onChange=${() => setLatest(true)} /> Latest restorable time</label>
      <label class="field inline"><input type="radio" name="pitr-when" checked=${!latest} onChange=${() => setLatest(false)} /> A point in time</label>
      ${latest ? null : html`<div class="field"><label for="pitr-time">Restore to (local time)</label><input id="pitr-time" type="datetime-local" step="1" value=${when} onInput=${(e) => setWhen(e.target.value)} /></div>`}
      <${ErrorBox} error=${error} />
    </form>
  <//>`;
}

function BackupRestoreDialog({ backup, onClose, onStarted }) {
  const [target, setTarget] = useState(`${backup.TableName}-from-${backup.BackupName}`.slice(0, 255));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const d = await api.ddb('DescribeBackup', { BackupArn: backup.BackupArn });
      await api.ddb('RestoreTableFromBackup', { BackupArn: backup.BackupArn, TargetTableName: target.trim() });
      expected.set(target.trim(), d.BackupDescription?.SourceTableDetails?.ItemCount);
      toast(`Restoring backup into ${target.trim()}`);
      onStarted();
    } catch (err) { setError(err); setBusy(false); }
  };
  return html`<${Dialog} title=${`Restore backup ${backup.BackupName}`} onClose=${onClose}
    foot=${html`<button type="button" class="btn" onClick=${onClose}>Cancel</button><button type="submit" form="backup-restore" class="btn primary" disabled=${busy}>${busy ? 'Starting…' : 'Restore'}</button>`}>
    <form id="backup-restore" class="stack" onSubmit=${submit}>
      <p class="muted small">The backup is restored into a new table, with the source's indexes, stream and TTL settings.</p>
      <div class="field"><label for="restore-target">New table name</label><input id="restore-target" value=${target} onInput=${(e) => setTarget(e.target.value)} required spellcheck="false" autofocus /></div>
      <${ErrorBox} error=${error} />
    </form>
  <//>`;
}

async function allBackups(table) {
  const out = [];
  let start;
  do {
    const r = await api.ddb('ListBackups', { TableName: table, Limit: 100, ...(start ? { ExclusiveStartBackupArn: start } : {}) });
    out.push(...r.BackupSummaries);
    start = r.LastEvaluatedBackupArn;
  } while (start);
  return out.sort((a, b) => b.BackupCreationDateTime - a.BackupCreationDateTime);
}

function Restores({ name, itemCount }) {
  const tables = useLoad(() => api.get('tables'), [name], 1000, (d) => !d || d.tables.some((t) => t.restoring));
  const rows = (tables.data?.tables || []).filter((t) => t.restore_source === name);
  if (!rows.length) return null;
  return html`<div class="panel"><div class="panel-head"><h2>Restores from this table</h2></div>
    <div class="panel-body flush table-wrap"><table class="data" aria-label="Restores">
      <thead><tr><th>Table</th><th>From</th><th>Status</th><th>Progress</th><th class="num">Items</th></tr></thead>
      <tbody>${rows.map((t) => {
        const want = expected.get(t.name) ?? (t.restore_backup ? null : itemCount);
        return html`<tr key=${t.name}>
          <td><a class="mono" href=${tableHref(t.name, 'items')}>${t.name}</a></td>
          <td class="small">${t.restore_backup ? 'backup' : 'point in time'}</td>
          <td>${t.restoring ? html`<${Badge} status="CREATING">restoring<//>` : html`<${Badge} status=${t.status} />`}</td>
          <td>${t.restoring ? html`<${Progress} value=${t.items} max=${want} />` : html`<span class="muted small">done</span>`}</td>
          <td class="num">${fmtInt(t.items)}${t.restoring && want ? html` <span class="muted">/ ${fmtInt(want)}</span>` : null}</td>
        </tr>`;
      })}</tbody></table></div></div>`;
}

export function BackupsTab({ name, desc }) {
  const pitr = useLoad(() => api.ddb('DescribeContinuousBackups', { TableName: name }).then((r) => r.ContinuousBackupsDescription.PointInTimeRecoveryDescription), [name], 5000);
  const backups = useLoad(() => allBackups(name), [name], 1500, (d) => !d || d.some((b) => b.BackupStatus === 'CREATING'));
  const [days, setDays] = useState(35);
  const [backupName, setBackupName] = useState(`${name}-${stamp()}`);
  const [error, setError] = useState(null);
  const [restoring, setRestoring] = useState(null); // 'pitr' or a backup summary
  const [deleting, setDeleting] = useState(null);
  const [restoresKey, setRestoresKey] = useState(0);
  const p = pitr.data;
  const enabled = p?.PointInTimeRecoveryStatus === 'ENABLED';
  const setPitr = async (on) => {
    setError(null);
    try {
      await api.ddb('UpdateContinuousBackups', { TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: on, ...(on ? { RecoveryPeriodInDays: Number(days) } : {}) } });
      toast(on ? 'Point-in-time recovery enabled' : 'Point-in-time recovery disabled');
      pitr.reload();
    } catch (e) { setError(e); }
  };
  const create = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.ddb('CreateBackup', { TableName: name, BackupName: backupName.trim() });
      toast(`Backup ${backupName.trim()} started`);
      setBackupName(`${name}-${stamp()}`);
      backups.reload();
    } catch (err) { setError(err); }
  };
  const started = () => { setRestoring(null); setRestoresKey((k) => k + 1); };
  return html`<div>
    <${ErrorBox} error=${error || pitr.error || backups.error} />
    <div class="panel" id="pitr-panel">
      <div class="panel-head"><h2>Point-in-time recovery</h2>${p ? html`<${Badge} status=${p.PointInTimeRecoveryStatus} />` : null}</div>
      <div class="panel-body stack">
        ${!p ? html`<${Spinner} />` : enabled ? html`
          <dl class="props">
            <dt>Recovery period</dt><dd>${p.RecoveryPeriodInDays} days</dd>
            <dt>Earliest restorable time</dt><dd id="pitr-earliest">${fmtTime(p.EarliestRestorableDateTime)}</dd>
            <dt>Latest restorable time</dt><dd id="pitr-latest">${fmtTime(p.LatestRestorableDateTime)}</dd>
          </dl>
          <div class="row">
            <button type="button" class="btn primary" onClick=${() => setRestoring('pitr')}>Restore to point in time…</button>
            <button type="button" class="btn danger" onClick=${() => setPitr(false)}>Disable PITR</button>
          </div>` : html`
          <p class="muted small">With point-in-time recovery on, every change is kept for the recovery period, and the table can be restored to any second of it, even after it is deleted.</p>
          <div class="row">
            <div class="field"><label for="pitr-days">Recovery period (days)</label><input id="pitr-days" type="number" min="1" max="35" value=${days} onInput=${(e) => setDays(e.target.value)} /></div>
            <button type="button" class="btn primary" id="pitr-enable" style=${{ alignSelf: 'flex-end' }} onClick=${() => setPitr(true)}>Enable PITR</button>
          </div>`}
      </div>
    </div>
    <div class="panel">
      <div class="panel-head"><h2>On-demand backups</h2>
        <form class="row" onSubmit=${create}>
          <label class="sr-only" for="backup-name">Backup name</label>
          <input id="backup-name" value=${backupName} onInput=${(e) => setBackupName(e.target.value)} required spellcheck="false" style=${{ width: '280px' }} />
          <button type="submit" class="btn primary">Create backup</button>
        </form></div>
      <div class="panel-body flush table-wrap">
        ${!backups.data ? html`<div class="empty"><${Spinner} /></div>` : backups.data.length === 0 ? html`<div class="empty">No backups of this table yet.</div>` : html`
        <table class="data" aria-label="Backups">
          <thead><tr><th>Name</th><th>Status</th><th>Created</th><th class="num">Size</th><th></th></tr></thead>
          <tbody>${backups.data.map((b) => html`<tr key=${b.BackupArn} data-backup=${b.BackupName}>
            <td class="mono">${b.BackupName}</td>
            <td><${Badge} status=${b.BackupStatus} /></td>
            <td class="small">${fmtTime(b.BackupCreationDateTime)}</td>
            <td class="num">${fmtBytes(b.BackupSizeBytes)}</td>
            <td class="row"><button type="button" class="btn small" disabled=${b.BackupStatus !== 'AVAILABLE'} onClick=${() => setRestoring(b)}>Restore…</button>
              <button type="button" class="btn small danger" onClick=${() => setDeleting(b)}>Delete</button></td>
          </tr>`)}</tbody>
        </table>`}
      </div>
    </div>
    <${Restores} key=${restoresKey} name=${name} itemCount=${desc.ItemCount} />
    ${restoring === 'pitr' ? html`<${PitrRestoreDialog} name=${name} pitr=${p} itemCount=${desc.ItemCount} onClose=${() => setRestoring(null)} onStarted=${started} />` : null}
    ${restoring && restoring !== 'pitr' ? html`<${BackupRestoreDialog} backup=${restoring} onClose=${() => setRestoring(null)} onStarted=${started} />` : null}
    ${deleting ? html`<${ConfirmDialog} title=${`Delete backup ${deleting.BackupName}`} message="The backup file is deleted; tables restored from it stay." onClose=${() => setDeleting(null)}
        onConfirm=${async () => { await api.ddb('DeleteBackup', { BackupArn: deleting.BackupArn }); toast('Backup deleted'); backups.reload(); }} />` : null}
  </div>`;
}
