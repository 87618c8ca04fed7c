// Level 2 in a real browser: photos live in the stack's own S3 server, and
// the page's <img> tags load them straight from it through presigned links
// (the server refuses anything unsigned).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { launch } from './support/browser.mjs';
import { gradientPng } from './support/png.mjs';
import { upStack } from './support/stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await upStack(2);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.down();
});

test('photos load in the browser from the S3 server through presigned links', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.url}/register`);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Repeat the password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.goto(`${stack.url}/upload`);
  await page.getByLabel('Photo', { exact: true }).setInputFiles({
    name: 'gradient.png',
    mimeType: 'image/png',
    buffer: gradientPng(),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/upload'));

  await page.goto(stack.url);
  const thumb = page.locator('.photo-grid li img').first();
  await thumb.waitFor();
  const src = await thumb.getAttribute('src');
  assert.match(src, /X-Amz-Signature=/, `a presigned link: ${src}`);
  assert.notEqual(new URL(src).origin, new URL(stack.url).origin, 'served by the S3 server, not the app');
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle());

  await page.locator('.photo-grid li a').first().click();
  await page.waitForURL(/\/photos\//);
  const full = page.locator('main img').first();
  await full.waitFor();
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await full.elementHandle());
  assert.equal(await full.evaluate((img) => img.naturalWidth), 320, 'the whole photo, from the bucket');

  // The same object without its signature is refused.
  const unsigned = new URL(await full.getAttribute('src'));
  unsigned.search = '';
  const response = await page.request.get(unsigned.toString());
  assert.equal(response.status(), 403);
  await context.close();
});
