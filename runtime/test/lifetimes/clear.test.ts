import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { SessionConfigError } from '../../src/errors.js';
import type { SessionManager } from '../../src/manager.js';
import { type Data, exchange } from '../support/harness.js';
import { type RunningApp, startApp } from './apps.js';
import { type Place, place, TestClock } from './backends.js';

/** Emmett's SessionManager.clear(): every session of this manager goes, and nothing else. */
describe('clear()', () => {
  let where: Place;
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await where.dispose();
  });

  const threeSessions = async (url: string) => {
    const jars = [new CookieJar(), new CookieJar(), new CookieJar()];
    for (const jar of jars) await jar.get(`${url}/login?user=ada`);
    return jars;
  };
  const userOf = async (jar: CookieJar) =>
    (JSON.parse((await jar.get(`${app?.url}/me`)).body) as { user: string | null }).user;

  it('files: removes the session files its template names and leaves every other file', async () => {
    where = place('files', new TestClock());
    const manager = where.make();
    app = await startApp('express', manager);
    const jars = await threeSessions(app.url);
    const foreign = ['notes.txt', 'emt_not-a-session-id.sess', 'other_abc.sess', 'emt_.sess'];
    for (const name of foreign) writeFileSync(join(where.directory, name), 'keep me');
    expect(await manager.clear()).toBe(3);
    expect(readdirSync(where.directory).filter((name) => !name.startsWith('.'))).toEqual(
      expect.arrayContaining(foreign),
    );
    expect(readdirSync(where.directory).filter((name) => !name.startsWith('.'))).toHaveLength(foreign.length);
    for (const jar of jars) expect(await userOf(jar)).toBeNull();
  });

  it('redis: removes every key under the prefix with SCAN, and leaves keys of other prefixes', async () => {
    where = place('redis', new TestClock());
    const manager = where.make();
    app = await startApp('koa', manager);
    const jars = await threeSessions(app.url);
    // Glob characters in a neighbour's key must not make it match, nor ours match theirs.
    const neighbours = [`${where.prefix.slice(0, -1)}x:1`, where.prefix.replace(/:$/, '*:1'), 'unrelated:key'];
    for (const key of neighbours) await where.redis.set(key, 'keep me', 'EX', 60);
    // Three sessions and the index of their user.
    expect(await manager.clear()).toBe(4);
    expect(await where.redis.keys(`${where.prefix}*`)).toEqual([]);
    for (const key of neighbours) expect(await where.redis.get(key)).toBe('keep me');
    for (const jar of jars) expect(await userOf(jar)).toBeNull();
    await where.redis.del(...neighbours);
  });

  it.each(['files', 'redis'] as const)('%s: a request in flight during clear() writes nothing back', async (kind) => {
    where = place(kind, new TestClock());
    const manager = where.make() as SessionManager<Data>;
    const jar = new CookieJar();
    await exchange(manager, jar, (s) => {
      s.data.user = 'ada';
    });
    const inFlight = await manager.load(jar.header());
    inFlight.data.user = 'mallory';
    await manager.clear();
    await manager.commit(inFlight).persist?.();
    expect(Object.keys((await manager.load(jar.header())).data)).toEqual([]);
  });

  it('cookies: nothing to delete, and a typed error that says to rotate the secret', async () => {
    where = place('cookies', new TestClock());
    const error = await where
      .make()
      .clear()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as Error).message).toContain('secret');
  });
});
