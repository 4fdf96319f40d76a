// Charts: numeric and binary fields over 1 h, 24 h, 7 d or a custom range. The aggregation
// window is chosen from the range so a chart has about 300 points; binary fields use `last`
// (step lines), numeric ones `mean`. The choice lives in the URL (?f=quickId,...&r=24h).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { listAll, qs } from '../api.js';
import { RANGES, loadSeries, rangeOf } from '../series.js';
import { Chart } from '../components/Chart.jsx';
import { navigate, usePath } from '../util.jsx';

const NUMERIC = ['binary', 'gauge', 'gauge_float', 'counter'];
const localInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);

function readUrl(path) {
  const p = new URLSearchParams(path.split('?')[1] || '');
  return {
    fields: (p.get('f') || '').split(',').filter(Boolean),
    range: p.get('r') || '1h',
    from: p.get('from') || '',
    to: p.get('to') || '',
  };
}

function writeUrl(s) {
  const p = { f: s.fields.join(','), r: s.range };
  if (s.range === 'custom') Object.assign(p, { from: s.from, to: s.to });
  navigate(`/charts?${qs(p)}`);
}

export function Charts() {
  const path = usePath();
  const sel = readUrl(path);
  const [fields, setFields] = useState([]);
  const [pick, setPick] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const [reload, setReload] = useState(0);

  useEffect(() => {
    listAll('field')
      .then((all) => setFields(all.filter((f) => NUMERIC.includes(f.metricType))))
      .catch((e) => setError(e.message));
  }, []);
  const byQid = useMemo(() => new Map(fields.map((f) => [`field:${f.id}`, f])), [fields]);

  const r = rangeOf(sel.range, sel.from, sel.to);
  const { seconds, window } = r;

  useEffect(() => {
    if (!sel.fields.length || !fields.length) return setResult(null);
    let gone = false;
    const load = async () => {
      try {
        const res = await loadSeries(sel.fields, byQid, r);
        if (gone) return;
        setResult(res);
        setError('');
      } catch (e) {
        if (!gone) setError(e.message);
      }
    };
    load();
    // Relative ranges follow the clock.
    const t = sel.range !== 'custom' ? setInterval(load, Math.min(60000, Math.max(5000, seconds * 10))) : null;
    return () => {
      gone = true;
      if (t) clearInterval(t);
    };
  }, [path, fields, reload]);

  const set = (patch) => writeUrl({ ...sel, ...patch });
  const choices = fields.filter((f) => !sel.fields.includes(`field:${f.id}`));

  return (
    <section class="charts">
      <div class="toolbar">
        <h2>Charts</h2>
        <div class="ranges" role="group" aria-label="range">
          {Object.keys(RANGES).map((r) => (
            <button class={sel.range === r ? 'on' : ''} onClick={() => set({ range: r })}>
              {r}
            </button>
          ))}
          <button
            class={sel.range === 'custom' ? 'on' : ''}
            onClick={() => set({ range: 'custom', from: sel.from || localInput(Date.now() - 6 * 3600e3), to: sel.to || localInput(Date.now() + 60e3) })}
          >
            custom
          </button>
        </div>
        {sel.range === 'custom' && (
          <span class="custom">
            <input type="datetime-local" value={sel.from} onChange={(e) => set({ from: e.target.value })} aria-label="from" />
            –
            <input type="datetime-local" value={sel.to} onChange={(e) => set({ to: e.target.value })} aria-label="to" />
          </span>
        )}
        <span class="muted">window {window}</span>
        <button class="ghost" onClick={() => setReload(reload + 1)} aria-label="reload">
          ↻
        </button>
      </div>
      <div class="picked">
        {sel.fields.map((q) => (
          <span class="chip" key={q}>
            {q.replace('field:', '')}
            <button class="ghost small" aria-label={`remove ${q}`} onClick={() => set({ fields: sel.fields.filter((x) => x !== q) })}>
              ✕
            </button>
          </span>
        ))}
        <select
          value={pick}
          aria-label="add field"
          onChange={(e) => {
            setPick('');
            if (e.target.value) set({ fields: [...sel.fields, e.target.value] });
          }}
        >
          <option value="">+ add a field…</option>
          {choices.map((f) => (
            <option value={`field:${f.id}`}>
              {f.id}
              {f.unit ? ` (${f.unit})` : ''}
            </option>
          ))}
        </select>
      </div>
      {error && <p class="error">{error}</p>}
      {!sel.fields.length && <p class="muted">Pick one or more fields to chart.</p>}
      {result && (
        <div class="card">
          <Chart series={result.series} from={result.from} to={result.to} />
          {result.series.every((s) => !s.points.length) && <p class="muted">No data in this range yet.</p>}
        </div>
      )}
    </section>
  );
}
