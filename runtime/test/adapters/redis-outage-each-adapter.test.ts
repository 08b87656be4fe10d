import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { FRAMEWORKS, startApp } from './support/apps.js';

/** Every adapter answers a store failure with a 503 (not a hang, not a 500) and recovers by itself. */
describe('a session store outage', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer({ persistence: true });
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  // A request must be answered while redis is down: bounded by an abort, not by a timed assertion.
  const bounded = () => ({ signal: AbortSignal.timeout(10_000) });

  it.each(FRAMEWORKS)('%s: redis down gives 503, redis back gives the same session again', async (framework) => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // connection errors while redis is down are expected here
    // A stopped redis fails commands at once (the client knows it is disconnected): the timeout only
    // bounds a busy machine's first visit, which took more than half a second at times.
    const manager = SessionManager.redis(client, { prefix: `csm-outage:${framework}:`, commandTimeout: 5_000 });
    await client.ping();
    const errors: unknown[] = [];
    const app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
    try {
      const jar = new CookieJar();
      expect((await jar.get(`${app.url}/counter`)).body).toBe('This is your 1 visit');

      await redis.stop();
      const down = await jar.get(`${app.url}/counter`, bounded());
      expect(down.status).toBe(503);
      expect(down.body).toContain('session store');
      expect(down.setCookies).toEqual([]);
      expect(errors.some((error) => error instanceof SessionStoreError)).toBe(true);

      await redis.start();
      let back = await jar.get(`${app.url}/counter`, bounded());
      for (let tries = 0; back.status === 503 && tries < 100; tries++) {
        await sleep(100);
        back = await jar.get(`${app.url}/counter`, bounded());
      }
      expect(back.status).toBe(200);
      expect(back.body).toBe('This is your 2 visit');
    } finally {
      await app.close();
      client.disconnect();
    }
  });

  it.each(FRAMEWORKS)('%s: a failed files read (a synchronous call) gives 503, never a throw', async (framework) => {
    const parent = mkdtempSync(join(tmpdir(), 'csm-outage-'));
    const directory = join(parent, 'sessions');
    const manager = SessionManager.files({ directory, sweepInterval: 0 });
    const errors: unknown[] = [];
    const app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
    try {
      const jar = new CookieJar();
      expect((await jar.get(`${app.url}/counter`, bounded())).status).toBe(200);
      // The sessions folder becomes a file: opening the session's file fails with ENOTDIR.
      rmSync(directory, { recursive: true });
      writeFileSync(directory, '');
      const { status, body, setCookies } = await jar.get(`${app.url}/counter`, bounded());
      expect(status).toBe(503);
      expect(body).toContain('session store');
      expect(setCookies).toEqual([]);
      expect(errors).toHaveLength(1);
      expect((errors[0] as SessionStoreError).operation).toBe('read');
    } finally {
      await app.close();
      await manager.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it.each(FRAMEWORKS)('%s: a failed store write gives 503 and no cookie', async (framework) => {
    const parent = mkdtempSync(join(tmpdir(), 'csm-outage-'));
    const directory = join(parent, 'sessions');
    const manager = SessionManager.files({ directory, sweepInterval: 0 });
    const errors: unknown[] = [];
    const app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
    try {
      // The sessions folder becomes a file: every write fails with ENOTDIR.
      rmSync(directory, { recursive: true });
      writeFileSync(directory, '');
      const { status, body, setCookies } = await new CookieJar().get(`${app.url}/counter`, bounded());
      expect(status).toBe(503);
      expect(body).toContain('session store');
      expect(setCookies).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SessionStoreError);
      expect((errors[0] as SessionStoreError).operation).toBe('write');
    } finally {
      await app.close();
      await manager.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
