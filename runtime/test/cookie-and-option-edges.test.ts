import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionConfigError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, cookiePair, type Data, exchange, SECRET, tempDir } from './support/harness.js';

/** Random text that seals to about 4/3 of its length: enough of it needs chunk cookies. */
const blob = (bytes: number) => randomBytes(bytes).toString('base64url').slice(0, bytes);

/** A live session of three chunk cookies, and its cookies by name. */
async function chunkedSession(manager: SessionManager<Data>) {
  const jar = new CookieJar();
  await exchange(manager, jar, (state) => {
    state.data.blob = blob(7_000);
  });
  expect([...jar.cookies.keys()]).toEqual(['emt_session', 'emt_session.1', 'emt_session.2']);
  return jar.cookies;
}

/** Names of the cookies a plan clears, and of those it sets. */
function split(setCookies: string[]) {
  const cleared = setCookies.filter((line) => /Max-Age=0/.test(line)).map((line) => cookiePair(line).name);
  const set = setCookies.filter((line) => !/Max-Age=0/.test(line)).map((line) => cookiePair(line).name);
  return { cleared, set };
}

describe('chunk cookies: exactly name.1 and name.2', () => {
  const manager = SessionManager.cookies<Data>(SECRET);

  it.each(['emt_session.01', 'emt_session.0x1', 'emt_session.1e0', 'emt_session.+1', 'emt_session.1.0'])(
    'a chunk sent as %s is not chunk 1: the session does not open',
    async (alias) => {
      const cookies = await chunkedSession(manager);
      const header = `emt_session=${cookies.get('emt_session')}; ${alias}=${cookies.get('emt_session.1')}; emt_session.2=${cookies.get('emt_session.2')}`;
      expect((await manager.load(header)).isNew).toBe(true);
      // The real names still open it.
      const real = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      expect((await manager.load(real)).data.blob).toHaveLength(7_000);
    },
  );

  it('99 junk name.N cookies: a write and a logout clear none of them, only what the session wrote', async () => {
    const junk = Array.from({ length: 99 }, (_, index) => `emt_session.${index + 1}=junk`).join('; ');
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.counter = 1;
    });
    const header = `${jar.header()}; ${junk}`;

    const written = await manager.load(header);
    written.data.counter = 2;
    expect(split(manager.commit(written).setCookies)).toEqual({ cleared: [], set: ['emt_session'] });

    const loggedOut = await manager.load(header);
    loggedOut.regenerate();
    for (const key of Object.keys(loggedOut.record)) delete loggedOut.data[key];
    expect(split(manager.commit(loggedOut).setCookies)).toEqual({ cleared: ['emt_session'], set: [] });
  });

  it('a chunked session that shrinks or ends clears its own chunks, and no more', async () => {
    const cookies = await chunkedSession(manager);
    const header = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const shrunk = await manager.load(`${header}; emt_session.3=junk`);
    shrunk.data.blob = 'small';
    expect(split(manager.commit(shrunk).setCookies)).toEqual({
      cleared: ['emt_session.1', 'emt_session.2'],
      set: ['emt_session'],
    });
    const ended = await manager.load(header);
    delete ended.data.blob;
    expect(split(manager.commit(ended).setCookies).cleared.sort()).toEqual([
      'emt_session',
      'emt_session.1',
      'emt_session.2',
    ]);
  });

  it('another cookie that happens to be called sess.1 is left alone by the manager named sess', async () => {
    const sess = SessionManager.cookies<Data>(SECRET, { cookieName: 'sess' });
    const jar = new CookieJar();
    await exchange(sess, jar, (state) => {
      state.data.user = 'ada';
    });
    const state = await sess.load(`${jar.header()}; sess.1=another-apps-cookie`);
    expect(state.data.user).toBe('ada');
    state.regenerate();
    delete state.data.user;
    expect(split(sess.commit(state).setCookies).cleared).toEqual(['sess']);
  });

  it('a cookieName that could be another session cookie’s chunk (ending in . and digits) is refused', () => {
    for (const cookieName of ['sess.1', 'sess.2', 'emt_session.10']) {
      expect(() => SessionManager.cookies(SECRET, { cookieName })).toThrow(SessionConfigError);
      expect(() => SessionManager.cookies(SECRET, { cookieName })).toThrow(/chunk/);
    }
    expect(() => SessionManager.cookies(SECRET, { cookieName: 'app.v2' })).not.toThrow();
  });
});

describe('expire and cookie prefixes, checked when the manager is made', () => {
  it('expire is bounded: more than 400 days is refused (browsers cap cookies there), and so is 1e300', () => {
    expect(() => SessionManager.cookies(SECRET, { expire: 1e300 })).toThrow(/400 days/);
    expect(() => SessionManager.cookies(SECRET, { expire: 400 * 86_400 + 1 })).toThrow(SessionConfigError);
    expect(() => SessionManager.cookies(SECRET, { expire: 400 * 86_400 })).not.toThrow();
  });

  it('expire under one second is refused (Max-Age=0 would delete the cookie at once)', () => {
    for (const expire of [0.5, 0.999]) {
      expect(() => SessionManager.cookies(SECRET, { expire })).toThrow(/at least 1 second/);
    }
    const one = SessionManager.cookies(SECRET, { expire: 1 });
    expect(one.options.expire).toBe(1);
  });

  it('a __Host- cookie needs secure, no domain and path /; a __Secure- cookie needs secure', () => {
    const host = { cookieName: '__Host-session' };
    expect(() => SessionManager.cookies(SECRET, { ...host })).toThrow(/__Host-.*secure/);
    expect(() => SessionManager.cookies(SECRET, { ...host, secure: true, domain: 'example.com' })).toThrow(
      /__Host-.*domain/,
    );
    expect(() => SessionManager.cookies(SECRET, { ...host, secure: true, cookieData: { path: '/app' } })).toThrow(
      /__Host-.*path/,
    );
    expect(() => SessionManager.cookies(SECRET, { ...host, secure: true })).not.toThrow();
    expect(() => SessionManager.cookies(SECRET, { cookieName: '__Secure-session' })).toThrow(/__Secure-.*secure/);
    expect(() => SessionManager.cookies(SECRET, { cookieName: '__Secure-session', secure: true })).not.toThrow();
  });

  it('the Set-Cookie of a long but valid expire has a real date', async () => {
    const jar = new CookieJar();
    const long = SessionManager.cookies<Data>(SECRET, { expire: 400 * 86_400 });
    const { plan } = await exchange(long, jar, (state) => {
      state.data.counter = 1;
    });
    expect(plan.setCookies[0]).not.toMatch(/Invalid Date/);
    expect(plan.setCookies[0]).toMatch(/Max-Age=34560000; Expires=\w{3}, \d\d \w{3} \d{4}/);
  });
});

describe('filenameTemplate', () => {
  it("'%s' alone is refused: with no fixed prefix or suffix the sweep could not tell its files apart", async () => {
    const dir = tempDir('template');
    try {
      expect(() => SessionManager.files({ directory: dir.path, filenameTemplate: '%s', sweepInterval: 0 })).toThrow(
        /prefix or suffix/,
      );
      for (const filenameTemplate of ['s_%s', '%s.json']) {
        const files = SessionManager.files({ directory: dir.path, filenameTemplate, sweepInterval: 0 });
        await files.close();
      }
    } finally {
      dir.remove();
    }
  });
});
