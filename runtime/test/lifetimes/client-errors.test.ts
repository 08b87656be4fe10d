import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { FRAMEWORKS, type RunningApp, startApp } from './apps.js';
import { type BackendKind, type Place, place, TestClock } from './backends.js';

/**
 * A 4xx keeps the session's changes, as Emmett keeps them on abort(): a failed-login counter counts.
 * A 5xx, thrown or answered, keeps none. Every adapter, a backend whose change rides in the cookie
 * and one that stores it.
 */
describe.each(
  FRAMEWORKS.flatMap((framework) => (['cookies', 'redis'] as const).map((backend) => [framework, backend])),
)('a thrown 4xx on %s (%s)', (framework, backend) => {
  let where: Place;
  let app: RunningApp;
  beforeAll(async () => {
    where = place(backend as BackendKind, new TestClock());
    app = await startApp(framework as (typeof FRAMEWORKS)[number], where.make());
  });
  afterAll(async () => {
    await app.close();
    await where.dispose();
  });

  it('keeps the change made before a 401, and drops the one made before a 500', async () => {
    const jar = new CookieJar();
    const denied = await jar.get(`${app.url}/deny`);
    expect(denied.status).toBe(401);
    expect(denied.setCookies).toHaveLength(1);
    expect((await jar.get(`${app.url}/failures`)).body).toBe('1');
    // A flash set before the 401 is shown next.
    const me = JSON.parse((await jar.get(`${app.url}/me`)).body) as { flashes: unknown[] };
    expect(me.flashes).toEqual([{ message: 'Wrong password', category: 'error' }]);
    expect((await jar.get(`${app.url}/deny`)).status).toBe(401);
    expect((await jar.get(`${app.url}/failures`)).body).toBe('2');

    const crashed = await jar.get(`${app.url}/crash`);
    expect(crashed.status).toBe(500);
    expect(crashed.setCookies).toEqual([]);
    const failed = await jar.get(`${app.url}/fail`);
    expect(failed.status).toBe(500);
    expect(failed.setCookies).toEqual([]);
    expect((await jar.get(`${app.url}/failures`)).body).toBe('2');
  });
});
