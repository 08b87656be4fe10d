import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { SessionManager } from '../../src/manager.js';
import { FRAMEWORKS, startApp } from '../adapters/support/apps.js';
import { SECRET, sessionFileOf } from '../support/harness.js';

const CONCURRENT = 200;
const BACKENDS = ['cookies', 'files', 'redis'] as const;

let redis: Redis;
let dir: string;
const prefix = `faults-concurrency:${randomUUID()}:`;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  dir = mkdtempSync(join(tmpdir(), 'csm-concurrency-'));
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

function managerFor(backend: (typeof BACKENDS)[number]): SessionManager {
  switch (backend) {
    case 'cookies':
      return SessionManager.cookies(SECRET);
    case 'files':
      return SessionManager.files({ directory: dir, sweepInterval: 0 });
    case 'redis':
      return SessionManager.redis(redis, { prefix });
  }
}

/** The counter the store holds for a session id (files and redis), read around the app. */
async function storedCounter(backend: 'files' | 'redis', id: string): Promise<number> {
  const text =
    backend === 'files'
      ? JSON.stringify(JSON.parse(readFileSync(sessionFileOf(dir, id), 'utf8')).data)
      : ((await redis.get(prefix + id)) as string);
  return JSON.parse(text).counter;
}

const counterOf = (body: string) => Number(/This is your (\d+) visit/.exec(body)?.[1]);

/** Every backend through node:http, and every other framework over the files backend. */
const CASES = [
  ...BACKENDS.map((backend) => [backend, 'node'] as const),
  ...FRAMEWORKS.filter((framework) => framework !== 'node').map((framework) => ['files', framework] as const),
];

describe(`${CONCURRENT} concurrent requests on one session`, () => {
  it.each(CASES)(
    '%s backend, %s: no 5xx, and the final state is one a response reported (last write wins)',
    async (backend, framework) => {
      const manager = managerFor(backend);
      const app = await startApp(framework, manager);
      try {
        const jar = new CookieJar();
        expect((await jar.get(`${app.url}/counter`)).body).toBe('This is your 1 visit');
        const cookie = jar.header() as string;

        const responses = await Promise.all(
          Array.from({ length: CONCURRENT }, async () => {
            const response = await fetch(`${app.url}/counter`, { headers: { cookie } });
            return {
              status: response.status,
              body: await response.text(),
              setCookies: response.headers.getSetCookie(),
            };
          }),
        );
        expect(responses.filter((r) => r.status !== 200)).toEqual([]);
        const counters = responses.map((r) => counterOf(r.body));
        for (const counter of counters) {
          expect(counter).toBeGreaterThanOrEqual(2);
          expect(counter).toBeLessThanOrEqual(CONCURRENT + 1);
        }

        if (backend === 'cookies') {
          // Each response carries its own sealed copy; every request started from counter 1.
          expect(new Set(counters)).toEqual(new Set([2]));
          jar.store(responses.at(-1)?.setCookies ?? []);
          expect((await jar.get(`${app.url}/counter`)).body).toBe('This is your 3 visit');
          return;
        }
        // The id never changed, and what the store holds is what one of the responses said it wrote.
        const id = cookie.slice(cookie.indexOf('=') + 1);
        const stored = await storedCounter(backend, id);
        expect(counters).toContain(stored);
        expect((await jar.get(`${app.url}/counter`)).body).toBe(`This is your ${stored + 1} visit`);
      } finally {
        await app.close();
        await manager.close();
      }
    },
  );
});
