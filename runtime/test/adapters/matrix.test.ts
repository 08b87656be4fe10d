import { basename } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { sessionFileOf } from '../support/harness.js';
import { ALL_MAJORS, type RunningApp, startApp } from './support/apps.js';
import { BACKENDS, createBackend, monitorRedis, snapshotFolder, type TestBackend } from './support/backends.js';

const CASES = ALL_MAJORS.flatMap((framework) => BACKENDS.map((backend) => ({ framework, backend })));

describe.each(CASES)('$framework with the $backend backend', ({ framework, backend: kind }) => {
  const redisUrl = inject('redisUrl');
  let backend: TestBackend;
  let app: RunningApp;
  /** This test's errors only: each test gets its own app, so nothing one reports reaches another. */
  let errors: unknown[];

  beforeAll(() => {
    backend = createBackend(kind);
  });
  afterAll(async () => {
    await backend?.close();
  });
  beforeEach(async () => {
    const seen: unknown[] = [];
    errors = seen;
    app = await startApp(framework, backend.manager, { onError: (error) => seen.push(error) });
  });
  afterEach(async () => {
    await app?.close();
  });

  it('counts visits per cookie jar: 1, 2, 3, and 1 again for a new visitor', async () => {
    const jar = new CookieJar();
    for (const n of [1, 2, 3]) {
      const { status, body } = await jar.get(`${app.url}/counter`);
      expect(status).toBe(200);
      expect(body).toBe(`This is your ${n} visit`);
    }
    expect((await new CookieJar().get(`${app.url}/counter`)).body).toBe('This is your 1 visit');
    expect((await jar.get(`${app.url}/bump`)).body).toBe('This is your 4 visit');
    expect(errors).toEqual([]);
  });

  it('answers a tampered cookie with a fresh session, never a 5xx', async () => {
    const jar = new CookieJar();
    await jar.get(`${app.url}/counter`);
    await jar.get(`${app.url}/counter`);
    const [name, value] = [...jar.cookies][0] ?? [];
    expect(value).toBeDefined();
    const flipped =
      (value as string).slice(0, 10) + ((value as string)[10] === 'A' ? 'B' : 'A') + (value as string).slice(11);
    jar.cookies.set(name as string, flipped);

    const { status, body, setCookies } = await jar.get(`${app.url}/counter`);
    expect(status).toBe(200);
    expect(body).toBe('This is your 1 visit');
    expect(setCookies.some((cookie) => cookie.startsWith(`${name}=`) && !cookie.includes(flipped))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('writes nothing for a request that only reads the session', async () => {
    const jar = new CookieJar();
    await jar.get(`${app.url}/counter`);
    await jar.get(`${app.url}/counter`);
    const monitor = kind === 'redis' ? await monitorRedis(redisUrl, backend.prefix as string) : undefined;
    const before = kind === 'files' ? snapshotFolder(backend.directory as string) : undefined;
    try {
      const { status, body, setCookies } = await jar.get(`${app.url}/peek`);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({ counter: 2 });
      expect(setCookies).toEqual([]);
      if (before) {
        const id = [...jar.cookies.values()][0] as string;
        const name = basename(sessionFileOf(backend.directory as string, id));
        expect(before.some((line) => line.startsWith(`${name} `))).toBe(true);
        expect(snapshotFolder(backend.directory as string)).toEqual(before);
      }
      if (monitor) {
        await monitor.settle();
        // The read is seen, so the monitor works; no write followed it.
        expect(monitor.commands().sort()).toEqual(['EVALSHA', 'GET', 'PTTL']);
        // And a request that changes the session is seen writing.
        monitor.clear();
        await jar.get(`${app.url}/counter`);
        await monitor.settle();
        expect(monitor.commands()).toContain('SET');
      }
    } finally {
      monitor?.close();
    }
    expect(JSON.parse((await jar.get(`${app.url}/peek`)).body)).toEqual({ counter: kind === 'redis' ? 3 : 2 });
  });
});
