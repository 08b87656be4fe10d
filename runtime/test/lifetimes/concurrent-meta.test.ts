import { afterEach, describe, expect, it } from 'vitest';
import { flash, setSessionExpiry, takeFlashes } from '../../src/context.js';
import { SessionDataError } from '../../src/errors.js';
import type { SessionManager } from '../../src/manager.js';
import type { SessionState } from '../../src/state.js';
import { CookieJar, type Data, exchange } from '../support/harness.js';
import { type Place, place, TestClock } from './backends.js';

const DAY = 24 * 3600;

/**
 * Two requests of one session that overlap, on the stores that merge them (files, redis): the meta
 * (lifetime, flashes) merges as the data does. Each request loads, changes, and commits in turn,
 * the second one on top of what the first stored.
 */
describe.each(['files', 'redis'] as const)('meta under concurrent requests (%s)', (kind) => {
  let clock: TestClock;
  let where: Place;
  let manager: SessionManager<Data>;
  afterEach(async () => {
    await where.dispose();
  });
  const start = async () => {
    clock = new TestClock();
    where = place(kind, clock);
    manager = where.make() as SessionManager<Data>;
    const jar = new CookieJar();
    await exchange(manager, jar, (s) => {
      s.data.counter = 1;
    });
    return jar;
  };
  /** Loads the session twice, as two requests in flight. */
  const twoRequests = async (jar: CookieJar) =>
    [await manager.load(jar.header()), await manager.load(jar.header())] as [SessionState<Data>, SessionState<Data>];
  const commit = async (state: SessionState<Data>) => {
    await manager.commit(state).persist?.();
  };
  const flashesOf = async (jar: CookieJar) => {
    let taken: unknown;
    await exchange(manager, jar, (s) => {
      taken = takeFlashes(s.data).map((f) => f.message);
    });
    return taken;
  };

  it('a flash each request adds is kept, oldest first', async () => {
    const jar = await start();
    const [first, second] = await twoRequests(jar);
    flash('from the first', undefined, first.data);
    clock.advance(1);
    flash('from the second', undefined, second.data);
    second.data.counter = 2;
    await commit(first);
    await commit(second);
    expect(await flashesOf(jar)).toEqual(['from the first', 'from the second']);
    expect(await flashesOf(jar)).toEqual([]);
    expect((await manager.load(jar.header())).data.counter).toBe(2);
  });

  it('a flash one request takes is gone; one the other adds meanwhile stays', async () => {
    const jar = await start();
    await exchange(manager, jar, (s) => flash('old', undefined, s.data));
    const [reader, writer] = await twoRequests(jar);
    expect(takeFlashes(reader.data).map((f) => f.message)).toEqual(['old']);
    clock.advance(1);
    flash('new', undefined, writer.data);
    await commit(writer);
    await commit(reader);
    expect(await flashesOf(jar)).toEqual(['new']);
  });

  it("a lifetime one request set survives the other's write, with the later expiry", async () => {
    const jar = await start();
    const [remember, count] = await twoRequests(jar);
    setSessionExpiry(30 * DAY, remember.data);
    count.data.counter = 2;
    await commit(remember);
    await commit(count);
    const loaded = await manager.load(jar.header());
    expect(loaded.data.counter).toBe(2);
    // Neither the 30 days nor the stored expiry were lost to the second, shorter write.
    expect(Math.abs(loaded.expiresAt - (clock.now + 30 * DAY * 1000))).toBeLessThanOrEqual(2000);
    const refreshed = manager.commit(loaded, clock.now + DAY * 1000 * 20);
    expect(refreshed.setCookies[0]).toContain(`Max-Age=${30 * DAY}`);
  });
});

describe('the meta is out of reach of the data', () => {
  it('a key starting with NUL is refused, and the stored members never show in the session', async () => {
    const where = place('files', new TestClock());
    try {
      const manager = where.make() as SessionManager<Data>;
      const jar = new CookieJar();
      await exchange(manager, jar, (s) => {
        s.data.user = 'ada';
        flash('hello', undefined, s.data);
        setSessionExpiry(60, s.data);
        expect(() => {
          s.data['\u0000e'] = [1, 1];
        }).toThrow(SessionDataError);
      });
      const state = await manager.load(jar.header());
      expect(Object.keys(state.data)).toEqual(['user']);
      expect(JSON.stringify(state.data)).toBe('{"user":"ada"}');
      expect(state.data['\u0000e']).toBeUndefined();
    } finally {
      await where.dispose();
    }
  });
});
