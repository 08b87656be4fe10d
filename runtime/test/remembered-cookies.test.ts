import { describe, expect, it } from 'vitest';
import { SessionManager } from '../src/manager.js';
import { REMEMBERED_LIMIT, Sealer } from '../src/seal.js';
import { CookieJar, type Data, exchange, OTHER_SECRET, SECRET } from './support/harness.js';

/**
 * The sealer remembers the cookies it recently opened or sealed, so that a browser sending the same
 * cookie again costs no decryption (see seal.ts). Remembering must change nothing but the cost.
 */

const HOUR = 3600_000;

async function sessionCookie(manager: SessionManager<Data>, now?: number, data: Data = NESTED): Promise<CookieJar> {
  const jar = new CookieJar();
  await exchange(manager, jar, (state) => Object.assign(state.data, structuredClone(data)), now);
  return jar;
}

/** A remembered session of primitives is copied for each request, one with an object parsed again. */
const NESTED: Data = { counter: 1, user: { name: 'ada' } };
const FLAT: Data = { counter: 1, name: 'ada', admin: false, note: null };

describe('remembered cookies', () => {
  it('still expire: a cookie opened a moment ago is refused once its sealed expiry has passed', async () => {
    const manager = SessionManager.cookies<Data>(SECRET, { expire: 3600 });
    const now = Date.now();
    const jar = await sessionCookie(manager, now);
    expect((await manager.load(jar.header(), now + 1000)).data.counter).toBe(1);
    const late = await manager.load(jar.header(), now + HOUR + 1000);
    expect(late.isNew).toBe(true);
    expect(late.data.counter).toBeUndefined();
  });

  it.each([
    ['primitives only', FLAT],
    ['an object value', NESTED],
  ])('with %s still expire, however often they were opened', async (_, data) => {
    const manager = SessionManager.cookies<Data>(SECRET, { expire: 3600 });
    const now = Date.now();
    const jar = await sessionCookie(manager, now, data);
    for (let request = 0; request < 4; request++) expect((await manager.load(jar.header(), now)).data).toEqual(data);
    expect((await manager.load(jar.header(), now + HOUR + 1000)).isNew).toBe(true);
  });

  it('of primitives open to a record of its own on every request, which can be changed', async () => {
    const manager = SessionManager.cookies<Data>(SECRET);
    const jar = await sessionCookie(manager, undefined, FLAT);
    for (let request = 0; request < 5; request++) {
      const state = await manager.load(jar.header());
      expect(state.data).toEqual(FLAT);
      state.data.counter = 100 + request;
      delete state.data.name;
      expect(state.data).toEqual({ counter: 100 + request, admin: false, note: null });
      expect(manager.commit(state).setCookies).toHaveLength(1);
    }
  });

  it('open to a fresh copy each time: changing one request`s data does not leak into the next', async () => {
    const manager = SessionManager.cookies<Data>(SECRET);
    const jar = await sessionCookie(manager);
    const first = await manager.load(jar.header());
    first.data.counter = 99;
    (first.data.user as { name: string }).name = 'eve';
    for (let request = 0; request < 3; request++) {
      const next = await manager.load(jar.header());
      expect(next.data.counter).toBe(1);
      expect(next.data.user).toEqual({ name: 'ada' });
      (next.data.user as { name: string }).name = `eve ${request}`;
    }
  });

  it('do not open altered copies of a remembered cookie', () => {
    const sealer = new Sealer(SECRET, 'emt_session');
    const sealed = sealer.seal('{"counter":1}');
    expect(sealer.open(sealed)?.plaintext).toBe('{"counter":1}');
    const last = sealed.at(-1) === 'A' ? 'B' : 'A';
    const middle = sealed.at(20) === 'A' ? 'B' : 'A';
    // The last ones keep the remembered text's tag, which is the cache's key: only the whole text matches.
    const sameTag = [` ${sealed}`, sealed.slice(0, 20) + middle + sealed.slice(21), sealed.slice(1)];
    for (const altered of [sealed.slice(0, -1) + last, `${sealed}A`, sealed.slice(0, -1), ...sameTag]) {
      expect(sealer.open(altered)).toBeUndefined();
    }
  });

  it('are opened only by the sealer that knows their key: another secret refuses them', () => {
    const sealed = new Sealer(SECRET, 'emt_session').seal('{"counter":1}');
    expect(new Sealer(OTHER_SECRET, 'emt_session').open(sealed)).toBeUndefined();
    // The cookie name is authenticated too: the same text under another name does not open.
    expect(new Sealer(SECRET, 'other_name').open(sealed)).toBeUndefined();
  });

  it('sealed with an old secret stay stale on every request until the re-sealed cookie comes back', async () => {
    const jar = await sessionCookie(SessionManager.cookies<Data>(OTHER_SECRET));
    const rotated = SessionManager.cookies<Data>([SECRET, OTHER_SECRET]);
    for (let request = 0; request < 3; request++) {
      const state = await rotated.load(jar.header());
      expect(state.data.counter).toBe(1);
      expect(rotated.commit(state).setCookies).toHaveLength(1);
    }
    await exchange(rotated, jar);
    const resealed = await rotated.load(jar.header());
    expect(rotated.commit(resealed).setCookies).toEqual([]);
  });

  it('stay bounded: thousands of sessions later, the first cookie still opens (by decryption)', () => {
    const sealer = new Sealer(SECRET, 'emt_session');
    const first = sealer.seal('{"n":0}');
    let most = 0;
    for (let n = 1; n < 5000; n++) {
      sealer.open(sealer.seal(`{"n":${n}}`));
      most = Math.max(most, sealer.rememberedCount);
    }
    // The bound is reached (so the cache was in use) and never passed.
    expect(most).toBe(REMEMBERED_LIMIT);
    expect(sealer.rememberedCount).toBeLessThanOrEqual(REMEMBERED_LIMIT);
    expect(sealer.open(first)?.plaintext).toBe('{"n":0}');
  });
});
