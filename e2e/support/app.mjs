// Starts `photoscale serve` on a free loopback port with a fresh data
// directory (SQLite, local disk), and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

/** The binary `cargo test` built (E2E_PHOTOSCALE_BIN overrides). */
export function binary() {
  if (process.env.E2E_PHOTOSCALE_BIN) return process.env.E2E_PHOTOSCALE_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'photoscale-target');
  return join(target, 'debug', 'photoscale');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitHealthy(url, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`photoscale exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`photoscale did not answer ${url}/healthz within 20 s`);
}

/** This environment without PHOTOSCALE_* (configuration keys to the app). */
export function ownEnvironment() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PHOTOSCALE_')));
}

/** A running app: `{ url, stop() }`. */
export async function startApp() {
  const dataDir = await mkdtemp(join(tmpdir(), 'photoscale-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary(), ['serve', `--bind=127.0.0.1:${port}`, `--data-dir=${dataDir}`, '--instance-id=i-e2e'], {
    env: { ...ownEnvironment(), PHOTOSCALE_LOG__LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitHealthy(url, child);
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
