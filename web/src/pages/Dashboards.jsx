// Dashboards: a list of `dashboard` entities and each one's grid of widgets (value, control,
// gauge, chart, text). Widgets sit on a 12-column grid ({x, y, w, h} in cells); in edit mode
// they are added, moved and resized by dragging (or with buttons, keyboard-friendly) and the
// whole dashboard is saved with POST /api/dashboard. Values are live: the page subscribes to the fields it shows.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { del, get, listAll, post } from '../api.js';
import * as live from '../live.js';
import { Control } from '../components/Control.jsx';
import { Chart } from '../components/Chart.jsx';
import { loadSeries, rangeOf, RANGES } from '../series.js';
import { markdown } from '../format.js';
import { Link, navigate, showValue, usePath } from '../util.jsx';

const COLS = 12;
const TYPES = {
  value: { label: 'value', w: 3, h: 1, field: true },
  control: { label: 'control (switch, slider, colour…)', w: 3, h: 1, field: true },
  gauge: { label: 'gauge', w: 3, h: 2, field: true },
  chart: { label: 'chart', w: 6, h: 3, field: true },
  text: { label: 'text (markdown)', w: 4, h: 2, field: false },
  utilization: { label: 'node utilization (its % fields)', w: 4, h: 2, node: true },
  status: { label: 'service status', w: 4, h: 2 },
};

export function Dashboards({ canEdit }) {
  const path = usePath().split('?')[0];
  const id = decodeURIComponent(path.split('/')[2] || '');
  return id ? <Board id={id} canEdit={canEdit} /> : <BoardList canEdit={canEdit} />;
}

function BoardList({ canEdit }) {
  const [boards, setBoards] = useState(null);
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    listAll('dashboard')
      .then(setBoards)
      .catch((e) => setError(e.message));
  }, []);
  const create = async (e) => {
    e.preventDefault();
    try {
      const d = await post('/dashboard', { name: name.trim() || 'Dashboard', widgets: [] });
      navigate(`/dashboards/${encodeURIComponent(d.id)}?edit=1`);
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <section class="dashboards">
      <div class="toolbar">
        <h2>Dashboards</h2>
      </div>
      {error && <p class="error">{error}</p>}
      <div class="board-list">
        {(boards || [])
          .sort((a, b) => (b.favorite === true) - (a.favorite === true) || (a.name || '').localeCompare(b.name || ''))
          .map((d) => (
            <Link class="card board-link" href={`/dashboards/${encodeURIComponent(d.id)}`} data-dashboard={d.id}>
              <b>
                {d.favorite ? '★ ' : ''}
                {d.name || d.id}
              </b>
              <span class="muted">{(d.widgets || []).length} widgets</span>
            </Link>
          ))}
        {boards && !boards.length && <p class="muted">No dashboards yet.</p>}
      </div>
      {canEdit && (
        <form class="edit" onSubmit={create}>
          <input placeholder="New dashboard name" value={name} onInput={(e) => setName(e.target.value)} aria-label="new dashboard name" />
          <button type="submit" class="primary">
            Create
          </button>
        </form>
      )}
    </section>
  );
}

/** The first free row below every widget. */
const bottom = (widgets) => widgets.reduce((m, w) => Math.max(m, w.y + w.h), 0);
const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
const newId = () => Math.random().toString(36).slice(2, 10);

function Board({ id, canEdit }) {
  const [board, setBoard] = useState(null); // as stored
  const [draft, setDraft] = useState(null); // while editing
  const [fields, setFields] = useState(new Map()); // quick id -> field
  const [error, setError] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const grid = useRef(null);
  const editing = !!draft;

  useEffect(() => {
    let gone = false;
    Promise.all([get(`/dashboard/${encodeURIComponent(id)}`), listAll('field')])
      .then(([d, fs]) => {
        if (gone) return;
        setBoard(d);
        setFields(new Map(fs.map((f) => [`field:${f.id}`, f])));
        if (canEdit && location.search.includes('edit=1')) setDraft(structuredClone(d));
      })
      .catch((e) => setError(e.message));
    const off = live.onEvent((ev) => {
      if (ev.entityType !== 'field' || !ev.entity) return;
      const q = `field:${ev.entityId}`;
      setFields((m) => new Map(m).set(q, { ...m.get(q), ...ev.entity }));
    });
    return () => {
      gone = true;
      off();
      live.subscribe('dashboard-fields', null);
      live.subscribe('dashboard-nodes', null);
    };
  }, [id]);

  const shown = draft || board;
  const widgets = shown?.widgets || [];
  const used = [...new Set(widgets.flatMap((w) => (w.fields || []).concat(w.field ? [w.field] : [])))].sort();
  useEffect(() => {
    live.subscribe('dashboard-fields', used.length ? { quickIds: used, kinds: ['field'] } : null);
  }, [used.join(',')]);
  // Utilization widgets show every % field of their node: one subscription by node prefix.
  const nodes = [...new Set(widgets.filter((w) => w.node).map((w) => `node:${w.node}`))].sort();
  useEffect(() => {
    live.subscribe('dashboard-nodes', nodes.length ? { prefixes: nodes, kinds: ['field'] } : null);
  }, [nodes.join(',')]);

  if (error) return <p class="error">{error}</p>;
  if (!shown) return <p class="muted">Loading…</p>;

  const change = (wid, patch) =>
    setDraft({ ...draft, widgets: draft.widgets.map((w) => (w.id === wid ? { ...w, ...patch } : w)) });
  // Dragging a widget's handle moves it, its corner resizes it, in whole grid cells.
  const drag = (e, w, mode) => {
    e.preventDefault();
    const style = getComputedStyle(grid.current);
    const gap = parseFloat(style.columnGap) || 0;
    const cellW = (grid.current.clientWidth + gap) / COLS;
    const cellH = (parseFloat(style.gridAutoRows) || 90) + gap;
    const x0 = e.clientX;
    const y0 = e.clientY;
    const move = (ev) => {
      const dx = Math.round((ev.clientX - x0) / cellW);
      const dy = Math.round((ev.clientY - y0) / cellH);
      const patch =
        mode === 'move'
          ? { x: clamp(w.x + dx, 0, COLS - w.w), y: Math.max(0, w.y + dy) }
          : { w: clamp(w.w + dx, 1, COLS - w.x), h: clamp(w.h + dy, 1, 8) };
      setDraft((d) => ({ ...d, widgets: d.widgets.map((x) => (x.id === w.id ? { ...x, ...patch } : x)) }));
    };
    const up = () => {
      removeEventListener('pointermove', move);
      removeEventListener('pointerup', up);
    };
    addEventListener('pointermove', move);
    addEventListener('pointerup', up);
  };
  const save = async () => {
    try {
      const saved = await post('/dashboard', draft);
      setBoard(saved);
      setDraft(null);
      history.replaceState(null, '', location.pathname);
    } catch (e) {
      setError(e.message);
    }
  };
  const remove = async () => {
    if (!confirmDelete) return setConfirmDelete(true);
    await del('/dashboard', [board.id]);
    navigate('/dashboards');
  };

  return (
    <section class="board" data-board={board.id}>
      <div class="toolbar">
        <Link href="/dashboards" class="ghost">
          ←
        </Link>
        {editing ? (
          <input value={draft.name || ''} onInput={(e) => setDraft({ ...draft, name: e.target.value })} aria-label="dashboard name" />
        ) : (
          <h2>{board.name || board.id}</h2>
        )}
        <span class="spacer" />
        {canEdit && !editing && (
          <button onClick={() => setDraft(structuredClone(board))} aria-label="edit dashboard">
            Edit
          </button>
        )}
        {editing && (
          <>
            <label class="fav">
              <input type="checkbox" checked={!!draft.favorite} onChange={(e) => setDraft({ ...draft, favorite: e.target.checked })} /> favourite
            </label>
            <button class="danger" onClick={remove}>
              {confirmDelete ? 'Really delete?' : 'Delete'}
            </button>
            <button
              class="ghost"
              onClick={() => {
                setDraft(null);
                setConfirmDelete(false);
              }}
            >
              Cancel
            </button>
            <button class="primary" onClick={save} aria-label="save dashboard">
              Save
            </button>
          </>
        )}
      </div>
      {editing && <AddWidget fields={fields} onAdd={(w) => setDraft({ ...draft, widgets: [...draft.widgets, { ...w, y: bottom(draft.widgets) }] })} />}
      {!widgets.length && <p class="muted">{canEdit ? 'No widgets yet: Edit, then add some.' : 'No widgets yet.'}</p>}
      <div class={`grid ${editing ? 'editing' : ''}`} ref={grid}>
        {widgets.map((w) => (
          <div
            class="widget card"
            key={w.id}
            data-widget={w.id}
            data-type={w.type}
            data-pos={`${w.x},${w.y},${w.w},${w.h}`}
            style={{ gridColumn: `${w.x + 1} / span ${w.w}`, gridRow: `${w.y + 1} / span ${w.h}`, '--h': w.h }}
          >
            <div class="widget-head">
              {editing && (
                <span class="drag" title="drag to move" aria-label={`drag ${w.title || w.type}`} onPointerDown={(e) => drag(e, w, 'move')}>
                  ⠿
                </span>
              )}
              <span class="widget-title">{w.title || fields.get(w.field)?.name || w.type}</span>
              {editing && <WidgetTools w={w} change={change} drop={() => setDraft({ ...draft, widgets: draft.widgets.filter((x) => x.id !== w.id) })} />}
            </div>
            <Widget w={w} fields={fields} canEdit={canEdit && !editing} />
            {editing && <span class="resize" title="drag to resize" aria-label={`resize ${w.title || w.type}`} onPointerDown={(e) => drag(e, w, 'resize')} />}
          </div>
        ))}
      </div>
    </section>
  );
}

function WidgetTools({ w, change, drop }) {
  const b = (label, title, patch) => (
    <button class="ghost small" title={title} aria-label={`${title} ${w.title || w.type}`} onClick={() => change(w.id, patch)}>
      {label}
    </button>
  );
  return (
    <span class="widget-tools">
      {b('◀', 'move left', { x: clamp(w.x - 1, 0, COLS - w.w) })}
      {b('▶', 'move right', { x: clamp(w.x + 1, 0, COLS - w.w) })}
      {b('▲', 'move up', { y: Math.max(0, w.y - 1) })}
      {b('▼', 'move down', { y: w.y + 1 })}
      {b('⇤', 'narrower', { w: clamp(w.w - 1, 1, COLS - w.x) })}
      {b('⇥', 'wider', { w: clamp(w.w + 1, 1, COLS - w.x) })}
      {b('⤒', 'shorter', { h: clamp(w.h - 1, 1, 8) })}
      {b('⤓', 'taller', { h: clamp(w.h + 1, 1, 8) })}
      <button class="ghost small" title="remove" aria-label={`remove ${w.title || w.type}`} onClick={drop}>
        ✕
      </button>
    </span>
  );
}

function AddWidget({ fields, onAdd }) {
  const [type, setType] = useState('value');
  const [field, setField] = useState('');
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [range, setRange] = useState('24h');
  const [node, setNode] = useState('');
  const t = TYPES[type];
  const list = useMemo(() => [...fields.values()].sort((a, b) => a.id.localeCompare(b.id)), [fields]);
  const nodeIds = useMemo(() => [...new Set(list.filter(isPercent).map((f) => `${f.gatewayId}.${f.nodeId}`))].sort(), [list]);
  const add = (e) => {
    e.preventDefault();
    if ((t.field && !field) || (t.node && !node)) return;
    const w = { id: newId(), type, title: title.trim(), x: 0, w: t.w, h: t.h };
    if (type === 'text') w.text = text;
    else if (t.node) w.node = node;
    else if (type === 'chart') Object.assign(w, { fields: [field], range });
    else w.field = field;
    if (type === 'gauge') Object.assign(w, { min: 0, max: 100 });
    onAdd(w);
    setTitle('');
  };
  return (
    <form class="edit add-widget card" onSubmit={add}>
      <select value={type} onChange={(e) => setType(e.target.value)} aria-label="widget type">
        {Object.entries(TYPES).map(([k, v]) => (
          <option value={k}>{v.label}</option>
        ))}
      </select>
      {t.field && (
        <select value={field} onChange={(e) => setField(e.target.value)} aria-label="widget field" required>
          <option value="">field…</option>
          {list.map((f) => (
            <option value={`field:${f.id}`}>{f.id}</option>
          ))}
        </select>
      )}
      {t.node && (
        <select value={node} onChange={(e) => setNode(e.target.value)} aria-label="widget node" required>
          <option value="">node…</option>
          {nodeIds.map((n) => (
            <option value={n}>{n}</option>
          ))}
        </select>
      )}
      {type === 'chart' && (
        <select value={range} onChange={(e) => setRange(e.target.value)} aria-label="widget range">
          {Object.keys(RANGES).map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      )}
      {type === 'text' && <textarea value={text} onInput={(e) => setText(e.target.value)} aria-label="widget text" rows="2" placeholder="**Markdown** text" />}
      <input value={title} onInput={(e) => setTitle(e.target.value)} placeholder="title (optional)" aria-label="widget title" />
      <button type="submit" class="primary">
        Add widget
      </button>
    </form>
  );
}

function Widget({ w, fields, canEdit }) {
  const f = fields.get(w.field);
  if (w.type === 'text') return <div class="md" dangerouslySetInnerHTML={{ __html: markdown(w.text || '') }} />;
  if (w.type === 'utilization') return <Utilization node={w.node} fields={fields} />;
  if (w.type === 'status') return <ServiceStatus />;
  if (w.type === 'chart') return <ChartWidget w={w} fields={fields} />;
  if (!f) return <p class="muted">{w.field} is gone</p>;
  if (w.type === 'control') return <Control field={f} canEdit={canEdit} />;
  if (w.type === 'gauge') return <Gauge field={f} min={w.min ?? 0} max={w.max ?? 100} />;
  return <div class="big-value">{showValue(f)}</div>;
}

function ChartWidget({ w, fields }) {
  const [res, setRes] = useState(null);
  const [error, setError] = useState('');
  const qids = w.fields || [];
  useEffect(() => {
    if (!fields.size) return;
    let gone = false;
    const load = () =>
      loadSeries(qids, fields, rangeOf(w.range || '24h'))
        .then((r) => !gone && setRes(r))
        .catch((e) => !gone && setError(e.message));
    load();
    const t = setInterval(load, 30000);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, [qids.join(','), w.range, fields.size]);
  if (error) return <p class="error small">{error}</p>;
  return res ? <Chart series={res.series} from={res.from} to={res.to} height={Math.max(80, w.h * 90 - 80)} /> : <p class="muted">…</p>;
}

function Gauge({ field, min, max }) {
  const v = Number(field.current?.value);
  const frac = Number.isFinite(v) ? clamp((v - min) / (max - min || 1), 0, 1) : 0;
  const a = Math.PI * (1 - frac);
  const x = 50 + 40 * Math.cos(a);
  const y = 50 - 40 * Math.sin(a);
  return (
    <svg class="gauge" viewBox="0 0 100 60" role="img" aria-label={showValue(field)}>
      <path d="M10 50 A40 40 0 0 1 90 50" class="gauge-track" />
      {frac > 0 && <path d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} class="gauge-fill" />}
      <text x="50" y="48" text-anchor="middle">
        {showValue(field)}
      </text>
    </svg>
  );
}

/** A field that is a share: numeric with the unit %. */
const isPercent = (f) => f.unit === '%' && ['gauge', 'gauge_float'].includes(f.metricType);

/** Every % field of a node as a bar (a system_monitoring host: CPU, memory, swap, disks). */
function Utilization({ node, fields }) {
  const bars = [...fields.values()].filter((f) => `${f.gatewayId}.${f.nodeId}` === node && isPercent(f)).sort((a, b) => a.id.localeCompare(b.id));
  if (!bars.length) return <p class="muted">{node}: no % fields</p>;
  return (
    <div class="bars" data-node={node}>
      {bars.map((f) => {
        const v = Number(f.current?.value);
        const pct = Number.isFinite(v) ? clamp(v, 0, 100) : 0;
        return (
          <div class="bar-row" data-bar={f.id}>
            <span class="bar-label" title={f.id}>
              {f.name && f.name !== f.fieldId ? f.name : f.sourceId === '_node' ? f.fieldId : `${f.sourceId} ${f.fieldId}`}
            </span>
            <span class={`bar ${pct >= 90 ? 'high' : pct >= 75 ? 'mid' : ''}`} role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow={Number.isFinite(v) ? v : undefined} aria-label={f.id}>
              <span style={{ width: `${pct}%` }} />
            </span>
            <span class="bar-value">{Number.isFinite(v) ? `${Math.round(v * 10) / 10} %` : '—'}</span>
          </div>
        );
      })}
    </div>
  );
}

/** The services' statuses from GET /api/system (their retained status topics), every 10 s. */
function ServiceStatus() {
  const [sys, setSys] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let gone = false;
    const load = () =>
      get('/system')
        .then((s) => !gone && (setSys(s), setError('')))
        .catch((e) => !gone && setError(e.status === 404 ? 'this API has no GET /api/system' : e.message));
    load();
    const t = setInterval(load, 10000);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, []);
  if (error) return <p class="error small">{error}</p>;
  if (!sys) return <p class="muted">…</p>;
  const services = sys.services || [];
  return (
    <div class="svc-status">
      <p class="small">
        <b data-online={sys.servicesOnline}>{sys.servicesOnline}</b> of {services.length} online
      </p>
      <ul class="svc-list">
        {services.map((s) => (
          <li data-service={`${s.service}/${s.instance}`}>
            <span class={`badge ${s.status === 'online' ? 'up' : 'down'}`}>{s.status}</span> {s.service}
            <span class="muted small"> {s.instance}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
