// Devices: gateways -> nodes -> sources -> fields, with live values. The page subscribes to the
// tree's structure (gateways, nodes, sources; fields created/deleted), to every field of the
// nodes that are expanded, and to the status fields (online, battery, signal) of every node.
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { action, del, listAll, post } from '../api.js';
import * as live from '../live.js';
import { Control } from '../components/Control.jsx';
import { Link, labelsText, parseLabels, showValue, timeAgo, truthy, useTick } from '../util.jsx';

const KINDS = ['gateway', 'node', 'source', 'field'];
const NODE_ACTIONS = ['reboot', 'heartbeat_request', 'refresh', 'discover', 'firmware_update'];
const STATUS_FIELD = { online: /^online$/i, battery: /^(battery|batterylevel|battery_level)$/i, signal: /^(rssi|signal|linkquality)$/i };

function reducer(state, ev) {
  if (ev.load) return { ...ev.load, version: state.version + 1 };
  const map = state[ev.entityType];
  if (!map) return state;
  const next = new Map(map);
  if (ev.type === 'deleted') next.delete(ev.entityId);
  else if (ev.entity) next.set(ev.entityId, { ...next.get(ev.entityId), ...ev.entity });
  return { ...state, [ev.entityType]: next, version: state.version + 1 };
}

const empty = { gateway: new Map(), node: new Map(), source: new Map(), field: new Map(), version: 0 };

function useTree() {
  const [tree, dispatch] = useReducer(reducer, empty);
  const [error, setError] = useState('');
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    let gone = false;
    const load = async () => {
      try {
        const lists = await Promise.all(KINDS.map((k) => listAll(k)));
        if (gone) return;
        const load = {};
        KINDS.forEach((k, i) => (load[k] = new Map(lists[i].map((e) => [e.id, e]))));
        dispatch({ load });
        setError('');
        setLoaded(true);
      } catch (e) {
        if (!gone) setError(e.message);
      }
    };
    const offEvent = live.onEvent(dispatch);
    const offResync = live.onResync(load);
    live.subscribe('devices-tree', { kinds: ['gateway', 'node', 'source'] });
    live.subscribe('devices-field-set', { kinds: ['field'], events: ['created', 'deleted'] });
    load();
    return () => {
      gone = true;
      offEvent();
      offResync();
      for (const id of ['devices-tree', 'devices-field-set', 'devices-fields', 'devices-status']) live.subscribe(id, null);
    };
  }, []);
  return { tree, error, loaded };
}

/** Per node: its sources with their fields, and its status fields. */
function indexTree(tree) {
  const byNode = new Map();
  for (const n of tree.node.values()) byNode.set(n.id, { sources: new Map(), status: {} });
  for (const s of tree.source.values()) {
    const n = byNode.get(`${s.gatewayId}.${s.nodeId}`);
    if (n) n.sources.set(s.id, { source: s, fields: [] });
  }
  for (const f of tree.field.values()) {
    const n = byNode.get(`${f.gatewayId}.${f.nodeId}`);
    if (!n) continue;
    const sid = `${f.gatewayId}.${f.nodeId}.${f.sourceId}`;
    if (!n.sources.has(sid)) n.sources.set(sid, { source: { id: sid, sourceId: f.sourceId, name: f.sourceId }, fields: [] });
    n.sources.get(sid).fields.push(f);
    for (const [k, re] of Object.entries(STATUS_FIELD)) if (re.test(f.fieldId) && !n.status[k]) n.status[k] = f;
  }
  return byNode;
}

const text = (e) => `${e.name || ''} ${e.id} ${labelsText(e.labels)}`.toLowerCase();

const SORTS = {
  name: (a, b) => (a.name || a.id).localeCompare(b.name || b.id),
  id: (a, b) => a.id.localeCompare(b.id),
  lastSeen: (a, b) => (b.lastSeen || '').localeCompare(a.lastSeen || ''),
  state: (a, b) => (a.state?.status || '').localeCompare(b.state?.status || ''),
};

export function Devices({ canEdit }) {
  const { tree, error, loaded } = useTree();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState({ key: 'name', desc: false });
  const [open, setOpen] = useState(new Map()); // node id -> expanded (explicit choice)
  const [notice, setNotice] = useState(null);
  useTick(5000);

  const idx = useMemo(() => indexTree(tree), [tree.version]);
  const q = filter.trim().toLowerCase();
  const autoOpen = tree.node.size <= 12;
  const isOpen = (id) => (open.has(id) ? open.get(id) : autoOpen || !!q);

  // Which nodes (and fields) match the filter: a node matches by itself, its gateway, or any
  // of its fields; a gateway by itself or any node.
  const visible = useMemo(() => {
    const out = new Map(); // gateway id -> nodes
    for (const g of tree.gateway.values()) out.set(g.id, []);
    for (const n of tree.node.values()) {
      const g = tree.gateway.get(n.gatewayId);
      const fields = [...(idx.get(n.id)?.sources.values() || [])].flatMap((s) => s.fields);
      const hit = !q || text(n).includes(q) || (g && text(g).includes(q)) || fields.some((f) => text(f).includes(q));
      if (!hit) continue;
      if (!out.has(n.gatewayId)) out.set(n.gatewayId, []);
      out.get(n.gatewayId).push(n);
    }
    const cmp = SORTS[sort.key];
    for (const list of out.values()) list.sort((a, b) => (sort.desc ? -cmp(a, b) : cmp(a, b)));
    return out;
  }, [tree.version, q, sort, idx]);

  // Live values for what is on screen.
  const openIds = [...visible.values()].flat().filter((n) => isOpen(n.id)).map((n) => `node:${n.id}`);
  const statusIds = [...visible.values()]
    .flat()
    .flatMap((n) => Object.values(idx.get(n.id)?.status || {}))
    .map((f) => `field:${f.id}`);
  useEffect(() => {
    live.subscribe('devices-fields', openIds.length ? { prefixes: openIds, kinds: ['field'] } : null);
    live.subscribe('devices-status', statusIds.length ? { quickIds: statusIds } : null);
  }, [openIds.join(','), statusIds.join(',')]);

  const toggle = (id) => setOpen(new Map(open).set(id, !isOpen(id)));
  const sortBy = (key) => setSort({ key, desc: sort.key === key ? !sort.desc : false });
  const arrow = (key) => (sort.key === key ? (sort.desc ? ' ▾' : ' ▴') : '');
  const say = (kind, msg) => setNotice({ kind, msg, at: Date.now() });

  return (
    <section class="devices">
      <div class="toolbar">
        <h2>Devices</h2>
        <input
          type="search"
          placeholder="Filter: name, id, label, field…"
          value={filter}
          onInput={(e) => setFilter(e.target.value)}
          aria-label="filter"
        />
        <label class="sort">
          Sort
          <select value={sort.key} onChange={(e) => setSort({ key: e.target.value, desc: false })} aria-label="sort">
            <option value="name">name</option>
            <option value="id">id</option>
            <option value="lastSeen">last seen</option>
            <option value="state">state</option>
          </select>
        </label>
        <span class="muted">
          {tree.gateway.size} gateways · {tree.node.size} nodes · {tree.field.size} fields
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      {notice && (
        <p class={`notice ${notice.kind}`} role="status" onClick={() => setNotice(null)}>
          {notice.msg}
        </p>
      )}
      {loaded && tree.gateway.size === 0 && tree.node.size === 0 && (
        <p class="muted">No gateways yet. Add one through the API (POST /api/gateway); its devices appear here as they report.</p>
      )}
      {[...visible.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([gid, nodes]) => {
          const g = tree.gateway.get(gid) || { id: gid };
          if (q && !nodes.length && !text(g).includes(q)) return null;
          return (
            <div class="gateway card" key={gid} data-gateway={gid}>
              <GatewayHead g={g} canEdit={canEdit} say={say} />
              <table class="nodes">
                <thead>
                  <tr>
                    <th class="exp" />
                    <th onClick={() => sortBy('name')} class="sortable">Node{arrow('name')}</th>
                    <th onClick={() => sortBy('id')} class="sortable hide-s">Id{arrow('id')}</th>
                    <th onClick={() => sortBy('state')} class="sortable">State{arrow('state')}</th>
                    <th class="hide-s">Battery</th>
                    <th class="hide-s">Signal</th>
                    <th onClick={() => sortBy('lastSeen')} class="sortable">Last seen{arrow('lastSeen')}</th>
                    {canEdit && <th />}
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((n) => (
                    <NodeRows
                      key={n.id}
                      node={n}
                      info={idx.get(n.id)}
                      open={isOpen(n.id)}
                      onToggle={() => toggle(n.id)}
                      canEdit={canEdit}
                      say={say}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          );
        })}
    </section>
  );
}

function Badge({ status, message }) {
  const s = status || 'unknown';
  return (
    <span class={`badge ${s}`} title={message || s} data-state={s}>
      {s}
    </span>
  );
}

function nodeStatus(node, info) {
  const online = info?.status.online;
  if (online && online.current) return truthy(online.current.value) ? 'up' : 'down';
  return node.state?.status;
}

function NodeRows({ node, info, open, onToggle, canEdit, say }) {
  const [editing, setEditing] = useState(null); // 'name' | 'labels' | 'delete'
  const battery = info?.status.battery;
  const signal = info?.status.signal;
  const sources = [...(info?.sources.values() || [])].sort((a, b) => a.source.id.localeCompare(b.source.id));
  const cols = canEdit ? 8 : 7;
  const run = async (payload) => {
    try {
      await action(`node:${node.id}`, payload);
      say('ok', `${payload} sent to ${node.name || node.id}`);
    } catch (e) {
      say('error', `${payload}: ${e.message}`);
    }
  };
  return (
    <>
      <tr class="node" data-node={node.id}>
        <td class="exp">
          <button class="ghost small" onClick={onToggle} aria-expanded={open ? 'true' : 'false'} aria-label="show fields">
            {open ? '▾' : '▸'}
          </button>
        </td>
        <td>
          <span class="name">{node.name || node.nodeId}</span>
          <Labels labels={node.labels} />
        </td>
        <td class="hide-s mono">{node.id}</td>
        <td>
          <Badge status={nodeStatus(node, info)} message={node.state?.message} />
        </td>
        <td class="hide-s">{battery ? showValue(battery) : node.others?.batteryLevel ?? '—'}</td>
        <td class="hide-s">{signal ? showValue(signal) : '—'}</td>
        <td title={node.lastSeen || ''}>{timeAgo(node.lastSeen)}</td>
        {canEdit && (
          <td class="actions">
            <EditMenu
              label={`actions for ${node.name || node.id}`}
              placeholder="Actions…"
              actions={NODE_ACTIONS}
              onAction={run}
              onEdit={setEditing}
            />
          </td>
        )}
      </tr>
      <EditRow cols={cols} kind="node" entity={node} editing={editing} setEditing={setEditing} say={say} />
      {open && (
        <tr class="fields-row">
          <td colSpan={cols}>
            <div class="sources">
              {sources.map(({ source, fields }) => (
                <div class="source" key={source.id}>
                  <div class="source-name">{source.name || source.sourceId}</div>
                  <table class="fields">
                    <tbody>
                      {fields
                        .sort((a, b) => a.fieldId.localeCompare(b.fieldId))
                        .map((f) => (
                          <FieldRow key={f.id} field={f} canEdit={canEdit} say={say} />
                        ))}
                    </tbody>
                  </table>
                </div>
              ))}
              {!sources.length && <p class="muted">No fields yet.</p>}
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

const GATEWAY_ACTIONS = ['enable', 'disable', 'reload', 'discover'];

function GatewayHead({ g, canEdit, say }) {
  const [editing, setEditing] = useState(null);
  const run = async (payload) => {
    try {
      await action(`gateway:${g.id}`, payload);
      say('ok', `${payload} sent to ${g.name || g.id}`);
    } catch (e) {
      say('error', `${payload}: ${e.message}`);
    }
  };
  return (
    <>
      <div class="gw-head">
        <h3>{g.name || g.id}</h3>
        <span class="muted">
          {g.id} · {g.provider?.type || '?'}
        </span>
        <Badge status={g.enabled === false ? 'disabled' : g.state?.status} message={g.state?.message} />
        <Labels labels={g.labels} />
        {canEdit && g.modifiedOn && (
          <EditMenu label={`actions for gateway ${g.name || g.id}`} placeholder="Gateway…" actions={GATEWAY_ACTIONS} onAction={run} onEdit={setEditing} />
        )}
      </div>
      {editing && <EntityEdit kind="gateway" entity={g} what={editing} done={() => setEditing(null)} say={say} />}
    </>
  );
}

const CHARTABLE = ['binary', 'gauge', 'gauge_float', 'counter'];

function FieldRow({ field, canEdit, say }) {
  const [editing, setEditing] = useState(null);
  return (
    <>
      <tr class="field" data-field={field.id}>
        <td class="fname">
          {field.name || field.fieldId}
          <Labels labels={field.labels} />
        </td>
        <td class="fvalue">
          <Control field={field} canEdit={canEdit} />
        </td>
        <td class="muted hide-s" title={field.current?.timestamp || ''}>
          {timeAgo(field.current?.timestamp || field.lastSeen)}
        </td>
        <td class="factions">
          {CHARTABLE.includes(field.metricType) && (
            <Link href={`/charts?f=${encodeURIComponent('field:' + field.id)}`} class="ghost small" title="chart" aria-label={`chart ${field.id}`}>
              <ChartIcon />
            </Link>
          )}
          {canEdit && (
            <EditMenu class="menu" label={`edit ${field.id}`} placeholder="⋯" onEdit={setEditing} />
          )}
        </td>
      </tr>
      <EditRow cols={4} kind="field" entity={field} editing={editing} setEditing={setEditing} say={say} />
    </>
  );
}

const ChartIcon = () => (
  <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
    <path d="M1 14h14M2 11l4-5 3 3 5-7" fill="none" stroke="currentColor" stroke-width="1.6" />
  </svg>
);

function Labels({ labels }) {
  const shown = Object.entries(labels || {}).filter(([k]) => !k.startsWith('ignore_'));
  if (!shown.length) return null;
  return (
    <span class="labels">
      {shown.map(([k, v]) => (
        <span class="chip" key={k}>
          {k}={v}
        </span>
      ))}
    </span>
  );
}

/** A menu of actions (sent at once) and edits (rename, labels, delete: opened below the row). */
function EditMenu({ class: cls, label, placeholder, actions = [], onAction, onEdit }) {
  return (
    <select
      class={cls}
      aria-label={label}
      value=""
      onChange={(e) => {
        const v = e.target.value;
        e.target.value = '';
        if (actions.includes(v)) onAction(v);
        else if (v) onEdit(v);
      }}
    >
      <option value="">{placeholder}</option>
      {actions.map((a) => (
        <option value={a}>{a.replace('_', ' ')}</option>
      ))}
      <option value="name">rename</option>
      <option value="labels">labels</option>
      <option value="delete">delete</option>
    </select>
  );
}

function EditRow({ cols, kind, entity, editing, setEditing, say }) {
  if (!editing) return null;
  return (
    <tr class="editing">
      <td colSpan={cols}>
        <EntityEdit kind={kind} entity={entity} what={editing} done={() => setEditing(null)} say={say} />
      </td>
    </tr>
  );
}

// The keys the processor owns; a rename sends the rest of the entity back.
const OWNED = ['state', 'current', 'previous', 'lastSeen', 'noChangeSince', 'modifiedOn'];

function EntityEdit({ kind, entity, what, done, say }) {
  const [value, setValue] = useState(what === 'name' ? entity.name || '' : labelsText(entity.labels));
  const [error, setError] = useState('');
  const save = async (e) => {
    e.preventDefault();
    try {
      if (what === 'delete') {
        await del(`/${kind}`, [entity.id]);
        say('ok', `deleted ${kind} ${entity.id}`);
        return done();
      }
      const body = { ...entity };
      for (const k of OWNED) delete body[k];
      if (what === 'name') {
        body.name = value.trim();
        // The device's own name must not overwrite the user's (DESIGN.md: ignore_<key>).
        if (kind !== 'gateway') body.labels = { ...(entity.labels || {}), ignore_name: 'true' };
      } else {
        const ignore = Object.fromEntries(Object.entries(entity.labels || {}).filter(([k]) => k.startsWith('ignore_')));
        body.labels = { ...ignore, ...parseLabels(value) };
      }
      await post(`/${kind}`, body);
      done();
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <form class="edit" onSubmit={save}>
      {what === 'delete' ? (
        <span>
          Delete {kind} <b>{entity.name || entity.id}</b>
          {kind === 'gateway' ? ' with its nodes, sources and fields' : kind === 'node' ? ' with its sources and fields' : ''}?
        </span>
      ) : (
        <label>
          {what === 'name' ? 'Name' : 'Labels (key=value, …)'}
          <input value={value} onInput={(e) => setValue(e.target.value)} autoFocus aria-label={what} />
        </label>
      )}
      <button type="submit" class={what === 'delete' ? 'danger' : 'primary'}>
        {what === 'delete' ? 'Delete' : 'Save'}
      </button>
      <button type="button" class="ghost" onClick={done}>
        Cancel
      </button>
      {error && <span class="error">{error}</span>}
    </form>
  );
}
