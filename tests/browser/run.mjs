// Browser tests of the web dashboard: playwright-core drives Debian's Chromium (headless, kept
// off the network) against a real `switchboard run` (managed mosquitto + influxd, sqlite store,
// the built web/dist served by the API) with devsim's simulated Tasmota devices.
//
//   node tests/browser/run.mjs [--switchboard PATH] [--devsim PATH] [--web web/] [--artifacts DIR]
//   (defaults: build/services/switchboard/switchboard, build/tools/devsim/devsim, web/,
//   build/browser-artifacts)
//
// Exit 0 when every check passed, 1 when one failed, 77 (ctest: skipped) when a prerequisite is
// missing and SB_REQUIRE_BROWSER is not set (./setup.sh test sets it, so CI cannot skip).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { editorChecks } from './editors.mjs';
import { systemChecks } from './system.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const WEB = resolve(arg('web', join(here, '../../web')));
const SB = arg('switchboard', join(here, '../../build/services/switchboard/switchboard'));
const DEVSIM = arg('devsim', join(here, '../../build/tools/devsim/devsim'));
const ART = resolve(arg('artifacts', join(here, '../../build/browser-artifacts')));
const CHROMIUM = process.env.SB_CHROMIUM || '/usr/bin/chromium';
const GW = 'sim';

function skip(why) {
  console.log(`${process.env.SB_REQUIRE_BROWSER ? 'FAIL' : 'SKIP'} - ${why}`);
  process.exit(process.env.SB_REQUIRE_BROWSER ? 1 : 77);
}
if (!existsSync(SB) || !existsSync(DEVSIM)) skip(`no ${SB} or ${DEVSIM}: build first, or name them (--switchboard, --devsim)`);
if (!existsSync(join(WEB, 'dist/index.html'))) skip(`${WEB}/dist is not built (./setup.sh build builds it)`);
if (!existsSync(join(WEB, 'node_modules/playwright-core'))) skip(`no ${WEB}/node_modules (npm ci in web/)`);
if (!existsSync(CHROMIUM)) skip(`no ${CHROMIUM} (apt-get install chromium)`);
const { chromium } = await import(join(WEB, 'node_modules/playwright-core/index.mjs'));

const TMP = mkdtempSync(join(process.env.SB_TEST_TMPDIR || tmpdir(), 'sb-browser-'));
const children = [];
let failed = 0;
let passed = 0;
const t0 = Date.now();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function check(name, fn) {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   - ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: ${e.message}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function start(cmd, args, log) {
  const out = { text: '' };
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const add = (d) => {
    out.text += d;
    writeFileSync(log, out.text);
  };
  p.stdout.on('data', add);
  p.stderr.on('data', add);
  p.exited = new Promise((r) => p.on('exit', (code) => r(code)));
  children.push(p);
  return { p, out };
}

// ---- the system under test -----------------------------------------------------------------

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
writeFileSync(
  join(TMP, 'sb.yaml'),
  `data_dir: ${TMP}/data\napi:\n  port: ${port}\n  web_root: ${WEB}/dist\n`,
);
const sb = start(SB, ['-c', join(TMP, 'sb.yaml'), 'run'], join(TMP, 'switchboard.log'));
let password, busUrl;
try {
  await until('switchboard run to print its banner', async () => /login: .*password (\S+)/.test(sb.out.text), 30000);
  password = sb.out.text.match(/login: .*password (\S+)/)[1];
  busUrl = sb.out.text.match(/bus:\s+(tcp:\/\/\S+)/)[1];
} catch (e) {
  console.log(`FAIL - switchboard run did not start: ${e.message}\n${sb.out.text}`);
  await cleanup();
  process.exit(1);
}

async function rest(method, path, body, token) {
  const res = await fetch(base + '/api' + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const token = (await rest('POST', '/user/login', { username: 'admin', password })).token;

// ---- the browser ---------------------------------------------------------------------------

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const consoleErrors = [];
const allow = { refusals: false }; // set while the editors' checks provoke 400/409 answers
const refusal = /^Failed to load resource: the server responded with a status of (400|409) /;
async function browser(name) {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(TMP, `profile-${name}-`)), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('console', (m) => m.type() === 'error' && !(allow.refusals && refusal.test(m.text())) && consoleErrors.push(`${name}: ${m.text()}`));
  page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.message}`));
  return { ctx, page };
}

async function login(page, user, pw) {
  await page.goto(base + '/');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', pw);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=who]', { timeout: 10000 });
}

mkdirSync(ART, { recursive: true });
const admin = await browser('admin');
const page = admin.page;
let loads = 0;
page.on('load', () => loads++);
const assets = []; // [url, content-encoding, cache-control] of the app's scripts and styles
page.on('response', (r) => {
  if (/\/assets\/.*\.(js|css)$/.test(r.url())) assets.push([r.url(), r.headers()['content-encoding'], r.headers()['cache-control']]);
});
let devsim;

await check('log in as admin; the header shows the user and role', async () => {
  assert(sb.out.text.includes(`web:       ${base}/ (dashboard)`), 'the banner does not show the dashboard address');
  await login(page, 'admin', password);
  const who = await page.textContent('[data-testid=who]');
  assert(/admin\s*admin/.test(who), `header says "${who}"`);
  await page.waitForSelector('.devices');
  await page.waitForSelector('[data-live=live]', { timeout: 10000 });
  // The build's .gz files, sent compressed and cached for good (content-hashed names).
  assert(assets.length >= 2, `assets loaded: ${JSON.stringify(assets)}`);
  for (const [url, enc, cache] of assets) {
    assert(enc === 'gzip', `${url} came with content-encoding ${enc}`);
    assert(/immutable/.test(cache || ''), `${url} came with cache-control ${cache}`);
  }
});

await check('a simulated node appears live, without a reload', async () => {
  const before = loads;
  await rest('POST', '/gateway', { id: GW, name: 'Simulated', enabled: true, provider: { type: 'tasmota', url: busUrl } }, token);
  await page.waitForSelector(`[data-gateway="${GW}"]`, { timeout: 10000 });
  await sleep(300); // the provider subscribes before devsim's first message
  devsim = start(
    DEVSIM,
    ['--transport', 'tasmota', '--nodes', '3', '--tele-period', '1s', '--url', busUrl, '--record', join(TMP, 'devsim.rx')],
    join(TMP, 'devsim.log'),
  );
  await page.waitForSelector(`[data-node="${GW}.plug1"]`, { timeout: 20000 });
  await page.waitForSelector(`[data-node="${GW}.sensor1"]`, { timeout: 20000 });
  assert(loads === before, 'the page was reloaded');
  await page.screenshot({ path: join(ART, 'devices.png') });
});

const relay = (n) => `[data-field="${GW}.plug1.POWER${n}.power"] button[role=switch]`;
const received = () => (existsSync(join(TMP, 'devsim.rx')) ? readFileSync(join(TMP, 'devsim.rx'), 'utf8') : '');

await check('toggling a switch reaches the simulated relay; the switch shows the confirmed state', async () => {
  await page.waitForSelector(relay(1), { timeout: 15000 });
  await until('the relay to report off', async () => (await page.getAttribute(relay(1), 'aria-checked')) === 'false');
  await page.click(relay(1));
  await until('devsim to receive POWER1 ON', async () => received().includes('cmnd/plug1/POWER1 ON'));
  await until('the switch to show on', async () => (await page.getAttribute(relay(1), 'aria-checked')) === 'true', 10000);
  // The processor publishes a value's event just before its commit (events at least once,
  // docs/processor.md): the store has it a few milliseconds after the switch shows it.
  let stored;
  await until('the store to hold the confirmed value', async () => {
    stored = (await rest('GET', `/field/${GW}.plug1.POWER1.power`, undefined, token)).current;
    return stored?.value === true;
  }, 5000).catch(() => assert(false, `the stored value is ${JSON.stringify(stored)}`));
});

await check('while the device does not answer, the switch stays as it was (pending)', async () => {
  devsim.p.kill('SIGSTOP');
  try {
    await page.click(relay(2));
    await until('the switch to be pending', async () => (await page.getAttribute(`[data-field="${GW}.plug1.POWER2.power"] .control`, 'aria-busy')) === 'true', 3000);
    await sleep(800);
    assert((await page.getAttribute(relay(2), 'aria-checked')) === 'false', 'the switch flipped before the device confirmed');
  } finally {
    devsim.p.kill('SIGCONT');
  }
  await until('devsim to receive POWER2 ON', async () => received().includes('cmnd/plug1/POWER2 ON'));
  await until('the switch to show on after the device confirmed', async () => (await page.getAttribute(relay(2), 'aria-checked')) === 'true', 10000);
});

await check('a slider and a colour picker reach the simulated light and show its answer', async () => {
  const dimmer = `[data-field="${GW}.light1.light.Dimmer"]`;
  const color = `[data-field="${GW}.light1.light.Color"]`;
  await page.waitForSelector(`${dimmer} input[type=range]`, { timeout: 15000 });
  await page.fill(`${dimmer} input[type=range]`, '80');
  await until('devsim to receive Dimmer 80', async () => received().includes('cmnd/light1/Dimmer 80'));
  await until('the confirmed 80 %', async () => (await page.getAttribute(`${dimmer} .value`, 'data-confirmed')) === '80', 10000);
  await page.fill(`${color} input[type=color]`, '#00ff00');
  await until('devsim to receive Color 00FF00', async () => received().includes('cmnd/light1/Color 00FF00'));
  await until('the confirmed colour', async () => (await page.textContent(`${color} .value`)).startsWith('00FF00'), 10000);
});

await check('rename and label a node, filter by label, send it an action; rename the gateway', async () => {
  const row = `[data-node="${GW}.sensor1"]`;
  const menu = `select[aria-label^="actions for"]`;
  // The processor applies the API's edits to its in-memory tree (docs/processor.md, user edits):
  // the device keeps reporting while the edits are made, and they stay.
  await page.selectOption(`${row} ${menu}`, 'name');
  await page.fill('form.edit input[aria-label=name]', 'Hall sensor');
  await page.click('form.edit button[type=submit]');
  await until('the new name', async () => (await page.textContent(`${row} .name`)) === 'Hall sensor');
  await page.selectOption(`${row} ${menu}`, 'labels');
  await page.fill('form.edit input[aria-label=labels]', 'room=hall, floor=1');
  await page.click('form.edit button[type=submit]');
  await until('the label chips', async () => (await page.textContent(`${row} .labels`))?.includes('room=hall'));
  // The sensor reports every second: wait for a message after the edits, which must not undo them.
  const edited = Date.now();
  let node;
  await until('the sensor to report after the edits', async () => {
    node = await rest('GET', `/node/${GW}.sensor1`, undefined, token);
    return Date.parse(node.lastSeen) > edited + 200;
  }, 20000);
  const ok = node.name === 'Hall sensor' && node.labels.ignore_name === 'true' && node.labels.floor === '1' && node.labels.room === 'hall';
  assert(ok, `stored: ${JSON.stringify(node)}`);
  assert((await page.textContent(`${row} .name`)) === 'Hall sensor', 'the name went back');
  assert((await page.textContent(`${row} .labels`))?.includes('room=hall'), 'the labels went back');
  await page.fill('input[aria-label=filter]', 'room=hall');
  await until('only the labelled node', async () => (await page.$$('[data-node]')).length === 1);
  await page.fill('input[aria-label=filter]', '');
  await page.selectOption(`${row} ${menu}`, 'heartbeat_request');
  await until('the notice', async () => (await page.textContent('.notice'))?.includes('heartbeat_request sent'));
  // The gateway is the API's own entity: a rename sticks while its devices keep reporting.
  const gw = `[data-gateway="${GW}"]`;
  await page.selectOption(`${gw} select[aria-label^="actions for gateway"]`, 'name');
  await page.fill(`${gw} form.edit input[aria-label=name]`, 'Simulated devices');
  await page.click(`${gw} form.edit button[type=submit]`);
  await until('the gateway name', async () => (await page.textContent(`${gw} h3`)) === 'Simulated devices');
  await sleep(1500);
  assert((await page.textContent(`${gw} h3`)) === 'Simulated devices', 'the gateway name went back');
  const stored = await rest('GET', `/gateway/${GW}`, undefined, token);
  assert(stored.name === 'Simulated devices' && stored.enabled === true && stored.provider.type === 'tasmota', JSON.stringify(stored));
});

await check('a chart shows points written through the pipeline', async () => {
  const temp = `${GW}.sensor1.BME280.Temperature`;
  await page.click(`a[aria-label="chart ${temp}"]`);
  await page.waitForSelector('.charts');
  assert(page.url().includes('/charts?f=field%3A' + encodeURIComponent(temp)) || page.url().includes(temp), `url ${page.url()}`);
  // Points reach InfluxDB in the metric store's batches: re-read until some are there.
  await until(
    'points in the chart',
    async () => {
      const n = Number(await page.getAttribute('.chart', 'data-points'));
      if (n > 0) return true;
      await page.click('button[aria-label=reload]');
      return false;
    },
    30000,
  );
  await page.waitForSelector('.chart canvas');
  // A second field, binary: a step line on the same chart.
  await page.selectOption('select[aria-label="add field"]', `field:${GW}.plug1.POWER1.power`);
  await until('two series', async () => (await page.$$('.chart .u-series')).length === 3);
  await page.screenshot({ path: join(ART, 'charts.png') });
  // A custom range (the last 6 h by default) still has the points, in 5 min windows.
  await page.click('button:text-is("custom")');
  await page.waitForSelector('input[aria-label=from]');
  await until('the 5 min window', async () => (await page.textContent('.charts .toolbar')).includes('window 5m'));
  await until('points in the custom range', async () => Number(await page.getAttribute('.chart', 'data-points')) > 0, 10000);
});

let boardUrl;
await check('a dashboard with widgets: added, moved, resized, saved, kept after a reload, live', async () => {
  await page.click('a[href="/dashboards"]');
  await page.fill('input[aria-label="new dashboard name"]', 'Home');
  await page.click('text=Create');
  await page.waitForSelector('.add-widget');
  const add = async (type, field, title, extra) => {
    await page.selectOption('select[aria-label="widget type"]', type);
    if (field) await page.selectOption('select[aria-label="widget field"]', `field:${GW}.${field}`);
    if (extra) await extra();
    await page.fill('input[aria-label="widget title"]', title);
    await page.click('text=Add widget');
    await page.waitForSelector(`.widget-title:text-is("${title}")`);
  };
  await add('value', 'sensor1.BME280.Temperature', 'Temperature');
  await add('control', 'plug1.POWER1.power', 'Relay');
  await add('text', null, 'Note', () => page.fill('textarea[aria-label="widget text"]', 'Hello **world** <script>x</script>'));
  await add('chart', 'sensor1.BME280.Temperature', 'History');
  await add('gauge', 'sensor1.BME280.Humidity', 'Humidity');
  for (let i = 0; i < 3; i++) await page.click('button[aria-label="move right Relay"]');
  await page.click('button[aria-label="move up Relay"]');
  await page.click('button[aria-label="wider Note"]');
  // Drag the chart three cells right by its handle and one row taller by its corner.
  const dragBy = async (handle, cols, rows) => {
    const grid = await page.$eval('.grid', (g) => {
      const st = getComputedStyle(g);
      return { w: g.clientWidth, gap: parseFloat(st.columnGap), row: parseFloat(st.gridAutoRows) };
    });
    const box = await page.locator(handle).boundingBox();
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + (cols * (grid.w + grid.gap)) / 12, y + rows * (grid.row + grid.gap), { steps: 5 });
    await page.mouse.up();
  };
  await dragBy('[aria-label="drag History"]', 3, 0);
  await dragBy('[aria-label="resize History"]', 0, 1);
  await page.click('button[aria-label="save dashboard"]');
  await page.waitForSelector('button[aria-label="edit dashboard"]');
  boardUrl = page.url();
  await page.reload();
  await page.waitForSelector('[data-widget]');
  const pos = await page.$$eval('[data-widget]', (els) => els.map((e) => [e.querySelector('.widget-title').textContent, e.dataset.pos]));
  const want = [['Temperature', '0,0,3,1'], ['Relay', '3,0,3,1'], ['Note', '0,2,5,2'], ['History', '3,4,6,4'], ['Humidity', '0,7,3,2']];
  assert(JSON.stringify(pos) === JSON.stringify(want), `layout after reload: ${JSON.stringify(pos)}`);
  const html = await page.innerHTML('[data-type=text] .md');
  assert(html.includes('<b>world</b>') && html.includes('&lt;script&gt;'), `text widget: ${html}`);
  assert(/\d/.test(await page.textContent('[data-type=value] .big-value')), 'no temperature value');
  await page.waitForSelector('[data-type=chart] canvas');
  const gauge = await page.getAttribute('[data-type=gauge] svg', 'aria-label');
  assert(/^\d+(\.\d+)? %$/.test(gauge), `the gauge says "${gauge}"`);
  // The relay is on (switched above); switch it off from the dashboard, confirmed by the device.
  const sw = '[data-type=control] button[role=switch]';
  await until('the relay to show on', async () => (await page.getAttribute(sw, 'aria-checked')) === 'true');
  await page.click(sw);
  await until('devsim to receive POWER1 OFF', async () => received().includes('cmnd/plug1/POWER1 OFF'));
  await until('the relay to show off', async () => (await page.getAttribute(sw, 'aria-checked')) === 'false', 10000);
  await page.screenshot({ path: join(ART, 'dashboard.png'), fullPage: true });
});

await check('a readonly user sees values but no editing controls', async () => {
  await rest('POST', '/user', { username: 'viewer', password: 'viewer-password', role: 'readonly' }, token);
  const ro = await browser('readonly');
  try {
    await login(ro.page, 'viewer', 'viewer-password');
    const who = await ro.page.textContent('[data-testid=who]');
    assert(who.includes('readonly'), `header says "${who}"`);
    await ro.page.waitForSelector(`[data-field="${GW}.plug1.POWER1.power"] [data-control=none]`, { timeout: 10000 });
    const text = await ro.page.textContent(`[data-field="${GW}.plug1.POWER1.power"]`);
    assert(text.includes('off'), `the relay shows "${text}"`); // switched off on the dashboard
    assert((await ro.page.$$('button[role=switch], input[type=range], input[type=color], select[aria-label^="actions"], select[aria-label^="edit"]')).length === 0, 'editing controls are shown');
    await ro.page.screenshot({ path: join(ART, 'devices-readonly.png') });
    await ro.page.goto(boardUrl);
    await ro.page.waitForSelector('[data-type=control] [data-control=none]');
    assert(!(await ro.page.$('button[aria-label="edit dashboard"]')), 'a readonly user may edit the dashboard');
    assert(!(await ro.page.$('button[role=switch]')), 'a readonly user gets a switch on the dashboard');
    // The editors show the configuration read-only: no New, Delete or Save, inputs disabled.
    await ro.page.click('a[href="/setup"]');
    await ro.page.waitForSelector(`.entity-editor tr[data-id="${GW}"]`);
    assert(!(await ro.page.$('.entity-editor .toolbar button.primary, button[aria-label^="delete"]')), 'a readonly user may create or delete');
    await ro.page.click(`button[aria-label="edit ${GW}"]`);
    await ro.page.waitForSelector('form.editor');
    assert(!(await ro.page.$('form.editor button[type=submit]')), 'a readonly user gets a Save button');
    assert((await ro.page.$$('form.editor input:not([disabled]), form.editor select:not([disabled])')).length === 0, 'enabled inputs for a readonly user');
    assert(!(await ro.page.$('a[href="/setup/users"]')), 'a readonly user sees the users');
  } finally {
    await ro.ctx.close();
  }
});

// The processor writes a node back whole on its next message (docs/web.md, known problems):
// edits of node documents are checked with the simulated devices paused.
const paused = async (fn) => {
  devsim.p.kill('SIGSTOP');
  try {
    return await fn();
  } finally {
    devsim.p.kill('SIGCONT');
  }
};
// Routes that came with later API versions: their checks run when openapi.json lists them.
const routes = Object.keys((await rest('GET', '/openapi.json')).paths);
const has = { system: routes.includes('/api/system'), upload: routes.includes('/api/firmware/upload/{id}') };
await editorChecks({ page, rest: (m, p, b) => rest(m, p, b, token), check, assert, until, join, ART, GW, allow, paused, has, TMP });

await systemChecks({ page, rest: (m, p, b) => rest(m, p, b, token), check, assert, until, join, ART, GW, hasSystem: has.system });

await check('phone-sized screen in the dark theme: nothing wider than the screen (devices, an editor)', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('a[href="/devices"]');
  await page.waitForSelector(relay(1));
  // auto -> light -> dark
  const themeNow = () => page.getAttribute('html', 'data-theme');
  for (let i = 0; i < 3 && (await themeNow()) !== 'dark'; i++) {
    const was = await themeNow();
    await page.click('button[aria-label=theme]');
    await until('the theme to change', async () => (await themeNow()) !== was, 3000);
  }
  const theme = await page.getAttribute('html', 'data-theme');
  assert(theme === 'dark', `the theme is ${theme}`);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert(bg !== 'rgb(245, 246, 248)', `the dark theme kept the light background ${bg}`);
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  // name the elements that stick out, so a failure says what to fix
  const offenders = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 392 && e.getBoundingClientRect().width > 0)
      .slice(-4)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`)
      .join(', '));
  assert(wide <= 392, `the page is ${wide} px wide on a 390 px screen: ${offenders}`);
  await page.screenshot({ path: join(ART, 'devices-phone-dark.png') });
  // The editors too: a gateway form on the phone.
  await page.click('a[href="/setup"]');
  await page.click('.entity-editor .toolbar button.primary');
  await page.waitForSelector('form.editor');
  const formWide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert(formWide <= 392, `the gateway form is ${formWide} px wide on a 390 px screen`);
  await page.screenshot({ path: join(ART, 'setup-phone-dark.png'), fullPage: true });
  await page.click('form.editor button:text-is("Cancel")');
  await page.setViewportSize({ width: 1280, height: 900 });
});

await check('log out returns to the login form; logging in again goes live again', async () => {
  await page.click('text=Log out');
  await page.waitForSelector('input[name=password]');
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-live=live]', { timeout: 10000 });
  await page.click('text=Log out');
  await page.waitForSelector('input[name=password]');
  await page.reload();
  await page.waitForSelector('input[name=password]');
});

await check('no console errors', async () => {
  assert(consoleErrors.length === 0, consoleErrors.join('\n'));
});

await admin.ctx.close();

async function cleanup() {
  for (const c of children.reverse()) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await Promise.race([c.exited, sleep(5000)]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
  }
  if (failed) console.log(`logs kept in ${TMP}`);
  else rmSync(TMP, { recursive: true, force: true });
}
await cleanup();
console.log(`${passed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${ART}`);
process.exit(failed ? 1 : 0);
