// System: the API's status and version; every service instance from its retained status topic
// with its stats (GET /api/system), the config and metric stores' health; backups (admin):
// run, list, download, restore.
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { timeAgo } from '../util.jsx';

const duration = (ms) => {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
};
const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

/** Stats as "key value" pairs, nested objects flattened with dots (bus.published 12). */
function flat(obj, pre = '', out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) flat(v, `${pre}${k}.`, out);
    else out.push([`${pre}${k}`, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}

function Health({ name, h }) {
  if (!h) return null;
  const ok = h.ok !== false && h.configured !== false;
  return (
    <>
      <dt>{name}</dt>
      <dd data-health={name}>
        <span class={`badge ${h.configured === false ? '' : ok ? 'up' : 'down'}`}>{h.configured === false ? 'not configured' : ok ? 'ok' : 'failing'}</span>{' '}
        <span class="muted small">
          {h.type || ''}
          {h.latencyMs !== undefined && ` ${h.latencyMs} ms`}
          {h.error && ` ${h.error}`}
        </span>
      </dd>
    </>
  );
}

function Services({ services }) {
  const [open, setOpen] = useState(null);
  return (
    <table class="services">
      <thead>
        <tr>
          <th>service</th>
          <th>instance</th>
          <th>status</th>
          <th>version</th>
          <th>up for</th>
          <th>stats</th>
        </tr>
      </thead>
      <tbody>
        {services.map((s) => {
          const key = `${s.service}/${s.instance}`;
          const stats = flat(s.stats);
          return (
            <>
              <tr data-service={key}>
                <td>{s.service}</td>
                <td class="mono">{s.instance}</td>
                <td>
                  <span class={`badge ${s.status === 'online' ? 'up' : 'down'}`}>{s.status}</span>
                </td>
                <td>{s.version || ''}</td>
                <td>{s.status === 'online' && s.startedAt ? duration(Date.now() - Date.parse(s.startedAt)) : s.updatedAt ? timeAgo(s.updatedAt) : ''}</td>
                <td>
                  {stats.length > 0 && (
                    <button class="small ghost" aria-expanded={open === key} aria-label={`stats of ${key}`} onClick={() => setOpen(open === key ? null : key)}>
                      {stats.length} values
                    </button>
                  )}
                </td>
              </tr>
              {open === key && (
                <tr class="stats-row">
                  <td colspan="6">
                    <dl class="stats" data-stats={key}>
                      {stats.map(([k, v]) => (
                        <>
                          <dt class="mono">{k}</dt>
                          <dd>{v}</dd>
                        </>
                      ))}
                    </dl>
                  </td>
                </tr>
              )}
            </>
          );
        })}
      </tbody>
    </table>
  );
}

function Backups() {
  const [list, setList] = useState(null);
  const [msg, setMsg] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(null);
  const [replace, setReplace] = useState(true);
  const load = () => get('/backup').then((r) => setList(r.data || []), (e) => setMsg({ error: e.message }));
  useEffect(() => {
    load();
  }, []);
  const act = async (what, fn) => {
    setBusy(true);
    setMsg(null);
    try {
      setMsg({ ok: await fn() });
      await load();
    } catch (e) {
      setMsg({ error: `${what}: ${e.body?.detail || e.message}` });
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };
  const run = () =>
    act('backup', async () => {
      const r = await post('/backup/run', {});
      return `backup ${r.name}: ${r.documents} documents of ${r.kinds} kinds, ${bytes(r.size)}`;
    });
  const restore = (name) =>
    act('restore', async () => {
      const r = await post(`/restore?name=${encodeURIComponent(name)}&replace=${replace}`);
      return `restored ${name}: ${r.documents} documents${r.removed ? `, ${r.removed} removed` : ''}${r.skipped ? `, ${r.skipped} kept` : ''}`;
    });
  const upload = (file) =>
    act('restore', async () => {
      const res = await fetch(`/api/restore?replace=${replace}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/gzip' },
        body: await file.arrayBuffer(),
      });
      const r = await res.json().catch(() => ({}));
      if (!res.ok) throw Object.assign(new Error(r.error || `HTTP ${res.status}`), { body: r });
      return `restored ${file.name}: ${r.documents} documents`;
    });
  return (
    <div class="card backups" data-testid="backups">
      <div class="toolbar">
        <h3>Backups</h3>
        <span class="spacer" />
        <label class="check small">
          <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> restore replaces (clears each kind first)
        </label>
        <label class="button-like">
          Restore a file…
          <input type="file" accept=".gz,application/gzip" aria-label="restore from a file" hidden onChange={(e) => e.target.files[0] && upload(e.target.files[0])} />
        </label>
        <button class="primary" disabled={busy} onClick={run}>
          Back up now
        </button>
      </div>
      {msg && (
        <p class={msg.error ? 'error' : 'notice'} role="status">
          {msg.error || msg.ok}
        </p>
      )}
      {list && list.length === 0 && <p class="muted">No backups yet.</p>}
      {list && list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>name</th>
              <th>created</th>
              <th>size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((b) => (
              <tr data-backup={b.name}>
                <td class="mono">{b.name}</td>
                <td>{b.createdAt ? new Date(b.createdAt).toLocaleString() : ''}</td>
                <td>{bytes(b.size || 0)}</td>
                <td class="actions">
                  <a class="small" href={`/api/backup/${encodeURIComponent(b.name)}`} download={b.name}>
                    Download
                  </a>{' '}
                  {confirm === b.name ? (
                    <button class="small danger" disabled={busy} onClick={() => restore(b.name)} aria-label={`confirm restore ${b.name}`}>
                      Restore {b.name}?
                    </button>
                  ) : (
                    <button class="small" onClick={() => setConfirm(b.name)} aria-label={`restore ${b.name}`}>
                      Restore
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function System({ role }) {
  const [status, setStatus] = useState(null);
  const [version, setVersion] = useState(null);
  const [sys, setSys] = useState(null); // GET /api/system; false when the API has none
  const [error, setError] = useState('');
  useEffect(() => {
    let gone = false;
    const load = () =>
      Promise.all([get('/status'), get('/version'), get('/system').catch((e) => (e.status === 404 ? false : Promise.reject(e)))])
        .then(([s, v, y]) => {
          if (gone) return;
          setStatus(s);
          setVersion(v);
          setSys(y);
          setError('');
        })
        .catch((e) => !gone && setError(e.message));
    load();
    const t = setInterval(load, 10000);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, []);
  return (
    <section class="system">
      <div class="toolbar">
        <h2>System</h2>
      </div>
      {error && <p class="error">{error}</p>}
      {status && (
        <div class="card">
          <dl>
            <dt>API</dt>
            <dd>
              <span class={`badge ${status.ok ? 'up' : 'down'}`}>{status.ok ? 'ok' : 'failing'}</span>
              {sys && sys.uptimeMs !== undefined && <span class="muted small"> up {duration(sys.uptimeMs)}</span>}
            </dd>
            <dt>Bus</dt>
            <dd>
              <span class={`badge ${status.busConnected ? 'up' : 'down'}`}>{status.busConnected ? 'connected' : 'disconnected'}</span>
            </dd>
            {sys && <Health name="Config store" h={sys.store} />}
            {sys && <Health name="Metric store" h={sys.metrics} />}
            <dt>Version</dt>
            <dd>{status.version}</dd>
            {version && (
              <>
                <dt>Built</dt>
                <dd>
                  {version.buildDate} · {version.compiler}
                </dd>
              </>
            )}
          </dl>
          <p class="muted">
            API reference: <a href="/api/docs">/api/docs</a> · <a href="/api/openapi.json">openapi.json</a>
          </p>
        </div>
      )}
      {sys && (
        <div class="card" data-testid="services">
          <h3>
            Services <span class="muted small">{sys.servicesOnline} online</span>
          </h3>
          <Services services={sys.services || []} />
        </div>
      )}
      {sys === false && <p class="muted">This API does not report the services' status (no GET /api/system).</p>}
      {role === 'admin' && sys !== false && <Backups />}
    </section>
  );
}
