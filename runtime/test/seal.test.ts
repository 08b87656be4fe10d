import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSessionCookies } from '../src/cookie-header.js';
import { SessionManager } from '../src/manager.js';
import { isCanonicalBase64url, Sealer } from '../src/seal.js';
import fixtures from './support/sealed-v1-cookies.json' with { type: 'json' };
import { CookieJar, type Data, exchange, OTHER_SECRET, SECRET } from './support/harness.js';

const manager = SessionManager.cookies<Data>(SECRET);
const DATA = { user: { name: 'ada', roles: ['admin', 'dev'] }, counter: 41, note: 'céline ✓' };

/** A real sealed cookie value, as the manager sends it. */
async function sealedValue(from = manager, now?: number): Promise<{ value: string; id: string }> {
  const jar = new CookieJar();
  const { state } = await exchange(
    from,
    jar,
    (s) => {
      Object.assign(s.data, structuredClone(DATA));
    },
    now,
  );
  return { value: jar.cookies.get(from.options.cookieName) as string, id: state.id };
}

/** The `v1.<key id>.` part of a sealed value. */
const header = (value: string) => value.slice(0, value.indexOf('.', 3) + 1);

/** What every refused cookie must give: a new, empty session with a new id. */
async function expectFreshSession(cookieHeader: string, originalId: string, using = manager, now?: number) {
  const state = await using.load(cookieHeader, now);
  expect(state.isNew).toBe(true);
  expect(Object.keys(state.record)).toEqual([]);
  expect(state.data.user).toBeUndefined();
  expect(state.id).not.toBe(originalId);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// Arbitraries are built at module level: built inside a test, they ran several times slower under vitest.
const safeKey = fc.string({ maxLength: 12 }).filter((key) => !['__proto__', 'constructor', 'prototype'].includes(key));
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 20, unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(safeKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('sealed cookies', () => {
  it('carry a version and key id, hide the data and the id, and differ on every seal (random IV)', async () => {
    const first = await sealedValue();
    const second = await sealedValue();
    expect(first.value).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
    expect(header(first.value)).toBe(header(second.value));
    expect(first.value).not.toBe(second.value);
    const decoded = Buffer.from(first.value.slice(header(first.value).length), 'base64url').toString('latin1');
    expect(decoded).not.toContain('ada');
    expect(first.value).not.toContain(first.id);
    expect((await manager.load(`emt_session=${first.value}`)).data.user).toEqual(DATA.user);
  });

  it('round-trip any JSON data', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(safeKey, json, { minKeys: 1, maxKeys: 6 }), async (data) => {
        const jar = new CookieJar();
        await exchange(manager, jar, (state) => {
          Object.assign(state.data, data);
        });
        const loaded = await manager.load(jar.header());
        expect(loaded.isNew).toBe(false);
        // Compared as text (same key order): a deep toEqual per run would dominate the test's time.
        expect(JSON.stringify(loaded.record)).toBe(JSON.stringify(data));
      }),
      { numRuns: 300 },
    );
  });
});

describe('a cookie that does not open is a fresh empty session, never an error (property-based)', () => {
  it('random strings as the cookie value and as the whole Cookie header', async () => {
    const { id } = await sealedValue();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300, unit: 'binary' }), async (text) => {
        await expectFreshSession(`emt_session=${text}`, id);
        await expectFreshSession(text, id);
      }),
      { numRuns: 2000 },
    );
  });

  it('truncations, bit flips in the payload, character flips and splices of a real sealed cookie', async () => {
    const { value, id } = await sealedValue();
    const prefix = header(value);
    const payload = Buffer.from(value.slice(prefix.length), 'base64url');

    const truncated = fc
      .integer({ min: 0, max: value.length - 1 })
      .chain((end) => fc.constantFrom(value.slice(0, end), value.slice(value.length - end)));
    const bitFlipped = fc.integer({ min: 0, max: payload.length * 8 - 1 }).map((bit) => {
      const bytes = Buffer.from(payload);
      bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
      return prefix + bytes.toString('base64url');
    });
    const charFlipped = fc
      .tuple(fc.integer({ min: 0, max: value.length - 1 }), fc.constantFrom(...BASE64URL, '.', '=', '%', ' ', 'é'))
      .filter(([at, char]) => value[at] !== char)
      .map(([at, char]) => value.slice(0, at) + char + value.slice(at + 1));
    const spliced = fc
      .tuple(fc.integer({ min: 0, max: value.length }), fc.string({ minLength: 1, maxLength: 8 }))
      .map(([at, extra]) => value.slice(0, at) + extra + value.slice(at));

    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(truncated, bitFlipped, charFlipped, spliced), async (altered) => {
        // Spaces or a ';' spliced at an end are not an alteration: the Cookie header reader trims them.
        fc.pre(readSessionCookies(`emt_session=${altered}`, 'emt_session').main !== value);
        seen.add(altered);
        await expectFreshSession(`emt_session=${altered}`, id);
      }),
      { numRuns: 5000 },
    );
    // The property saw thousands of distinct altered cookies, not a handful repeated.
    expect(seen.size).toBeGreaterThan(2000);
    // And the untouched cookie still opens: the property did not pass because nothing opens.
    expect((await manager.load(`emt_session=${value}`)).record).toEqual(DATA);
  });

  it('the same bytes in a non-canonical base64url spelling are refused', async () => {
    const { value, id } = await sealedValue();
    const body = value.slice(header(value).length);
    const bytes = Buffer.from(body, 'base64url');
    const last = body.at(-1) as string;
    const twins = [...BASE64URL].filter(
      (char) => char !== last && Buffer.from(body.slice(0, -1) + char, 'base64url').equals(bytes),
    );
    // A base64url body whose length is not a multiple of 4 has unused bits in its last character.
    expect(body.length % 4).not.toBe(0);
    expect(twins.length).toBeGreaterThan(0);
    for (const twin of twins) await expectFreshSession(`emt_session=${header(value)}${body.slice(0, -1)}${twin}`, id);
  });

  it('the sealer itself never throws on arbitrary input', () => {
    const sealer = new Sealer(SECRET, 'emt_session');
    const sealed = sealer.seal('1.x.{}');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 200 }).map((s) => `${header(sealed)}${s}`),
        ),
        (text) => {
          expect(sealer.open(text)).toBeUndefined();
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('keys, rotation and binding', () => {
  it('a cookie sealed with an older secret of the rotation list opens and is re-sealed with the first', async () => {
    const before = SessionManager.cookies<Data>(OTHER_SECRET);
    const after = SessionManager.cookies<Data>([SECRET, OTHER_SECRET]);
    const old = await sealedValue(before);
    const current = await sealedValue(manager);
    expect(header(old.value)).not.toBe(header(current.value));

    const jar = new CookieJar();
    jar.store([`emt_session=${old.value}`]);
    // Nothing changes in this request: the re-seal happens because the key is stale.
    const { state, plan } = await exchange(after, jar);
    expect(state.isNew).toBe(false);
    expect(state.id).toBe(old.id);
    expect(state.record).toEqual(DATA);
    expect(plan.setCookies).toHaveLength(1);
    const resealed = jar.cookies.get('emt_session') as string;
    expect(header(resealed)).toBe(header(current.value));
    // The re-sealed cookie is no longer stale: the next unchanged request writes nothing.
    expect((await exchange(after, jar)).plan.setCookies).toEqual([]);
    expect((await manager.load(jar.header())).record).toEqual(DATA);
  });

  it('a secret that was dropped from the list no longer opens its cookies', async () => {
    const old = await sealedValue(SessionManager.cookies<Data>(OTHER_SECRET));
    await expectFreshSession(`emt_session=${old.value}`, old.id, manager);
  });

  it('the key id is authenticated: swapping it for the other key id is refused', async () => {
    const both = SessionManager.cookies<Data>([SECRET, OTHER_SECRET]);
    const current = await sealedValue(manager);
    const old = await sealedValue(SessionManager.cookies<Data>(OTHER_SECRET));
    const swapped = header(old.value) + current.value.slice(header(current.value).length);
    await expectFreshSession(`emt_session=${swapped}`, current.id, both);
  });

  it('an expired cookie replayed is refused, though it still opens before its expiry', async () => {
    const short = SessionManager.cookies<Data>(SECRET, { expire: 60 });
    const t0 = Date.now();
    const { value, id } = await sealedValue(short, t0);
    expect((await short.load(`emt_session=${value}`, t0 + 59_000)).record).toEqual(DATA);
    await expectFreshSession(`emt_session=${value}`, id, short, t0 + 61_000);
    // Expiry is inside the sealed payload: a manager with a longer expire refuses it too.
    await expectFreshSession(`emt_session=${value}`, id, SessionManager.cookies<Data>(SECRET), t0 + 61_000);
  });

  it('expires to the millisecond: open 1 ms before `expire` has passed, refused at it (never rounded up)', async () => {
    const short = SessionManager.cookies<Data>(SECRET, { expire: 60 });
    // Half-way through a second, where rounding the expiry to whole seconds would add 500 ms.
    const t0 = Math.floor(Date.now() / 1000) * 1000 + 500;
    const { value, id } = await sealedValue(short, t0);
    expect((await short.load(`emt_session=${value}`, t0 + 59_999)).record).toEqual(DATA);
    await expectFreshSession(`emt_session=${value}`, id, short, t0 + 60_000);
  });

  it('a cookie made for another cookie name (same secret) is refused: the name is authenticated', async () => {
    const other = SessionManager.cookies<Data>(SECRET, { cookieName: 'other_session' });
    const { value, id } = await sealedValue(other);
    expect((await other.load(`other_session=${value}`)).record).toEqual(DATA);
    await expectFreshSession(`emt_session=${value}`, id, manager);
  });
});

describe('cookies sealed by earlier builds', () => {
  // Sealed by this package before the seal and the canonical-encoding check were rewritten for speed:
  // a change of how a cookie is put together must keep every cookie already in a browser opening.
  it.each(Object.entries(fixtures.cookies))('still open: %s', async (_, fixture) => {
    const now = fixtures.sealedAt + 1000;
    const using = SessionManager.cookies<Data>(SECRET, { expire: fixtures.expire, ...fixture.options });
    const state = await using.load(fixture.cookieHeader, now);
    expect(state.isNew).toBe(false);
    expect(state.id).toBe(fixture.id);
    expect(state.record).toEqual(fixture.data);
    // And still expire when they did.
    expect((await using.load(fixture.cookieHeader, fixtures.sealedAt + fixtures.expire * 1000)).isNew).toBe(true);
  });
});

describe('isCanonicalBase64url', () => {
  const oracle = (text: string) => Buffer.from(text, 'base64url').toString('base64url') === text;
  const digits = fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 40 });

  it('answers as encoding the decoded bytes again would, for texts of base64url digits', () => {
    fc.assert(
      fc.property(digits, (text) => {
        expect(isCanonicalBase64url(text)).toBe(oracle(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers as encoding the decoded bytes again would, for any text', () => {
    const near = fc.tuple(digits, fc.constantFrom('=', '==', '+', '/', ' ', '\n', '.', 'é', '\0'), fc.nat(40));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          near.map(([text, odd, at]) => text.slice(0, at) + odd + text.slice(at)),
        ),
        (text) => {
          expect(isCanonicalBase64url(text)).toBe(oracle(text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('accepts what the encoder writes, for every length of bytes', () => {
    for (let length = 0; length < 64; length++) {
      const bytes = Buffer.alloc(length, 0xff - length);
      expect(isCanonicalBase64url(bytes.toString('base64url'))).toBe(true);
    }
  });
});
