import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, type Data, exchange } from './support/harness.js';
import { type RedisWatch, watchRedis } from './support/redis-monitor.js';

/**
 * The README recommends ioredis' `enableAutoPipelining` (the commands of one event-loop turn go out
 * as one write). The store's scripts must work the same through such a client: concurrent requests
 * count, a read-only request is still one command, and a redis that does not know the scripts yet
 * (restarted, SCRIPT FLUSH) gets them by EVAL from inside a pipeline. A redis of its own, so that
 * flushing its scripts changes nothing for the other test files.
 */
const PREFIX = 'autopipelining:';
const SESSIONS = 40;

let server: RedisServer;
let client: Redis;
let watch: RedisWatch;
let manager: SessionManager<Data>;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { enableAutoPipelining: true });
  manager = SessionManager.redis<Data>(client, { prefix: PREFIX });
  watch = await watchRedis(server.url, PREFIX);
});

afterAll(async () => {
  watch?.close();
  await manager?.close();
  client?.disconnect();
  await server?.dispose();
});

const counterVisit = (jar: CookieJar) =>
  exchange(manager, jar, (state) => {
    state.data.counter = ((state.data.counter as number | undefined) ?? 0) + 1;
  });

describe('redis store through an auto-pipelining ioredis client', () => {
  it('counts many sessions whose requests go out in the same turns, each on its own', async () => {
    await client.script('FLUSH');
    const jars = Array.from({ length: SESSIONS }, () => new CookieJar());
    for (let round = 1; round <= 3; round++) {
      // Every session's request starts in the same turn: their scripts share pipelines.
      const visits = await Promise.all(jars.map((jar) => counterVisit(jar)));
      expect(visits.map(({ state }) => state.data.counter)).toEqual(jars.map(() => round));
    }
    const stored = await Promise.all(jars.map((jar) => manager.load(jar.header())));
    expect(stored.map((state) => state.data.counter)).toEqual(jars.map(() => 3));
  });

  it('a read-only request is one command, and scripts redis forgot are sent again by EVAL', async () => {
    const jar = new CookieJar();
    await counterVisit(jar);
    await client.script('FLUSH');
    const commands = await watch.commandsOf(async () => {
      const states = await Promise.all([manager.load(jar.header()), manager.load(jar.header())]);
      for (const state of states) expect(manager.commit(state).persist).toBeUndefined();
    });
    const scriptCalls = commands.filter(([name]) => name === 'EVALSHA' || name === 'EVAL');
    // Two loads in one pipeline: each an EVALSHA that redis refused, then one EVAL each.
    expect(scriptCalls.map(([name]) => name).sort()).toEqual(['EVAL', 'EVAL', 'EVALSHA', 'EVALSHA']);
    const again = await watch.commandsOf(() => manager.load(jar.header()));
    expect(again.filter(([name]) => name === 'EVALSHA' || name === 'EVAL').map(([name]) => name)).toEqual(['EVALSHA']);
  });
});
