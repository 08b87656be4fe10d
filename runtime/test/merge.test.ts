import {
  existsSync,
  linkSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilesStore } from '../src/backends/files.js';
import { mergeChanges } from '../src/backends/merge.js';
import type { SessionManager } from '../src/manager.js';
import { resolveCommonOptions } from '../src/options.js';
import {
  type BackendFixture,
  CookieJar,
  type Data,
  exchange,
  filesFixture,
  redisFixture,
  sessionFileOf,
  tempDir,
} from './support/harness.js';

describe('mergeChanges: the changes of one request over what another stored', () => {
  const base = '{"user":"ada","cart":[1],"theme":"dark"}';

  it('keeps the other request changes and applies this one changes', () => {
    const other = '{"user":"ada","cart":[1,2],"theme":"dark"}';
    const mine = '{"user":"ada","cart":[1],"theme":"light"}';
    expect(JSON.parse(mergeChanges(other, base, mine) as string)).toEqual({
      user: 'ada',
      cart: [1, 2],
      theme: 'light',
    });
  });

  it('on a key both changed, this (the last) write wins', () => {
    const other = '{"user":"ada","cart":[1,2],"theme":"dark"}';
    const mine = '{"user":"ada","cart":[1,3],"theme":"dark"}';
    expect(JSON.parse(mergeChanges(other, base, mine) as string).cart).toEqual([1, 3]);
  });

  it('a key this request deleted goes, a key the other deleted stays gone, a key either added stays', () => {
    const other = '{"user":"ada","theme":"dark","flash":"hi"}';
    const mine = '{"user":"ada","cart":[1],"lang":"fr"}';
    expect(JSON.parse(mergeChanges(other, base, mine) as string)).toEqual({ user: 'ada', flash: 'hi', lang: 'fr' });
  });

  it('keeps values byte for byte (numbers, empty arrays and objects), unlike a Lua cjson round trip', () => {
    const other = '{"big":123456789012345680000,"pi":3.141592653589793,"list":[],"map":{}}';
    const merged = mergeChanges(other, '{}', '{"n":0.30000000000000004}') as string;
    expect(merged).toBe(
      '{"big":123456789012345680000,"pi":3.141592653589793,"list":[],"map":{},"n":0.30000000000000004}',
    );
  });

  it('strips prototype-polluting keys from what it reads, and gives up on text that is not a JSON object', () => {
    expect(mergeChanges('{"__proto__":{"admin":true},"a":1}', '{}', '{"b":2}')).toBe('{"a":1,"b":2}');
    expect(mergeChanges('not json', '{}', '{"b":2}')).toBeUndefined();
    expect(mergeChanges('[1]', '{}', '{"b":2}')).toBeUndefined();
  });
});

describe.each([
  ['files', () => filesFixture()],
  ['redis', () => redisFixture('merge')],
] as const)('%s store: two overlapping requests of one session', (_kind, makeFixture) => {
  const fixture: BackendFixture = makeFixture();
  afterAll(() => fixture.dispose());

  /** Two requests that both loaded `{ base: 1 }`, each changing its own key, committed in turn. */
  async function overlap(manager: SessionManager<Data>): Promise<unknown> {
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.base = 1;
    });
    const first = await manager.load(jar.header());
    const second = await manager.load(jar.header());
    first.data.left = 'L';
    second.data.right = 'R';
    await manager.commit(first).persist?.();
    await manager.commit(second).persist?.();
    return (await manager.load(jar.header())).data;
  }

  it('both changes are kept (merge, the default)', async () => {
    expect(await overlap(fixture.make())).toEqual({ base: 1, left: 'L', right: 'R' });
  });

  it('with merge: false, the last write replaces the whole session', async () => {
    expect(await overlap(fixture.make({ merge: false } as never))).toEqual({ base: 1, right: 'R' });
  });

  it('an expiry slide of an unchanged session keeps what another request stored meanwhile', async () => {
    const manager = fixture.make({ refreshAfter: 0 });
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.base = 1;
    });
    const reader = await manager.load(jar.header());
    await exchange(manager, jar, (state) => {
      state.data.written = true;
    });
    const plan = manager.commit(reader);
    expect(plan.persist).toBeDefined();
    await plan.persist?.();
    expect((await manager.load(jar.header())).data).toEqual({ base: 1, written: true });
  });
});

describe('redis store: the merge runs in the write script, keeping what is stored byte for byte', () => {
  const fixture = redisFixture('merge-lua');
  afterAll(() => fixture.dispose());

  it.each([
    ['numbers, empty arrays and objects', '{"big":123456789012345680000,"pi":3.141592653589793,"list":[],"map":{}}'],
    ['strings with quotes, escapes, braces and commas', '{"s":"a\\"b},{[\\\\","u":"\\u00e9\\n","k\\"ey":1}'],
    ['nested values', '{"deep":{"a":[1,{"b":[]}],"c":"}"},"n":null,"t":true}'],
    ['an empty object', '{}'],
  ])('%s', async (_label, other) => {
    expect(JSON.parse(other)).toBeTypeOf('object');
    const manager = fixture.make();
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.mine = 0;
      state.data.gone = 1;
    });
    const request = await manager.load(jar.header());
    const key = `${fixture.prefix}${request.id}`;
    // Another request's write lands while this one runs.
    await fixture.client.set(
      key,
      other.replace(/^\{/, '{"mine":0,"gone":1' + (other === '{}' ? '' : ',')),
      'PX',
      60_000,
    );
    request.data.mine = 'x';
    delete request.data.gone;
    await manager.commit(request).persist?.();
    const stored = (await fixture.client.get(key)) as string;
    expect(stored).toBe(other.replace(/^\{/, '{"mine":"x"' + (other === '{}' ? '' : ',')));
  });
});

describe('files store: the merge lock between processes', () => {
  const dir = tempDir('merge-lock');
  afterAll(() => dir.remove());
  const options = { directory: dir.path, sweepInterval: 0 };
  const store = new FilesStore(options, resolveCommonOptions({}));
  const id = 'A'.repeat(43);
  const lockOf = () => {
    const name = sessionFileOf(dir.path, id).split('/').at(-1) as string;
    // The lock is named after the same hash as the session file.
    return join(dir.path, `.${name.slice('emt_'.length, -'.sess'.length)}.lock`);
  };
  const stored = () => JSON.parse(readFileSync(sessionFileOf(dir.path, id), 'utf8')).data;

  it('waits while another process holds the lock, then merges and releases it', async () => {
    await store.write(id, '{"a":1}', Date.now() + 60_000);
    writeFileSync(lockOf(), '');
    const update = store.update(id, '{"a":1,"b":2}', Date.now() + 60_000, '{"a":1}');
    // The first attempt ran synchronously and found the lock taken: nothing written yet.
    expect(stored()).toEqual({ a: 1 });
    // The holder writes its change, then releases the lock.
    await store.write(id, '{"a":1,"c":3}', Date.now() + 60_000);
    unlinkSync(lockOf());
    expect(await update).toBe('stored');
    expect(stored()).toEqual({ a: 1, b: 2, c: 3 });
    expect(existsSync(lockOf())).toBe(false);
  });

  it('breaks a lock left by a process that died holding it', async () => {
    await store.write(id, '{"a":1}', Date.now() + 60_000);
    writeFileSync(lockOf(), '');
    const past = new Date(Date.now() - 60_000);
    utimesSync(lockOf(), past, past);
    expect(await store.update(id, '{"a":2}', Date.now() + 60_000, '{"a":1}')).toBe('stored');
    expect(stored()).toEqual({ a: 2 });
    expect(existsSync(lockOf())).toBe(false);
  });

  it('breaks a lock left as a second name of the session file (its holder died after its rename), by the file age', async () => {
    await store.write(id, '{"a":1}', Date.now() + 60_000);
    const file = sessionFileOf(dir.path, id);
    // The lock is a name of the holder's temp file, which its rename made the session file.
    linkSync(file, lockOf());
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    expect(await store.update(id, '{"a":2}', Date.now() + 60_000, '{"a":1}')).toBe('stored');
    expect(stored()).toEqual({ a: 2 });
    expect(existsSync(lockOf())).toBe(false);
    // The session file is a file of its own again, with no other name left in the folder.
    expect(statSync(file).nlink).toBe(1);
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.lock') || name.endsWith('.tmp'))).toEqual([]);
  });

  it('an update refused under the lock (the session file is gone) leaves no temp file or lock', async () => {
    await store.write(id, '{"a":1}', Date.now() + 60_000);
    unlinkSync(sessionFileOf(dir.path, id));
    expect(await store.update(id, '{"a":2}', Date.now() + 60_000, '{"a":1}')).toBe('refused');
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.lock') || name.endsWith('.tmp'))).toEqual([]);
  });
});
