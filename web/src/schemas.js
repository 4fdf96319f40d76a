// The editors' forms, one per kind, from the documents' reference pages: docs/gateways/*.md
// (provider options), docs/automation.md (tasks, schedules, handlers, forwarding), docs/api.md
// (users, service tokens, firmware, settings). Pure data and checks (no DOM): forms.js reads them.
import { cronShape, DATE, DURATION, FIELD_QID, HTTP_URL, ID, MQTT_URL, TIME_OF_DAY, zoneProblem } from './forms.js';

const METRIC_TYPES = ['none', 'string', 'binary', 'gauge', 'gauge_float', 'counter', 'geo'];
const OPERATORS = ['eq', 'ne', 'in', 'nin', 'gt', 'lt', 'gte', 'lte', 'exists', 'regex'];

const is = (path, v) => (d) => {
  const parts = path.split('.');
  let x = d;
  for (const p of parts) x = x?.[p];
  return x === v;
};
const idField = (isNew, req = false) => ({ k: 'id', label: 'Id', req, pattern: ID, readOnly: !isNew, ph: req ? '' : 'generated when empty' });
const common = (isNew, idReq) => [
  idField(isNew, idReq),
  { k: 'name', label: 'Name' },
  { k: 'description', label: 'Description' },
  { k: 'enabled', label: 'Enabled', t: 'bool' },
  { k: 'labels', label: 'Labels', t: 'map', ph: 'room=hall, floor=1' },
];
const when = (cond, fields) => fields.map((f) => ({ ...f, when: f.when ? (d) => cond(d) && f.when(d) : cond }));

// ---- gateways (docs/gateways.md and docs/gateways/<provider>.md) ------------------------------

export const PROVIDERS = ['mysensors', 'tasmota', 'esphome', 'generic_mqtt', 'zigbee2mqtt', 'system_monitoring'];

const broker = [
  { k: 'provider.url', label: 'Broker URL', req: true, pattern: MQTT_URL, ph: 'tcp://127.0.0.1:1883' },
  { k: 'provider.username', label: 'Username' },
  { k: 'provider.password', label: 'Password', t: 'password' },
  { k: 'provider.qos', label: 'QoS', t: 'number', int: true, min: 0, max: 1, ph: '0' },
  { k: 'provider.connectTimeout', label: 'Connect timeout', pattern: DURATION, ph: '5s' },
];

/** The generic MQTT provider's mappings: a list of objects, each with a topic and fields. */
export function mappingsProblem(v) {
  if (!Array.isArray(v) || v.length === 0) return 'a list of at least one mapping';
  for (const [i, m] of v.entries()) {
    const at = `mappings[${i}]${m && m.name ? ` (${m.name})` : ''}`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return `${at}: expected an object`;
    if (typeof m.topic !== 'string' || !m.topic) return `${at}: topic is required`;
    if (!m.allFields && (!Array.isArray(m.fields) || m.fields.length === 0)) return `${at}: fields are required unless allFields`;
    for (const [j, f] of (m.fields || []).entries()) if (f.metricType && !METRIC_TYPES.includes(f.metricType)) return `${at}: fields[${j}].metricType: '${f.metricType}' is not a metric type`;
    if (m.write && typeof m.write.topic !== 'string') return `${at}: write.topic is required`;
  }
  return '';
}

const mys = is('provider.type', 'mysensors');
const transport = (t) => (d) => mys(d) && (d.provider?.transport || 'serial') === t;
const mqttLike = (d) => ['tasmota', 'esphome', 'generic_mqtt', 'zigbee2mqtt'].includes(d.provider?.type) || transport('mqtt')(d);

export function gatewayFields(d, isNew) {
  return [
    ...common(isNew, true).map((f) => (f.k === 'id' ? { ...f, pattern: [/^[^.:\s+#/]+$/, "no '.', ':', '/', '+', '#' or spaces"] } : f)),
    { k: 'provider.type', label: 'Provider', t: 'select', req: true, opts: PROVIDERS },
    { section: 'Provider options', k: '_provider' },
    ...when(mys, [
      { k: 'provider.transport', label: 'Transport', t: 'select', req: true, opts: ['serial', 'ethernet', 'mqtt'] },
      { k: 'provider.port', label: 'Serial port', req: true, ph: '/dev/ttyUSB0', when: transport('serial') },
      { k: 'provider.baudRate', label: 'Baud rate', t: 'number', int: true, min: 1200, max: 1000000, ph: '115200', when: transport('serial') },
      { k: 'provider.host', label: 'Host', req: true, ph: '127.0.0.1', when: transport('ethernet') },
      { k: 'provider.tcpPort', label: 'TCP port', t: 'number', int: true, min: 1, max: 65535, ph: '5003', when: transport('ethernet') },
      { k: 'provider.topicPrefix', label: 'Topic prefix', ph: 'mygateway1', when: transport('mqtt') },
      { k: 'provider.unitsConfig', label: 'Units', t: 'select', opts: ['metric', 'imperial'], ph: 'metric' },
      { k: 'provider.requestAck', label: 'Request acks', t: 'bool', dflt: true },
      { k: 'provider.assignIds', label: 'Assign node ids', t: 'bool', dflt: true },
    ]),
    ...when(mqttLike, broker),
    ...when(is('provider.type', 'tasmota'), [
      { k: 'provider.fullTopic', label: 'FullTopic', ph: '%prefix%/%topic%/', check: (v) => (v.includes('%prefix%') && v.includes('%topic%') ? '' : 'needs %prefix% and %topic%') },
      { k: 'provider.queryStatus', label: 'Query status', t: 'bool', dflt: true },
    ]),
    ...when(is('provider.type', 'esphome'), [
      { k: 'provider.topicPrefixes', label: 'Topic prefixes', t: 'list', ph: '+' },
      { k: 'provider.discovery', label: 'Discovery', t: 'bool', dflt: true },
      { k: 'provider.discoveryPrefix', label: 'Discovery prefix', ph: 'homeassistant' },
    ]),
    ...when(is('provider.type', 'zigbee2mqtt'), [
      { k: 'provider.baseTopic', label: 'Base topic', ph: 'zigbee2mqtt', pattern: [/^[^+#/]+(\/[^+#/]+)*$/, "levels without '+', '#' or a leading or trailing '/'"] },
      { k: 'provider.attributeTopics', label: 'Attribute topics', t: 'bool' },
    ]),
    ...when(is('provider.type', 'generic_mqtt'), [
      {
        k: 'provider.mappings',
        label: 'Mappings (JSON)',
        t: 'json',
        req: true,
        rows: 10,
        check: mappingsProblem,
        help: 'topic patterns with {node}/{source} levels, fields with path, metricType, unit; optional write (docs/gateways/generic_mqtt.md)',
      },
    ]),
    ...when(is('provider.type', 'system_monitoring'), [
      { k: 'provider.interval', label: 'Interval', pattern: DURATION, ph: '10s' },
      { k: 'provider.nodeId', label: 'Node id', pattern: ID, ph: 'the host name' },
      { k: 'provider.disks', label: 'Disks', t: 'list', ph: '/, /srv (empty: all)' },
      { k: 'provider.interfaces', label: 'Interfaces', t: 'list', ph: 'eth0 (empty: all but lo)' },
      { k: 'provider.temperatures', label: 'Temperatures', t: 'bool', dflt: true },
    ]),
    { section: 'Gateway', k: '_gateway' },
    { k: 'reconnectDelay', label: 'Reconnect delay', pattern: DURATION, ph: '10s' },
    { k: 'queueFailedMessages', label: 'Queue failed messages', t: 'bool' },
    { k: 'ack.retryCount', label: 'Ack retries', t: 'number', int: true, min: 0, max: 100, ph: '3' },
    { k: 'ack.timeout', label: 'Ack timeout', pattern: DURATION, ph: '1s' },
    { k: 'messageLogger.type', label: 'Message logger', t: 'select', opts: ['none', 'file'], ph: 'none' },
  ];
}

export const gatewayBlank = () => ({ enabled: true, provider: { type: 'tasmota', url: 'tcp://127.0.0.1:1883' } });

// ---- tasks (docs/automation.md, Tasks) -------------------------------------------------------

const evalIs = (t) => (d) => (d.evaluationType || 'rule') === t;
const dampIs = (t) => (d) => (d.dampening?.type || 'none') === t;

export function taskFields(d, isNew) {
  return [
    ...common(isNew, false),
    { section: 'Trigger', k: '_trigger' },
    { k: 'triggerOnEvent', label: 'On events', t: 'bool' },
    { k: 'eventFilter.entityType', label: 'Entity type', ph: 'field', when: (x) => x.triggerOnEvent },
    { k: 'eventFilter.quickIds', label: 'Quick ids', t: 'list', datalist: 'sb-quickids', ph: 'field:gw1.12.1.V_TEMP', when: (x) => x.triggerOnEvent },
    {
      k: 'executionInterval',
      label: 'Interval',
      pattern: DURATION,
      ph: '30s',
      always: true,
      check: (v, x) => (!v && !x.triggerOnEvent ? 'a task needs On events or an interval' : ''),
    },
    { section: 'Evaluation', k: '_eval' },
    { k: 'variables', label: 'Variables (JSON)', t: 'json', help: '{"temp": "field:gw1.12.1.V_TEMP.current.value"}' },
    { k: 'evaluationType', label: 'Evaluation', t: 'select', opts: ['rule', 'javascript', 'webhook'], ph: 'rule' },
    { k: 'rule.matchAll', label: 'Match all', t: 'bool', when: evalIs('rule') },
    {
      k: 'rule.conditions',
      label: 'Conditions',
      t: 'rows',
      when: evalIs('rule'),
      rowLabel: 'condition',
      newRow: () => ({ variable: '', operator: 'eq', value: '' }),
      cols: [
        { k: 'variable', label: 'variable', req: true },
        { k: 'operator', label: 'operator', t: 'select', opts: OPERATORS },
        { k: 'value', label: 'value', t: 'literal' },
      ],
      check: (v) => (v.length ? '' : 'at least one condition'),
      req: true,
    },
    { k: 'evaluationConfig.javascript', label: 'Script', t: 'textarea', mono: true, rows: 6, req: true, when: evalIs('javascript') },
    { k: 'evaluationConfig.webhook.url', label: 'Webhook URL', req: true, pattern: HTTP_URL, when: evalIs('webhook') },
    { k: 'evaluationConfig.webhook.timeout', label: 'Webhook timeout', pattern: DURATION, when: evalIs('webhook') },
    { section: 'Dampening', k: '_damp' },
    { k: 'dampening.type', label: 'Dampening', t: 'select', opts: ['none', 'consecutive', 'evaluation', 'active_duration'], ph: 'none' },
    { k: 'dampening.occurrences', label: 'Occurrences', t: 'number', int: true, min: 1, max: 64, req: true, when: (x) => dampIs('consecutive')(x) || dampIs('evaluation')(x) },
    {
      k: 'dampening.evaluation',
      label: 'Of the last',
      t: 'number',
      int: true,
      min: 1,
      max: 64,
      req: true,
      when: dampIs('evaluation'),
      check: (v, x) => (v < (x.dampening?.occurrences || 0) ? 'at least the occurrences' : ''),
    },
    { k: 'dampening.activeDuration', label: 'Active for', pattern: DURATION, req: true, when: dampIs('active_duration') },
    { k: 'ignoreDuplicate', label: 'Ignore duplicates', t: 'bool' },
    { k: 'autoDisable', label: 'Disable after a trigger', t: 'bool' },
    { k: 'reEnable', label: 'Enable again', t: 'bool', when: (x) => x.autoDisable },
    { k: 'reEnableDuration', label: 'after', pattern: DURATION, req: true, when: (x) => x.autoDisable && x.reEnable },
    { section: 'Handlers', k: '_handlers' },
    { k: 'handlers', label: 'Handlers', t: 'refs', kind: 'handler' },
    { k: 'handlerParameters', label: 'Parameters (JSON)', t: 'json', help: 'string values are templates: {"text": "{{ room }} is at {{ temp }}"}' },
  ];
}

export const taskBlank = () => ({ enabled: true, triggerOnEvent: true, evaluationType: 'rule', rule: { matchAll: true, conditions: [] }, handlers: [] });

// ---- schedules (docs/automation.md, Schedule specs and Schedules) -----------------------------

const typeIs = (...t) => (d) => t.includes(d.type);
const freqIs = (...f) => (d) => d.type === 'simple' && f.includes(d.spec?.frequency || 'daily');
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function scheduleFields(d, isNew) {
  return [
    ...common(isNew, false),
    { section: 'When', k: '_when' },
    { k: 'type', label: 'Type', t: 'select', req: true, opts: ['repeat', 'cron', 'simple', 'sunrise', 'sunset'] },
    { k: 'spec.interval', label: 'Every', req: true, pattern: DURATION, ph: '10m', when: typeIs('repeat') },
    { k: 'spec.count', label: 'Runs in all', t: 'number', int: true, min: 1, when: typeIs('repeat') },
    { k: 'spec.start', label: 'Start (RFC 3339)', ph: '2026-01-01T08:00:00Z', when: typeIs('repeat'), check: (v) => (Number.isNaN(Date.parse(v)) ? 'an RFC 3339 time' : '') },
    { k: 'spec.expression', label: 'Cron expression', req: true, ph: '0 30 6 * * MON-FRI', when: typeIs('cron'), check: cronShape },
    { k: 'spec.frequency', label: 'Frequency', t: 'select', req: true, opts: ['daily', 'weekly', 'monthly', 'on_date'], when: typeIs('simple') },
    { k: 'spec.weekdays', label: 'Weekdays', t: 'list', req: true, ph: 'mon, fri', when: freqIs('weekly'), check: (v) => v.filter((x) => !WEEKDAYS.includes(String(x).toLowerCase()) && !/^[0-6]$/.test(x)).map((x) => `'${x}' is not sun..sat`)[0] || '' },
    { k: 'spec.day', label: 'Day of month', t: 'number', int: true, min: 1, max: 31, req: true, when: freqIs('monthly') },
    { k: 'spec.date', label: 'Date', req: true, pattern: DATE, when: freqIs('on_date') },
    { k: 'spec.time', label: 'Time', req: true, pattern: TIME_OF_DAY, ph: '06:30', when: typeIs('simple') },
    { k: 'spec.offset', label: 'Offset', ph: '-30m', pattern: [/^-?(\d+|(\d+(\.\d+)?(ms|s|m|h))+)$/, 'a duration, negative before: -30m'], when: typeIs('sunrise', 'sunset') },
    { k: 'validity.from', label: 'Valid from', pattern: DATE },
    { k: 'validity.to', label: 'Valid to', pattern: DATE, check: (v, x) => (x.validity?.from && v < x.validity.from ? 'before Valid from' : '') },
    { k: 'validity.time.from', label: 'Daily from', pattern: TIME_OF_DAY },
    { k: 'validity.time.to', label: 'Daily to', pattern: TIME_OF_DAY, check: (v, x) => (!x.validity?.time?.from ? 'needs Daily from' : '') },
    { k: 'catchUp', label: 'Catch up after a restart', t: 'bool' },
    { section: 'Handlers', k: '_handlers' },
    { k: 'handlers', label: 'Handlers', t: 'refs', kind: 'handler' },
    { k: 'handlerParameters', label: 'Parameters (JSON)', t: 'json', help: 'string values are templates: {"text": "run {{ run.count }}"}' },
    { k: 'variables', label: 'Variables (JSON)', t: 'json' },
  ];
}

export const scheduleBlank = () => ({ enabled: true, type: 'cron', spec: { expression: '0 0 7 * * *' }, handlers: [] });

// ---- handlers (docs/automation.md, Handlers) -----------------------------------------------

export const HANDLER_TYPES = ['webhook', 'email', 'telegram', 'mqtt', 'resource', 'backup', 'log'];
const hIs = (t) => is('type', t);

export function handlerFields(d, isNew) {
  return [
    ...common(isNew, true),
    { k: 'type', label: 'Type', t: 'select', req: true, opts: HANDLER_TYPES },
    { section: 'Options', k: '_spec' },
    ...when(hIs('webhook'), [
      { k: 'spec.url', label: 'URL', req: true, pattern: [/^https?:\/\/\S+$|\{\{/, 'an http:// or https:// URL'] },
      { k: 'spec.method', label: 'Method', t: 'select', opts: ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'], ph: 'POST' },
      { k: 'spec.headers', label: 'Headers (JSON)', t: 'json' },
      { k: 'spec.body', label: 'Body', t: 'textarea', mono: true, help: 'empty: the parameters as JSON' },
      { k: 'spec.insecure', label: 'Accept any certificate', t: 'bool' },
      { k: 'spec.timeout', label: 'Timeout', pattern: DURATION, ph: '10s' },
    ]),
    ...when(hIs('email'), [
      { k: 'spec.host', label: 'SMTP host', req: true },
      { k: 'spec.port', label: 'Port', t: 'number', int: true, min: 0, max: 65535, ph: '0 (by security)' },
      { k: 'spec.security', label: 'Security', t: 'select', opts: ['starttls', 'ssl', 'none'], ph: 'starttls' },
      { k: 'spec.username', label: 'Username' },
      { k: 'spec.password', label: 'Password', t: 'password' },
      { k: 'spec.from', label: 'From', req: true, pattern: [/^[^\s@]+@[^\s@]+$/, 'an address: name@example.org'] },
      { k: 'spec.to', label: 'To', t: 'list', req: true, check: (v) => v.filter((x) => !/^[^\s@]+@[^\s@]+$/.test(x)).map((x) => `'${x}' is not an address`)[0] || '' },
      { k: 'spec.subject', label: 'Subject', ph: 'Switchboard notification' },
      { k: 'spec.body', label: 'Body', t: 'textarea', help: 'empty: the parameters as JSON' },
    ]),
    ...when(hIs('telegram'), [
      { k: 'spec.token', label: 'Bot token', t: 'password', req: true },
      { k: 'spec.chatIds', label: 'Chat ids', t: 'list', req: true, ph: '42, @channel' },
      { k: 'spec.text', label: 'Text', t: 'textarea' },
      { k: 'spec.parseMode', label: 'Parse mode', t: 'select', opts: ['MarkdownV2', 'HTML'], ph: 'plain text' },
      { k: 'spec.disableNotification', label: 'Silent', t: 'bool' },
    ]),
    ...when(hIs('mqtt'), [
      { k: 'spec.topic', label: 'Topic', req: true, pattern: [/^[^+#]+$|\{\{/, "no '+' or '#'"] },
      { k: 'spec.payload', label: 'Payload', t: 'textarea', mono: true, help: 'empty: the parameters as JSON' },
      { k: 'spec.qos', label: 'QoS', t: 'number', int: true, min: 0, max: 2, ph: '1' },
      { k: 'spec.retain', label: 'Retain', t: 'bool' },
      { k: 'spec.url', label: 'Other broker', pattern: MQTT_URL, ph: 'empty: the bus' },
      { k: 'spec.username', label: 'Username' },
      { k: 'spec.password', label: 'Password', t: 'password' },
    ]),
    ...when(hIs('resource'), [
      { k: 'spec.resource', label: 'Resource (quick id)', datalist: 'sb-quickids', always: true, ph: 'field:gw.node.source.field', check: (v, x) => (!v && !x.spec?.labels ? 'a resource or labels' : '') },
      { k: 'spec.labels', label: 'or every field with labels', t: 'map' },
      { k: 'spec.payload', label: 'Payload', req: true, ph: 'toggle, 1, reboot, enable' },
      { k: 'spec.keyPath', label: 'Key path' },
      { k: 'spec.delay', label: 'Delay', pattern: DURATION },
    ]),
    ...when(hIs('backup'), [
      { k: 'spec.directory', label: 'Directory', ph: '<data_dir>/backups' },
      { k: 'spec.prefix', label: 'Prefix', ph: 'switchboard-backup' },
      { k: 'spec.retention', label: 'Keep', t: 'number', int: true, min: 0, ph: '5' },
      { k: 'spec.archive', label: '.tar.gz archive', t: 'bool', dflt: true },
    ]),
    ...when(hIs('log'), [
      { k: 'spec.message', label: 'Message', t: 'textarea' },
      { k: 'spec.level', label: 'Level', t: 'select', opts: ['error', 'warn', 'info', 'debug'], ph: 'info' },
    ]),
    { section: 'Delivery', k: '_delivery' },
    { k: 'spec.retries', label: 'Retries', t: 'number', int: true, min: 0, max: 100, ph: '3' },
    { k: 'spec.retryDelay', label: 'Retry delay', pattern: DURATION, ph: '1s' },
  ];
}

export const handlerBlank = () => ({ enabled: true, type: 'log', spec: {} });

// ---- the others -----------------------------------------------------------------------------

export function forwardFields(d, isNew) {
  return [
    idField(isNew),
    { k: 'description', label: 'Description' },
    { k: 'enabled', label: 'Enabled', t: 'bool' },
    { k: 'labels', label: 'Labels', t: 'map' },
    { k: 'srcFieldId', label: 'Source field', req: true, pattern: FIELD_QID, datalist: 'sb-fields' },
    {
      k: 'dstFieldId',
      label: 'Destination field',
      req: true,
      pattern: FIELD_QID,
      datalist: 'sb-fields',
      check: (v, x) => (String(v).replace(/^[a-z_]+:/, '') === String(x.srcFieldId || '').replace(/^[a-z_]+:/, '') ? 'the same field as the source' : ''),
    },
  ];
}

export function firmwareFields(d, isNew) {
  return [
    idField(isNew, true),
    { k: 'name', label: 'Name' },
    { k: 'description', label: 'Description' },
    { k: 'labels', label: 'Labels', t: 'map' },
    { k: 'type', label: 'Firmware type', t: 'number', int: true, min: 0, max: 65535, help: 'MySensors OTA type' },
    { k: 'version', label: 'Version', t: 'number', int: true, min: 0, max: 65535 },
  ];
}

export function repoFields(d, isNew) {
  return [
    idField(isNew, true),
    { k: 'name', label: 'Name' },
    { k: 'description', label: 'Description' },
    { k: 'labels', label: 'Labels', t: 'map' },
    { k: 'readOnly', label: 'Read-only', t: 'bool' },
    { k: 'data', label: 'Data (JSON object)', t: 'json', rows: 8, check: (v) => (typeof v === 'object' && !Array.isArray(v) ? '' : 'a JSON object') },
  ];
}

export const ROLES = ['readonly', 'readwrite', 'admin'];

export function userFields(d, isNew) {
  return [
    idField(isNew),
    { k: 'username', label: 'Username', req: true, readOnly: !isNew, pattern: [/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, _ . @ - (up to 64)'] },
    { k: 'fullName', label: 'Full name' },
    { k: 'email', label: 'Email', pattern: [/^[^\s@]+@[^\s@]+$/, 'an address: name@example.org'] },
    { k: 'role', label: 'Role', t: 'select', req: true, opts: ROLES },
    {
      k: 'password',
      label: isNew ? 'Password' : 'New password',
      t: 'password',
      req: isNew,
      help: isNew ? '' : 'empty: unchanged',
      check: (v) => (v.length < 8 ? 'at least 8 characters' : ''),
    },
  ];
}

export function tokenFields(d, isNew) {
  return [
    idField(isNew, true),
    { k: 'name', label: 'Name' },
    { k: 'enabled', label: 'Enabled', t: 'bool' },
    { k: 'role', label: 'Role', t: 'select', req: true, opts: ROLES },
    { k: 'expiresAt', label: 'Expires (RFC 3339)', ph: 'never', check: (v) => (Number.isNaN(Date.parse(v)) ? 'an RFC 3339 time: 2027-12-31T00:00:00Z' : '') },
    { k: 'labels', label: 'Labels', t: 'map' },
  ];
}

export function settingsFields() {
  return [
    { k: 'spec.timezone', label: 'Time zone', ph: 'Europe/Berlin (empty: the system zone)', datalist: 'sb-zones', check: zoneProblem },
    { k: 'spec.geoLocation.latitude', label: 'Latitude', t: 'number', min: -90, max: 90, ph: '52.52', check: (v, x) => (x.spec?.geoLocation?.longitude === undefined ? 'give the longitude too' : '') },
    { k: 'spec.geoLocation.longitude', label: 'Longitude', t: 'number', min: -180, max: 180, ph: '13.405', check: (v, x) => (x.spec?.geoLocation?.latitude === undefined ? 'give the latitude too' : '') },
    { k: 'spec.units', label: 'Units', t: 'select', opts: ['metric', 'imperial'], ph: 'metric' },
  ];
}

/** The spec the schedule preview asks about: the type and validity beside it go in. */
export function previewBody(d) {
  const spec = { ...(d.spec || {}), type: d.type };
  if (d.validity && Object.keys(d.validity).length) spec.validity = d.validity;
  return { spec, count: 5 };
}
