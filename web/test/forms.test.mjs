// Unit tests of the editors' pure helpers and forms (node --test; no packages needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, cronShape, errorsByKey, fromText, getPath, literal, setPath, toText } from '../src/forms.js';
import { gatewayFields, mappingsProblem, previewBody, scheduleFields, settingsFields, taskFields } from '../src/schemas.js';

test('key paths: set copies, delete prunes the objects it empties', () => {
  const doc = { a: { b: 1, c: { d: 2 } } };
  const out = setPath(doc, 'a.c.d', undefined);
  assert.deepEqual(out, { a: { b: 1 } });
  assert.deepEqual(doc, { a: { b: 1, c: { d: 2 } } }, 'the original is untouched');
  assert.equal(setPath(doc, 'x.y', undefined), doc, 'deleting what is not there changes nothing');
  assert.deepEqual(setPath({}, 'ack.timeout', '1s'), { ack: { timeout: '1s' } });
  assert.equal(getPath({ a: [{ b: 3 }] }, 'a.0.b'), 3);
});

test('texts to values and back', () => {
  assert.deepEqual(fromText({ t: 'number' }, ' 42 '), { value: 42 });
  assert.deepEqual(fromText({ t: 'number' }, 'abc'), { error: 'expected a number' });
  assert.deepEqual(fromText({ t: 'number', int: true }, '3.5'), { error: 'expected a whole number' });
  assert.deepEqual(fromText({ t: 'number' }, ''), { value: undefined });
  assert.deepEqual(fromText({ t: 'list' }, 'mon, fri,,'), { value: ['mon', 'fri'] });
  assert.deepEqual(fromText({ t: 'map' }, 'room=hall, floor=1'), { value: { room: 'hall', floor: '1' } });
  assert.match(fromText({ t: 'map' }, 'room').error, /not key=value/);
  assert.match(fromText({ t: 'json' }, '{"a":').error, /^not JSON/);
  assert.deepEqual(fromText({ t: 'select', req: true, opts: ['serial', 'mqtt'] }, ''), { value: 'serial' });
  assert.equal(toText({ t: 'map' }, { a: '1', b: '2' }), 'a=1, b=2');
  assert.equal(toText({ t: 'list' }, ['a', 'b']), 'a, b');
  assert.equal(literal('25'), 25);
  assert.equal(literal('true'), true);
  assert.equal(literal('hall'), 'hall');
  assert.equal(literal('2.'), '2.');
});

test('a gateway form keeps only its provider options, checked', () => {
  const fields = gatewayFields({}, true);
  const doc = { enabled: true, provider: { type: 'mysensors', transport: 'ethernet', url: 'tcp://x:1883', port: '/dev/ttyUSB0' }, others: { keep: 1 } };
  const { doc: out, errors } = collect(fields, doc, { id: 'radio', 'provider.host': '', 'provider.tcpPort': '70000' });
  assert.equal(errors['provider.host'], 'required');
  assert.equal(errors['provider.tcpPort'], 'at most 65535');
  assert.equal(out.provider.url, undefined, 'the MQTT options of another transport go');
  assert.equal(out.provider.port, undefined, 'the serial port goes');
  assert.deepEqual(out.others, { keep: 1 }, 'keys the form does not know stay');
  const ok = collect(fields, doc, { id: 'radio', 'provider.host': '10.0.0.2', 'provider.tcpPort': '5003' });
  assert.deepEqual(ok.errors, {});
  assert.deepEqual(ok.doc.provider, { type: 'mysensors', transport: 'ethernet', host: '10.0.0.2', tcpPort: 5003 });
  assert.equal(collect(fields, doc, { id: 'a/b' }).errors.id.startsWith('no '), true);
});

test('generic MQTT mappings are checked before they go', () => {
  assert.match(mappingsProblem([]), /at least one/);
  assert.match(mappingsProblem([{ name: 's', fields: [{ path: 't' }] }]), /mappings\[0\] \(s\): topic is required/);
  assert.match(mappingsProblem([{ topic: 'a/{node}' }]), /fields are required/);
  assert.match(mappingsProblem([{ topic: 'a/{node}', fields: [{ path: 't', metricType: 'gauge_flot' }] }]), /not a metric type/);
  assert.equal(mappingsProblem([{ topic: 'a/{node}', allFields: true }]), '');
});

test('task and schedule checks compare values with each other', () => {
  const task = collect(taskFields({}, true), { triggerOnEvent: false, evaluationType: 'rule', rule: { conditions: [{ variable: '', operator: 'eq' }] } }, {});
  assert.match(task.errors.executionInterval, /On events or an interval/);
  assert.match(task.errors['rule.conditions'], /row 1: variable is required/);
  const damp = collect(taskFields({}, true), { triggerOnEvent: true, rule: { conditions: [{ variable: 't', operator: 'gt', value: 1 }] }, dampening: { type: 'evaluation' } }, { 'dampening.occurrences': '3', 'dampening.evaluation': '2' });
  assert.match(damp.errors['dampening.evaluation'], /at least the occurrences/);
  const sched = collect(scheduleFields({}, true), { type: 'simple', spec: { frequency: 'weekly' } }, { 'spec.weekdays': 'mon, funday', 'spec.time': '25:00', 'validity.from': '2030-02-01', 'validity.to': '2030-01-01' });
  assert.match(sched.errors['spec.weekdays'], /'funday' is not sun..sat/);
  assert.equal(sched.errors['spec.time'], 'HH:MM or HH:MM:SS');
  assert.match(sched.errors['validity.to'], /before Valid from/);
  assert.equal(cronShape('0 30 6 * *'), 'expected 6 fields (seconds minutes hours day-of-month month day-of-week), got 5');
  assert.equal(cronShape('@every 90s'), '');
  assert.deepEqual(previewBody({ type: 'cron', spec: { expression: '* * * * * *' }, validity: { from: '2030-01-01' } }), {
    spec: { expression: '* * * * * *', type: 'cron', validity: { from: '2030-01-01' } },
    count: 5,
  });
});

test('settings: the zone and the coordinates', () => {
  const { errors } = collect(settingsFields(), { spec: {} }, { 'spec.timezone': 'Mars/Base', 'spec.geoLocation.latitude': '95', 'spec.geoLocation.longitude': '' });
  assert.match(errors['spec.timezone'], /not a known time zone/);
  assert.equal(errors['spec.geoLocation.latitude'], 'at most 90');
  const ok = collect(settingsFields(), { spec: {} }, { 'spec.timezone': 'Europe/Berlin', 'spec.geoLocation.latitude': '52.5', 'spec.geoLocation.longitude': '13.4' });
  assert.deepEqual(ok.errors, {});
  assert.deepEqual(ok.doc.spec, { timezone: 'Europe/Berlin', geoLocation: { latitude: 52.5, longitude: 13.4 } });
});

test("the API's error detail is shown next to the inputs it names", () => {
  const fields = [{ k: 'variables' }, { k: 'provider.mappings' }, { k: 'name' }];
  assert.deepEqual(errorsByKey('variables: expected an object; labels: expected an object of strings', fields), { variables: 'expected an object' });
  assert.deepEqual(errorsByKey('provider.mappings[1] (relays): fields[0].metricType: bad', fields), { 'provider.mappings': 'fields[0].metricType: bad' });
  assert.deepEqual(errorsByKey(null, fields), {});
});
