import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { destroySession, getSessionInfo, regenerateSession } from '../../src/context.js';
import { TOMBSTONE } from '../../src/backends/redis-scripts.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
// From the package's entry point: the revocation lists are public API.
import { MemoryRevocationList, RedisRevocationList, type RevocationList } from '../../src/index.js';
import { CookieJar } from '../support/cookie-jar.js';
import { sessionFileOf } from '../support/harness.js';
import { type RunningServer, startNodeApp } from './support/server.js';
import { SECRET } from '../support/harness.js';

declare module '../../src/types.js' {
  interface SessionData {
    user: string;
  }
}

const PREFIX = 'faults-replay:';
const REVOKED_PREFIX = 'faults-replay-revoked:';

let redis: Redis;
let dir: string;
const apps: RunningServer[] = [];
const managers: SessionManager[] = [];

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  dir = mkdtempSync(join(tmpdir(), 'csm-replay-'));
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await Promise.all(managers.map((manager) => manager.close()));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** An app with a login, a logout, a regenerate and a "who am I" route; the last id seen is kept. */
async function startApp(manager: SessionManager): Promise<RunningServer & { lastId: () => string }> {
  managers.push(manager);
  let lastId = '';
  const app = await startNodeApp(manager, (req, _res, session) => {
    switch (req.url) {
      case '/login':
        session.user = 'alice';
        break;
      case '/logout':
        destroySession();
        break;
      case '/regenerate':
        regenerateSession();
        break;
    }
    lastId = getSessionInfo().id;
    return session.user ?? 'anonymous';
  });
  apps.push(app);
  return { ...app, lastId: () => lastId };
}

/** Logs in, keeps a copy of the cookies (the "stolen" ones), then runs `retire`. */
async function captureThen(url: string, retire: '/logout' | '/regenerate') {
  const jar = new CookieJar();
  expect((await jar.get(`${url}/login`)).body).toBe('alice');
  const captured = jar.header() as string;
  const retired = await jar.get(`${url}${retire}`);
  expect(retired.status).toBe(200);
  const replay = await fetch(`${url}/whoami`, { headers: { cookie: captured } });
  return { jar, captured, retired, replay: { status: replay.status, body: await replay.text() } };
}

const backends = {
  files: () => SessionManager.files({ directory: dir, sweepInterval: 0 }),
  redis: () => SessionManager.redis(redis, { prefix: PREFIX }),
  'cookies + MemoryRevocationList': () => SessionManager.cookies(SECRET, { revocation: new MemoryRevocationList() }),
  'cookies + RedisRevocationList': () =>
    SessionManager.cookies(SECRET, { revocation: new RedisRevocationList(redis, { prefix: REVOKED_PREFIX }) }),
};

describe.each(Object.entries(backends))('replay of a retired session cookie: %s', (_, create) => {
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    app = await startApp(create());
  });

  it('refuses a cookie captured before logout: fresh session, 2xx', async () => {
    const { retired, replay } = await captureThen(app.url, '/logout');
    expect(retired.body).toBe('anonymous');
    expect(replay).toEqual({ status: 200, body: 'anonymous' });
  });

  it('refuses a cookie captured before regenerate, and the new cookie keeps the data', async () => {
    const { jar, replay } = await captureThen(app.url, '/regenerate');
    expect(replay).toEqual({ status: 200, body: 'anonymous' });
    expect((await jar.get(`${app.url}/whoami`)).body).toBe('alice');
  });
});

describe('the retired id is deleted from the store', () => {
  it('files: the old session file is gone after logout and after regenerate', async () => {
    const manager = SessionManager.files({ directory: dir, sweepInterval: 0 });
    const app = await startApp(manager);
    for (const retire of ['/logout', '/regenerate'] as const) {
      const jar = new CookieJar();
      await jar.get(`${app.url}/login`);
      const oldId = app.lastId();
      const file = sessionFileOf(dir, oldId);
      expect(existsSync(file)).toBe(true);
      await jar.get(`${app.url}${retire}`);
      expect(existsSync(file)).toBe(false);
    }
  });

  it('redis: the old key holds only a tombstone after logout and after regenerate', async () => {
    const app = await startApp(SessionManager.redis(redis, { prefix: PREFIX }));
    for (const retire of ['/logout', '/regenerate'] as const) {
      const jar = new CookieJar();
      await jar.get(`${app.url}/login`);
      const oldId = app.lastId();
      expect(await redis.get(PREFIX + oldId)).toBe('{"user":"alice"}');
      await jar.get(`${app.url}${retire}`);
      expect(await redis.get(PREFIX + oldId)).toBe(TOMBSTONE);
    }
  });
});

describe('cookies backend revocation', () => {
  it('RedisRevocationList: a logout on one server is refused on another, until the cookie would expire', async () => {
    const expire = 600;
    const make = () =>
      SessionManager.cookies(SECRET, {
        expire,
        revocation: new RedisRevocationList(redis, { prefix: REVOKED_PREFIX }),
      });
    const first = await startApp(make());
    const second = await startApp(make());
    const jar = new CookieJar();
    await jar.get(`${first.url}/login`);
    const oldId = first.lastId();
    const captured = jar.header() as string;
    expect(await (await fetch(`${second.url}/whoami`, { headers: { cookie: captured } })).text()).toBe('alice');

    await jar.get(`${first.url}/logout`);
    const replay = await fetch(`${second.url}/whoami`, { headers: { cookie: captured } });
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe('anonymous');
    const ttl = await redis.ttl(REVOKED_PREFIX + oldId);
    // Every copy of the cookie expires within `expire` seconds of the logout: so does the key.
    expect(ttl).toBeGreaterThan(expire - 10);
    expect(ttl).toBeLessThanOrEqual(expire);
  });

  it('MemoryRevocationList forgets an id once its revocation has run its lifetime', () => {
    const list = new MemoryRevocationList();
    const t = 1_000_000;
    list.revoke('a'.repeat(43), 60_000, t);
    list.revoke('b'.repeat(43), 0, t);
    expect(list.isRevoked('a'.repeat(43), t + 59_999)).toBe(true);
    expect(list.isRevoked('b'.repeat(43), t)).toBe(false);
    expect(list.size).toBe(1);
    expect(list.isRevoked('a'.repeat(43), t + 60_000)).toBe(false);
    expect(list.size).toBe(0);
  });

  it('MemoryRevocationList: a second revoke of an id never shortens the first', () => {
    const list = new MemoryRevocationList();
    list.revoke('a'.repeat(43), 60_000, 0);
    list.revoke('a'.repeat(43), 10_000, 1_000);
    expect(list.isRevoked('a'.repeat(43), 59_999)).toBe(true);
  });

  it('MemoryRevocationList drops expired ids as it grows, so memory follows the live revocations', () => {
    const list = new MemoryRevocationList();
    for (let i = 0; i < 1023; i++) list.revoke(`short-lived-${i}`, 20, 0);
    list.revoke('kept', 60_000, 30);
    expect(list.size).toBe(1);
    expect(list.isRevoked('kept', 30)).toBe(true);
  });

  it('a logout whose revocation fails is a 503 and the session stays, never a false "logged out"', async () => {
    const failing: RevocationList = {
      isRevoked: () => false,
      revoke: () => Promise.reject(new SessionStoreError('redis', 'write', 'revocation store down')),
    };
    const app = await startApp(SessionManager.cookies(SECRET, { revocation: failing }));
    const jar = new CookieJar();
    await jar.get(`${app.url}/login`);
    const logout = await jar.get(`${app.url}/logout`);
    expect(logout.status).toBe(503);
    expect(logout.setCookies).toEqual([]);
    expect(app.errors.at(-1)).toBeInstanceOf(SessionStoreError);
    expect((await jar.get(`${app.url}/whoami`)).body).toBe('alice');
  });

  it('a revocation list that cannot answer makes the request a 503, not an accepted session', async () => {
    const down: RevocationList = {
      isRevoked: () => Promise.reject(new SessionStoreError('redis', 'read', 'revocation store down')),
      revoke: () => {},
    };
    const healthy = await startApp(SessionManager.cookies(SECRET));
    const app = await startApp(SessionManager.cookies(SECRET, { revocation: down }));
    const jar = new CookieJar();
    await jar.get(`${healthy.url}/login`);
    expect((await jar.get(`${app.url}/whoami`)).status).toBe(503);
  });

  it('documents the limit: WITHOUT a revocation list a captured cookie opens the old session until it expires', async () => {
    const expire = 600;
    const manager = SessionManager.cookies(SECRET, { expire });
    const app = await startApp(manager);
    const { captured, replay } = await captureThen(app.url, '/logout');
    // The stateless cookie is still valid: this is why `revocation` exists.
    expect(replay).toEqual({ status: 200, body: 'alice' });
    // ...but only until the expiry sealed inside it, which the server checks.
    const later = await manager.load(captured, Date.now() + (expire + 1) * 1000);
    expect(later.isNew).toBe(true);
    expect(later.data.user).toBeUndefined();
  });
});
