import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { destroySession, getSessionInfo } from '../../src/context.js';
import { MemoryRevocationList, RedisRevocationList, type RevocationList } from '../../src/index.js';
import { SessionManager } from '../../src/manager.js';
import { type RunningServer, startNodeApp } from './support/server.js';
import { SECRET } from '../support/harness.js';

/**
 * The revocation-horizon attack on the cookies backend: the attacker's copy of a session cookie is
 * re-sealed (due for a refresh) after the copy the victim logs out with, so it expires later. The
 * revocation must outlive every copy, and a revoked id must never be re-sealed into a copy that
 * outlives it. Time is the manager's injected clock, never a sleep.
 */

declare module '../../src/types.js' {
  interface SessionData {
    user: string;
  }
}

const REVOKED_PREFIX = 'faults-horizon-revoked:';

let redis: Redis;
const apps: RunningServer[] = [];

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  redis.disconnect();
});

/** A cookie value out of a Set-Cookie line. */
const cookieValue = (line: string) => line.slice(line.indexOf('=') + 1, line.indexOf(';'));

interface Scenario {
  /** Seconds. */
  expire: number;
  refreshAfter: number;
  list: () => RevocationList;
}

/**
 * The figures, scaled: expire 10 / refreshAfter 1 with the in-memory list; for redis the
 * same timeline times 60, so that the revocation key's real TTL (redis keeps real time) has minutes
 * of slack over the test's own run time.
 */
const scenarios: Record<string, Scenario> = {
  MemoryRevocationList: { expire: 10, refreshAfter: 1, list: () => new MemoryRevocationList() },
  RedisRevocationList: {
    expire: 600,
    refreshAfter: 60,
    list: () => new RedisRevocationList(redis, { prefix: REVOKED_PREFIX }),
  },
};

describe.each(Object.entries(scenarios))('revocation horizon, %s', (kind, scenario) => {
  const { expire, refreshAfter } = scenario;
  const at = (fraction: number) => Math.round(fraction * expire * 1000);
  // The clock is anchored so that the logout (at 0.27 of `expire`) happens at the real time: redis
  // counts the revocation key's TTL in real time.
  const LOGOUT = at(0.27);
  let t0 = 0;
  let clock = 0;
  let app: RunningServer;
  let lastId = '';
  let release: () => void = () => {};
  let loaded: () => void = () => {};

  beforeAll(async () => {
    const manager = SessionManager.cookies(SECRET, {
      expire,
      refreshAfter,
      revocation: scenario.list(),
      clock: () => clock,
    });
    app = await startNodeApp(manager, async (req, _res, session) => {
      if (req.url === '/login') session.user = 'alice';
      if (req.url === '/logout') destroySession();
      if (req.url === '/held') {
        // A request in flight: its session is loaded, and it commits only when the test says so.
        loaded();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        session.user = 'mallory-was-here';
      }
      lastId = getSessionInfo().id;
      return session.user ?? 'anonymous';
    });
    apps.push(app);
  });

  /** A request with exactly this Cookie header, at clock time `t0 + ms`. */
  async function request(ms: number, cookie: string, path = '/whoami') {
    clock = t0 + ms;
    const response = await fetch(`${app.url}${path}`, { headers: { cookie } });
    return { status: response.status, body: await response.text(), setCookies: response.headers.getSetCookie() };
  }

  it("refuses the attacker's later-sealed copy for as long as it can live, and never slides it", async () => {
    t0 = Date.now() - LOGOUT;
    clock = t0;
    const victim = new CookieJar();
    expect((await victim.get(`${app.url}/login`)).body).toBe('alice');
    const stolen = victim.header() as string;
    const retiredId = lastId;

    // The attacker uses the stolen copy once it is due for a refresh: it is re-sealed, and expires later.
    const refreshed = await request(at(0.15), stolen);
    expect(refreshed.body).toBe('alice');
    expect(refreshed.setCookies).toHaveLength(1);
    const attackerCopy = `emt_session=${cookieValue(refreshed.setCookies[0] as string)}`;
    const attackerExpiry = t0 + at(0.15) + expire * 1000;

    // The victim logs out with the older copy.
    const logout = await request(LOGOUT, stolen, '/logout');
    expect(logout.body).toBe('anonymous');
    if (kind === 'RedisRevocationList') {
      // Redis forgets the id when its key expires: the key must outlive the attacker's copy.
      expect(await redis.pttl(REVOKED_PREFIX + retiredId)).toBeGreaterThanOrEqual(attackerExpiry - (t0 + LOGOUT));
    }

    // After the victim's cookie would have expired, and until the attacker's copy expires: refused,
    // and no Set-Cookie that could slide it further.
    for (const ms of [at(0.99), at(1.02), attackerExpiry - t0 - 1]) {
      const replay = await request(ms, attackerCopy);
      expect({ ms, status: replay.status, body: replay.body }).toEqual({ ms, status: 200, body: 'anonymous' });
      expect(lastId).not.toBe(retiredId);
    }
    // Past its expiry the copy is refused on its own.
    expect((await request(attackerExpiry - t0 + 1, attackerCopy)).body).toBe('anonymous');
  });

  it('a request in flight during the logout gets no copy that outlives the revocation', async () => {
    t0 = Date.now() - LOGOUT;
    clock = t0;
    const victim = new CookieJar();
    expect((await victim.get(`${app.url}/login`)).body).toBe('alice');
    const stolen = victim.header() as string;
    const retiredId = lastId;

    // The attacker's request loads the session, then is held open across the victim's logout.
    clock = t0 + at(0.15);
    const isLoaded = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const held = fetch(`${app.url}/held`, { headers: { cookie: stolen } });
    await isLoaded;
    expect((await request(LOGOUT, stolen, '/logout')).body).toBe('anonymous');

    // It finishes long after the logout.
    clock = t0 + at(0.5);
    release();
    const response = await held;
    await response.text();
    const resealed = response.headers.getSetCookie().filter((line) => !/Max-Age=0/.test(line));
    // An in-memory list is asked again at commit: the revoked id is not re-sealed at all.
    if (kind === 'MemoryRevocationList') expect(resealed).toEqual([]);
    if (resealed.length === 0) return;

    // Re-sealed anyway (a list that answers asynchronously cannot be asked at commit): the copy
    // must be refused while the id is revoked, and expire before the revocation does.
    const copy = `emt_session=${cookieValue(resealed[0] as string)}`;
    const horizon = LOGOUT + expire * 1000;
    for (const ms of [at(0.6), at(1.1), horizon - 1]) {
      const replay = await request(ms, copy);
      expect({ ms, body: replay.body }).toEqual({ ms, body: 'anonymous' });
      expect(lastId).not.toBe(retiredId);
    }
    // A manager with the same secret and no list at all: the copy is already expired at the horizon.
    const listless = SessionManager.cookies(SECRET, { expire, refreshAfter });
    expect((await listless.load(copy, t0 + horizon)).isNew).toBe(true);
  });
});
