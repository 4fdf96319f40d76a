// Field series for charts: GET /api/metric with the window chosen from the range (about 300
// points), `mean` for numbers and `last` for binary fields (drawn as steps).
import { get, qs } from './api.js';

export const RANGES = { '1h': 3600, '24h': 86400, '7d': 7 * 86400 };
const WINDOWS = [10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400];
const TARGET_POINTS = 300;

export function windowFor(seconds) {
  const w = WINDOWS.find((w) => seconds / w <= TARGET_POINTS) || WINDOWS[WINDOWS.length - 1];
  return w % 3600 === 0 ? `${w / 3600}h` : w % 60 === 0 ? `${w / 60}m` : `${w}s`;
}

/** {start, stop, seconds, window} for '1h' | '24h' | '7d', or a custom from/to (local times). */
export function rangeOf(range, from, to) {
  if (range === 'custom' && from && to) {
    const start = new Date(from).toISOString();
    const stop = new Date(to).toISOString();
    const seconds = Math.max(60, (Date.parse(stop) - Date.parse(start)) / 1000);
    return { start, stop, seconds, window: windowFor(seconds) };
  }
  const key = range in RANGES ? range : '1h';
  return { start: `-${key}`, stop: '', seconds: RANGES[key], window: windowFor(RANGES[key]) };
}

/** {series: [{label, binary, points}], from, to} for quick ids; fields maps quick id -> field. */
export async function loadSeries(qids, fields, r) {
  const bin = qids.filter((q) => fields.get(q)?.metricType === 'binary');
  const num = qids.filter((q) => !bin.includes(q));
  const ask = (list, fn) =>
    list.length
      ? get(`/metric?${list.map((q) => `quickId=${encodeURIComponent(q)}`).join('&')}&${qs({ start: r.start, stop: r.stop, window: r.window, functions: fn })}`)
      : {};
  const [a, b] = await Promise.all([ask(num, 'mean'), ask(bin, 'last')]);
  const series = qids.map((q) => {
    const f = fields.get(q);
    const binary = f?.metricType === 'binary';
    const rows = (binary ? b : a)[q]?.[binary ? 'last' : 'mean'] || [];
    return {
      label: f ? `${f.nodeId} ${f.sourceId} ${f.name || f.fieldId}${f.unit ? ` (${f.unit})` : ''}` : q,
      binary,
      points: rows.map((row) => [Date.parse(row.time) / 1000, row.value === null ? null : Number(row.value)]),
    };
  });
  const end = r.stop ? Date.parse(r.stop) / 1000 : Date.now() / 1000;
  return { series, from: end - r.seconds, to: end };
}
