import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionTooLargeError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { CookieJar } from '../support/cookie-jar.js';
import { FRAMEWORKS, startApp } from '../adapters/support/apps.js';
import { type RunningServer, startNodeApp } from './support/server.js';
import { SECRET } from '../support/harness.js';

declare module '../../src/types.js' {
  interface SessionData {
    blob: string;
  }
}

const NAME = 'emt_session';
/** Sizes of incompressible session data giving one, two and three cookies, and one too many. */
const ONE = 2000;
const TWO = 4000;
const THREE = 7000;
const TOO_LARGE = 10_000;

let app: RunningServer;

beforeAll(async () => {
  const manager = SessionManager.cookies(SECRET);
  app = await startNodeApp(manager, (req, res, session) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const bytes = url.searchParams.get('bytes');
    if (url.pathname === '/clear') delete session.blob;
    if (bytes !== null) session.blob = randomBytes(Number(bytes)).toString('base64url').slice(0, Number(bytes));
    if (url.pathname === '/explicit-head') {
      // Headers chosen by the handler before the body: the commit runs inside writeHead.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('explicit');
      return;
    }
    return session.blob ?? '<empty>';
  });
});

afterAll(async () => {
  await app.close();
});

function sessionCookieNames(setCookies: string[]): string[] {
  return setCookies.filter((line) => !/max-age=0/i.test(line)).map((line) => line.slice(0, line.indexOf('=')));
}

function clearedNames(setCookies: string[]): string[] {
  return setCookies.filter((line) => /max-age=0/i.test(line)).map((line) => line.slice(0, line.indexOf('=')));
}

describe('cookies backend over the 4096-byte cookie limit (node:http adapter)', () => {
  it('keeps a small session in one cookie', async () => {
    const jar = new CookieJar();
    const set = await jar.get(`${app.url}/?bytes=${ONE}`);
    expect(set.status).toBe(200);
    expect(sessionCookieNames(set.setCookies)).toEqual([NAME]);
    expect((await jar.get(app.url)).body).toBe(set.body);
  });

  it.each([
    [TWO, [NAME, `${NAME}.1`]],
    [THREE, [NAME, `${NAME}.1`, `${NAME}.2`]],
  ])('splits a %i-character session into chunks of at most 4096 bytes and reassembles them', async (bytes, names) => {
    const jar = new CookieJar();
    const set = await jar.get(`${app.url}/?bytes=${bytes}`);
    expect(set.status).toBe(200);
    expect(set.body).toHaveLength(bytes);
    expect(sessionCookieNames(set.setCookies)).toEqual(names);
    for (const line of set.setCookies) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    // The sizes were chosen so the chunks are really needed: together they pass one cookie's limit.
    expect(set.setCookies.reduce((sum, line) => sum + Buffer.byteLength(line), 0)).toBeGreaterThan(4096);

    const next = await jar.get(app.url);
    expect(next.status).toBe(200);
    expect(next.body).toBe(set.body);
  });

  it('clears the stale chunks when a session shrinks, from three cookies to two and to one', async () => {
    const jar = new CookieJar();
    await jar.get(`${app.url}/?bytes=${THREE}`);
    expect([...jar.cookies.keys()]).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);

    const two = await jar.get(`${app.url}/?bytes=${TWO}`);
    expect(sessionCookieNames(two.setCookies)).toEqual([NAME, `${NAME}.1`]);
    expect(clearedNames(two.setCookies)).toEqual([`${NAME}.2`]);
    expect((await jar.get(app.url)).body).toBe(two.body);

    const one = await jar.get(`${app.url}/?bytes=${ONE}`);
    expect(sessionCookieNames(one.setCookies)).toEqual([NAME]);
    expect(clearedNames(one.setCookies)).toEqual([`${NAME}.1`]);
    expect([...jar.cookies.keys()]).toEqual([NAME]);
    expect((await jar.get(app.url)).body).toBe(one.body);
  });

  it('clears every chunk when a chunked session is emptied', async () => {
    const jar = new CookieJar();
    await jar.get(`${app.url}/?bytes=${THREE}`);
    const emptied = await jar.get(`${app.url}/clear`);
    expect(clearedNames(emptied.setCookies).sort()).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
    expect(jar.cookies.size).toBe(0);
  });

  it.each([
    ['a missing middle chunk', (c: Map<string, string>) => c.delete(`${NAME}.1`)],
    ['a missing last chunk', (c: Map<string, string>) => c.delete(`${NAME}.2`)],
    ['a missing first cookie', (c: Map<string, string>) => c.delete(NAME)],
    ['swapped chunks', (c: Map<string, string>) => swap(c, `${NAME}.1`, `${NAME}.2`)],
    ['a tampered chunk', (c: Map<string, string>) => c.set(`${NAME}.2`, flip(c.get(`${NAME}.2`) as string))],
    ['a truncated chunk', (c: Map<string, string>) => c.set(`${NAME}.1`, (c.get(`${NAME}.1`) as string).slice(1))],
    [
      'a chunk from another session',
      (c: Map<string, string>, other: Map<string, string>) => c.set(`${NAME}.1`, other.get(`${NAME}.1`) as string),
    ],
    ['a chunk count above three', (c: Map<string, string>) => c.set(NAME, `9~${(c.get(NAME) as string).slice(2)}`)],
  ])('gives a fresh session for %s', async (_, damage) => {
    const jar = new CookieJar();
    const other = new CookieJar();
    await jar.get(`${app.url}/?bytes=${THREE}`);
    await other.get(`${app.url}/?bytes=${THREE}`);
    damage(jar.cookies, other.cookies);
    const next = await jar.get(app.url);
    expect(next.status).toBe(200);
    expect(next.body).toBe('<empty>');
  });

  it('refuses a session too large for three cookies with a 500 and a typed error, never a silent 200', async () => {
    const jar = new CookieJar();
    const kept = await jar.get(`${app.url}/?bytes=${ONE}`);
    const before = app.errors.length;

    const tooLarge = await jar.get(`${app.url}/?bytes=${TOO_LARGE}`);
    expect(tooLarge.status).toBe(500);
    expect(tooLarge.body).toBe('Internal Server Error');
    expect(tooLarge.setCookies).toEqual([]);
    const error = app.errors[before];
    expect(error).toBeInstanceOf(SessionTooLargeError);
    expect((error as SessionTooLargeError).size).toBeGreaterThan((error as SessionTooLargeError).limit);
    expect((error as SessionTooLargeError).message).toContain(`${(error as SessionTooLargeError).size} bytes`);

    // The browser kept its cookie, and the session it names is the one before the failed request.
    expect((await jar.get(app.url)).body).toBe(kept.body);
  });

  it('turns the response into a 500 when the session is too large and the handler wrote its headers itself', async () => {
    const jar = new CookieJar();
    const kept = await jar.get(`${app.url}/?bytes=${ONE}`);
    const before = app.errors.length;

    const tooLarge = await jar.get(`${app.url}/explicit-head?bytes=${TOO_LARGE}`);
    expect(tooLarge.status).toBe(500);
    expect(tooLarge.setCookies).toEqual([]);
    expect(app.errors[before]).toBeInstanceOf(SessionTooLargeError);
    expect((await jar.get(app.url)).body).toBe(kept.body);
  });
});

function swap(cookies: Map<string, string>, a: string, b: string): void {
  const first = cookies.get(a) as string;
  cookies.set(a, cookies.get(b) as string);
  cookies.set(b, first);
}

function flip(value: string): string {
  const middle = Math.floor(value.length / 2);
  return value.slice(0, middle) + (value[middle] === 'A' ? 'B' : 'A') + value.slice(middle + 1);
}

describe('a request that grows a session past the limit, in every framework adapter', () => {
  const manager = SessionManager.cookies(SECRET);

  /** The Cookie header of a session so close to the limit that `counter: 1` no longer fits. */
  async function brimfulSession(): Promise<string> {
    const commitBlob = async (length: number) => {
      const state = await manager.load(undefined);
      state.data.blob = 'a'.repeat(length);
      return manager.commit(state);
    };
    let fits = 1000;
    let overflows = 20_000;
    while (overflows - fits > 1) {
      const middle = Math.floor((fits + overflows) / 2);
      try {
        await commitBlob(middle);
        fits = middle;
      } catch (error) {
        if (!(error instanceof SessionTooLargeError)) throw error;
        overflows = middle;
      }
    }
    const jar = new CookieJar();
    jar.store((await commitBlob(fits)).setCookies);
    return jar.header() as string;
  }

  it.each(FRAMEWORKS)(
    '%s: 500, a SessionTooLargeError for onError, and the cookies left as they were',
    async (framework) => {
      const cookie = await brimfulSession();
      const errors: unknown[] = [];
      const app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
      try {
        const response = await fetch(`${app.url}/counter`, { headers: { cookie } });
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await response.text()).not.toMatch(/visit|\n\s+at /);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionTooLargeError);
      } finally {
        await app.close();
      }
    },
  );
});
