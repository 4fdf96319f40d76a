// Browser tests of the System page (services, store health, backups) and of the dashboard's
// node-utilization and service-status widgets; run.mjs calls systemChecks with its helpers.

// hasSystem: the API has GET /api/system (and the backup routes); without them only the
// utilization widget is checked.
export async function systemChecks(t) {
  const { page, rest, check, assert, until, join, ART, GW, hasSystem } = t;

  const named = hasSystem ? 'a dashboard with node utilization and service status widgets, live' : 'a dashboard with a node utilization widget, live';
  await check(named, async () => {
    await page.click('a[href="/dashboards"]');
    await page.fill('input[aria-label="new dashboard name"]', 'Hosts');
    await page.click('text=Create');
    await page.waitForSelector('.add-widget');
    await page.selectOption('select[aria-label="widget type"]', 'utilization');
    await page.selectOption('select[aria-label="widget node"]', `${GW}.light1`);
    await page.fill('input[aria-label="widget title"]', 'Light');
    await page.click('text=Add widget');
    if (hasSystem) {
      await page.selectOption('select[aria-label="widget type"]', 'status');
      await page.fill('input[aria-label="widget title"]', 'Services');
      await page.click('text=Add widget');
    }
    await page.click('button[aria-label="save dashboard"]');
    await page.waitForSelector('button[aria-label="edit dashboard"]');
    await page.reload();
    const bar = `[data-type=utilization] [data-bar="${GW}.light1.light.Dimmer"] [role=meter]`;
    await page.waitForSelector(bar);
    // The device's answer to a new dimmer level moves the bar without a reload.
    await rest('POST', '/action', [{ resource: `field:${GW}.light1.light.Dimmer`, payload: '35' }]);
    await until('the bar at 35 %', async () => (await page.getAttribute(bar, 'aria-valuenow')) === '35', 10000);
    const width = await page.$eval(`${bar} > span`, (e) => e.style.width);
    assert(width === '35%', `the bar is ${width} wide`);
    await page.screenshot({ path: join(ART, 'dashboard-hosts.png') });
    if (!hasSystem) return;
    // Every service of `switchboard run` reports itself online.
    await until('the services online', async () => Number(await page.getAttribute('[data-type=status] [data-online]', 'data-online')) >= 5, 15000);
    const names = await page.$$eval('[data-type=status] [data-service]', (els) => els.map((e) => e.dataset.service.split('/')[0]));
    for (const s of ['api', 'gateway', 'processor', 'scheduler', 'handler']) assert(names.includes(s), `service ${s} missing from ${names}`);
    await page.screenshot({ path: join(ART, 'dashboard-hosts.png') });
  });
  if (!hasSystem) {
    console.log('SKIP - System page services and backups: this API has no GET /api/system');
    return;
  }

  await check('System: services with their stats, store and metric health', async () => {
    await page.click('a[href="/system"]');
    await page.waitForSelector('[data-testid=services] [data-service^="processor/"]');
    assert((await page.textContent('[data-health="Config store"]')).includes('ok'), 'the config store');
    assert((await page.textContent('[data-health="Metric store"]')).includes('ok'), 'the metric store');
    const row = await page.$('[data-testid=services] [data-service^="processor/"]');
    assert((await row.textContent()).includes('online'), 'the processor is online');
    const key = await row.getAttribute('data-service');
    await page.click(`button[aria-label="stats of ${key}"]`);
    await page.waitForSelector(`[data-stats="${key}"] dt`);
    const stats = await page.textContent(`[data-stats="${key}"]`);
    assert(stats.length > 10, `stats: ${stats}`);
    await page.screenshot({ path: join(ART, 'system.png'), fullPage: true });
  });

  await check('System: a backup is run, listed, downloaded and restored', async () => {
    await page.waitForSelector('[data-testid=backups]');
    // Something to restore: a data repository deleted after the backup comes back.
    await rest('POST', '/data_repository', { id: 'kept', data: { a: 1 } });
    const before = await page.$$eval('[data-backup]', (els) => els.length);
    await page.click('[data-testid=backups] button:text-is("Back up now")');
    await until('the new backup', async () => (await page.$$eval('[data-backup]', (els) => els.length)) === before + 1);
    assert((await page.textContent('[data-testid=backups] [role=status]')).includes('documents'), 'the run says what it wrote');
    const name = await page.$eval('[data-backup]', (e) => e.dataset.backup);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-backup="${name}"] a:text-is("Download")`)]);
    const file = await download.path();
    const { readFileSync } = await import('node:fs');
    const head = readFileSync(file).subarray(0, 2);
    assert(head[0] === 0x1f && head[1] === 0x8b, 'the download is a gzip archive');
    await rest('DELETE', '/data_repository', ['kept']);
    // Restored without replacing (only what is missing comes back): the devices keep running.
    await page.uncheck('[data-testid=backups] input[type=checkbox]');
    await page.click(`button[aria-label="restore ${name}"]`);
    await page.click(`button[aria-label="confirm restore ${name}"]`);
    await until('the restore', async () => (await page.textContent('[data-testid=backups] [role=status]')).includes(`restored ${name}`));
    const back = await rest('GET', '/data_repository/kept');
    assert(back.data.a === 1, `restored: ${JSON.stringify(back)}`);
    await rest('DELETE', '/data_repository', ['kept']);
  });
}
