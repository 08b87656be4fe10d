import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { SessionConfigError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import type { CommonOptions } from '../src/options.js';
import {
  type BackendFixture,
  CookieJar,
  cookieAttribute,
  cookiePair,
  cookiesFixture,
  exchange,
  filesFixture,
  redisFixture,
  SECRET,
  tempDir,
} from './support/harness.js';

/** The Set-Cookie a first write sends, for a manager made with `options`. */
async function firstSetCookie(fixture: BackendFixture, options: CommonOptions = {}, now = Date.now()) {
  const manager = fixture.make(options);
  const { plan } = await exchange(
    manager,
    new CookieJar(),
    (state) => {
      state.data.user = 'ada';
    },
    now,
  );
  expect(plan.setCookies).toHaveLength(1);
  return plan.setCookies[0] as string;
}

const fixtures: [string, () => BackendFixture][] = [
  ['cookies', cookiesFixture],
  ['files', filesFixture],
  ['redis', () => redisFixture('options')],
];

describe.each(fixtures)('cookie parameters with the %s backend', (_, makeFixture) => {
  let fixture: BackendFixture;
  beforeAll(() => {
    fixture = makeFixture();
  });
  afterAll(() => fixture.dispose());

  it('defaults: emt_session, Max-Age=3600 and a matching Expires, Path=/, HttpOnly, SameSite=Lax, no Secure', async () => {
    const now = Date.now();
    const line = await firstSetCookie(fixture, {}, now);
    expect(cookiePair(line).name).toBe('emt_session');
    expect(cookieAttribute(line, 'Max-Age')).toBe('3600');
    const expires = Date.parse(cookieAttribute(line, 'Expires') as string);
    expect(Math.abs(expires - (now + 3600_000))).toBeLessThanOrEqual(1000);
    expect(cookieAttribute(line, 'Path')).toBe('/');
    expect(line).toMatch(/; HttpOnly(;|$)/);
    expect(cookieAttribute(line, 'SameSite')).toBe('Lax');
    expect(line).not.toMatch(/Secure|Domain|Partitioned|Priority/);
  });

  it('expire sets Max-Age and Expires', async () => {
    const now = Date.now();
    const line = await firstSetCookie(fixture, { expire: 120 }, now);
    expect(cookieAttribute(line, 'Max-Age')).toBe('120');
    const expires = Date.parse(cookieAttribute(line, 'Expires') as string);
    expect(Math.abs(expires - (now + 120_000))).toBeLessThanOrEqual(1000);
  });

  it('secure adds Secure', async () => {
    expect(await firstSetCookie(fixture, { secure: true })).toMatch(/; Secure(;|$)/);
  });

  it('sameSite is written as given', async () => {
    expect(cookieAttribute(await firstSetCookie(fixture, { sameSite: 'Strict' }), 'SameSite')).toBe('Strict');
    expect(cookieAttribute(await firstSetCookie(fixture, { sameSite: 'None', secure: true }), 'SameSite')).toBe('None');
  });

  it('domain adds Domain', async () => {
    expect(cookieAttribute(await firstSetCookie(fixture, { domain: 'example.com' }), 'Domain')).toBe('example.com');
  });

  it('cookieName names the cookie, and only that cookie is read', async () => {
    const manager = fixture.make({ cookieName: 'app_sid' });
    const jar = new CookieJar();
    const first = await exchange(manager, jar, (state) => {
      state.data.n = 1;
    });
    expect(cookiePair(first.plan.setCookies[0] as string).name).toBe('app_sid');
    expect((await manager.load(jar.header())).data.n).toBe(1);
    // The same value under the default name is not this manager's session.
    const renamed = `emt_session=${jar.cookies.get('app_sid')}`;
    expect((await manager.load(renamed)).isNew).toBe(true);
  });

  it('cookieData sets Path, HttpOnly, Partitioned and Priority', async () => {
    const line = await firstSetCookie(fixture, {
      secure: true,
      cookieData: { path: '/app', httpOnly: false, partitioned: true, priority: 'High' },
    });
    expect(cookieAttribute(line, 'Path')).toBe('/app');
    expect(line).not.toMatch(/HttpOnly/);
    expect(line).toMatch(/; Partitioned(;|$)/);
    expect(cookieAttribute(line, 'Priority')).toBe('High');
  });

  it('the cookie that clears a session carries the same Path and Domain, or browsers would keep it', async () => {
    const manager = fixture.make({ domain: 'example.com', cookieData: { path: '/app' } });
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.n = 1;
    });
    const { plan } = await exchange(manager, jar, (state) => state.destroy());
    const clear = plan.setCookies[0] as string;
    expect(cookieAttribute(clear, 'Max-Age')).toBe('0');
    expect(cookieAttribute(clear, 'Path')).toBe('/app');
    expect(cookieAttribute(clear, 'Domain')).toBe('example.com');
    expect(jar.header()).toBeUndefined();
  });
});

/**
 * Moving `now` ages cookies and files sessions (their expiry is stored with them). Redis keeps its
 * own clock, the TTL: its refresh is tested in redis-backend.test.ts with real TTLs.
 */
describe.each(fixtures.slice(0, 2))('refreshAfter with the %s backend', (_, makeFixture) => {
  let fixture: BackendFixture;
  beforeAll(() => {
    fixture = makeFixture();
  });
  afterAll(() => fixture.dispose());

  it('refreshAfter: an unchanged session is re-sent only once it is due', async () => {
    const manager = fixture.make({ expire: 3600, refreshAfter: 600 });
    const jar = new CookieJar();
    const t0 = Date.now();
    await exchange(
      manager,
      jar,
      (state) => {
        state.data.n = 1;
      },
      t0,
    );
    const early = await exchange(manager, jar, undefined, t0 + 500_000);
    expect(early.plan.setCookies).toEqual([]);
    expect(early.plan.persist).toBeUndefined();
    const due = await exchange(manager, jar, undefined, t0 + 700_000);
    expect(due.plan.setCookies).toHaveLength(1);
    const expires = Date.parse(cookieAttribute(due.plan.setCookies[0] as string, 'Expires') as string);
    expect(Math.abs(expires - (t0 + 700_000 + 3600_000))).toBeLessThanOrEqual(1000);
    // The slid session is still there a whole `expire` after the first write.
    expect((await manager.load(jar.header(), t0 + 3700_000)).data.n).toBe(1);
  });

  it('refreshAfter defaults to half of expire', async () => {
    const manager = fixture.make({ expire: 1000 });
    expect(manager.options.refreshAfter).toBe(500);
    const jar = new CookieJar();
    const t0 = Date.now();
    await exchange(
      manager,
      jar,
      (state) => {
        state.data.n = 1;
      },
      t0,
    );
    expect((await exchange(manager, jar, undefined, t0 + 450_000)).plan.setCookies).toEqual([]);
    expect((await exchange(manager, jar, undefined, t0 + 550_000)).plan.setCookies).toHaveLength(1);
  });
});

describe('bad configuration is refused when the manager is made', () => {
  const configError = (make: () => unknown): SessionConfigError => {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(SessionConfigError);
      expect((error as SessionConfigError).code).toBe('SESSION_CONFIG');
      return error as SessionConfigError;
    }
    throw new Error('expected a SessionConfigError');
  };

  it('a weak secret, with a message that says how to make a good one', () => {
    const error = configError(() => SessionManager.cookies('short-secret'));
    expect(error.message).toContain('12 characters');
    expect(error.message).toContain('at least 32');
    expect(error.message).toContain("randomBytes(32).toString('base64url')");
    expect(configError(() => SessionManager.cookies('x'.repeat(31))).message).toContain('31 characters');
    expect(() => SessionManager.cookies('x0Y1z2W3v4U5t6S7r8Q9p-O_nMlKjIhG')).not.toThrow();
  });

  it('a weak secret anywhere in the rotation list, and an empty list', () => {
    expect(configError(() => SessionManager.cookies([SECRET, 'weak'])).message).toContain('#2');
    configError(() => SessionManager.cookies([]));
    configError(() => SessionManager.cookies([SECRET, 42 as unknown as string]));
  });

  it('a sameSite that is not Lax, Strict or None (in any case)', () => {
    const error = configError(() => SessionManager.cookies(SECRET, { sameSite: 'lox' as 'Lax' }));
    expect(error.message).toContain('Lax, Strict, None');
    configError(() => SessionManager.cookies(SECRET, { sameSite: 'Bogus' as 'Lax' }));
  });

  it('SameSite=None without secure (browsers drop such cookies)', () => {
    expect(configError(() => SessionManager.cookies(SECRET, { sameSite: 'None' })).message).toContain('secure');
  });

  it('a cookie name that is not an RFC 6265 token', () => {
    for (const cookieName of ['', 'my session', 'a;b', 'a=b', 'sess\u00e9', 'a,b']) {
      configError(() => SessionManager.cookies(SECRET, { cookieName }));
    }
  });

  it('a filenameTemplate without exactly one %s, with a path separator or a leading dot', () => {
    const dir = tempDir('options');
    try {
      for (const filenameTemplate of ['emt.sess', '%s_%s.sess', 'a/%s', '../%s', 'a\\%s', '.%s', 'a\0%s']) {
        const error = configError(() => SessionManager.files({ directory: dir.path, filenameTemplate }));
        expect(error.message).toContain('exactly one %s');
      }
    } finally {
      dir.remove();
    }
  });

  it('an expire that is negative, zero or not a finite number', () => {
    for (const expire of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = configError(() => SessionManager.cookies(SECRET, { expire }));
      expect(error.message).toContain('expire');
    }
  });

  it('a negative refreshAfter, or one longer than expire (sessions only read would then expire)', () => {
    configError(() => SessionManager.cookies(SECRET, { refreshAfter: -1 }));
    const error = configError(() => SessionManager.cookies(SECRET, { expire: 60, refreshAfter: 61 }));
    expect(error.message).toContain('refreshAfter');
    expect(SessionManager.cookies(SECRET, { expire: 60, refreshAfter: 60 }).options.refreshAfter).toBe(60);
    expect(SessionManager.cookies(SECRET, { refreshAfter: 0 }).options.refreshAfter).toBe(0);
  });

  it('attributes that would break the Set-Cookie header', () => {
    configError(() => SessionManager.cookies(SECRET, { domain: 'example.com; Secure' }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { path: '/a; Domain=evil.com' } }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { priority: 'High; Domain=x' as 'High' } }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { partitioned: true } }));
  });

  it('a redis commandTimeout that is not a positive number of milliseconds', () => {
    const client = new Redis({ lazyConnect: true });
    try {
      for (const commandTimeout of [0, -5, Number.NaN]) {
        expect(configError(() => SessionManager.redis(client, { commandTimeout })).message).toContain('commandTimeout');
      }
    } finally {
      client.disconnect();
    }
  });

  it('a redis "client" that is not one', () => {
    expect(() => SessionManager.redis(undefined as never)).toThrow(/needs a redis client/);
  });
});
