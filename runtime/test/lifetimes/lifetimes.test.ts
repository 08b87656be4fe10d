import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import type { CookiesOptions } from '../../src/backends/cookies-options.js';
import { cookieAttribute } from '../support/harness.js';
import { type Framework, type RunningApp, startApp } from './apps.js';
import { BACKENDS, type BackendKind, type Place, place, TestClock } from './backends.js';

const ADAPTERS: Framework[] = ['express', 'koa'];
const DAY = 24 * 3600;

interface Me {
  user: string | null;
  flashes: { message: string; category: string }[];
}

describe.each(BACKENDS.flatMap((backend) => ADAPTERS.map((framework) => [backend, framework] as const)))(
  'lifetimes on %s with %s',
  (backend: BackendKind, framework: Framework) => {
    let clock: TestClock;
    let where: Place;
    let app: RunningApp;
    // refreshAfter = expire: a read never slides the expiry, so a test can probe it without moving it.
    const start = async (options: CookiesOptions = { refreshAfter: 3600 }) => {
      clock = new TestClock();
      where = place(backend, clock);
      app = await startApp(framework, where.make(options));
    };
    afterEach(async () => {
      await app.close();
      await where.dispose();
    });
    const me = async (jar: CookieJar): Promise<Me> => JSON.parse((await jar.get(`${app.url}/me`)).body) as Me;
    /**
     * The session is alive `seconds` from now and gone one second later. Redis expires keys by its
     * own clock, so there the key's TTL is what says it; elsewhere the test clock is moved.
     */
    const expectLifetime = async (jar: CookieJar, seconds: number) => {
      if (backend === 'redis') {
        const ttl = await where.redis.pttl(where.prefix + (jar.cookies.get('emt_session') as string));
        expect(Math.abs(ttl - seconds * 1000)).toBeLessThanOrEqual(2000);
        return;
      }
      clock.advance(seconds - 1);
      expect((await me(jar)).user).toBe('ada');
      clock.advance(2);
      expect((await me(jar)).user).toBeNull();
    };

    it('remember me: the cookie carries the chosen Max-Age, and the session outlives expire', async () => {
      await start();
      const jar = new CookieJar();
      const login = await jar.get(`${app.url}/login?user=ada&remember=${30 * DAY}`);
      const line = login.setCookies.find((cookie) => cookie.startsWith('emt_session=')) as string;
      expect(cookieAttribute(line, 'Max-Age')).toBe(String(30 * DAY));
      const expires = Date.parse(cookieAttribute(line, 'Expires') as string);
      expect(Math.abs(expires - (clock.now + 30 * DAY * 1000))).toBeLessThanOrEqual(1000);
      clock.advance(2 * 3600); // past the manager's expire (3600)
      expect((await me(jar)).user).toBe('ada');
      // A later write keeps the chosen lifetime.
      const count = await jar.get(`${app.url}/count`);
      expect(cookieAttribute(count.setCookies[0] as string, 'Max-Age')).toBe(String(30 * DAY));
      await expectLifetime(jar, 30 * DAY);
    });

    it('without remember me the session ends after expire', async () => {
      await start();
      const jar = new CookieJar();
      const login = await jar.get(`${app.url}/login?user=ada`);
      expect(cookieAttribute(login.setCookies[0] as string, 'Max-Age')).toBe('3600');
      await me(jar);
      await expectLifetime(jar, 3600);
    });

    it('a browser-session cookie has no Max-Age or Expires, and the server still enforces expire', async () => {
      await start();
      const jar = new CookieJar();
      const login = await jar.get(`${app.url}/login?user=ada&remember=0`);
      const line = login.setCookies[0] as string;
      expect(line.startsWith('emt_session=')).toBe(true);
      expect(line).not.toMatch(/Max-Age|Expires/i);
      clock.advance(60);
      const count = await jar.get(`${app.url}/count`);
      expect(count.setCookies[0]).not.toMatch(/Max-Age|Expires/i);
      expect((await me(jar)).user).toBe('ada');
      await expectLifetime(jar, 3600);
    });

    it('touchSession() extends the session without a change', async () => {
      await start();
      const jar = new CookieJar();
      await jar.get(`${app.url}/login?user=ada`);
      await me(jar); // takes the welcome flash (a change)
      clock.advance(10);
      expect((await jar.get(`${app.url}/me`)).setCookies).toEqual([]);
      clock.advance(3000);
      const touched = await jar.get(`${app.url}/touch`);
      expect(touched.setCookies).toHaveLength(1);
      expect(Date.parse(cookieAttribute(touched.setCookies[0] as string, 'Expires') as string)).toBeGreaterThan(
        clock.now + 3599_000,
      );
      clock.advance(3000); // 6010 s after login, 3000 after the touch
      expect((await me(jar)).user).toBe('ada');
    });

    it('a flash is read once, and survives a logout', async () => {
      await start();
      const jar = new CookieJar();
      await jar.get(`${app.url}/login?user=ada`);
      expect(await me(jar)).toEqual({ user: 'ada', flashes: [{ message: 'Welcome ada', category: 'success' }] });
      expect(await me(jar)).toEqual({ user: 'ada', flashes: [] });
      await jar.get(`${app.url}/logout`);
      expect(await me(jar)).toEqual({ user: null, flashes: [{ message: 'Signed out', category: 'message' }] });
      expect(await me(jar)).toEqual({ user: null, flashes: [] });
    });

    it('absoluteExpire ends an active session at the boundary, and Max-Age never points past it', async () => {
      await start({ absoluteExpire: 7200, refreshAfter: 0 });
      const jar = new CookieJar();
      await jar.get(`${app.url}/login?user=ada&remember=${DAY}`);
      for (let step = 0; step < 3; step++) {
        clock.advance(1800);
        const count = await jar.get(`${app.url}/count`);
        const maxAge = Number(cookieAttribute(count.setCookies[0] as string, 'Max-Age'));
        expect(maxAge).toBeLessThanOrEqual(7200 - 1800 * (step + 1));
      }
      clock.advance(1799); // 7199 s after login
      expect((await me(jar)).user).toBe('ada');
      clock.advance(1); // 7200
      expect((await me(jar)).user).toBeNull();
    });

    it('absoluteExpire restarts at regenerateSession() unless keepOnRegenerate', async () => {
      for (const keepOnRegenerate of [false, true]) {
        if (keepOnRegenerate) {
          await app.close();
          await where.dispose();
        }
        await start({ absoluteExpire: { seconds: 7200, keepOnRegenerate } });
        const jar = new CookieJar();
        await jar.get(`${app.url}/count`);
        clock.advance(3000);
        await jar.get(`${app.url}/login?user=ada`);
        clock.advance(3000);
        await jar.get(`${app.url}/count`);
        clock.advance(1500); // 7500 s after the first request, 4500 after login
        expect((await me(jar)).user).toBe(keepOnRegenerate ? null : 'ada');
      }
    });
  },
);
