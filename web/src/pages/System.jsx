// System: the API's status and version.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';

export function System() {
  const [status, setStatus] = useState(null);
  const [version, setVersion] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () =>
      Promise.all([get('/status'), get('/version')])
        .then(([s, v]) => {
          setStatus(s);
          setVersion(v);
          setError('');
        })
        .catch((e) => setError(e.message));
    load();
    const t = setInterval(load, 10000);
    return () => clearInterval(t);
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
            </dd>
            <dt>Bus</dt>
            <dd>
              <span class={`badge ${status.busConnected ? 'up' : 'down'}`}>{status.busConnected ? 'connected' : 'disconnected'}</span>
            </dd>
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
    </section>
  );
}
