import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { SessionStoreError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, type Data, exchange } from './support/harness.js';

// A redis outage as the manager's own calls meet it (load and commit, no HTTP). The adapters' answer
// to one is in adapters/redis-outage-each-adapter.test.ts, a kill under traffic in
// faults/redis-outage-under-traffic.test.ts.
let server: RedisServer;
let client: Redis;
let admin: Redis;

beforeAll(async () => {
  // Its own server: these tests freeze and stop it.
  server = await startRedisServer();
  client = new Redis(server.url);
  admin = new Redis(server.url);
  await Promise.all([once(client, 'ready'), once(admin, 'ready')]);
  // While redis is stopped ioredis reports every failed reconnection; the tests check the outcome instead.
  client.on('error', () => {});
  admin.on('error', () => {});
});

afterAll(async () => {
  client.disconnect();
  admin.disconnect();
  await server.dispose();
});

/** What `promise` rejected with, and how long it took. */
async function failure(promise: () => Promise<unknown>): Promise<{ error: SessionStoreError; elapsed: number }> {
  const started = performance.now();
  try {
    await promise();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe('SESSION_STORE');
    expect((error as SessionStoreError).backend).toBe('redis');
    return { error: error as SessionStoreError, elapsed: performance.now() - started };
  }
  throw new Error('expected a SessionStoreError');
}

describe('a redis that does not answer', () => {
  it('commandTimeout bounds each read and write with a SessionStoreError', async () => {
    for (const commandTimeout of [300, 700]) {
      const manager = SessionManager.redis<Data>(client, { commandTimeout, prefix: 'outage:' });
      const jar = new CookieJar();
      await exchange(manager, jar, (s) => {
        s.data.n = 1;
      });
      // Redis is up, the connection open, but the process is frozen: no command is answered until
      // the test thaws it, so an answer in between can only be the command timeout's.
      server.freeze();
      try {
        const read = await failure(() => manager.load(jar.header()));
        expect(read.error.operation).toBe('read');
        expect(read.error.message).toContain(`within ${commandTimeout} ms`);
        // A timer never fires early (by more than a millisecond's rounding).
        expect(read.elapsed).toBeGreaterThanOrEqual(commandTimeout - 2);

        const state = await manager.load(undefined);
        state.data.n = 2;
        const write = await failure(async () => manager.commit(state).persist?.());
        expect(write.error.operation).toBe('write');
        expect(write.error.message).toContain(`within ${commandTimeout} ms`);
        expect(write.elapsed).toBeGreaterThanOrEqual(commandTimeout - 2);
      } finally {
        server.thaw();
      }
      // Answered once redis runs again.
      await admin.ping();
      expect((await manager.load(jar.header())).data.n).toBe(1);
    }
  });
});

describe('a stopped redis', () => {
  it('gives a SessionStoreError within the timeout, and the manager works again once redis is back', async () => {
    const commandTimeout = 500;
    const manager = SessionManager.redis<Data>(client, { commandTimeout });
    const jar = new CookieJar();
    await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });

    await server.stop();
    // Bounded: the test's own timeout would catch a hang, so no wall-clock bound is asserted here.
    const read = await failure(() => manager.load(jar.header()));
    expect(read.error.message).toMatch(/Redis/);
    const state = await manager.load(undefined);
    state.data.n = 1;
    const write = await failure(async () => manager.commit(state).persist?.());
    expect(write.error.operation).toBe('write');
    // A manager that never saw the connection ready is bounded too (its commands wait in the client's queue).
    const late = SessionManager.redis<Data>(client, { commandTimeout });
    const lateRead = await failure(() => late.load(jar.header()));
    expect(lateRead.error.operation).toBe('read');
    const lateState = await late.load(undefined);
    lateState.data.lost = true;
    const lateWrite = await failure(async () => late.commit(lateState).persist?.());
    expect(lateWrite.error.operation).toBe('write');

    // (events.once would reject on the connection errors ioredis emits until redis is back.)
    const ready = new Promise((resolve) => client.once('ready', resolve));
    await server.start();
    await ready;
    // A write reported as failed must not land later, when the client replays its offline queue.
    expect(await client.exists(`emtsess:${lateState.id}`)).toBe(0);
    // The data did not survive the restart (no persistence): a fresh session, then a working one.
    const fresh = await exchange(manager, jar, (s) => {
      s.data.n = ((s.data.n as number | undefined) ?? 0) + 10;
    });
    expect(fresh.state.isNew).toBe(true);
    expect((await manager.load(jar.header())).data.n).toBe(10);
    expect((await late.load(jar.header())).data.n).toBe(10);
  });
});
