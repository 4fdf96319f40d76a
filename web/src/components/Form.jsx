// The editors' building blocks: a form drawn from field descriptors (forms.js), with the
// client-side checks next to each input and the API's 400 {"error","detail"} above the buttons
// (and next to the inputs it names); and an entity list with New / Edit / Delete around it.
import { useEffect, useState } from 'preact/hooks';
import { del, get, listAll, post } from '../api.js';
import { collect, errorsByKey, getPath, literal, toText, visible } from '../forms.js';

function initialTexts(fields, doc) {
  const t = {};
  for (const f of fields) if (f.t !== 'bool' && f.t !== 'rows' && f.t !== 'refs') t[f.k] = toText(f, getPath(doc, f.k));
  return t;
}

/** Ids of every entity of a kind, for pickers (loaded once per form). */
function useIds(kind) {
  const [ids, setIds] = useState([]);
  useEffect(() => {
    if (kind) listAll(kind).then((l) => setIds(l.map((e) => e.id)), () => setIds([]));
  }, [kind]);
  return ids;
}

function Rows({ f, value, onChange, disabled }) {
  const rows = Array.isArray(value) ? value : [];
  const set = (i, k, v) => onChange(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <div class="rows" data-rows={f.k}>
      <table>
        <thead>
          <tr>
            {f.cols.map((c) => (
              <th>{c.label}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr>
              {f.cols.map((c) => (
                <td>
                  {c.t === 'select' ? (
                    <select aria-label={`${f.label} ${i + 1} ${c.label}`} value={r[c.k] ?? ''} disabled={disabled} onChange={(e) => set(i, c.k, e.target.value)}>
                      {c.opts.map((o) => (
                        <option value={o}>{o}</option>
                      ))}
                    </select>
                  ) : (
                    <input
                      aria-label={`${f.label} ${i + 1} ${c.label}`}
                      value={c.t === 'literal' ? toText({}, r[c.k]) : (r[c.k] ?? '')}
                      disabled={disabled}
                      onInput={(e) => set(i, c.k, c.t === 'literal' ? literal(e.target.value) : e.target.value)}
                    />
                  )}
                </td>
              ))}
              <td>
                <button type="button" class="ghost small" aria-label={`remove ${f.label} ${i + 1}`} disabled={disabled} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                  ✕
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="small" disabled={disabled} onClick={() => onChange([...rows, f.newRow ? f.newRow() : {}])}>
        + {f.rowLabel || 'row'}
      </button>
    </div>
  );
}

function Refs({ f, value, onChange, disabled }) {
  const ids = useIds(f.kind);
  const sel = Array.isArray(value) ? value : [];
  const all = [...new Set([...ids, ...sel])];
  if (all.length === 0) return <span class="muted small">none defined yet</span>;
  return (
    <span class="refs" data-refs={f.k}>
      {all.map((id) => (
        <label class="check">
          <input type="checkbox" disabled={disabled} checked={sel.includes(id)} onChange={(e) => onChange(e.target.checked ? [...sel, id] : sel.filter((x) => x !== id))} />
          {id}
        </label>
      ))}
    </span>
  );
}

function Input({ f, doc, text, setText, setValue, disabled }) {
  const common = { id: `f-${f.k}`, name: f.k, 'aria-label': f.label, disabled: disabled || f.readOnly, placeholder: f.ph };
  switch (f.t) {
    case 'bool':
      return <input type="checkbox" {...common} checked={Boolean(getPath(doc, f.k) ?? f.dflt)} onChange={(e) => setValue(e.target.checked)} />;
    case 'select':
      return (
        <select {...common} value={text} onChange={(e) => setText(e.target.value, true)}>
          {!f.req && <option value="">{f.ph || '—'}</option>}
          {f.opts.map((o) => (
            <option value={o}>{(f.optLabels && f.optLabels[o]) || o}</option>
          ))}
        </select>
      );
    case 'textarea':
    case 'json':
      return <textarea {...common} rows={f.rows || (f.t === 'json' ? 5 : 3)} class={f.t === 'json' || f.mono ? 'mono' : ''} value={text} onInput={(e) => setText(e.target.value)} />;
    case 'rows':
      return <Rows f={f} value={getPath(doc, f.k)} onChange={setValue} disabled={disabled} />;
    case 'refs':
      return <Refs f={f} value={getPath(doc, f.k)} onChange={setValue} disabled={disabled} />;
    default:
      return (
        <input
          {...common}
          type={f.t === 'password' ? 'password' : f.t === 'number' ? 'text' : 'text'}
          inputMode={f.t === 'number' ? 'decimal' : undefined}
          list={f.datalist}
          autocomplete={f.t === 'password' ? 'new-password' : 'off'}
          value={text}
          onInput={(e) => setText(e.target.value)}
        />
      );
  }
}

/**
 * A form over doc. fields(doc) gives the descriptors (they may depend on the document: a
 * provider's options). onSave(doc) returns a promise; its ApiError is shown. children get the
 * current document (the schedule preview).
 */
export function EntityForm({ fields: fieldsOf, doc: start, onSave, onCancel, saveLabel = 'Save', extra, canEdit = true, title }) {
  const [doc, setDoc] = useState(start);
  const fields = fieldsOf(doc);
  const [texts, setTexts] = useState(() => initialTexts(fields, start));
  const [errors, setErrors] = useState({});
  const [apiError, setApiError] = useState(null);
  const [busy, setBusy] = useState(false);

  const setText = (f, value, commit) => {
    setTexts((t) => ({ ...t, [f.k]: value }));
    setErrors((e) => ({ ...e, [f.k]: '' }));
    if (commit || f.t === 'select') {
      const { doc: d } = collect([f], doc, { [f.k]: value });
      setDoc(d);
    }
  };
  const submit = async (e) => {
    e.preventDefault();
    setApiError(null);
    // Texts of fields that a changed choice brought in start from the document.
    const all = { ...initialTexts(fields.filter((f) => !(f.k in texts)), doc), ...texts };
    const { doc: out, errors: errs } = collect(fields, doc, all);
    setErrors(errs);
    if (Object.values(errs).some(Boolean)) return;
    setBusy(true);
    try {
      await onSave(out);
    } catch (err) {
      const body = err.body || {};
      setApiError({ error: body.error || err.message, detail: body.detail || '' });
      setErrors(errorsByKey(body.detail, fields));
    } finally {
      setBusy(false);
    }
  };
  // A change of a choice (provider type) may bring fields whose text is not known yet.
  const textOf = (f) => {
    const t = f.k in texts ? texts[f.k] : toText(f, getPath(doc, f.k));
    return f.t === 'select' && f.req && !t ? f.opts[0] : t;
  };
  // The document as typed so far (values that do not parse yet left as they were): what the
  // schedule preview asks about.
  const live = extra ? collect(fields, doc, { ...initialTexts(fields.filter((f) => !(f.k in texts)), doc), ...texts }).doc : doc;
  const invalid = Object.values(errors).some(Boolean);
  return (
    <form class="editor card" onSubmit={submit} noValidate data-invalid={invalid ? 'true' : 'false'}>
      {title && <h3>{title}</h3>}
      <div class="fields">
        {visible(fields, doc).map((f) =>
          f.section ? (
            <h4 class="section">{f.section}</h4>
          ) : (
            <div class={`field ${f.t === 'bool' ? 'inline' : ''} ${f.wide || ['rows', 'json', 'textarea', 'refs'].includes(f.t) ? 'wide' : ''}`} data-key={f.k}>
              <label for={`f-${f.k}`}>
                {f.label}
                {f.req && <span class="req"> *</span>}
              </label>
              <Input
                f={f}
                doc={doc}
                text={textOf(f)}
                disabled={!canEdit}
                setText={(v, c) => setText(f, v, c)}
                setValue={(v) => {
                  setDoc((d) => collect([f], d, { [f.k]: v }).doc);
                  setErrors((e) => ({ ...e, [f.k]: '' }));
                }}
              />
              {errors[f.k] ? (
                <span class="field-error" role="alert" data-error-for={f.k}>
                  {errors[f.k]}
                </span>
              ) : (
                f.help && <span class="help muted">{f.help}</span>
              )}
            </div>
          ),
        )}
      </div>
      {extra && extra(live)}
      {apiError && (
        <div class="form-error" role="alert">
          <b>{apiError.error}</b>
          {apiError.detail && <span>: {apiError.detail}</span>}
        </div>
      )}
      {invalid && !apiError && <div class="form-error" role="alert">Some values need fixing (marked above).</div>}
      {canEdit && (
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            {saveLabel}
          </button>
          {onCancel && (
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
      )}
    </form>
  );
}

function StateBadge({ state }) {
  if (!state?.status) return <span class="muted">—</span>;
  const cls = ['ok', 'up', 'completed'].includes(state.status) ? 'up' : state.status === 'error' || state.status === 'down' ? 'down' : '';
  return (
    <span class="state" title={state.message || ''}>
      <span class={`badge ${cls}`}>{state.status}</span> {state.message && <span class="muted small">{state.message}</span>}
    </span>
  );
}

/**
 * A kind's list with New, Edit and Delete, and its form. spec: {kind, title, fields(doc),
 * blank() (a new document), columns: [[label, doc => text]], extra(doc) (below the form),
 * after(saved, created) (after a save), note (a line under the title)}.
 */
export function EntityEditor({ spec, canEdit }) {
  const [items, setItems] = useState(null);
  const [editing, setEditing] = useState(null); // {doc, isNew}
  const [error, setError] = useState('');
  const [confirm, setConfirm] = useState(null);
  const [notice, setNotice] = useState(null);
  const load = () =>
    listAll(spec.kind)
      .then((l) => {
        setItems(l);
        setError('');
      })
      .catch((e) => setError(e.message));
  useEffect(() => {
    setItems(null);
    setEditing(null);
    setNotice(null);
    load();
  }, [spec.kind]);

  const save = async (doc) => {
    const saved = await post(`/${spec.kind}`, doc);
    setNotice(spec.after ? spec.after(saved, editing.isNew) : null);
    setEditing(null);
    await load();
  };
  const remove = async (id) => {
    setConfirm(null);
    try {
      await del(`/${spec.kind}`, [id]);
      await load();
    } catch (e) {
      setError(e.message);
    }
  };
  const open = async (id) => {
    try {
      setEditing({ doc: await get(`/${spec.kind}/${encodeURIComponent(id)}`), isNew: false });
    } catch (e) {
      setError(e.message);
    }
  };
  const cols = spec.columns || [];
  return (
    <div class="entity-editor" data-kind={spec.kind}>
      <div class="toolbar">
        <h3>{spec.title}</h3>
        <span class="spacer" />
        {canEdit && !editing && (
          <button class="primary" onClick={() => setEditing({ doc: spec.blank(), isNew: true })}>
            New {spec.noun || spec.kind}
          </button>
        )}
      </div>
      {spec.note && <p class="muted small">{spec.note}</p>}
      {error && <p class="error">{error}</p>}
      {notice && (
        <div class="notice" role="status" onClick={() => setNotice(null)}>
          {notice}
        </div>
      )}
      {editing && (
        <EntityForm
          key={editing.doc.id || 'new'}
          title={editing.isNew ? `New ${spec.noun || spec.kind}` : `${spec.noun || spec.kind} ${editing.doc.id}`}
          fields={(d) => spec.fields(d, editing.isNew)}
          doc={editing.doc}
          canEdit={canEdit}
          onSave={save}
          onCancel={() => setEditing(null)}
          extra={spec.extra && ((d) => spec.extra(d, editing.isNew, canEdit))}
        />
      )}
      {items && items.length === 0 && !editing && <p class="muted">None yet.</p>}
      {items && items.length > 0 && (
        <table class="entities">
          <thead>
            <tr>
              <th>id</th>
              {cols.map(([label]) => (
                <th>{label}</th>
              ))}
              <th>state</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((it) => (
              <tr data-id={it.id}>
                <td class="mono">{it.id}</td>
                {cols.map(([, fn]) => (
                  <td>{fn(it)}</td>
                ))}
                <td>
                  <StateBadge state={it.state} />
                </td>
                <td class="actions">
                  <button class="small" onClick={() => open(it.id)} aria-label={`edit ${it.id}`}>
                    {canEdit ? 'Edit' : 'View'}
                  </button>
                  {canEdit &&
                    (confirm === it.id ? (
                      <button class="small danger" onClick={() => remove(it.id)} aria-label={`confirm delete ${it.id}`}>
                        Delete {it.id}?
                      </button>
                    ) : (
                      <button class="small ghost" onClick={() => setConfirm(it.id)} aria-label={`delete ${it.id}`}>
                        Delete
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
