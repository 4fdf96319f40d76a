// Pure helpers of the editors (no DOM, no Preact): key paths into documents, the text an input
// shows for a value and back, and the client-side checks. Unit-tested (web/test/forms.test.mjs).
//
// A form is a list of field descriptors:
//   {k: 'provider.url', label, t: 'text'|'password'|'textarea'|'number'|'bool'|'select'|'list'
//       |'map'|'json'|'rows'|'refs', req, opts: [values], min, max, int, pattern: [RegExp, msg],
//    dflt (what a bool's service assumes when the key is absent),
//    check: (value, doc) => message|'' (also on an empty value with always: true),
//    when: (doc) => bool, cols: [...] (rows), kind (refs)}
// The document is edited in place of the entity, so keys the form does not know are kept.

export function getPath(obj, path) {
  return path.split('.').reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), obj);
}

/**
 * A copy of obj with path set to v; objects on the way are copied. undefined deletes the key,
 * and objects that it leaves empty (a form's blank optional `ack.timeout` leaves no `ack: {}`).
 */
export function setPath(obj, path, v) {
  const keys = path.split('.');
  if (v === undefined && getPath(obj, path) === undefined) return obj;
  const out = { ...obj };
  const chain = [out];
  let cur = out;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    cur[k] = next && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
    cur = cur[k];
    chain.push(cur);
  }
  const last = keys[keys.length - 1];
  if (v !== undefined) {
    cur[last] = v;
    return out;
  }
  delete cur[last];
  for (let i = chain.length - 1; i > 0 && Object.keys(chain[i]).length === 0; i--) delete chain[i - 1][keys[i - 1]];
  return out;
}

/** The text an input shows for a value. */
export function toText(f, v) {
  if (v === undefined || v === null) return '';
  switch (f.t) {
    case 'list':
      return Array.isArray(v) ? v.join(', ') : String(v);
    case 'map':
      return typeof v === 'object' ? Object.entries(v).map(([a, b]) => `${a}=${b}`).join(', ') : String(v);
    case 'json':
      return JSON.stringify(v, null, 2);
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

/**
 * The value of an input's text: {value} (undefined = leave the key out) or {error}.
 * Numbers must be numbers; lists are comma-separated; maps `key=value, ...`; json must parse.
 */
export function fromText(f, text) {
  if (f.t === 'select' && f.req && !text && f.opts) text = f.opts[0]; // what the select shows
  const s = typeof text === 'string' ? text.trim() : text;
  if (f.t === 'bool') return { value: Boolean(text) };
  if (f.t === 'rows' || f.t === 'refs') return { value: text };
  if (s === '' || s === undefined || s === null) return { value: undefined };
  switch (f.t) {
    case 'number': {
      const n = Number(s);
      if (!Number.isFinite(n)) return { error: 'expected a number' };
      if (f.int && !Number.isInteger(n)) return { error: 'expected a whole number' };
      return { value: n };
    }
    case 'list':
      return { value: s.split(',').map((x) => x.trim()).filter(Boolean) };
    case 'map': {
      const out = {};
      for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const i = part.indexOf('=');
        if (i <= 0) return { error: `"${part}" is not key=value` };
        out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
      }
      return { value: out };
    }
    case 'json':
      try {
        return { value: JSON.parse(s) };
      } catch (e) {
        return { error: `not JSON: ${e.message}` };
      }
    case 'password':
    case 'textarea':
      return { value: text };
    default:
      return { value: s };
  }
}

/** A literal typed into a table cell: numbers, true/false and JSON as such, else text. */
export function literal(s) {
  const t = String(s ?? '').trim();
  if (t === '') return '';
  if (/^(true|false|null)$/.test(t) || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t) || /^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}

const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** The problem with a field's value, '' when none. */
export function checkValue(f, v, doc) {
  if (empty(v)) return f.req ? 'required' : f.always && f.check ? f.check(v, doc) || '' : '';
  if (f.t === 'number') {
    if (f.min !== undefined && v < f.min) return `at least ${f.min}`;
    if (f.max !== undefined && v > f.max) return `at most ${f.max}`;
  }
  if (f.t === 'select' && f.opts && !f.opts.map(String).includes(String(v))) return `one of ${f.opts.join(', ')}`;
  if (f.pattern && typeof v === 'string' && !f.pattern[0].test(v)) return f.pattern[1];
  if (f.t === 'rows' && f.cols) {
    for (const [i, row] of v.entries())
      for (const c of f.cols) if (c.req && empty(row[c.k])) return `row ${i + 1}: ${c.label} is required`;
  }
  return f.check ? f.check(v, doc) || '' : '';
}

/** The fields shown for doc (those whose `when` holds). */
export const visible = (fields, doc) => fields.filter((f) => !f.when || f.when(doc));

/**
 * Turns the inputs' texts into the document to save: {doc, errors: {key: message}}. Fields that
 * are hidden for this document (another provider's options) are removed from it.
 */
export function collect(fields, doc, texts) {
  let out = doc;
  const errors = {};
  const shown = visible(fields, doc);
  for (const f of fields) if (f.when && !shown.some((g) => g.k === f.k)) out = setPath(out, f.k, undefined);
  // First every value, then the checks, which may compare values (a range's two ends).
  for (const f of shown) {
    if (f.readOnly || f.section) continue;
    const parsed = f.k in texts ? fromText(f, texts[f.k]) : { value: getPath(out, f.k) };
    if (parsed.error) errors[f.k] = parsed.error;
    else out = setPath(out, f.k, parsed.value);
  }
  for (const f of shown) {
    if (f.readOnly || f.section || errors[f.k]) continue;
    const msg = checkValue(f, getPath(out, f.k), out);
    if (msg) errors[f.k] = msg;
  }
  return { doc: out, errors };
}

/**
 * The keys an API error names ("provider.url: expected a string; name: ..."): {key: message}
 * for those that are fields of the form.
 */
export function errorsByKey(detail, fields) {
  const out = {};
  for (const part of String(detail || '').split('; ')) {
    const m = /^([A-Za-z_][\w.[\]]*)(?: \([^)]*\))?\s*:\s*(.+)$/.exec(part);
    if (!m) continue;
    const key = m[1].replace(/\[\d+\].*$/, ''); // provider.mappings[1] -> provider.mappings
    if (fields.some((f) => f.k === key)) out[key] = m[2];
  }
  return out;
}

/** Ids as the API takes them: no '.', ':' or white space. */
export const ID = [/^[^.:\s]+$/, "no '.', ':' or spaces"];
/** Durations as the services read them: 90s, 5m, 1h30m, 500ms (or a number of ms). */
export const DURATION = [/^(\d+|(\d+(\.\d+)?(ms|s|m|h|d))+)$/, 'a duration such as 90s, 5m or 1h30m'];
export const TIME_OF_DAY = [/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'HH:MM or HH:MM:SS'];
export const DATE = [/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD'];
export const MQTT_URL = [/^(tcp|ssl|mqtt|mqtts|ws|wss):\/\/[^\s/]+(:\d+)?\/?$/, 'tcp://host:port or ssl://host:port'];
export const HTTP_URL = [/^https?:\/\/\S+$/, 'an http:// or https:// URL'];
export const FIELD_QID = [/^((field|sf|sensor_field):)?[^.:\s]+\.[^.:\s]+\.[^.:\s]+\.[^.:\s]+$/, 'a field: gateway.node.source.field'];

/** A cron expression's shape: six fields, or a macro (the API checks the values). */
export function cronShape(v) {
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(v)) return '';
  if (/^@every\s+\S+$/.test(v)) return '';
  const n = v.trim().split(/\s+/).length;
  return n === 6 ? '' : `expected 6 fields (seconds minutes hours day-of-month month day-of-week), got ${n}`;
}

/** A zone name the browser knows ('' when it does, or when it cannot tell). */
export function zoneProblem(v) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return '';
  } catch {
    return `'${v}' is not a known time zone`;
  }
}
