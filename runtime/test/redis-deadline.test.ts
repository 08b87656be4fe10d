import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { RedisClock } from '../src/backends/redis-clock.js';
import { SessionStoreError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { type RunningApp, startApp } from './adapters/support/apps.js';
import { heldPost, watchLoads } from './faults/support/held-post.js';
import { CookieJar, type Data, exchange } from './support/harness.js';

/**
 * A write that redis runs after the request was told it failed must change nothing: the request got
 * a 503, so the session must be as it was. Redis is paused (CLIENT PAUSE ALL) for much longer than
 * the command timeout, so the commands wait in the server until every request has failed; what
 * redis then does with them is checked, not how long anything took.
 */
const COMMAND_TIMEOUT = 200;
const PAUSE_MS = 3000;

let server: RedisServer;
let client: Redis;
let admin: Redis;
let app: RunningApp | undefined;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url);
  admin = new Redis(server.url);
  await Promise.all([once(client, 'ready'), once(admin, 'ready')]);
});

afterAll(async () => {
  await app?.close();
  client.disconnect();
  admin.disconnect();
  await server.dispose();
});

async function stored(manager: SessionManager<Data>, data: Data) {
  const jar = new CookieJar();
  const { state } = await exchange(manager, jar, (s) => Object.assign(s.data, data));
  return { jar, key: `deadline:${state.id}` };
}

describe('redis runs a write after its deadline', () => {
  it('a write, an expiry slide, a logout, a new session and a request over HTTP: each a 503, and none lands later', async () => {
    const manager = SessionManager.redis<Data>(client, {
      prefix: 'deadline:',
      commandTimeout: COMMAND_TIMEOUT,
      expire: 100,
      refreshAfter: 0,
    });
    const changed = await stored(manager, { n: 1 });
    const slid = await stored(manager, { n: 1 });
    const loggedOut = await stored(manager, { n: 1 });
    const overHttp = await stored(manager, { n: 1 });
    await client.pexpire(slid.key, 50_000);

    // Requests that loaded their session before redis stopped answering.
    const change = await manager.load(changed.jar.header());
    change.data.n = 2;
    const slide = await manager.load(slid.jar.header());
    const logout = await manager.load(loggedOut.jar.header());
    logout.destroy();
    const fresh = await manager.load(undefined);
    fresh.data.n = 1;
    const loaded = watchLoads(manager as SessionManager);
    app = await startApp('node', manager as SessionManager, { onError: () => {} });
    const cookie = overHttp.jar.header() as string;
    const postLoaded = loaded(cookie);
    const post = await heldPost(app.url, cookie, 'late');
    await postLoaded;

    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    const commits = [change, slide, logout, fresh].map((state) => manager.commit(state).persist?.());
    const results = await Promise.allSettled([...commits, post.finish().then(({ status }) => status)]);

    const [httpStatus] = results.splice(-1).map((result) => (result as PromiseFulfilledResult<number>).value);
    expect(httpStatus).toBe(503);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionStoreError);
    }

    // The pause is over once the admin connection is answered; the store's connection sends
    // commands in order, so once its PING is answered the scripts sent before it have run.
    await admin.ping();
    await client.ping();
    expect(JSON.parse((await client.get(changed.key)) as string)).toEqual({ n: 1 });
    expect(await client.pttl(slid.key)).toBeLessThanOrEqual(50_000);
    expect(JSON.parse((await client.get(loggedOut.key)) as string)).toEqual({ n: 1 });
    expect(await client.exists(`deadline:${fresh.id}`)).toBe(0);
    expect(JSON.parse((await client.get(overHttp.key)) as string)).toEqual({ n: 1 });
    // The sessions still work: the logout that failed left the user logged in, as the 503 said.
    expect((await manager.load(loggedOut.jar.header())).data.n).toBe(1);
  });
});

describe('RedisClock', () => {
  it('never places a deadline later than the local moment it stands for', () => {
    let local = 1_000;
    const clock = new RedisClock(() => local);
    expect(clock.deadlineIn(100)).toBeUndefined();
    // Redis read its clock (5_000_000 ms) before the reply arrived here at local 1_000: redis is at
    // least 4_999_000 ms ahead. A later reply that took longer to arrive says less, and is not used.
    clock.observe(5_000, 0);
    local = 1_500;
    clock.observe(5_000, 400_000); // 5_000_400 - 1_500 = 4_998_900
    expect(clock.deadlineIn(100)).toBe(1_500 + 100 + 4_999_000);
  });

  it('asks for a sample when the current window has none, while the previous one still places deadlines', () => {
    let local = 0;
    const clock = new RedisClock(() => local);
    expect(clock.needsSample()).toBe(true);
    clock.observe(10, 0);
    expect(clock.needsSample()).toBe(false);
    local = 9_999;
    expect(clock.needsSample()).toBe(false);
    local = 10_000;
    expect(clock.needsSample()).toBe(true);
    expect(clock.deadlineIn(0)).toBe(10_000 + 10_000);
    clock.observe(20, 0);
    expect(clock.needsSample()).toBe(false);
  });

  it('forgets samples older than two windows, so a step of either clock is followed', () => {
    let local = 0;
    const clock = new RedisClock(() => local);
    clock.observe(10, 0);
    local = 15_000;
    clock.observe(5, 0); // redis' clock stepped back: 5_000 - 15_000
    expect(clock.deadlineIn(0)).toBe(15_000 + 10_000); // the older, larger sample still counts
    local = 26_000;
    clock.observe(16, 0);
    local = 40_000;
    expect(clock.deadlineIn(0)).toBe(40_000 - 10_000);
    local = 70_000;
    expect(clock.deadlineIn(0)).toBeUndefined();
  });
});
