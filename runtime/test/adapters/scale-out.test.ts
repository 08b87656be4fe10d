import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type ServerProcess as Server, spawnServer } from '../support/server-process.js';
import type { Framework } from './support/apps.js';
import { SECRET } from './support/backends.js';

const SERVE = fileURLToPath(new URL('./support/serve.ts', import.meta.url));

/**
 * Two server processes, sharing only what users would share between machines: the secret (cookies),
 * the redis server (redis) or a folder (files). Each pair mixes two frameworks, which also shows
 * that every adapter reads the sessions every other one writes.
 */
const PAIRS: { backend: string; frameworks: [Framework, Framework] }[] = [
  { backend: 'cookies', frameworks: ['express', 'fastify'] },
  { backend: 'redis', frameworks: ['koa', 'hono'] },
  { backend: 'files', frameworks: ['node', 'express'] },
];

describe('scale-out: requests alternating between two server processes', () => {
  const servers: Server[] = [];
  let cleanup: () => void = () => {};
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map(async ({ process: child }) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    cleanup();
  });

  it.each(PAIRS)(
    '$backend backend, $frameworks.0 and $frameworks.1, keep one counter',
    async ({ backend, frameworks }) => {
      const directory = mkdtempSync(join(tmpdir(), 'csm-scale-out-'));
      cleanup = () => rmSync(directory, { recursive: true, force: true });
      const env = {
        BACKEND: backend,
        SESSION_SECRET: SECRET,
        REDIS_URL: inject('redisUrl'),
        PREFIX: `csm-scale-out:${randomUUID()}:`,
        DIRECTORY: directory,
      };
      servers.push(...(await Promise.all(frameworks.map((FRAMEWORK) => spawnServer(SERVE, { ...env, FRAMEWORK })))));
      const [a, b] = servers as [Server, Server];
      expect(a.process.pid).not.toBe(b.process.pid);

      const jar = new CookieJar();
      for (let n = 1; n <= 6; n++) {
        const server = n % 2 === 1 ? a : b;
        const { status, body } = await jar.get(`${server.url}/counter`);
        expect(status).toBe(200);
        expect(body).toBe(`This is your ${n} visit`);
      }
    },
  );
});
