// Pure helpers (no DOM, no Preact): value formatting, field classification, labels, markdown.
// Unit-tested with node's own test runner (web/test/).

export function timeAgo(ts, now = Date.now()) {
  if (!ts) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(ts)) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function truthy(v) {
  if (typeof v === 'string') return ['1', 'true', 'on', 'yes'].includes(v.toLowerCase());
  return v === true || v === 1;
}

export function showValue(f) {
  const v = f.current?.value;
  if (v === undefined || v === null) return '—';
  if (f.metricType === 'binary') return truthy(v) ? 'on' : 'off';
  if (typeof v === 'number') return `${Math.round(v * 1000) / 1000}${f.unit ? ' ' + f.unit : ''}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return `${v}${f.unit ? ' ' + f.unit : ''}`;
}

const HEX = /^#?[0-9a-f]{6}([0-9a-f]{2,4})?$/i;

/**
 * Which control edits a field: the label `control` (switch, slider, color, input, none) decides
 * when set; else a binary field is a switch, an integer gauge in % a slider, a hex colour
 * string (or a field named Color) a colour picker, and the node's own status fields
 * (source `_node`) none; anything else a value input.
 */
export function controlOf(f) {
  const forced = f.labels?.control;
  if (['switch', 'slider', 'color', 'input', 'none'].includes(forced)) return forced;
  if (f.sourceId === '_node') return 'none';
  if (f.metricType === 'binary') return 'switch';
  if (f.metricType === 'gauge' && f.unit === '%') return 'slider';
  const v = f.current?.value;
  if (f.metricType === 'string' && (/^colou?r$/i.test(f.fieldId) || (typeof v === 'string' && HEX.test(v))))
    return 'color';
  return 'input';
}

export const hexColor = (v) => (typeof v === 'string' && HEX.test(v) ? '#' + v.replace('#', '').slice(0, 6) : '#000000');

export function labelsText(labels) {
  return Object.entries(labels || {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function parseLabels(text) {
  const out = {};
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`"${t}" is not key=value`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  }
  return out;
}

/** A small, safe markdown: the text is escaped first; headings, bold, italics, code, http links. */
export function markdown(src) {
  const esc = src.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const inline = (s) =>
    s
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')
      .replace(/\*([^*]+)\*/g, '<i>$1</i>')
      .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
  return esc
    .split(/\n{2,}/)
    .map((block) => {
      const h = block.match(/^(#{1,3}) (.*)$/);
      if (h) return `<h${h[1].length + 2}>${inline(h[2])}</h${h[1].length + 2}>`;
      return `<p>${inline(block).replace(/\n/g, '<br>')}</p>`;
    })
    .join('');
}
