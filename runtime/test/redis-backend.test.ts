import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_SCRIPT, TOMBSTONE, WRITE_SCRIPT } from '../src/backends/redis-scripts.js';
import { newSessionId } from '../src/ids.js';
import { SessionManager } from '../src/manager.js';
import type { RedisOptions } from '../src/backends/redis-options.js';
import { CookieJar, type Data, exchange, redisUrl, uniquePrefix } from './support/harness.js';
import { type RedisWatch, watchRedis } from './support/redis-monitor.js';

let client: Redis;
let watch: RedisWatch;
let prefix: string;

beforeAll(async () => {
  client = new Redis(redisUrl());
  prefix = uniquePrefix('redis');
  // Both scripts known to redis before the monitor starts: each command below is then one EVALSHA.
  const warmUp = redisManager();
  const { jar } = await storedSession(warmUp);
  await exchange(warmUp, jar, (s) => s.destroy());
  watch = await watchRedis(redisUrl(), prefix);
});

afterAll(async () => {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
  watch.close();
});

/** The commands on this file's keys that `act` caused. */
const commandsOf = (act: () => Promise<unknown>) => watch.commandsOf(act);

const names = (commands: string[][]) => commands.map(([command]) => command);

/** A load: one EVALSHA whose script runs GET and PTTL, which MONITOR lists after it. */
const READ = ['EVALSHA', 'GET', 'PTTL'];
const readOf = (key: string) => [
  ['EVALSHA', READ_SCRIPT.sha, '1', key],
  ['GET', key],
  ['PTTL', key],
];
/** A change: one EVALSHA of the write script (mode, deadline, ttl, JSON), then what it ran. */
const scriptCall = (key: string, mode: string) => ['EVALSHA', WRITE_SCRIPT.sha, '1', key, mode];
/** A time to live in ms, as the scripts set it, within a second of `seconds`. */
const ttlNear = (seconds: number) =>
  expect.toSatisfy((ms: string) => Number(ms) > (seconds - 2) * 1000 && Number(ms) <= seconds * 1000);

function redisManager(options: RedisOptions = {}): SessionManager<Data> {
  return SessionManager.redis<Data>(client, { prefix, ...options });
}

async function storedSession(manager: SessionManager<Data>, data: Data = { user: { name: 'ada' } }) {
  const jar = new CookieJar();
  const { state } = await exchange(manager, jar, (s) => {
    Object.assign(s.data, data);
  });
  return { jar, id: state.id, key: prefix + state.id };
}

describe('redis keys and values', () => {
  it('the key is prefix + id, the value the JSON data, the TTL expire', async () => {
    const manager = redisManager({ expire: 120 });
    let stored!: Awaited<ReturnType<typeof storedSession>>;
    const commands = await commandsOf(async () => {
      stored = await storedSession(manager);
    });
    expect(commands.map((args) => args.slice(0, 5))).toEqual([
      scriptCall(stored.key, 'create'),
      ['SET', stored.key, '{"user":{"name":"ada"}}', 'PX', ttlNear(120)],
    ]);
    expect(await client.get(stored.key)).toBe('{"user":{"name":"ada"}}');
    expect(await client.ttl(stored.key)).toBeGreaterThanOrEqual(119);
    expect(await client.ttl(stored.key)).toBeLessThanOrEqual(120);
  });

  it("defaults: prefix 'emtsess:' and a TTL of 3600", async () => {
    const manager = SessionManager.redis<Data>(client);
    const jar = new CookieJar();
    const { state } = await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });
    const key = `emtsess:${state.id}`;
    try {
      expect(await client.get(key)).toBe('{"n":1}');
      expect(await client.ttl(key)).toBeGreaterThanOrEqual(3599);
      expect(jar.cookies.get('emt_session')).toBe(state.id);
    } finally {
      await client.del(key);
    }
  });
});

describe('what each request sends', () => {
  it('an unchanged request reads (one EVAL: GET and PTTL) and writes nothing', async () => {
    const manager = redisManager();
    const { jar, key } = await storedSession(manager);
    const commands = await commandsOf(() =>
      exchange(manager, jar, (s) => {
        void (s.data.user as Data).name;
      }),
    );
    expect(commands).toEqual(readOf(key));
  });

  it('a nested change sends one script: the key still holds the session it loaded (GET), then SET with the new JSON', async () => {
    const manager = redisManager();
    const { jar, key } = await storedSession(manager);
    const commands = await commandsOf(() =>
      exchange(manager, jar, (s) => {
        (s.data.user as Data).name = 'x';
      }),
    );
    expect(names(commands)).toEqual([...READ, 'EVALSHA', 'GET', 'SET']);
    expect(commands[READ.length]?.slice(0, 5)).toEqual(scriptCall(key, 'update'));
    expect(await client.get(key)).toBe('{"user":{"name":"x"}}');
  });

  it('the TTL is reset (PEXPIRE, no SET) by a read once refreshAfter has passed, and not before', async () => {
    const manager = redisManager({ expire: 100 });
    const { jar, key } = await storedSession(manager);
    // 40 s of its 100 s used: under refreshAfter (50 s by default), nothing is sent.
    await client.expire(key, 60);
    expect(names(await commandsOf(() => exchange(manager, jar)))).toEqual(READ);
    expect(await client.ttl(key)).toBeLessThanOrEqual(60);
    // 60 s used: the read slides the expiry back to 100 s.
    await client.expire(key, 40);
    const commands = await commandsOf(() => exchange(manager, jar));
    expect(commands.slice(READ.length).map((args) => args.slice(0, 5))).toEqual([
      scriptCall(key, 'touch'),
      ['GETRANGE', key, '0', '0'],
      ['PEXPIRE', key, ttlNear(100)],
    ]);
    expect(await client.ttl(key)).toBeGreaterThanOrEqual(99);
    expect(await client.get(key)).toBe('{"user":{"name":"ada"}}');
  });

  it('refreshAfter: 0 slides the TTL on every read', async () => {
    const manager = redisManager({ expire: 100, refreshAfter: 0 });
    const { jar, key } = await storedSession(manager);
    await client.expire(key, 95);
    expect(names(await commandsOf(() => exchange(manager, jar)))).toEqual([...READ, 'EVALSHA', 'GETRANGE', 'PEXPIRE']);
    expect(await client.ttl(key)).toBeGreaterThanOrEqual(99);
  });

  it('destroy replaces the key with a tombstone that lives as long as any copy of the session could', async () => {
    const manager = redisManager({ expire: 100 });
    const { jar, key } = await storedSession(manager);
    const commands = await commandsOf(() => exchange(manager, jar, (s) => s.destroy()));
    expect(commands.slice(READ.length).map((args) => args.slice(0, 5))).toEqual([
      scriptCall(key, 'retire'),
      ['SET', key, TOMBSTONE, 'PX', ttlNear(100)],
    ]);
    expect(await client.get(key)).toBe(TOMBSTONE);
    expect(jar.header()).toBeUndefined();
  });

  it('regenerate retires the old key first, then writes the new one', async () => {
    const manager = redisManager();
    const { jar, id, key } = await storedSession(manager);
    const commands = await commandsOf(() => exchange(manager, jar, (s) => s.regenerate()));
    const newId = jar.cookies.get('emt_session') as string;
    expect(newId).not.toBe(id);
    expect(commands.slice(READ.length).map((args) => args.slice(0, 5))).toEqual([
      scriptCall(key, 'retire'),
      ['SET', key, TOMBSTONE, 'PX', ttlNear(3600)],
      scriptCall(prefix + newId, 'create'),
      ['SET', prefix + newId, '{"user":{"name":"ada"}}', 'PX', ttlNear(3600)],
    ]);
    expect(await client.get(key)).toBe(TOMBSTONE);
    expect((await manager.load(`emt_session=${id}`)).isNew).toBe(true);
  });

  it('a tombstone reads as no session, and the scripts never overwrite it', async () => {
    const manager = redisManager();
    const { jar, id, key } = await storedSession(manager);
    await client.set(key, TOMBSTONE, 'EX', 60);
    const state = await manager.load(jar.header());
    expect(state.isNew).toBe(true);
    expect(state.id).not.toBe(id);
    expect(await client.get(key)).toBe(TOMBSTONE);
  });

  it('an unknown id, well-formed or not, sends no write for that id and is never adopted', async () => {
    const manager = redisManager();
    const unknown = newSessionId();
    const jar = new CookieJar();
    jar.cookies.set('emt_session', unknown);
    const commands = await commandsOf(() =>
      exchange(manager, jar, (s) => {
        s.data.n = 1;
      }),
    );
    const adopted = jar.cookies.get('emt_session') as string;
    expect(adopted).not.toBe(unknown);
    // A key redis does not hold: its read runs GET alone (no PTTL to ask of a missing key); the
    // store's first read also asks redis' TIME (its ARGV '1'), which names no key.
    const [readCall, get] = readOf(prefix + unknown) as [string[], string[]];
    expect(commands.map((args) => args.slice(0, 5))).toEqual([
      [...readCall, '1'],
      get,
      scriptCall(prefix + adopted, 'create'),
      ['SET', prefix + adopted, '{"n":1}', 'PX', ttlNear(3600)],
    ]);
    // A malformed id never reaches redis at all.
    jar.cookies.set('emt_session', `${prefix}x*`);
    expect(names(await commandsOf(() => exchange(manager, jar)))).toEqual([]);
  });

  it('a key without expiry (written by another tool) is given one', async () => {
    const manager = redisManager({ expire: 100 });
    const id = newSessionId();
    await client.set(prefix + id, '{"n":1}');
    const jar = new CookieJar();
    jar.cookies.set('emt_session', id);
    const { state } = await exchange(manager, jar);
    expect(state.data.n).toBe(1);
    expect(await client.ttl(prefix + id)).toBeGreaterThanOrEqual(99);
  });

  it('a value that is not a JSON object is a fresh session', async () => {
    const manager = redisManager();
    for (const value of ['not json', '[1]', '"text"', 'null']) {
      const id = newSessionId();
      await client.set(prefix + id, value, 'EX', 60);
      const state = await manager.load(`emt_session=${id}`);
      expect(state.isNew).toBe(true);
      expect(state.id).not.toBe(id);
    }
  });
});
