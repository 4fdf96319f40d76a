// Browser tests of the Setup editors (run.mjs calls editorChecks with its page and helpers):
// for each kind, create through the form, a validation message shown next to the input (or the
// API's 400 above the buttons), edit, delete; the schedule preview; settings; firmware assignment.
// Every check reads the stored document back through the REST API.

export async function editorChecks(t) {
  const { page, rest, check, assert, until, join, ART, GW, allow, paused, has, TMP } = t;
  // The checks provoke refusals on purpose (the preview of a bad cron expression, a taken
  // username): Chromium logs each 400/409 fetch as a console error.
  allow.refusals = true;
  const form = 'form.editor';
  const field = (key) => `${form} [data-key="${key}"]`;
  const input = (key) => `${field(key)} input, ${field(key)} select, ${field(key)} textarea`;
  const errorFor = (key) => page.$eval(`[data-error-for="${key}"]`, (e) => e.textContent).catch(() => '');
  const formError = () => page.$eval('form.editor .form-error', (e) => e.textContent).catch(() => '');
  const save = () => page.click(`${form} button[type=submit]`);
  const fill = async (key, value) => page.fill(`${field(key)} input, ${field(key)} textarea`, value);
  const select = async (key, value) => page.selectOption(`${field(key)} select`, value);
  const open = async (tab) => {
    await page.click(`a[href="/setup/${tab}"]`);
    await page.waitForSelector(`.setup a.on[href="/setup/${tab}"]`);
    await page.waitForSelector('.entity-editor');
  };
  const create = async (tab) => {
    await open(tab);
    await page.click('.entity-editor .toolbar button.primary');
    await page.waitForSelector(form);
  };
  const saved = async (kind, id) => until(`${kind} ${id} to be listed`, async () => (await page.$(`.entity-editor[data-kind="${kind}"] tr[data-id="${id}"]`)) && !(await page.$(form)));
  const edit = async (id) => {
    await page.click(`button[aria-label="edit ${id}"]`);
    await page.waitForSelector(form);
  };
  const remove = async (kind, id) => {
    await page.click(`button[aria-label="delete ${id}"]`);
    await page.click(`button[aria-label="confirm delete ${id}"]`);
    await until(`${kind} ${id} to go`, async () => !(await page.$(`tr[data-id="${id}"]`)));
    const left = await rest('GET', `/${kind}?id=${id}`);
    assert(left.count === 0, `${kind} ${id} is still stored`);
  };

  await check('Setup: a handler per type; validation shown; edited to another type; deleted', async () => {
    await page.click('a[href="/setup"]');
    await create('handlers');
    await fill('id', 'mail');
    await select('type', 'email');
    await fill('spec.host', 'smtp.example.org');
    await fill('spec.from', 'not an address');
    await fill('spec.to', 'ops@example.org, nobody');
    await fill('spec.retryDelay', 'soon');
    await save();
    await page.waitForSelector('[data-error-for="spec.from"]');
    assert((await errorFor('spec.from')).includes('an address'), `from: ${await errorFor('spec.from')}`);
    assert((await errorFor('spec.to')).includes("'nobody' is not an address"), `to: ${await errorFor('spec.to')}`);
    assert((await errorFor('spec.retryDelay')).includes('duration'), `retryDelay: ${await errorFor('spec.retryDelay')}`);
    assert((await rest('GET', '/handler?id=mail')).count === 0, 'stored despite the errors');
    await fill('spec.from', 'switchboard@example.org');
    await fill('spec.to', 'ops@example.org');
    await fill('spec.retryDelay', '2s');
    await fill('spec.port', '587');
    await save();
    await saved('handler', 'mail');
    let h = await rest('GET', '/handler/mail');
    assert(h.type === 'email' && h.spec.host === 'smtp.example.org' && h.spec.port === 587 && h.spec.to[0] === 'ops@example.org' && h.spec.retryDelay === '2s', JSON.stringify(h));
    // Another type: the email keys go, the delivery keys stay.
    await edit('mail');
    await select('type', 'log');
    await page.waitForSelector(field('spec.message'));
    await fill('spec.message', '{{ source }} fired');
    await select('spec.level', 'warn');
    await save();
    await until('the handler to become a log handler', async () => (await rest('GET', '/handler/mail')).type === 'log');
    h = await rest('GET', '/handler/mail');
    assert(h.spec.level === 'warn' && h.spec.message === '{{ source }} fired' && h.spec.host === undefined && h.spec.retryDelay === '2s', JSON.stringify(h));
    await create('handlers');
    await fill('id', 'note');
    await select('type', 'log');
    await save();
    await saved('handler', 'note');
    await remove('handler', 'mail');
  });

  await check('Setup: a gateway per provider form; hidden options removed; deleted', async () => {
    await create('gateways');
    await fill('id', 'radio.1');
    await select('provider.type', 'mysensors');
    await select('provider.transport', 'ethernet');
    await fill('provider.tcpPort', '70000');
    await save();
    await page.waitForSelector('[data-error-for="id"]');
    assert((await errorFor('id')).includes("no '.'"), `id: ${await errorFor('id')}`);
    assert((await errorFor('provider.host')) === 'required', `host: ${await errorFor('provider.host')}`);
    assert((await errorFor('provider.tcpPort')).includes('at most 65535'), `tcpPort: ${await errorFor('provider.tcpPort')}`);
    await fill('id', 'radio');
    await fill('provider.host', '192.0.2.10');
    await fill('provider.tcpPort', '5003');
    await page.uncheck(input('enabled')); // not started: there is no such gateway
    await save();
    await saved('gateway', 'radio');
    let g = await rest('GET', '/gateway/radio');
    assert(g.provider.type === 'mysensors' && g.provider.transport === 'ethernet' && g.provider.host === '192.0.2.10' && g.provider.tcpPort === 5003 && g.enabled === false, JSON.stringify(g));
    // To the generic MQTT provider: its mappings are checked before they go.
    await edit('radio');
    await select('provider.type', 'generic_mqtt');
    await fill('provider.url', 'tcp://127.0.0.1:1883');
    await fill('provider.mappings', '[{"topic": ');
    await save();
    await page.waitForSelector('[data-error-for="provider.mappings"]');
    assert((await errorFor('provider.mappings')).startsWith('not JSON'), `mappings: ${await errorFor('provider.mappings')}`);
    await fill('provider.mappings', '[{"name": "s", "fields": [{"path": "t"}]}]');
    await save();
    await until('the mappings problem', async () => (await errorFor('provider.mappings')).includes('mappings[0] (s): topic is required'));
    await fill('provider.mappings', '[{"topic": "sensors/{node}", "fields": [{"path": "temperature", "unit": "°C"}]}]');
    await save();
    await saved('gateway', 'radio');
    g = await rest('GET', '/gateway/radio');
    assert(g.provider.type === 'generic_mqtt' && g.provider.mappings[0].topic === 'sensors/{node}' && g.provider.host === undefined && g.provider.transport === undefined, JSON.stringify(g));
    await page.screenshot({ path: join(ART, 'setup-gateways.png'), fullPage: true });
    // The simulated devices' gateway (created through the API) opens with its provider's form.
    await edit(GW);
    assert((await page.inputValue(input('provider.type'))) === 'tasmota', 'the tasmota form');
    assert((await page.inputValue(input('provider.url'))).startsWith('tcp://'), 'its broker URL');
    await page.click(`${form} button:text-is("Cancel")`);
    await remove('gateway', 'radio');
  });

  await check('Setup: a schedule with the preview of its next runs; the API 400 shown at the form', async () => {
    await create('schedules');
    await fill('id', 'morning');
    await select('type', 'cron');
    await fill('spec.expression', '0 30 6 * *');
    await until('the preview to name the problem', async () => (await page.textContent('[data-testid=schedule-preview]')).includes('expected 6 fields'));
    await save();
    await until('the cron problem', async () => (await errorFor('spec.expression')).includes('expected 6 fields'));
    await fill('spec.expression', '0 30 6 * * *');
    await until('five runs', async () => (await page.$$('[data-testid=schedule-preview] li[data-run]')).length === 5);
    const runs = await page.$$eval('[data-testid=schedule-preview] li[data-run]', (els) => els.map((e) => e.dataset.run));
    const gaps = runs.slice(1).map((r, i) => Date.parse(r) - Date.parse(runs[i]));
    assert(gaps.every((g) => g === 86400000), `runs a day apart: ${runs.join(' ')}`);
    assert(runs.every((r) => Date.parse(r) > Date.now()), `runs in the future: ${runs}`);
    // A simple weekly schedule: the preview follows the form.
    await select('type', 'simple');
    await select('spec.frequency', 'weekly');
    await fill('spec.weekdays', 'mon, fri');
    await fill('spec.time', '07:15');
    await until('the weekly runs', async () => {
      const r = await page.$$eval('[data-testid=schedule-preview] li[data-run]', (els) => els.map((e) => new Date(e.dataset.run).getUTCDay()));
      return r.length === 5 && r.every((d) => d === 1 || d === 5);
    });
    await page.check(`${field('handlers')} input[type=checkbox]`); // the one handler: note
    await fill('handlerParameters', '{"text": "run {{ run.count }}"}');
    await fill('variables', '["not", "an object"]');
    await save();
    await page.waitForSelector('form.editor .form-error');
    const msg = await page.textContent('form.editor .form-error');
    assert(msg.includes('invalid entity') && msg.includes('variables: expected an object'), `the API's answer: ${msg}`);
    assert((await errorFor('variables')).includes('expected an object'), `next to the input: ${await errorFor('variables')}`);
    await page.screenshot({ path: join(ART, 'setup-schedule.png'), fullPage: true });
    await fill('variables', '{"room": "hall"}');
    await save();
    await saved('schedule', 'morning');
    let s = await rest('GET', '/schedule/morning');
    assert(s.type === 'simple' && s.spec.frequency === 'weekly' && s.spec.weekdays.join() === 'mon,fri' && s.spec.time === '07:15' && s.spec.expression === undefined && s.handlers[0] === 'note' && s.variables.room === 'hall', JSON.stringify(s));
    await edit('morning');
    await fill('validity.from', '2030-01-01');
    await fill('validity.to', '2029-12-31');
    await save();
    await until('the validity problem', async () => (await errorFor('validity.to')).includes('before Valid from'));
    await fill('validity.to', '2030-12-31');
    await until('runs from 2030', async () => (await page.$eval('[data-testid=schedule-preview] li[data-run]', (e) => e.dataset.run)).startsWith('2030-01-'));
    await save();
    await saved('schedule', 'morning');
    s = await rest('GET', '/schedule/morning');
    assert(s.validity.from === '2030-01-01' && s.validity.to === '2030-12-31', JSON.stringify(s));
    await remove('schedule', 'morning');
  });

  await check('Setup: a rule task with conditions and a handler; checked, edited, deleted', async () => {
    await create('tasks');
    await fill('id', 'too-warm');
    await page.uncheck(input('triggerOnEvent'));
    await page.click(`${field('rule.conditions')} button:text-is("+ condition")`);
    await save();
    await page.waitForSelector('[data-error-for="executionInterval"]');
    assert((await errorFor('executionInterval')).includes('On events or an interval'), `interval: ${await errorFor('executionInterval')}`);
    assert((await errorFor('rule.conditions')).includes('row 1: variable is required'), `conditions: ${await errorFor('rule.conditions')}`);
    await page.check(input('triggerOnEvent'));
    await fill('eventFilter.quickIds', `field:${GW}.sensor1.BME280.Temperature`);
    await fill('variables', `{"temp": "field:${GW}.sensor1.BME280.Temperature.current.value"}`);
    await page.fill('input[aria-label="Conditions 1 variable"]', 'temp');
    await page.selectOption('select[aria-label="Conditions 1 operator"]', 'gt');
    await page.fill('input[aria-label="Conditions 1 value"]', '25');
    await select('dampening.type', 'evaluation');
    await fill('dampening.occurrences', '3');
    await fill('dampening.evaluation', '2');
    await save();
    await until('the dampening problem', async () => (await errorFor('dampening.evaluation')).includes('at least the occurrences'));
    await fill('dampening.evaluation', '5');
    await page.check(`${field('handlers')} input[type=checkbox]`);
    await save();
    await saved('task', 'too-warm');
    let task = await rest('GET', '/task/too-warm');
    const c = task.rule?.conditions?.[0];
    assert(c && c.variable === 'temp' && c.operator === 'gt' && c.value === 25, `condition ${JSON.stringify(task.rule)}`);
    assert(task.eventFilter.quickIds[0] === `field:${GW}.sensor1.BME280.Temperature` && task.dampening.evaluation === 5 && task.handlers[0] === 'note', JSON.stringify(task));
    await edit('too-warm');
    await select('evaluationType', 'javascript');
    await fill('evaluationConfig.javascript', 'variables.temp > 25');
    await save();
    await saved('task', 'too-warm');
    task = await rest('GET', '/task/too-warm');
    assert(task.evaluationType === 'javascript' && task.evaluationConfig.javascript === 'variables.temp > 25' && task.rule === undefined, JSON.stringify(task));
    await remove('task', 'too-warm');
  });

  await check('Setup: forwarding, data repository, firmware assignment, service token', async () => {
    const src = `${GW}.plug1.POWER1.power`;
    await create('forwarding');
    await fill('srcFieldId', src);
    await fill('dstFieldId', `field:${src}`);
    await save();
    await until('the same-field problem', async () => (await errorFor('dstFieldId')).includes('the same field'));
    await fill('dstFieldId', 'not-a-field');
    await save();
    await until('the field-id problem', async () => (await errorFor('dstFieldId')).includes('gateway.node.source.field'));
    await fill('id', 'follow');
    await fill('dstFieldId', `${GW}.plug1.POWER2.power`);
    await save();
    await saved('forward_payload', 'follow');
    const fwd = await rest('GET', '/forward_payload/follow');
    assert(fwd.srcFieldId === src && fwd.dstFieldId === `${GW}.plug1.POWER2.power` && fwd.enabled === true, JSON.stringify(fwd));
    await remove('forward_payload', 'follow');

    await create('data');
    await fill('id', 'prices');
    await fill('data', '[1, 2]');
    await save();
    await until('the object problem', async () => (await errorFor('data')).includes('a JSON object'));
    await fill('data', '{"kwh": 0.31}');
    await save();
    await saved('data_repository', 'prices');
    assert((await rest('GET', '/data_repository/prices')).data.kwh === 0.31, 'the data');
    await edit('prices');
    await page.check(input('readOnly'));
    await save();
    await until('read-only stored', async () => (await rest('GET', '/data_repository/prices')).readOnly === true);
    await remove('data_repository', 'prices');

    await create('firmware');
    await fill('id', 'blink');
    if (has.upload) await fill('type', '10'); // numeric types: the API with firmware uploads
    await fill('version', '3.5');
    await save();
    await until('the version problem', async () => (await errorFor('version')).includes('whole number'));
    await fill('version', '3');
    await save();
    await saved('firmware', 'blink');
    await edit('blink');
    await paused(async () => {
      await page.selectOption('select[aria-label="assign to node"]', `${GW}.sensor1`);
      await page.click('button:text-is("Assign")');
      await until('the assignment', async () => (await page.$(`[data-assigned="${GW}.sensor1"]`)) || Promise.reject(), 5000).catch(async (e) => {
        throw new Error(`${e.message}: ${await page.$eval('.firmware-extra', (x) => x.textContent).catch(() => 'no firmware section')}`);
      });
      const node = await rest('GET', `/node/${GW}.sensor1`);
      assert(node.labels.firmware === 'blink', `node labels ${JSON.stringify(node.labels)}`);
      await page.click(`button[aria-label="unassign ${GW}.sensor1"]`);
      await until('unassigned', async () => (await rest('GET', `/node/${GW}.sensor1`)).labels.firmware === undefined);
    });
    if (has.upload) {
      // 40 bytes: three 16-byte blocks for MySensors OTA once padded.
      const { writeFileSync } = await import('node:fs');
      const image = join(TMP, 'blink.bin');
      writeFileSync(image, Buffer.alloc(40, 0xab));
      await page.setInputFiles('input[aria-label="firmware image"]', image);
      await page.click('.firmware-extra button:text-is("Upload")');
      await until('the upload', async () => (await page.textContent('.firmware-extra [role=status]').catch(() => '')).includes('uploaded 40 bytes'));
      const fw = await rest('GET', '/firmware/blink');
      assert(fw.size === 40 && fw.type === 10 && fw.version === 3 && fw.checksum?.blocks === 3, JSON.stringify(fw));
    }
    await page.click(`${form} button:text-is("Cancel")`);
    await remove('firmware', 'blink');

    await create('tokens');
    await fill('id', 'scraper');
    await fill('expiresAt', 'next year');
    await save();
    await until('the expiry problem', async () => (await errorFor('expiresAt')).includes('RFC 3339'));
    await fill('expiresAt', '2031-01-01T00:00:00Z');
    await select('role', 'readonly');
    await save();
    await saved('service_token', 'scraper');
    const tk = await rest('GET', '/service_token/scraper');
    assert(tk.role === 'readonly' && tk.expiresAt === '2031-01-01T00:00:00Z', JSON.stringify(tk));
    if (has.system) {
      // The API that issues service tokens shows the credential once; it works at once.
      const cred = await page.textContent('[data-testid=new-token]');
      assert(cred.startsWith('scraper_'), `the token shown: ${cred}`);
      const res = await fetch(page.url().replace(/\/setup.*$/, '/api/version'), { headers: { Authorization: `Bearer ${cred}` } });
      assert(res.status === 200, `the token gets ${res.status}`);
    }
    await remove('service_token', 'scraper');
  });

  await check('Setup: users (the API refuses a taken name at the form) and settings', async () => {
    await create('users');
    await fill('username', 'kim');
    await fill('password', 'short');
    await save();
    await until('the password problem', async () => (await errorFor('password')).includes('at least 8'));
    await fill('password', 'correct horse');
    await select('role', 'readwrite');
    await save();
    const id = await until('kim to be stored', async () => (await rest('GET', '/user?username=kim')).data[0]?.id);
    await saved('user', id);
    await create('users');
    await fill('username', 'kim');
    await fill('password', 'another horse');
    await save();
    await until('the conflict', async () => (await formError()).includes("username 'kim'"));
    await page.click(`${form} button:text-is("Cancel")`);
    await edit(id);
    await select('role', 'admin');
    await fill('email', 'kim@example.org');
    await save();
    await until('the new role', async () => (await rest('GET', `/user/${id}`)).role === 'admin');
    await remove('user', id);

    await open('settings');
    await page.waitForSelector(form);
    await fill('spec.timezone', 'Mars/Base');
    await fill('spec.geoLocation.latitude', '95');
    await save();
    await page.waitForSelector('[data-error-for="spec.timezone"]');
    assert((await errorFor('spec.timezone')).includes('not a known time zone'), `zone: ${await errorFor('spec.timezone')}`);
    assert((await errorFor('spec.geoLocation.latitude')).includes('at most 90'), `latitude: ${await errorFor('spec.geoLocation.latitude')}`);
    assert((await errorFor('spec.geoLocation.longitude')).includes('latitude too') || (await errorFor('spec.geoLocation.latitude')), 'the pair');
    await fill('spec.timezone', 'Europe/Berlin');
    await fill('spec.geoLocation.latitude', '52.52');
    await fill('spec.geoLocation.longitude', '13.405');
    await select('spec.units', 'imperial');
    await save();
    await page.waitForSelector('.notice:text("Settings saved")');
    const st = await rest('GET', '/settings');
    assert(st.spec.timezone === 'Europe/Berlin' && st.spec.geoLocation.latitude === 52.52 && st.spec.units === 'imperial', JSON.stringify(st));
    // Sunrise schedules now have a place: the preview shows their runs in that zone.
    await create('schedules');
    await select('type', 'sunrise');
    await fill('spec.offset', '-30m');
    await until('sunrise runs', async () => (await page.$$('[data-testid=schedule-preview] li[data-run]')).length === 5);
    assert((await page.textContent('[data-testid=schedule-preview]')).includes('Europe/Berlin'), 'the zone');
    await page.click(`${form} button:text-is("Cancel")`);
  });

  await check('Setup: a schedule and a task made in the editor call a webhook handler made in the editor', async () => {
    const { createServer } = await import('node:http');
    const got = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ method: req.method, url: req.url, body });
        res.writeHead(204).end();
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      await create('handlers');
      await fill('id', 'hook');
      await select('type', 'webhook');
      await fill('spec.url', `http://127.0.0.1:${server.address().port}/hook/{{ source }}`);
      await save();
      await saved('handler', 'hook');
      await create('schedules');
      await fill('id', 'ticker');
      await select('type', 'repeat');
      await fill('spec.interval', '1s');
      await page.check(`${field('handlers')} label:has-text("hook") input`);
      await fill('handlerParameters', '{"text": "run {{ run.count }}"}');
      await save();
      await saved('schedule', 'ticker');
      await until('the webhook to be called', async () => got.length > 0, 15000);
      assert(got[0].method === 'POST' && got[0].url === '/hook/schedule:ticker', JSON.stringify(got[0]));
      assert(/^\{"text":\s*"run \d+"\}$/.test(got[0].body), `body ${got[0].body}`);
      await until('the handler state ok', async () => (await rest('GET', '/handler/hook')).state?.status === 'ok', 10000);
      await open('handlers');
      await until('the state in the list', async () => (await page.textContent('tr[data-id="hook"]')).includes('ok'));
      await open('schedules');
      await remove('schedule', 'ticker');
      // A task made in the editor triggers on the sensor's values and calls the same handler.
      await create('tasks');
      await fill('id', 'warm');
      await fill('eventFilter.quickIds', `field:${GW}.sensor1.BME280.Temperature`);
      await fill('variables', `{"temp": "field:${GW}.sensor1.BME280.Temperature.current.value"}`);
      await page.click(`${field('rule.conditions')} button:text-is("+ condition")`);
      await page.fill('input[aria-label="Conditions 1 variable"]', 'temp');
      await page.selectOption('select[aria-label="Conditions 1 operator"]', 'gt');
      await page.fill('input[aria-label="Conditions 1 value"]', '-100');
      await page.check(`${field('handlers')} label:has-text("hook") input`);
      await fill('handlerParameters', '{"text": "{{ temp }}"}');
      await save();
      await saved('task', 'warm');
      await until('the task to call the webhook', async () => got.some((g) => g.url === '/hook/task:warm'), 15000);
      const call = got.find((g) => g.url === '/hook/task:warm');
      assert(/^\{"text":\s*"-?\d+(\.\d+)?"\}$/.test(call.body), `the task's call: ${call.body}`);
      await until('the task state', async () => (await rest('GET', '/task/warm')).state?.executedCount > 0, 10000);
      await remove('task', 'warm');
      await open('handlers');
      await remove('handler', 'hook');
    } finally {
      server.close();
    }
  });
  allow.refusals = false;
}
