// The fleet view of a real level-1 stack (HAProxy, MariaDB, memcached, two
// instances): the instances appear with their state, and the chart draws the
// load balancer's response time once requests flow. Checked with axe too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { launch } from './support/browser.mjs';
import { startFleet, upStack } from './support/stack.mjs';

const ARTIFACTS = process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, '..', 'test-artifacts', 'e2e');
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let stack;
let fleet;
let browser;

before(async () => {
  stack = await upStack(1);
  fleet = await startFleet(stack.stateDir);
  browser = await launch();
  await mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await fleet?.stop();
  await stack?.down();
});

test('the fleet view shows the instances and charts live latency', async () => {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 1000 }, bypassCSP: true })).newPage();
  await page.goto(fleet.url);
  const rows = page.locator('.fleet-instances tbody tr');
  await assert.doesNotReject(page.locator('.fleet-instances td', { hasText: 'i-2' }).waitFor());
  assert.equal(await rows.count(), 2);
  assert.match(await rows.first().innerText(), /i-1\s+healthy\s+UP\s+127\.0\.0\.11:\d+\s+0 ms/);
  // Each instance's build (version, commit, build time): a deploy shows a mixed fleet.
  assert.match(await rows.first().locator('td.build').innerText(), /^\d+\.\d+\.\d+\+g(\w{7}|unknown)\.\d{8}T\d{6}Z$/);
  assert.equal(await page.locator('[data-field=level]').innerText(), '1');

  // Traffic through the load balancer shows up in the chart on its own.
  const traffic = setInterval(() => fetch(`${stack.url}/`).catch(() => {}), 50);
  try {
    await page.locator('.fleet-chart polyline.latency').waitFor({ timeout: 15000 });
    await page.locator('.fleet-chart polyline.p99').waitFor({ timeout: 15000 });
    await page.locator('.fleet-chart polyline.requests').waitFor({ timeout: 15000 });
  } finally {
    clearInterval(traffic);
  }
  assert.match(await page.locator('#chart-summary').innerText(), /2 instance\(s\) in service/);
  assert.match(await page.locator('#chart-summary').innerText(), /ms p99|no requests/);
  await page.screenshot({ path: join(ARTIFACTS, 'fleet.png'), fullPage: true });

  await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), []);
});

test('at level 3 the fleet view shows the alarms, capacity and scaling events', async () => {
  // Short alarm periods so the alarms leave INSUFFICIENT_DATA within seconds.
  const scaled = await upStack(3, ['--alarm-period', '2s', '--cooldown', '5s', '--health-interval', '500ms']);
  const view = await startFleet(scaled.stateDir);
  const traffic = setInterval(() => fetch(`${scaled.url}/`).catch(() => {}), 50);
  try {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 1200 } })).newPage();
    await page.goto(view.url);
    await assert.doesNotReject(page.locator('.fleet-alarms li', { hasText: 'capacity: desired 2 (min 2, max 6)' }).waitFor());
    await assert.doesNotReject(page.locator('.fleet-alarms li', { hasText: /latency-high: (OK|ALARM|INSUFFICIENT_DATA)/ }).waitFor());
    await assert.doesNotReject(page.locator('.fleet-events li', { hasText: /latency-(high|low)/ }).first().waitFor({ timeout: 20000 }));
    // The scaling events are also markers on the chart.
    await assert.doesNotReject(page.locator('.fleet-chart polyline.marker').first().waitFor({ state: 'attached', timeout: 15000 }));
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-level-3.png'), fullPage: true });
  } finally {
    clearInterval(traffic);
    await view.stop();
    await scaled.down();
  }
});
