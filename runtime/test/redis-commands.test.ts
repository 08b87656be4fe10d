import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_SCRIPT } from '../src/backends/redis-scripts.js';
import { newSessionId } from '../src/ids.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, type Data, exchange } from './support/harness.js';
import { type RedisWatch, watchRedis } from './support/redis-monitor.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * Every command redis runs for a request, those a script runs included (TIME names no key, so the
 * other test files' watches never see it): what a request costs redis, and what it must not. A redis
 * of this file's own, so that no other file's commands show up.
 */
const PREFIX = 'commands:';

let server: RedisServer;
let client: Redis;
let watch: RedisWatch;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url);
  watch = await watchRedis(server.url, PREFIX, { everyCommand: true });
  // Both scripts known to redis before anything is counted: each call is then one EVALSHA.
  const manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
  const { jar } = await stored(manager);
  await exchange(manager, jar, (s) => {
    s.data.n = 2;
  });
});

afterAll(async () => {
  watch?.close();
  client?.disconnect();
  await server?.dispose();
});

async function stored(manager: SessionManager<Data>) {
  const jar = new CookieJar();
  const { state } = await exchange(manager, jar, (s) => {
    s.data.n = 1;
  });
  return { jar, id: state.id };
}

/** The commands `act` caused: a client's by name, a script's as `LUA <name>`. */
const namesOf = async (act: () => Promise<unknown>) => (await watch.commandsOf(act)).map(([command]) => command);

const counterVisit = (manager: SessionManager<Data>, jar: CookieJar) =>
  exchange(manager, jar, (s) => {
    s.data.n = ((s.data.n as number | undefined) ?? 0) + 1;
  });

describe('the commands of one request', () => {
  it("a change: the read runs GET and PTTL, the write TIME (its deadline), GET and SET; no TIME in the read once redis' clock is known", async () => {
    const manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
    const { jar } = await stored(manager);
    expect(await namesOf(() => counterVisit(manager, jar))).toEqual([
      'EVALSHA',
      'LUA GET',
      'LUA PTTL',
      'EVALSHA',
      'LUA TIME',
      'LUA GET',
      'LUA SET',
    ]);
  });

  it('a read-only request: one EVALSHA, which runs GET and PTTL', async () => {
    const manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
    const { jar } = await stored(manager);
    expect(await namesOf(() => exchange(manager, jar))).toEqual(['EVALSHA', 'LUA GET', 'LUA PTTL']);
  });

  it('an id redis does not hold: GET only (no PTTL), then the new session is created (TIME, SET)', async () => {
    const manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
    await stored(manager);
    const jar = new CookieJar();
    jar.cookies.set('emt_session', newSessionId());
    expect(await namesOf(() => counterVisit(manager, jar))).toEqual([
      'EVALSHA',
      'LUA GET',
      'EVALSHA',
      'LUA TIME',
      'LUA SET',
    ]);
  });

  it("a store that does not know redis' clock yet learns it in its first read: the write that follows needs no TIME round trip of its own", async () => {
    const first = SessionManager.redis<Data>(client, { prefix: PREFIX });
    const { jar } = await stored(first);
    const fresh = SessionManager.redis<Data>(client, { prefix: PREFIX });
    expect(await namesOf(() => counterVisit(fresh, jar))).toEqual([
      'EVALSHA',
      'LUA GET',
      'LUA PTTL',
      'LUA TIME',
      'EVALSHA',
      'LUA TIME',
      'LUA GET',
      'LUA SET',
    ]);
  });

  it('a tombstone reads as missing without its PTTL', async () => {
    const manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
    const { jar, id } = await stored(manager);
    await exchange(manager, jar, (s) => s.destroy());
    const reply = (await client.evalsha(READ_SCRIPT.sha, 1, PREFIX + id)) as unknown[];
    expect(reply).toEqual(['!retired', -2]);
    expect((await manager.load(`emt_session=${id}`)).isNew).toBe(true);
  });
});
