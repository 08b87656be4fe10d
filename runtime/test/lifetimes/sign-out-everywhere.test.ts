import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type ServerProcess, spawnServer } from '../support/server-process.js';
import { getSessionInfo } from '../../src/context.js';
import { FilesStore } from '../../src/backends/files.js';
import { RedisStore } from '../../src/backends/redis.js';
import type { SessionStore } from '../../src/backends/store.js';
import { SessionConfigError } from '../../src/errors.js';
import { newSessionId } from '../../src/ids.js';
import { SessionManager } from '../../src/manager.js';
import { resolveCommonOptions } from '../../src/options.js';
import { MemoryRevocationList, RedisRevocationList } from '../../src/backends/revocation.js';
import { type Data, exchange, redisUrl } from '../support/harness.js';
import { type Framework, type RunningApp, startApp } from './apps.js';
import { BACKENDS, type BackendKind, type Place, place, TestClock } from './backends.js';

const ADAPTERS: Framework[] = ['express', 'koa'];

describe.each(BACKENDS.flatMap((backend) => ADAPTERS.map((framework) => [backend, framework] as const)))(
  'sign out everywhere on %s with %s',
  (backend: BackendKind, framework: Framework) => {
    let clock: TestClock;
    let where: Place;
    let app: RunningApp | undefined;
    let manager: SessionManager;
    afterEach(async () => {
      await app?.close();
      app = undefined;
      await where.dispose();
    });
    const start = async (revocation: 'memory' | 'redis' | 'none' = 'memory') => {
      clock = new TestClock();
      where = place(backend, clock);
      const list =
        revocation === 'memory'
          ? new MemoryRevocationList()
          : revocation === 'redis'
            ? new RedisRevocationList(where.redis, { prefix: `${where.prefix}revoked:` })
            : undefined;
      manager = where.make(backend === 'cookies' && list ? { revocation: list } : {});
      app = await startApp(framework, manager);
    };
    const user = async (jar: CookieJar) =>
      (JSON.parse((await jar.get(`${app?.url}/me`)).body) as { user: string | null }).user;

    it.each(['memory', 'redis'] as const)(
      "revokeUser() ends every session of the user, in every cookie jar, and no one else's (%s list)",
      async (list) => {
        await start(list);
        const url = app?.url as string;
        const laptop = new CookieJar();
        const phone = new CookieJar();
        const other = new CookieJar();
        await laptop.get(`${url}/login?user=ada`);
        await phone.get(`${url}/login?user=ada&remember=86400`);
        await other.get(`${url}/login?user=bob`);
        const stolen = new CookieJar();
        for (const [name, value] of phone.cookies) stolen.cookies.set(name, value);
        if (backend !== 'cookies') {
          const listed = await manager.listUserSessions('ada');
          expect(listed).toHaveLength(2);
          const own = await manager.load(laptop.header());
          expect(listed.map((s) => s.idHash)).toContain(getSessionInfo(own.data).idHash);
          for (const s of listed) {
            expect(s.created?.getTime()).toBe(clock.now);
            expect(s.lastSeen.getTime()).toBeLessThanOrEqual(Date.now());
          }
        }
        clock.advance(1);
        await manager.revokeUser('ada');
        expect(await user(laptop)).toBeNull();
        expect(await user(phone)).toBeNull();
        expect(await user(stolen)).toBeNull(); // a copy of a cookie taken before: refused too
        expect(await user(other)).toBe('bob');
        if (backend !== 'cookies') expect(await manager.listUserSessions('ada')).toEqual([]);
        // Signing in again afterwards works.
        clock.advance(1);
        await laptop.get(`${url}/login?user=ada`);
        expect(await user(laptop)).toBe('ada');
      },
    );

    it('a request in flight during revokeUser() brings no session of the user back', async () => {
      await start();
      const jar = new CookieJar();
      await jar.get(`${app?.url}/login?user=ada`);
      const inFlight = await manager.load(jar.header());
      inFlight.data.note = 'written after the revocation';
      clock.advance(1);
      await manager.revokeUser('ada');
      await manager.commit(inFlight).persist?.();
      const copy = new CookieJar();
      copy.store(manager.commit(inFlight).setCookies);
      expect(await user(jar)).toBeNull();
      if (backend === 'cookies') expect(await user(copy)).toBeNull();
    });

    it('a request in flight that regenerates after revokeUser() gets a cookie that opens nothing', async () => {
      await start();
      const jar = new CookieJar();
      await jar.get(`${app?.url}/login?user=ada`);
      const inFlight = await manager.load(jar.header());
      clock.advance(1);
      await manager.revokeUser('ada');
      inFlight.regenerate();
      const copy = new CookieJar();
      const plan = manager.commit(inFlight);
      await plan.persist?.();
      copy.store(plan.setCookies);
      expect(copy.cookies.size).toBe(1);
      expect(await user(copy)).toBeNull();
      if (backend !== 'cookies') expect(await manager.listUserSessions('ada')).toEqual([]);
    });

    it.each(['before', 'after'] as const)(
      'a login %s revokeUser() of a new session is not affected by it',
      async (when) => {
        await start();
        const jar = new CookieJar();
        if (when === 'before') await jar.get(`${app?.url}/login?user=ada`);
        clock.advance(1);
        await manager.revokeUser('ada');
        clock.advance(1);
        await jar.get(`${app?.url}/login?user=ada`);
        expect(await user(jar)).toBe('ada');
        if (backend !== 'cookies') expect(await manager.listUserSessions('ada')).toHaveLength(1);
      },
    );

    it('without a revocation list (cookies), revokeUser and listUserSessions are typed errors', async () => {
      await start('none');
      if (backend !== 'cookies') {
        expect(await manager.listUserSessions('nobody')).toEqual([]);
        return;
      }
      await expect(manager.revokeUser('ada')).rejects.toBeInstanceOf(SessionConfigError);
      await expect(manager.listUserSessions('ada')).rejects.toBeInstanceOf(SessionConfigError);
    });
  },
);

const SERVE = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));

/** The lifetimes app in a process of its own, on the given redis prefix. */
function spawnLifetimesServer(framework: Framework, prefix: string): Promise<ServerProcess> {
  return spawnServer(SERVE, { REDIS_URL: redisUrl(), PREFIX: prefix, FRAMEWORK: framework });
}

describe('sign out everywhere across two server processes (redis)', () => {
  it('sessions made on two servers end together, revoked from a third process', async () => {
    const where = place('redis', new TestClock());
    const servers = await Promise.all([
      spawnLifetimesServer('express', where.prefix),
      spawnLifetimesServer('koa', where.prefix),
    ]);
    try {
      const [first, second] = servers.map((server) => server.url) as [string, string];
      const laptop = new CookieJar();
      const phone = new CookieJar();
      await laptop.get(`${first}/login?user=ada`);
      await phone.get(`${second}/login?user=ada`);
      // Each server reads the other's sessions.
      expect(JSON.parse((await laptop.get(`${second}/me`)).body).user).toBe('ada');
      expect(JSON.parse((await phone.get(`${first}/me`)).body).user).toBe('ada');
      // This process is a third server of the same app.
      const manager = SessionManager.redis<Data>(where.redis, { prefix: where.prefix });
      expect(await manager.listUserSessions('ada')).toHaveLength(2);
      await manager.revokeUser('ada');
      for (const url of [first, second]) {
        for (const jar of [laptop, phone]) {
          const copy = new CookieJar();
          for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
          expect(JSON.parse((await copy.get(`${url}/me`)).body).user).toBeNull();
        }
      }
      // The index the servers kept is empty again, and a session made afterwards is untouched.
      await exchange(manager, laptop, (s) => {
        s.data.after = true;
      });
      expect(await manager.listUserSessions('ada')).toEqual([]);
    } finally {
      for (const { process: child } of servers) {
        child.kill('SIGTERM');
        if (child.exitCode === null) await once(child, 'exit');
      }
      await where.dispose();
    }
  });
});

describe('a session tied to a user, created while revokeUser() runs (the stores)', () => {
  const options = { sweepInterval: 0 };
  it.each(['files', 'redis'] as const)(
    '%s: created after the revocation time was recorded, or over the tombstone of its listed id: refused',
    async (kind) => {
      const where = place(kind, new TestClock());
      try {
        const common = resolveCommonOptions({});
        const store: SessionStore =
          kind === 'files'
            ? new FilesStore({ directory: where.directory, ...options }, common)
            : new RedisStore(where.redis, { prefix: where.prefix }, common);
        const now = Date.now();
        // The revocation time is recorded first: a session tied before it is not created.
        await store.markUserRevoked('ada', now, 60_000);
        const late = newSessionId();
        expect(await store.createTied('ada', now - 1, late, '{"a":1}', now + 60_000)).toBe('refused');
        expect(await store.read(late, now)).toBeUndefined();
        // Tied after it: created.
        const fresh = newSessionId();
        expect(await store.createTied('ada', now + 1, fresh, '{"a":1}', now + 60_000)).toBe('stored');
        expect((await store.read(fresh, now))?.data).toEqual({ a: 1 });
        if (kind === 'redis') {
          // Listed and retired by revokeUser() between the index step and the write: stays retired.
          const listed = newSessionId();
          await store.retire(listed, now + 60_000);
          expect(await store.createTied('bob', now, listed, '{"a":1}', now + 60_000)).toBe('refused');
          expect(await store.read(listed, now)).toBeUndefined();
        }
        await store.close?.();
      } finally {
        await where.dispose();
      }
    },
  );
});
