// Small helpers shared by the pages: time formatting, value rendering, field classification.
import { useEffect, useState } from 'preact/hooks';

export function timeAgo(ts, now = Date.now()) {
  if (!ts) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(ts)) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Re-renders every period ms (for "5 s ago" texts). */
export function useTick(period = 5000) {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), period);
    return () => clearInterval(t);
  }, [period]);
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

export const isNumeric = (f) => ['binary', 'gauge', 'gauge_float', 'counter'].includes(f.metricType);

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

/** The browser-side router: the path and a navigate() that pushes history. */
export function usePath() {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setPath(location.pathname + location.search);
    addEventListener('popstate', on);
    addEventListener('sb:navigate', on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('sb:navigate', on);
    };
  }, []);
  return path;
}

export function navigate(to) {
  if (location.pathname + location.search === to) return;
  history.pushState(null, '', to);
  dispatchEvent(new Event('sb:navigate'));
}

export function Link({ href, children, ...rest }) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.button || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}
