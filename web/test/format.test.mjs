// Unit tests of the dashboard's pure helpers (node --test; no packages needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlOf, hexColor, labelsText, markdown, parseLabels, showValue, timeAgo, truthy } from '../src/format.js';
import { rangeOf, windowFor } from '../src/series.js';

const field = (over) => ({ sourceId: 'POWER1', fieldId: 'power', metricType: 'binary', unit: '', labels: {}, ...over });

test('controls follow the metric type, the unit and the control label', () => {
  assert.equal(controlOf(field()), 'switch');
  assert.equal(controlOf(field({ sourceId: 'light', fieldId: 'Dimmer', metricType: 'gauge', unit: '%' })), 'slider');
  // A humidity in % is a measurement (gauge_float), not a setting.
  assert.equal(controlOf(field({ fieldId: 'Humidity', metricType: 'gauge_float', unit: '%' })), 'input');
  assert.equal(controlOf(field({ fieldId: 'Color', metricType: 'string', current: { value: 'FF8000' } })), 'color');
  assert.equal(controlOf(field({ fieldId: 'x', metricType: 'string', current: { value: '#00ff0080' } })), 'color');
  assert.equal(controlOf(field({ fieldId: 'name', metricType: 'string', current: { value: 'kitchen' } })), 'input');
  assert.equal(controlOf(field({ sourceId: '_node', fieldId: 'online' })), 'none');
  assert.equal(controlOf(field({ labels: { control: 'none' } })), 'none');
  assert.equal(controlOf(field({ metricType: 'gauge', labels: { control: 'slider' } })), 'slider');
  assert.equal(controlOf(field({ labels: { control: 'bogus' } })), 'switch');
});

test('values', () => {
  for (const v of [true, 1, '1', 'ON', 'true', 'yes']) assert.equal(truthy(v), true, String(v));
  for (const v of [false, 0, '0', 'off', '', null, undefined, 2]) assert.equal(truthy(v), false, String(v));
  assert.equal(showValue(field({ current: { value: true } })), 'on');
  assert.equal(showValue(field({ metricType: 'gauge_float', unit: '°C', current: { value: 21.34567 } })), '21.346 °C');
  assert.equal(showValue(field({ metricType: 'string', current: { value: 'x' } })), 'x');
  assert.equal(showValue(field({})), '—');
  assert.equal(hexColor('FF8000'), '#FF8000');
  assert.equal(hexColor('#ff800080'), '#ff8000');
  assert.equal(hexColor('red'), '#000000');
});

test('times', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  assert.equal(timeAgo(null, now), 'never');
  assert.equal(timeAgo('2026-11-26T11:59:58Z', now), 'just now');
  assert.equal(timeAgo('2026-11-26T11:59:30Z', now), '30 s ago');
  assert.equal(timeAgo('2026-11-26T11:00:00Z', now), '1 h ago');
  assert.equal(timeAgo('2026-11-24T12:00:00Z', now), '2 d ago');
});

test('labels round-trip and bad ones are named', () => {
  assert.deepEqual(parseLabels(' room = hall, floor=1 ,'), { room: 'hall', floor: '1' });
  assert.equal(labelsText({ room: 'hall', floor: '1' }), 'room=hall, floor=1');
  assert.deepEqual(parseLabels(labelsText({ a: 'b=c' })), { a: 'b=c' });
  assert.throws(() => parseLabels('room'), /"room" is not key=value/);
  assert.throws(() => parseLabels('=x'), /not key=value/);
});

test('markdown escapes HTML before formatting', () => {
  assert.equal(markdown('Hello **world**'), '<p>Hello <b>world</b></p>');
  assert.equal(markdown('<img src=x onerror=alert(1)>'), '<p>&lt;img src=x onerror=alert(1)&gt;</p>');
  assert.equal(markdown('# Title\n\n*a* `b`'), '<h3>Title</h3><p><i>a</i> <code>b</code></p>');
  assert.equal(
    markdown('[docs](https://example.org/x)'),
    '<p><a href="https://example.org/x" rel="noopener noreferrer" target="_blank">docs</a></p>',
  );
  // Only http(s) links; a javascript: URL stays text.
  assert.equal(markdown('[x](javascript:alert(1))'), '<p>[x](javascript:alert(1))</p>');
  assert.equal(markdown('[x](https://a.b/"onmouseover="y)'), '<p><a href="https://a.b/&quot;onmouseover=&quot;y" rel="noopener noreferrer" target="_blank">x</a></p>');
});

test('chart windows give about 300 points', () => {
  assert.equal(windowFor(3600), '30s');
  assert.equal(windowFor(86400), '5m');
  assert.equal(windowFor(7 * 86400), '1h');
  assert.equal(windowFor(60), '10s');
  assert.equal(windowFor(10 * 365 * 86400), '24h'); // the widest window
  assert.deepEqual(rangeOf('24h'), { start: '-24h', stop: '', seconds: 86400, window: '5m' });
  assert.equal(rangeOf('nonsense').start, '-1h');
  const c = rangeOf('custom', '2026-11-26T00:00', '2026-11-26T06:00');
  assert.equal(c.seconds, 6 * 3600);
  assert.equal(c.window, '5m');
});
