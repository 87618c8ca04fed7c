// A person's visit in a real browser: sign up, log in, upload through the
// form, see the photo first in the feed, open it, log out; a rejected upload
// shows its message; screenshots of the feed at phone and desktop widths.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { startApp } from './support/app.mjs';
import { launch } from './support/browser.mjs';
import { gradientPng } from './support/png.mjs';

const ARTIFACTS = process.env.E2E_ARTIFACTS ?? join(import.meta.dirname, '..', 'test-artifacts', 'e2e');

let app;
let browser;

before(async () => {
  app = await startApp();
  browser = await launch();
  await mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

async function signUp(page, username, password) {
  await page.goto(`${app.url}/register`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
}

async function logIn(page, username, password) {
  await page.goto(`${app.url}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('sign up, log in, upload, see it first, open it, log out', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, 'ada', 'correct horse battery');
  // A fresh context: log in as a returning visitor would.
  await context.clearCookies();
  await logIn(page, 'ada', 'correct horse battery');
  await assert.doesNotReject(page.getByText('Logged in as').waitFor());

  await page.goto(`${app.url}/upload`);
  await page.getByLabel('Photo', { exact: true }).setInputFiles({
    name: 'gradient.png',
    mimeType: 'image/png',
    buffer: gradientPng(),
  });
  await page.getByLabel(/Caption/).fill('A gradient at dusk');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/upload'));

  await page.goto(app.url);
  const first = page.locator('.photo-grid li').first();
  await assert.doesNotReject(first.waitFor());
  assert.equal(await first.locator('img').getAttribute('alt'), 'A gradient at dusk');
  assert.match(await first.locator('.uploader').innerText(), /ada/);

  await first.locator('a').click();
  await page.waitForURL(/\/photos\//);
  const full = page.locator('main img').first();
  await full.waitFor();
  const loaded = await full.evaluate((img) => img.complete && img.naturalWidth);
  assert.equal(loaded, 320, 'the full image is shown');

  await page.getByRole('button', { name: 'Log out' }).click();
  await assert.doesNotReject(page.getByRole('link', { name: 'Log in' }).waitFor());
  await context.close();
});

test('a rejected upload says why (the server decides)', async () => {
  // Without JavaScript nothing is checked before sending: this is the server's answer.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signUp(page, 'grace', 'another good password');
  await page.goto(`${app.url}/upload`);
  await page.getByLabel('Photo', { exact: true }).setInputFiles({
    name: 'notes.png',
    mimeType: 'image/png',
    buffer: Buffer.from('these are notes, not a picture'),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const message = page.getByRole('alert');
  await message.waitFor();
  assert.match(await message.innerText(), /image|picture|photo/i);
  await context.close();
});

test('screenshots of the feed at phone and desktop widths', async () => {
  for (const [name, viewport] of [
    ['feed-phone', { width: 375, height: 812 }],
    ['feed-desktop', { width: 1280, height: 900 }],
  ]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(app.url);
    await page.locator('.photo-grid li').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the screen`);
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    await context.close();
  }
});

test('the upload form previews, checks before sending, and shows progress', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, 'hedy', 'frequency hopping');
  await page.goto(`${app.url}/upload`);
  const input = page.getByLabel('Photo', { exact: true });

  // A file the server would refuse is refused at once, and cannot be sent.
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('text') });
  await assert.doesNotReject(page.getByText('notes.txt is not a JPEG, PNG, GIF or WebP image.').waitFor());
  assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
  await input.setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not really') });
  await assert.doesNotReject(page.getByText('fake.png cannot be read as an image.').waitFor());

  // Dropped on the form: previewed, then sent with a progress bar.
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
    return transfer;
  }, [...gradientPng(200, 100)]);
  await page.locator('form[data-upload]').dispatchEvent('drop', { dataTransfer });
  const preview = page.getByAltText('Preview of dropped.png');
  await preview.waitFor();
  assert.equal(await preview.evaluate((img) => img.naturalWidth), 200);
  await assert.doesNotReject(page.getByText('dropped.png, 0.0 MiB: ready to upload.').waitFor());
  // Hold the request a moment, as a slow network would, to see the progress bar.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route('**/upload', async (route) => {
    await held;
    await route.continue();
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  await assert.doesNotReject(page.getByLabel('Upload progress').waitFor({ state: 'visible' }));
  assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true, 'sent once');
  release();
  await page.waitForURL(`${app.url}/`);
  await assert.doesNotReject(page.getByText('Photo uploaded.').waitFor());
  await context.close();
});

test('without JavaScript the plain form still uploads', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signUp(page, 'alan', 'imitation game');
  await page.goto(`${app.url}/upload`);
  assert.equal(await page.locator('.drop-zone').isVisible(), false, 'no drop zone without JavaScript');
  await page.getByLabel('Photo', { exact: true }).setInputFiles({ name: 'plain.png', mimeType: 'image/png', buffer: gradientPng(64, 64) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(`${app.url}/`);
  await assert.doesNotReject(page.getByText('Photo uploaded.').waitFor());
  await context.close();
});

test('the header names the serving instance; the keyboard reaches everything', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url);
  assert.equal(await page.locator('header .instance-badge').innerText(), 'i-e2e');
  // Tab from the top: the skip link first, then the header's links.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  const reached = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement.textContent.trim()));
  }
  assert.ok(reached.includes('Sign up'), `tabbed through ${reached}`);
  while ((await page.evaluate(() => document.activeElement.textContent.trim())) !== 'Sign up') {
    await page.keyboard.press('Shift+Tab');
  }
  await page.keyboard.press('Enter');
  await page.waitForURL(`${app.url}/register`);
  await context.close();
});

test('a missing page is a friendly 404 without internals', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(`${app.url}/photos/does-not-exist`);
  assert.equal(response.status(), 404);
  const heading = await page.getByRole('heading', { level: 1 }).innerText();
  assert.ok(heading.length > 0 && !/error:|panicked|stack/i.test(await page.content()), heading);
  await page.getByRole('link', { name: 'Go to the front page' }).click();
  await page.waitForURL(`${app.url}/`);
  await context.close();
});

test('forms say what is wrong next to the field', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.url}/register`);
  await page.getByLabel('Username').fill('x');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Repeat the password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  const username = page.getByLabel('Username');
  await username.waitFor();
  assert.equal(await username.getAttribute('aria-invalid'), 'true');
  const described = await username.getAttribute('aria-describedby');
  const message = await page.locator(`#${described.split(' ').pop()}`).innerText();
  assert.match(message, /3|characters|short/i, message);
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  await context.close();
});

test('a file over the limit gets a friendly 413 page', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signUp(page, 'barbara', 'liskov substitution');
  await page.goto(`${app.url}/upload`);
  const limit = Number(await page.locator('form[data-upload]').getAttribute('data-max-bytes'));
  await page.getByLabel('Photo', { exact: true }).setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(limit + 1024) });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/upload') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Upload' }).click(),
  ]);
  assert.equal(response.status(), 413);
  await page.waitForLoadState();
  const heading = await page.getByRole('heading', { level: 1 }).innerText();
  assert.ok(heading.length > 0, 'a titled page');
  assert.doesNotMatch(await page.content(), /panicked|backtrace|src\//);
  await context.close();
});
