// Setup: the editors of everything that is configured rather than reported — gateways, tasks,
// schedules (with a preview of their next runs), handlers, forwarding, firmware (upload and
// assignment to nodes), data repositories, settings, service tokens and users.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, listAll, post } from '../api.js';
import { EntityEditor, EntityForm } from '../components/Form.jsx';
import { Link, usePath } from '../util.jsx';
import * as S from '../schemas.js';

const labelsText = (l) => Object.entries(l || {}).map(([k, v]) => `${k}=${v}`).join(', ');

function SchedulePreview({ doc }) {
  const [res, setRes] = useState(null);
  const body = JSON.stringify(S.previewBody(doc));
  useEffect(() => {
    let gone = false;
    const t = setTimeout(() => {
      post('/schedule/preview', JSON.parse(body))
        .then((r) => !gone && setRes({ runs: r.runs, ended: r.ended, zone: r.timezone }))
        .catch((e) => !gone && setRes({ error: e.body?.detail || e.message }));
    }, 250);
    return () => {
      gone = true;
      clearTimeout(t);
    };
  }, [body]);
  return (
    <div class="preview" data-testid="schedule-preview">
      <b>Next runs</b>
      {res?.zone && <span class="muted small"> (wall times in {res.zone})</span>}
      {!res && <p class="muted">…</p>}
      {res?.error && (
        <p class="error" data-preview-error>
          {res.error}
        </p>
      )}
      {res?.runs && (
        <ol>
          {res.runs.map((r) => (
            <li data-run={r}>{new Date(r).toLocaleString()}</li>
          ))}
        </ol>
      )}
      {res?.runs && res.ended && <p class="muted small">{res.runs.length ? 'then the schedule is done' : 'no further run'}</p>}
    </div>
  );
}

function FirmwareExtra({ doc, isNew, canEdit }) {
  const [msg, setMsg] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [pick, setPick] = useState('');
  const file = useRef(null);
  const loadNodes = () => listAll('node').then(setNodes, () => setNodes([]));
  useEffect(() => {
    loadNodes();
  }, []);
  if (isNew || !doc.id) return <p class="muted small">Save the firmware first; then upload its image and assign it to nodes here.</p>;
  if (!canEdit) {
    const on = nodes.filter((n) => n.labels?.firmware === doc.id).map((n) => n.id);
    return <p class="muted small">Assigned to: {on.length ? on.join(', ') : 'no node'}</p>;
  }
  const upload = async () => {
    const f = file.current?.files?.[0];
    if (!f) return setMsg({ error: 'choose a file first' });
    const res = await fetch(`/api/firmware/upload/${encodeURIComponent(doc.id)}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: await f.arrayBuffer(),
    });
    const body = await res.json().catch(() => ({}));
    setMsg(res.ok ? { ok: `uploaded ${body.size ?? f.size} bytes${body.checksum?.sha256 ? `, sha256 ${body.checksum.sha256.slice(0, 12)}…` : ''}` } : { error: `${body.error || res.status}: ${body.detail || ''}` });
  };
  // The MySensors gateway serves a node the firmware named by its label `firmware`.
  const assign = async (node, id) => {
    const labels = { ...(node.labels || {}) };
    if (id) labels.firmware = id;
    else delete labels.firmware;
    // The API derives a node's id from gatewayId and nodeId (it refuses the dotted id); the
    // keys the processor owns keep their stored values.
    const { id: _id, state, lastSeen, ...body } = node;
    try {
      await post('/node', { ...body, labels });
      setMsg({ ok: id ? `assigned to ${node.id}` : `removed from ${node.id}` });
      await loadNodes();
    } catch (e) {
      setMsg({ error: e.message });
    }
  };
  const assigned = nodes.filter((n) => n.labels?.firmware === doc.id);
  return (
    <div class="firmware-extra">
      <div class="field wide">
        <label>Image (raw bytes as flashed)</label>
        <span class="row">
          <input type="file" ref={file} aria-label="firmware image" />
          <button type="button" onClick={upload}>
            Upload
          </button>
          {doc.size !== undefined && <span class="muted small">stored: {doc.size} bytes</span>}
        </span>
      </div>
      <div class="field wide" data-testid="firmware-nodes">
        <label>Assigned to nodes</label>
        <span class="row">
          {assigned.map((n) => (
            <span class="chip" data-assigned={n.id}>
              {n.name || n.id}{' '}
              <button type="button" class="ghost small" aria-label={`unassign ${n.id}`} onClick={() => assign(n, null)}>
                ✕
              </button>
            </span>
          ))}
          <select aria-label="assign to node" value={pick} onChange={(e) => setPick(e.target.value)}>
            <option value="">choose a node…</option>
            {nodes
              .filter((n) => n.labels?.firmware !== doc.id)
              .map((n) => (
                <option value={n.id}>{n.name ? `${n.name} (${n.id})` : n.id}</option>
              ))}
          </select>
          <button type="button" disabled={!pick} onClick={() => assign(nodes.find((n) => n.id === pick), doc.id).then(() => setPick(''))}>
            Assign
          </button>
        </span>
      </div>
      {msg && (
        <p class={msg.error ? 'error' : 'muted'} role="status">
          {msg.error || msg.ok}
        </p>
      )}
    </div>
  );
}

function Settings({ canEdit }) {
  const [doc, setDoc] = useState(null);
  const [saved, setSaved] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    get('/settings').then(setDoc, (e) => setError(e.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!doc) return <p class="muted">Loading…</p>;
  return (
    <div class="entity-editor" data-kind="settings">
      <h3>Settings</h3>
      <p class="muted small">Schedules compute wall-clock times in this zone and sunrise and sunset at this place.</p>
      {saved && (
        <div class="notice" role="status">
          {saved}
        </div>
      )}
      <EntityForm
        key={doc.modifiedOn || 'none'}
        fields={S.settingsFields}
        doc={doc}
        canEdit={canEdit}
        onSave={async (d) => {
          const r = await post('/settings', d);
          setSaved('Settings saved');
          setDoc(r);
        }}
      />
    </div>
  );
}

const SPECS = {
  gateways: {
    kind: 'gateway',
    noun: 'gateway',
    title: 'Gateways',
    fields: S.gatewayFields,
    blank: S.gatewayBlank,
    columns: [
      ['name', (g) => g.name || ''],
      ['provider', (g) => g.provider?.type || ''],
      ['enabled', (g) => (g.enabled ? 'yes' : 'no')],
    ],
  },
  tasks: {
    kind: 'task',
    noun: 'task',
    title: 'Tasks',
    fields: S.taskFields,
    blank: S.taskBlank,
    columns: [
      ['description', (t) => t.description || t.name || ''],
      ['evaluation', (t) => t.evaluationType || 'rule'],
      ['enabled', (t) => (t.enabled ? 'yes' : 'no')],
      ['runs', (t) => t.state?.executedCount ?? ''],
    ],
  },
  schedules: {
    kind: 'schedule',
    noun: 'schedule',
    title: 'Schedules',
    fields: S.scheduleFields,
    blank: S.scheduleBlank,
    columns: [
      ['description', (t) => t.description || t.name || ''],
      ['type', (t) => t.type || t.spec?.type || ''],
      ['enabled', (t) => (t.enabled ? 'yes' : 'no')],
      ['next run', (t) => (t.state?.nextRun ? new Date(t.state.nextRun).toLocaleString() : '')],
    ],
    extra: (d) => <SchedulePreview doc={d} />,
  },
  handlers: {
    kind: 'handler',
    noun: 'handler',
    title: 'Handlers',
    fields: S.handlerFields,
    blank: S.handlerBlank,
    columns: [
      ['description', (t) => t.description || t.name || ''],
      ['type', (t) => t.type || ''],
      ['enabled', (t) => (t.enabled ? 'yes' : 'no')],
    ],
  },
  forwarding: {
    kind: 'forward_payload',
    noun: 'forward payload',
    title: 'Forward payloads',
    note: 'A field follows another: each new value of the source is set on the destination.',
    fields: S.forwardFields,
    blank: () => ({ enabled: true }),
    columns: [
      ['source', (t) => t.srcFieldId],
      ['destination', (t) => t.dstFieldId],
      ['enabled', (t) => (t.enabled ? 'yes' : 'no')],
    ],
  },
  firmware: {
    kind: 'firmware',
    noun: 'firmware',
    title: 'Firmware',
    fields: S.firmwareFields,
    blank: () => ({}),
    columns: [
      ['name', (t) => t.name || ''],
      ['type / version', (t) => `${t.type ?? '—'} / ${t.version ?? '—'}`],
      ['size', (t) => (t.size !== undefined ? `${t.size} B` : 'no image')],
    ],
    extra: (d, isNew, canEdit) => <FirmwareExtra doc={d} isNew={isNew} canEdit={canEdit} />,
  },
  data: {
    kind: 'data_repository',
    noun: 'data repository',
    title: 'Data repositories',
    note: 'Named JSON documents that tasks and templates can read.',
    fields: S.repoFields,
    blank: () => ({ data: {} }),
    columns: [
      ['name', (t) => t.name || ''],
      ['read-only', (t) => (t.readOnly ? 'yes' : 'no')],
      ['keys', (t) => Object.keys(t.data || {}).length],
    ],
  },
  tokens: {
    kind: 'service_token',
    noun: 'service token',
    title: 'Service tokens',
    note: 'Credentials for scripts and scrapers: Authorization: Bearer <token>. The token is shown once, when it is created.',
    fields: S.tokenFields,
    blank: () => ({ enabled: true, role: 'readonly' }),
    columns: [
      ['name', (t) => t.name || ''],
      ['role', (t) => t.role || ''],
      ['expires', (t) => t.expiresAt || 'never'],
      ['enabled', (t) => (t.enabled ? 'yes' : 'no')],
    ],
    after: (saved, created) =>
      created && typeof saved.token === 'string' ? (
        <span>
          Token created; copy it now, it is not shown again: <code data-testid="new-token">{saved.token}</code>
        </span>
      ) : null,
  },
  users: {
    kind: 'user',
    noun: 'user',
    title: 'Users',
    fields: S.userFields,
    blank: () => ({ role: 'readonly' }),
    columns: [
      ['username', (t) => t.username],
      ['role', (t) => t.role || 'readonly'],
      ['email', (t) => t.email || ''],
      ['labels', (t) => labelsText(t.labels)],
    ],
  },
};

const TABS = [
  ['gateways', 'Gateways'],
  ['tasks', 'Tasks'],
  ['schedules', 'Schedules'],
  ['handlers', 'Handlers'],
  ['forwarding', 'Forwarding'],
  ['firmware', 'Firmware'],
  ['data', 'Data'],
  ['settings', 'Settings'],
  ['tokens', 'Tokens', 'admin'],
  ['users', 'Users', 'admin'],
];

/** Pickers' suggestions: field ids (plain and as quick ids) and the browser's zones. */
function Datalists() {
  const [fields, setFields] = useState([]);
  useEffect(() => {
    listAll('field').then((l) => setFields(l.map((f) => f.id)), () => {});
  }, []);
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return (
    <>
      <datalist id="sb-fields">
        {fields.map((id) => (
          <option value={id} />
        ))}
      </datalist>
      <datalist id="sb-quickids">
        {fields.map((id) => (
          <option value={`field:${id}`} />
        ))}
      </datalist>
      <datalist id="sb-zones">
        {zones.map((z) => (
          <option value={z} />
        ))}
      </datalist>
    </>
  );
}

export function Setup({ canEdit, role }) {
  const path = usePath();
  const tabs = TABS.filter(([, , need]) => !need || role === need);
  const tab = path.split('?')[0].split('/')[2] || 'gateways';
  const current = tabs.find(([t]) => t === tab) ? tab : 'gateways';
  return (
    <section class="setup">
      <div class="toolbar">
        <h2>Setup</h2>
        <nav class="tabs" aria-label="setup sections">
          {tabs.map(([t, label]) => (
            <Link href={`/setup/${t}`} class={t === current ? 'on' : ''}>
              {label}
            </Link>
          ))}
        </nav>
      </div>
      <Datalists />
      {current === 'settings' ? <Settings canEdit={canEdit && role === 'admin'} /> : <EntityEditor spec={SPECS[current]} canEdit={canEdit} />}
    </section>
  );
}

