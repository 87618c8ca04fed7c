// The fleet view's controls against a real level-3 stack (HAProxy, MariaDB,
// memcached, the autoscaler, the stack's own fleet view): read-only without
// the one-time link `infra up` prints; with it, flip latency, kill an
// instance (the autoscaler replaces it) and start and stop a load.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { launch } from './support/browser.mjs';
import { upStack } from './support/stack.mjs';

const ARTIFACTS = process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, '..', 'test-artifacts', 'e2e');

let stack;
let browser;
let view;

before(async () => {
  stack = await upStack(3, ['--alarm-period', '2s', '--cooldown', '5s', '--health-interval', '500ms', '--grace-period', '3s', '--max', '3']);
  browser = await launch();
  await mkdir(ARTIFACTS, { recursive: true });
  assert.ok(stack.controlLink, '`infra up` printed a link to the controls');
  view = stack.controlLink.split('#')[0];
});

after(async () => {
  await browser?.close();
  await stack?.down();
});

async function newPage() {
  return (await browser.newContext({ viewport: { width: 1100, height: 1300 } })).newPage();
}

test('the link carries a one-time code, never the admin token', async () => {
  const secrets = JSON.parse(await readFile(join(stack.stateDir, 'secrets.json'), 'utf8'));
  assert.ok(secrets.admin_token.length > 10);
  assert.ok(!stack.controlLink.includes(secrets.admin_token));
  assert.match(stack.controlLink, /^http:\/\/127\.0\.0\.1:\d+\/fleet#code=[A-Za-z0-9_-]{43}$/);
});

test('without the link the view is read-only and the controls refuse', async () => {
  const page = await newPage();
  await page.goto(view);
  await page.locator('.fleet-instances td', { hasText: 'i-2' }).waitFor();
  assert.equal(await page.locator('[data-field=readonly]').isVisible(), true);
  assert.equal(await page.locator('[data-field=controls]').isVisible(), false);
  assert.equal(await page.locator('button[data-kill]').count(), 0, 'no kill buttons');
  const refused = await page.evaluate(async () => {
    const r = await fetch('/fleet/kill', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"instance":"i-1"}' });
    return [r.status, (await r.json()).error];
  });
  assert.equal(refused[0], 401);
  assert.match(refused[1], /link that `photoscale infra up` prints/);
  await page.context().close();
});

test('the link unlocks the controls: latency, kill, load', async () => {
  const page = await newPage();
  await page.goto(stack.controlLink);
  await page.locator('[data-field=controls]').waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the code left the address bar');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'fleet_control');
  assert.ok(session, 'a control session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('fleet_control')), false);

  // The same link a second time: read-only.
  const again = await newPage();
  await again.goto(stack.controlLink);
  await again.locator('[data-field=feedback]', { hasText: 'did not unlock' }).waitFor();
  assert.equal(await again.locator('[data-field=controls]').isVisible(), false);
  await again.context().close();

  // With the cookie but without the CSRF header: refused.
  const forged = await page.evaluate(async () => {
    const r = await fetch('/fleet/kill', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"instance":"i-1"}' });
    return r.status;
  });
  assert.equal(forged, 403);

  // Flip latency on one instance, then on all.
  await page.locator('#latency-instance option[value="i-1"]').waitFor({ state: 'attached' });
  await page.selectOption('#latency-instance', 'i-1');
  await page.fill('#latency-ms', '1500');
  await page.click('#latency-form button[type=submit]');
  await page.locator('[data-field=feedback]', { hasText: 'latency of i-1 set to 1500 ms' }).waitFor();
  await page.locator('.fleet-instances tr', { hasText: /i-1.*1500 ms/ }).waitFor();
  await page.selectOption('#latency-instance', 'all');
  await page.fill('#latency-ms', '0');
  await page.click('#latency-form button[type=submit]');
  await page.locator('[data-field=feedback]', { hasText: 'latency of i-1, i-2 set to 0 ms' }).waitFor();

  // A wrong value says what was wrong.
  await page.fill('#latency-ms', '99900');
  await page.evaluate(() => document.querySelector('#latency-ms').removeAttribute('max'));
  await page.click('#latency-form button[type=submit]');
  await page.locator('[data-field=feedback]', { hasText: /Refused: 99900 ms is more than the controls set/ }).waitFor();

  // A load at 20 requests a second, every instance slowed to 1.5 s: the
  // alarm fires and a third instance joins (the README's screenshot).
  await page.fill('#load-rate', '20');
  await page.click('#load-form button[type=submit]');
  await page.locator('[data-field=load]', { hasText: 'Load running: 20 requests a second' }).waitFor();
  await page.locator('#chart-summary', { hasText: /[1-9]\d* request\(s\) in the last second/ }).waitFor({ timeout: 20000 });
  await page.fill('#latency-ms', '1500');
  await page.click('#latency-form button[type=submit]');
  await page.locator('[data-field=feedback]', { hasText: 'latency of i-1, i-2 set to 1500 ms' }).waitFor();
  await page.locator('.fleet-events li', { hasText: 'i-3 launched, healthy' }).waitFor({ timeout: 45000 });
  await page.locator('#chart-summary', { hasText: '3 instance(s) in service' }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(ARTIFACTS, 'fleet-scale-out.png'), fullPage: false });
  await page.fill('#latency-ms', '0');
  await page.click('#latency-form button[type=submit]');
  await page.locator('[data-field=feedback]', { hasText: 'set to 0 ms' }).waitFor();
  await page.click('#load-stop');
  await page.locator('[data-field=feedback]', { hasText: 'load stopped' }).waitFor();
  await page.locator('[data-field=load]', { hasText: 'No load running.' }).waitFor();

  // Kill i-2: the autoscaler replaces it.
  const replacements = async () =>
    (await readFile(join(stack.stateDir, 'autoscaler', 'events.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('launched, healthy')).length;
  const before = await replacements();
  await page.click('button[data-kill="i-2"]');
  await page.locator('[data-field=feedback]', { hasText: 'i-2 killed' }).waitFor();
  await page.locator('.fleet-events li', { hasText: 'i-2 killed (fleet view)' }).waitFor();
  const deadline = Date.now() + 45000;
  while ((await replacements()) === before) {
    assert.ok(Date.now() < deadline, 'the killed instance was replaced within 45 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.screenshot({ path: join(ARTIFACTS, 'fleet-controls.png'), fullPage: true });
  await page.context().close();
});
