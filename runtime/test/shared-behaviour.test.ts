import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDataError } from '../src/errors.js';
import { newSessionId } from '../src/ids.js';
import type { SessionManager } from '../src/manager.js';
import {
  type BackendFixture,
  CookieJar,
  cookieAttribute,
  cookiesFixture,
  type Data,
  exchange,
  filesFixture,
  redisFixture,
} from './support/harness.js';

const fixtures: [string, () => BackendFixture][] = [
  ['cookies', cookiesFixture],
  ['files', filesFixture],
  ['redis', () => redisFixture('shared')],
];

describe.each(fixtures)('with the %s backend', (kind, makeFixture) => {
  const stores = kind !== 'cookies';
  let fixture: BackendFixture;
  let manager: SessionManager<Data>;
  beforeAll(() => {
    fixture = makeFixture();
    manager = fixture.make();
  });
  afterAll(() => fixture.dispose());

  async function stored(data: Data = { user: { name: 'ada', tags: ['a'] } }) {
    const jar = new CookieJar();
    const { state } = await exchange(manager, jar, (s) => {
      Object.assign(s.data, structuredClone(data));
    });
    return { jar, id: state.id };
  }

  it('stores a new session under a fresh 256-bit id and reads it back', async () => {
    const { jar, id } = await stored({ n: 1 });
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    if (stores) expect(await fixture.holds(id)).toBe(true);
    const state = await manager.load(jar.header());
    expect(state.isNew).toBe(false);
    expect(state.id).toBe(id);
    expect(state.record).toEqual({ n: 1 });
  });

  it('writes nothing when nothing changed, even when the data was read deeply', async () => {
    const { jar } = await stored();
    const { plan } = await exchange(manager, jar, (s) => {
      void JSON.stringify(s.data);
      void ((s.data.user as Data).tags as string[]).includes('a');
    });
    expect(plan.setCookies).toEqual([]);
    expect(plan.persist).toBeUndefined();
  });

  it('sees a change made inside an existing object (session.user.name = "x")', async () => {
    const { jar } = await stored();
    const { plan } = await exchange(manager, jar, (s) => {
      (s.data.user as Data).name = 'x';
    });
    expect(plan.setCookies).toHaveLength(1);
    expect((await manager.load(jar.header())).data.user).toEqual({ name: 'x', tags: ['a'] });
  });

  // Commit skips serializing a session nothing could have changed; every way a nested object can
  // leave the guard must count as a possible change.
  const exposures: [string, (data: Data) => void][] = [
    ['a property read', (data) => ((data.user as Data).name = 'x')],
    ['a spread copy', (data) => (({ ...data }.user as Data).name = 'x')],
    ['Object.values', (data) => ((Object.values(data)[0] as Data).name = 'x')],
    ['Object.entries', (data) => ((Object.entries(data)[0]?.[1] as Data).name = 'x')],
    ['a property descriptor', (data) => ((Object.getOwnPropertyDescriptor(data, 'user')?.value as Data).name = 'x')],
    ['delete of a nested key', (data) => delete (data.user as Data).tags],
    ['delete of a key', (data) => delete data.user],
  ];
  it.each(exposures)('sees a nested change made through %s', async (_, change) => {
    const { jar } = await stored();
    const before = (await manager.load(jar.header())).record;
    const { plan } = await exchange(manager, jar, (s) => change(s.data));
    expect(plan.setCookies.length).toBeGreaterThan(0);
    const after = (await manager.load(jar.header())).record;
    expect(after).not.toEqual(before);
  });

  it('reading only primitives leaves the session untouched, and commits nothing', async () => {
    const { jar } = await stored({ n: 1, name: 'ada' });
    const { state, plan } = await exchange(manager, jar, (s) => {
      void s.data.n;
      void s.data.name;
      void ('n' in s.data);
      void Object.keys(s.data);
    });
    expect(state.touched).toBe(false);
    expect(plan).toEqual({ setCookies: [], persist: undefined });
  });

  it('sets no cookie and stores nothing for a new session left empty', async () => {
    const before = await fixture.storedIds();
    const { plan, state } = await exchange(manager, new CookieJar(), (s) => {
      void s.data.user;
      s.data.temp = 1;
      delete s.data.temp;
    });
    expect(plan.setCookies).toEqual([]);
    expect(plan.persist).toBeUndefined();
    expect(state.isNew).toBe(true);
    expect(await fixture.storedIds()).toEqual(before);
  });

  it('regenerate: a new id, the data kept, the old id gone', async () => {
    const { jar, id } = await stored({ n: 1 });
    const oldCookie = jar.header() as string;
    const { state } = await exchange(manager, jar, (s) => {
      s.regenerate();
      s.data.n = 2;
    });
    expect(state.id).not.toBe(id);
    const after = await manager.load(jar.header());
    expect(after.id).toBe(state.id);
    expect(after.record).toEqual({ n: 2 });
    if (stores) {
      expect(await fixture.holds(state.id)).toBe(true);
      expect(await fixture.holds(id)).toBe(false);
      // The old cookie (a fixated or stolen id) is worth nothing now.
      const replayed = await manager.load(oldCookie);
      expect(replayed.isNew).toBe(true);
      expect(replayed.id).not.toBe(id);
    }
  });

  it('regenerate on a new session only changes the id it will get', async () => {
    const { plan, state } = await exchange(manager, new CookieJar(), (s) => {
      s.data.n = 1;
      s.regenerate();
    });
    expect(state.replacedId).toBeUndefined();
    expect(plan.setCookies).toHaveLength(1);
  });

  it('destroy: the cookie is cleared and the stored session deleted', async () => {
    const { jar, id } = await stored();
    const { plan } = await exchange(manager, jar, (s) => s.destroy());
    expect(plan.setCookies).toHaveLength(1);
    expect(cookieAttribute(plan.setCookies[0] as string, 'Max-Age')).toBe('0');
    expect(jar.header()).toBeUndefined();
    if (stores) expect(await fixture.holds(id)).toBe(false);
  });

  it('destroy then new data in the same request: a new session under a new id, the old one deleted', async () => {
    const { jar, id } = await stored({ n: 1, secret: 'old' });
    const { state } = await exchange(manager, jar, (s) => {
      s.destroy();
      s.data.n = 100;
    });
    expect(state.id).not.toBe(id);
    expect((await manager.load(jar.header())).record).toEqual({ n: 100 });
    if (stores) expect(await fixture.holds(id)).toBe(false);
  });

  it('a session emptied key by key is deleted and its cookie cleared', async () => {
    const { jar, id } = await stored({ n: 1 });
    await exchange(manager, jar, (s) => {
      delete s.data.n;
    });
    expect(jar.header()).toBeUndefined();
    if (stores) expect(await fixture.holds(id)).toBe(false);
  });

  it('never adopts an unknown id: a well-formed but unknown id gets a new, different id', async () => {
    const unknown = newSessionId();
    const jar = new CookieJar();
    jar.cookies.set('emt_session', unknown);
    const { state } = await exchange(manager, jar, (s) => {
      expect(s.isNew).toBe(true);
      s.data.n = 1;
    });
    expect(state.id).not.toBe(unknown);
    expect(jar.cookies.get('emt_session')).not.toContain(unknown);
    if (stores) expect(await fixture.holds(unknown)).toBe(false);
  });

  it('a discarded request (a 5xx, a thrown handler) keeps no change', async () => {
    const { jar } = await stored({ n: 1 });
    const { plan } = await exchange(manager, jar, (s) => {
      s.data.n = 2;
      s.destroy();
      s.discarded = true;
    });
    expect(plan.setCookies).toEqual([]);
    expect(plan.persist).toBeUndefined();
    expect((await manager.load(jar.header())).record).toEqual({ n: 1 });
  });

  it('an unstorable nested value fails the commit with the key path and leaves the stored session as it was', async () => {
    const { jar } = await stored({ user: { name: 'ada' } });
    const state = await manager.load(jar.header());
    (state.data.user as Data).born = new Date(0);
    let thrown: unknown;
    try {
      manager.commit(state);
    } catch (error) {
      thrown = error;
    }
    // Asserted outside the catch, so a commit that throws nothing fails the test.
    expect(thrown).toBeInstanceOf(SessionDataError);
    expect((thrown as SessionDataError).key).toBe('user.born');
    expect((await manager.load(jar.header())).record).toEqual({ user: { name: 'ada' } });
  });

  // Commit checks the whole record only when an object went in or out of the guard (code may hold
  // it and change it out of sight); each such way must make it check.
  const laterChanges: [string, (data: Data) => void][] = [
    ['a property read', (data) => ((data.user as Data).born = new Date(0))],
    ['a spread copy', (data) => (({ ...data }.user as Data).born = new Date(0))],
    ['Object.values', (data) => ((Object.values(data)[0] as Data).born = new Date(0))],
    ['a property descriptor', (data) => ((Object.getOwnPropertyDescriptor(data, 'user')?.value as Data).born = 1n)],
    [
      'an assignment of an object',
      (data) => {
        const other: Data = {};
        data.other = other;
        other.born = new Date(0);
      },
    ],
    [
      'Object.defineProperty with an object',
      (data) => {
        const other: Data = {};
        Object.defineProperty(data, 'other', { value: other, enumerable: true, configurable: true, writable: true });
        other.born = () => 0;
      },
    ],
  ];
  it.each(laterChanges)('refuses an unstorable value put in an object reached through %s', async (_, change) => {
    const { jar } = await stored({ user: { name: 'ada' } });
    const state = await manager.load(jar.header());
    change(state.data);
    expect(() => manager.commit(state)).toThrow(SessionDataError);
  });

  it('a primitive assignment alone needs no check of the rest, and is stored as assigned', async () => {
    const { jar } = await stored({ user: { name: 'ada' } });
    const { state } = await exchange(manager, jar, (s) => {
      s.data.n = 2;
    });
    expect(state.objectsShared).toBe(false);
    expect((await manager.load(jar.header())).record).toEqual({ user: { name: 'ada' }, n: 2 });
  });
});
