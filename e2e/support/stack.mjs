// A local level-N stack brought up with `photoscale infra up` on a block of
// free ports in its own state directory, and `infra fleet` serving its view.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { binary, ownEnvironment } from './app.mjs';

const run = promisify(execFile);

function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port P with P..P+15 free, below the kernel's ephemeral range. */
async function freeBlock() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 500) * 20;
    const ports = Array.from({ length: 16 }, (_, n) => base + n);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no block of 16 free ports');
}

export async function upStack(level, extra = []) {
  const stateDir = await mkdtemp(join(tmpdir(), 'photoscale-e2e-stack-'));
  const port = await freeBlock();
  const args = ['infra', 'up', '--level', String(level), '--state-dir', stateDir, '--port', String(port), ...extra];
  const { stdout, stderr } = await run(binary(), args, { env: ownEnvironment() });
  return {
    url: stdout.trim(),
    stateDir,
    // The one-time link to the stack's own fleet view's controls.
    controlLink: stderr.match(/(http:\/\/\S+\/fleet#code=[A-Za-z0-9_-]+)/)?.[1],
    async down() {
      await run(binary(), ['infra', 'down', '--purge', '--state-dir', stateDir], { env: ownEnvironment() });
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** `infra fleet` on any free port: `{ url, stop() }`. */
export async function startFleet(stateDir) {
  const child = spawn(binary(), ['infra', 'fleet', '--state-dir', stateDir, '--bind', '127.0.0.1:0'], {
    env: ownEnvironment(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/Fleet view: (\S+)/);
      if (found) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`infra fleet exited with ${code}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}
