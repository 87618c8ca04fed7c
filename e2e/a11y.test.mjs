// axe-core in the same browser: the main pages have no serious or critical
// accessibility violations (labels, contrast, alt text, landmarks, ...).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { startApp } from './support/app.mjs';
import { launch } from './support/browser.mjs';
import { gradientPng } from './support/png.mjs';

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let app;
let browser;
let page;

before(async () => {
  app = await startApp();
  browser = await launch();
  // The app's Content-Security-Policy forbids injected scripts; axe is one.
  page = await (await browser.newContext({ bypassCSP: true })).newPage();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

async function violations(path) {
  await page.goto(`${app.url}${path}`);
  await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const path of ['/', '/login', '/register']) {
  test(`${path} as a visitor`, async () => {
    assert.deepEqual(await violations(path), []);
  });
}

test('the feed, upload and photo pages as a member', async () => {
  await page.goto(`${app.url}/register`);
  await page.getByLabel('Username').fill('lin');
  await page.getByLabel('Password', { exact: true }).fill('a long enough password');
  await page.getByLabel('Repeat the password').fill('a long enough password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.goto(`${app.url}/upload`);
  await page.getByLabel('Photo', { exact: true }).setInputFiles({ name: 'g.png', mimeType: 'image/png', buffer: gradientPng() });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/upload'));
  assert.deepEqual(await violations('/upload'), []);
  assert.deepEqual(await violations('/'), []);
  await page.locator('.photo-grid a').first().click();
  await page.waitForURL(/\/photos\//);
  assert.deepEqual(await violations(new URL(page.url()).pathname), []);
  assert.deepEqual(await violations('/no-such-page'), []);
});
