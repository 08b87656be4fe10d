import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseStored } from '../src/data.js';
import { SessionDataError } from '../src/errors.js';
import { newSessionId } from '../src/ids.js';
import { SessionManager } from '../src/manager.js';
import type { SessionState } from '../src/state.js';
import { CookieJar, type Data, exchange, redisFixture, SECRET, sessionFileOf, tempDir } from './support/harness.js';

const manager = SessionManager.cookies<Data>(SECRET);

async function newState(): Promise<SessionState<Data>> {
  return manager.load(undefined);
}

/** The SessionDataError `act` throws; fails the test when it throws nothing or something else. */
function dataError(act: () => unknown): SessionDataError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionDataError);
    expect((error as SessionDataError).code).toBe('SESSION_DATA');
    return error as SessionDataError;
  }
  throw new Error('expected a SessionDataError');
}

class Point {
  x = 1;
}

describe('the session object', () => {
  it('reads missing keys, and inherited names such as toString, as undefined', async () => {
    const { data } = await newState();
    expect(data.missing).toBeUndefined();
    expect(data.toString).toBeUndefined();
    expect(data.constructor).toBeUndefined();
    expect(data.hasOwnProperty).toBeUndefined();
    expect('toString' in data).toBe(false);
  });

  it('supports assignment, delete, in, spread, Object.keys and JSON.stringify', async () => {
    const { data, record } = await newState();
    data.a = 1;
    data.b = { c: [1, 'two', null, true] };
    expect('a' in data).toBe(true);
    expect({ ...data }).toEqual({ a: 1, b: { c: [1, 'two', null, true] } });
    expect(Object.keys(data)).toEqual(['a', 'b']);
    expect(JSON.stringify(data)).toBe('{"a":1,"b":{"c":[1,"two",null,true]}}');
    delete data.a;
    expect(data.a).toBeUndefined();
    data.b = undefined;
    expect(record).toEqual({});
  });

  it('accepts null-prototype objects and values shared in two places (not a cycle)', async () => {
    const { data } = await newState();
    const bare = Object.assign(Object.create(null) as Data, { x: 1 });
    const shared = { y: 2 };
    data.bare = bare;
    data.pair = [shared, shared];
    expect(JSON.parse(JSON.stringify(data))).toEqual({ bare: { x: 1 }, pair: [{ y: 2 }, { y: 2 }] });
  });
});

describe('values JSON cannot store are refused, naming the key', () => {
  const cycle = (): Data => {
    const value: Data = { name: 'loop' };
    value.self = value;
    return value;
  };
  const cases: [string, () => unknown, string, RegExp][] = [
    ['a function', () => () => 1, 'value', /a function/],
    ['a BigInt', () => 10n, 'value', /a BigInt/],
    ['a symbol', () => Symbol('s'), 'value', /a symbol/],
    ['NaN', () => Number.NaN, 'value', /NaN.*null/],
    ['Infinity', () => Number.POSITIVE_INFINITY, 'value', /Infinity/],
    ['a Date', () => new Date(0), 'value', /a Date.*toISOString/],
    ['a class instance', () => new Point(), 'value', /a Point.*plain object/],
    ['a Map', () => new Map(), 'value', /a Map/],
    ['a cycle', cycle, 'value.self', /cycle/],
    ['undefined in an array', () => [1, undefined], 'value[1]', /undefined/],
    ['a hole in an array', () => Object.assign(new Array(3), { 0: 1, 2: 3 }), 'value[1]', /undefined/],
    [
      'a function deep inside',
      () => ({ friends: [{}, {}, { greet: () => 'hi' }] }),
      'value.friends[2].greet',
      /function/,
    ],
  ];

  it.each(cases)('%s, at the assignment', async (_, make, path, message) => {
    const { data, record } = await newState();
    const error = dataError(() => {
      data.value = make();
    });
    expect(error.key).toBe(path);
    expect(error.message).toContain(`"${path}"`);
    expect(error.message).toMatch(message);
    // Nothing was stored.
    expect(record).toEqual({});
  });

  it.each(cases)('%s, put inside an existing value: at commit', async (_, make, path) => {
    const state = await newState();
    state.data.value = { inner: [] };
    (state.data.value as Data).inner = make();
    const error = dataError(() => manager.commit(state));
    expect(error.key).toBe(path.replace(/^value/, 'value.inner'));
  });

  it('a symbol key', async () => {
    const { data } = await newState();
    dataError(() => {
      (data as Record<symbol, unknown>)[Symbol('k')] = 1;
    });
  });

  it('accessors and prototype changes', async () => {
    const { data } = await newState();
    expect(dataError(() => Object.defineProperty(data, 'x', { get: () => 1 })).key).toBe('x');
    dataError(() => Object.setPrototypeOf(data, { polluted: true }));
    expect(data.polluted).toBeUndefined();
  });
});

describe('keys that could pollute prototypes', () => {
  afterEach(() => {
    // If a test failed because pollution happened, do not let it leak into the next tests.
    delete (Object.prototype as Data).polluted;
  });

  it('are refused on assignment, at the top and nested', async () => {
    const state = await newState();
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(
        dataError(() => {
          state.data[key] = { polluted: true };
        }).key,
      ).toBe(key);
    }
    expect(
      dataError(() => {
        state.data.user = JSON.parse('{"profile":{"__proto__":{"polluted":true}}}');
      }).key,
    ).toBe('user.profile.__proto__');
    state.data.user = { profile: {} };
    Reflect.set((state.data.user as Data).profile as Data, 'constructor', { prototype: { polluted: true } });
    expect(dataError(() => manager.commit(state)).key).toBe('user.profile.constructor');
    expect(({} as Data).polluted).toBeUndefined();
  });

  /** What careless application code does with session data: a recursive merge into a fresh object. */
  function naiveMerge(target: Data, source: Data): Data {
    for (const key in source) {
      const value = source[key];
      if (value !== null && typeof value === 'object') {
        target[key] ??= {};
        naiveMerge(target[key] as Data, value as Data);
      } else {
        target[key] = value;
      }
    }
    return target;
  }

  const CRAFTED = [
    '{"__proto__":{"polluted":"yes"},"keep":1}',
    '{"constructor":{"prototype":{"polluted":"yes"}},"keep":1}',
    '{"keep":1,"deep":[{"a":{"__proto__":{"polluted":"yes"}}}]}',
    // The same keys spelled with JSON escapes: JSON.parse turns them back into __proto__.
    '{"\\u005f_proto__":{"polluted":"yes"},"keep":1}',
    '{"\\u0063onstructor":{"prototype":{"polluted":"yes"}},"keep":1}',
    '{"keep":1,"deep":{"\\u005F\\u005Fproto\\u005F\\u005F":{"polluted":"yes"}}}',
  ];

  it.each(CRAFTED)('are stripped when stored data is parsed: %s', (text) => {
    const record = parseStored(text) as Data;
    expect(record.keep).toBe(1);
    expect(JSON.stringify(record)).not.toMatch(/__proto__|constructor|prototype/);
    naiveMerge({}, record);
    expect(({} as Data).polluted).toBeUndefined();
  });

  describe('in records crafted in a store', () => {
    const dir = tempDir('data');
    const files = SessionManager.files<Data>({ directory: dir.path });
    let redis: ReturnType<typeof redisFixture>;
    beforeAll(() => {
      redis = redisFixture('data');
    });
    afterAll(async () => {
      await files.close();
      dir.remove();
      await redis.dispose();
    });

    it.each(CRAFTED)('files: %s', async (text) => {
      const id = newSessionId();
      writeFileSync(sessionFileOf(dir.path, id), `{"expires":${Date.now() + 60_000},"data":${text}}`);
      const state = await files.load(`emt_session=${id}`);
      expect(state.id).toBe(id);
      expect(state.data.keep).toBe(1);
      naiveMerge({}, { ...state.data });
      naiveMerge({}, state.record);
      expect(({} as Data).polluted).toBeUndefined();
    });

    it.each(CRAFTED)('redis: %s', async (text) => {
      const id = newSessionId();
      await redis.client.set(`${redis.prefix}${id}`, text, 'EX', 60);
      const state = await redis.make().load(`emt_session=${id}`);
      expect(state.id).toBe(id);
      expect(state.data.keep).toBe(1);
      naiveMerge({}, state.record);
      expect(({} as Data).polluted).toBeUndefined();
    });
  });
});

describe('change detection', () => {
  it('an unchanged session writes nothing; a nested change is seen', async () => {
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.user = { name: 'ada', tags: ['a'] };
    });
    expect((await exchange(manager, jar)).plan.setCookies).toEqual([]);
    // Reading, even deeply, is not a change.
    expect(
      (
        await exchange(manager, jar, (state) => {
          void JSON.stringify(state.data);
          void (state.data.user as Data).name;
        })
      ).plan.setCookies,
    ).toEqual([]);
    const nested = await exchange(manager, jar, (state) => {
      (state.data.user as Data).name = 'x';
    });
    expect(nested.plan.setCookies).toHaveLength(1);
    const pushed = await exchange(manager, jar, (state) => {
      ((state.data.user as Data).tags as string[]).push('b');
    });
    expect(pushed.plan.setCookies).toHaveLength(1);
    expect((await manager.load(jar.header())).record).toEqual({ user: { name: 'x', tags: ['a', 'b'] } });
  });

  it('setting a value to what it already was is not a change', async () => {
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.n = 1;
    });
    const same = await exchange(manager, jar, (state) => {
      state.data.n = 1;
    });
    expect(same.plan.setCookies).toEqual([]);
  });
});
