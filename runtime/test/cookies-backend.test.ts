import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSessionCookies } from '../src/cookie-header.js';
import { SessionTooLargeError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, cookieAttribute, cookiePair, type Data, exchange, SECRET } from './support/harness.js';

const manager = SessionManager.cookies<Data>(SECRET);
/** Text that does not compress and needs no JSON escaping: `bytes` of it seal to about 4/3 * bytes. */
const blob = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64url')
    .slice(0, bytes);

async function storedWith(data: Data, using = manager) {
  const jar = new CookieJar();
  const result = await exchange(using, jar, (state) => {
    Object.assign(state.data, data);
  });
  return { jar, ...result };
}

describe('large sessions are split into chunks of at most 4096 bytes', () => {
  it.each([
    [2_000, ['emt_session']],
    [4_000, ['emt_session', 'emt_session.1']],
    [8_000, ['emt_session', 'emt_session.1', 'emt_session.2']],
  ])('%i bytes of data -> %j', async (bytes, names) => {
    const data = { blob: blob(bytes) };
    const { jar, plan } = await storedWith(data);
    expect(plan.setCookies.map((line) => cookiePair(line).name)).toEqual(names);
    for (const line of plan.setCookies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    expect((await manager.load(jar.header())).record).toEqual(data);
  });

  it('keeps every Set-Cookie within 4096 bytes with long attributes too', async () => {
    const long = SessionManager.cookies<Data>(SECRET, {
      domain: `${'sub.'.repeat(40)}example.com`,
      secure: true,
      cookieData: { path: `/${'p'.repeat(200)}`, priority: 'Medium', partitioned: true },
    });
    const { jar, plan } = await storedWith({ blob: blob(7_000) }, long);
    expect(plan.setCookies.length).toBe(3);
    for (const line of plan.setCookies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    expect((await long.load(jar.header())).data.blob).toHaveLength(7_000);
  });

  it('a session too large for three cookies is a SessionTooLargeError that says how large it is', async () => {
    const state = await manager.load(undefined);
    state.data.blob = blob(12_000);
    let error: unknown;
    try {
      manager.commit(state);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionTooLargeError);
    const tooLarge = error as SessionTooLargeError;
    expect(tooLarge.code).toBe('SESSION_TOO_LARGE');
    expect(tooLarge.size).toBeGreaterThan(tooLarge.limit);
    expect(tooLarge.message).toContain(`${tooLarge.size} bytes`);
    expect(tooLarge.message).toMatch(/files or redis/);
  });

  it('chunks left over from a larger session are cleared when it shrinks', async () => {
    const { jar } = await storedWith({ blob: blob(8_000) });
    expect([...jar.cookies.keys()]).toEqual(['emt_session', 'emt_session.1', 'emt_session.2']);
    const { plan } = await exchange(manager, jar, (state) => {
      state.data.blob = 'small';
    });
    const cleared = plan.setCookies.filter((line) => cookieAttribute(line, 'Max-Age') === '0');
    expect(cleared.map((line) => cookiePair(line).name).sort()).toEqual(['emt_session.1', 'emt_session.2']);
    expect([...jar.cookies.keys()]).toEqual(['emt_session']);
    expect((await manager.load(jar.header())).data.blob).toBe('small');
  });

  it('destroying a chunked session clears every chunk', async () => {
    const { jar } = await storedWith({ blob: blob(8_000) });
    await exchange(manager, jar, (state) => state.destroy());
    expect(jar.header()).toBeUndefined();
  });

  it('a missing, swapped or altered chunk is a fresh session (property-based)', async () => {
    const { jar, state } = await storedWith({ blob: blob(8_000) });
    const chunks = ['emt_session', 'emt_session.1', 'emt_session.2'].map((name) => jar.cookies.get(name) as string);
    const headerOf = (values: (string | undefined)[]) =>
      values
        .map((value, index) =>
          value === undefined ? '' : `${index === 0 ? 'emt_session' : `emt_session.${index}`}=${value}`,
        )
        .filter(Boolean)
        .join('; ');
    expect((await manager.load(headerOf(chunks))).id).toBe(state.id);

    const altered = fc.oneof(
      fc.integer({ min: 0, max: 2 }).map((drop) => chunks.map((value, index) => (index === drop ? undefined : value))),
      fc.constant<(string | undefined)[]>([chunks[0], chunks[2], chunks[1]]),
      fc
        .tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.nat())
        .map(([which, cut, keep]) =>
          chunks.map((value, index) =>
            index === which
              ? value.slice(0, cut % value.length) + value.slice(cut % value.length).slice((keep % 3) + 1)
              : value,
          ),
        ),
    );
    await fc.assert(
      fc.asyncProperty(altered, async (values) => {
        const loaded = await manager.load(headerOf(values));
        expect(loaded.isNew).toBe(true);
        expect(loaded.record).toEqual({});
      }),
      { numRuns: 300 },
    );
  });
});

/** Pieces a Cookie header is made of, for the property below. (Arbitraries built at module level:
 * built inside a test, they ran several times slower under vitest.) */
const piece = fc.oneof(
  fc.constantFrom(
    'emt_session',
    'emt_session.1',
    'emt_session.2',
    'emt_session.3',
    'emt_session.01',
    'emt_session.100',
    'emt_session.0',
    ' ',
  ),
  fc.constantFrom('=', ';', '"', ';;', '=='),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

describe('the Cookie header', () => {
  it('is read leniently: other cookies, spaces, quotes; the first of two same-named cookies wins', async () => {
    const { jar, state } = await storedWith({ n: 1 });
    const value = jar.cookies.get('emt_session') as string;
    for (const header of [
      `a=1; emt_session=${value}; b=2`,
      `  emt_session = ${value} ;theme=dark`,
      `emt_session="${value}"`,
      `emt_session=${value}; emt_session=garbage`,
      `x=y;emt_session=${value}`,
      `;;flag; ;emt_session=${value}`,
      `a=b=c; emt_session=${value}`,
    ]) {
      expect((await manager.load(header)).id).toBe(state.id);
    }
    expect((await manager.load(`emt_session=garbage; emt_session=${value}`)).isNew).toBe(true);
    expect((await manager.load(`xemt_session=${value}`)).isNew).toBe(true);
  });

  /**
   * The plain reading of a Cookie header: split on ';', name before the first '=', first one wins;
   * the chunks are exactly `name.1` and `name.2`.
   */
  function referenceRead(header: string, name: string) {
    const unquote = (v: string) => (v.length > 1 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
    let main: string | undefined;
    const chunks = new Map<number, string>();
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const key = part.slice(0, eq).trim();
      const value = unquote(part.slice(eq + 1).trim());
      if (key === name) main ??= value;
      else if (key === `${name}.1` || key === `${name}.2`) {
        const index = Number(key.slice(name.length + 1));
        if (!chunks.has(index)) chunks.set(index, value);
      }
    }
    return { main, chunks };
  }

  it('reads any header as the plain reading does, and never throws (property-based)', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((pieces) => pieces.join('')),
        (header) => {
          const read = readSessionCookies(header, 'emt_session');
          const expected = referenceRead(header, 'emt_session');
          expect(read.main).toBe(expected.main);
          // Compared as text: a deep toEqual per run would dominate the test's time.
          expect(JSON.stringify([...read.chunks])).toBe(JSON.stringify([...expected.chunks]));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('ids and control operations', () => {
  it('regenerate gives a new id and keeps the data; destroy clears the cookie', async () => {
    const { jar, state } = await storedWith({ n: 1 });
    const regenerated = await exchange(manager, jar, (s) => s.regenerate());
    expect(regenerated.state.id).not.toBe(state.id);
    const after = await manager.load(jar.header());
    expect(after.id).toBe(regenerated.state.id);
    expect(after.record).toEqual({ n: 1 });
    const destroyed = await exchange(manager, jar, (s) => s.destroy());
    expect(destroyed.plan.setCookies).toEqual([
      expect.stringMatching(/^emt_session=; Max-Age=0; Expires=Thu, 01 Jan 1970/),
    ]);
    expect(jar.header()).toBeUndefined();
  });

  it('a new session left empty sets no cookie; one that was emptied clears its cookie', async () => {
    expect((await exchange(manager, new CookieJar(), (s) => void s.data.n)).plan.setCookies).toEqual([]);
    const { jar } = await storedWith({ n: 1 });
    await exchange(manager, jar, (s) => {
      delete s.data.n;
    });
    expect(jar.header()).toBeUndefined();
  });
});
