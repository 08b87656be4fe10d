import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FilesStore, REMEMBERED_HASHES_PER_GENERATION } from '../src/backends/files.js';
import { REMEMBERED_TEXT_PER_GENERATION } from '../src/backends/files-remembered.js';
import { newSessionId } from '../src/ids.js';
import { SessionManager } from '../src/manager.js';
import type { FilesOptions } from '../src/backends/files-options.js';
import { resolveCommonOptions } from '../src/options.js';
import { CookieJar, type Data, exchange, sessionFileOf, tempDir } from './support/harness.js';

const REPO = new URL('../../', import.meta.url);
const run = promisify(execFile);

/** Per test: a root folder with the sessions folder inside it and a sentinel file next to it. */
let root: ReturnType<typeof tempDir>;
let directory: string;
const managers: SessionManager<Data>[] = [];

beforeEach(() => {
  root = tempDir('files');
  directory = join(root.path, 'sessions');
  writeFileSync(join(root.path, 'sentinel.txt'), 'do not touch');
});
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
  root.remove();
});

function filesManager(options: FilesOptions = {}): SessionManager<Data> {
  const manager = SessionManager.files<Data>({ directory, ...options });
  managers.push(manager);
  return manager;
}

const sessionFile = (id: string) => sessionFileOf(directory, id);
const sessionName = (id: string) => basename(sessionFile(id));
const mode = (path: string) => statSync(path).mode & 0o777;

/** Every file and folder under `dir` with its size, mode, mtime and contents. */
function snapshot(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stats = statSync(path);
      const contents = stats.isDirectory() ? '' : readFileSync(path, 'latin1');
      entries.set(relative(dir, path), `${stats.mode}:${stats.size}:${stats.mtimeMs}:${contents}`);
      if (stats.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return entries;
}

describe('where and how sessions are written', () => {
  it('defaults to emt_<hash of the id>.sess in ./sessions of the working directory, folder 0700, file 0600, expiring in 3600 s', async () => {
    const loader = new URL('node_modules/tsx/dist/loader.mjs', REPO).href;
    const managerModule = new URL('runtime/src/manager.ts', REPO).href;
    const script = `
      const { SessionManager } = await import(${JSON.stringify(managerModule)});
      const manager = SessionManager.files();
      const before = Date.now();
      const state = await manager.load(undefined);
      state.data.n = 1;
      await manager.commit(state).persist();
      await manager.close();
      console.log(JSON.stringify({ id: state.id, before, after: Date.now() }));`;
    const { stdout } = await run(process.execPath, ['--import', loader, '--input-type=module', '-e', script], {
      cwd: root.path,
    });
    const { id, before, after } = JSON.parse(stdout) as { id: string; before: number; after: number };
    const path = sessionFileOf(join(root.path, 'sessions'), id);
    expect(basename(path)).toMatch(/^emt_[A-Za-z0-9_-]{43}\.sess$/);
    expect(readdirSync(join(root.path, 'sessions')).sort()).toEqual(['.sessions-key', basename(path)].sort());
    expect(mode(join(root.path, 'sessions'))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    expect(stored.data).toEqual({ n: 1 });
    // 3600 s from the moment of the load, which lies between the two readings of the clock: no tolerance.
    expect(stored.expires).toBeGreaterThanOrEqual(before + 3600_000);
    expect(stored.expires).toBeLessThanOrEqual(after + 3600_000);
  });

  it('directory: created (with its parents) mode 0700; files 0600 inside it', async () => {
    directory = join(root.path, 'deep', 'er', 'sessions');
    const manager = filesManager();
    expect(mode(directory)).toBe(0o700);
    const { state } = await exchange(manager, new CookieJar(), (s) => {
      s.data.n = 1;
    });
    expect(readdirSync(directory).sort()).toEqual(['.sessions-key', sessionName(state.id)].sort());
    expect(mode(sessionFile(state.id))).toBe(0o600);
  });

  it('the file holds the expiry (now + expire) and the data as JSON', async () => {
    const manager = filesManager({ expire: 120 });
    const now = Date.now();
    const { state } = await exchange(
      manager,
      new CookieJar(),
      (s) => {
        s.data.user = { name: 'ada' };
      },
      now,
    );
    expect(JSON.parse(readFileSync(sessionFile(state.id), 'utf8'))).toEqual({
      expires: now + 120_000,
      data: { user: { name: 'ada' } },
    });
  });

  it('filenameTemplate names the file', async () => {
    const manager = filesManager({ filenameTemplate: 'sess-%s.json' });
    const jar = new CookieJar();
    const { state } = await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });
    const name = basename(sessionFileOf(directory, state.id, 'sess-%s.json'));
    expect(name).toMatch(/^sess-[A-Za-z0-9_-]{43}\.json$/);
    expect(readdirSync(directory).sort()).toEqual(['.sessions-key', name].sort());
    expect((await manager.load(jar.header())).data.n).toBe(1);
  });

  it('leaves no temp file behind after many writes, concurrent ones included', async () => {
    const manager = filesManager({ refreshAfter: 0 });
    const jars = Array.from({ length: 10 }, () => new CookieJar());
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        jars.flatMap((jar) => [
          exchange(manager, jar, (s) => {
            s.data.round = round;
          }),
          // Two writers of the same session at once: one wins, neither leaves a temp file.
          exchange(manager, jar, (s) => {
            s.data.other = round;
          }),
        ]),
      );
    }
    const names = readdirSync(directory).filter((name) => name !== '.sessions-key');
    expect(names.every((name) => /^emt_[A-Za-z0-9_-]{43}\.sess$/.test(name))).toBe(true);
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const jar of jars) expect((await manager.load(jar.header())).isNew).toBe(false);
  });

  it('recreates the folder if it was removed while the app runs', async () => {
    const manager = filesManager();
    root.remove();
    const jar = new CookieJar();
    await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });
    expect(mode(directory)).toBe(0o700);
    expect((await manager.load(jar.header())).data.n).toBe(1);
  });
});

describe('loading without a promise', () => {
  it('a files session loads without a promise (its reads are synchronous), and a failed read is a rejected promise, never a throw', async () => {
    const manager = filesManager();
    const jar = new CookieJar();
    await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });
    const loaded = manager.loadEager(jar.header());
    expect(loaded).not.toBeInstanceOf(Promise);
    expect((loaded as Awaited<typeof loaded>).data.n).toBe(1);
    // The sessions folder becomes a file: opening the session's file fails with ENOTDIR.
    root.remove();
    mkdirSync(root.path);
    writeFileSync(directory, '');
    let failing: unknown;
    expect(() => {
      failing = manager.loadEager(jar.header());
    }).not.toThrow();
    expect(failing).toBeInstanceOf(Promise);
    await expect(failing).rejects.toMatchObject({ name: 'SessionStoreError', operation: 'read' });
  });
});

describe('the remembered hashed names', () => {
  it('finds the names of the last 16,384 ids or more, and never holds more than two generations', () => {
    const store = new FilesStore({ directory, sweepInterval: 0 }, resolveCommonOptions({}));
    const limit = 2 * REMEMBERED_HASHES_PER_GENERATION;
    const ids = Array.from({ length: limit + 5000 }, () => newSessionId());
    const first = ids.slice(0, 10_000).map((id) => store.pathOf(id));
    // 10,000 users in turn: every one of their names is still remembered.
    expect(store.rememberedHashes).toBe(10_000);
    for (const id of ids.slice(10_000)) store.pathOf(id);
    expect(store.rememberedHashes).toBeLessThanOrEqual(limit);
    expect(store.rememberedHashes).toBeGreaterThanOrEqual(REMEMBERED_HASHES_PER_GENERATION);
    // A forgotten name is worked out again, the same.
    expect(ids.slice(0, 10_000).map((id) => store.pathOf(id))).toEqual(first);
    expect(store.rememberedHashes).toBeLessThanOrEqual(limit);
  });
});

describe('the remembered text of settled files', () => {
  function store(): FilesStore {
    const all: FilesOptions = { directory, sweepInterval: 0 };
    const made = new FilesStore(all, resolveCommonOptions(all));
    stores.push(made);
    return made;
  }
  const stores: FilesStore[] = [];
  afterEach(async () => {
    for (const made of stores.splice(0)) await made.close();
  });
  const inAnHour = () => Date.now() + 3600_000;
  /** Gives a file the modification time `seconds` (since the epoch), without touching its inode. */
  const setTime = (path: string, seconds: number) => utimesSync(path, seconds, seconds);
  /** Rewrites a file in place: the same inode, the same size, another text. */
  function editInPlace(path: string, from: string, to: string) {
    const text = readFileSync(path, 'utf8');
    expect(to.length).toBe(from.length);
    writeFileSync(path, text.replace(from, to));
  }

  it('a file changed in the clock tick it was read in (same inode, size and time) is read again, never taken from memory', async () => {
    const files = store();
    const id = newSessionId();
    await files.write(id, '{"n":1}', inAnHour());
    const path = files.pathOf(id);
    // A time a file system with coarse times could give both writes: this second, not settled.
    const tick = Math.floor(Date.now() / 1000);
    setTime(path, tick);
    expect(files.read(id, Date.now())?.data).toEqual({ n: 1 });
    const { ino } = statSync(path);
    editInPlace(path, '"n":1', '"n":2');
    setTime(path, tick);
    expect(statSync(path).ino).toBe(ino);
    expect(files.read(id, Date.now())?.data).toEqual({ n: 2 });
    expect(files.rememberedText).toBe(0);
  });

  it('a settled file is taken from memory while its inode, size and time are the same, and read again once another process has written it', async () => {
    const files = store();
    const other = store();
    const id = newSessionId();
    await files.write(id, '{"n":1}', inAnHour());
    const path = files.pathOf(id);
    const settled = Math.floor(Date.now() / 1000) - 60;
    setTime(path, settled);
    expect(files.read(id, Date.now())?.data).toEqual({ n: 1 });
    expect(files.rememberedText).toBeGreaterThan(0);
    // The probe: an edit in place that keeps the inode, the size and the time is not seen.
    editInPlace(path, '"n":1', '"n":7');
    setTime(path, settled);
    expect(files.read(id, Date.now())?.data).toEqual({ n: 1 });
    // Another process's write is a new file (a temp file renamed into place): read again.
    expect(await other.update(id, '{"n":2}', inAnHour(), '{"n":7}')).toBe('stored');
    expect(files.read(id, Date.now())?.data).toEqual({ n: 2 });
  });

  it("another process's logout of a remembered session: missing, and a write of it is refused", async () => {
    const files = store();
    const other = store();
    const id = newSessionId();
    await files.write(id, '{"n":1}', inAnHour());
    setTime(files.pathOf(id), Math.floor(Date.now() / 1000) - 60);
    expect(files.read(id, Date.now())?.data).toEqual({ n: 1 });
    await other.retire(id, inAnHour());
    expect(files.read(id, Date.now())).toBeUndefined();
    expect(await files.update(id, '{"n":2}', inAnHour(), '{"n":1}')).toBe('refused');
    expect(existsSync(files.pathOf(id))).toBe(false);
  });

  it('a symbolic link planted over a remembered file is not followed: missing, and the link is removed', async () => {
    const files = store();
    const id = newSessionId();
    await files.write(id, '{"user":"alice"}', inAnHour());
    const path = files.pathOf(id);
    setTime(path, Math.floor(Date.now() / 1000) - 60);
    expect(files.read(id, Date.now())?.data).toEqual({ user: 'alice' });
    const planted = join(root.path, 'planted.json');
    writeFileSync(planted, JSON.stringify({ expires: inAnHour(), data: { user: 'mallory' } }));
    unlinkSync(path);
    symlinkSync(planted, path);
    expect(files.read(id, Date.now())).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(planted, 'utf8')).toContain('mallory');
  });

  it('keeps no large file and a bounded amount of text, however many sessions are read', async () => {
    const files = store();
    const settled = Math.floor(Date.now() / 1000) - 60;
    const read = async (size: number, count: number) => {
      for (let index = 0; index < count; index++) {
        const id = newSessionId();
        await files.write(id, JSON.stringify({ blob: 'x'.repeat(size) }), inAnHour());
        setTime(files.pathOf(id), settled);
        expect(files.read(id, Date.now())?.data).toEqual({ blob: 'x'.repeat(size) });
      }
    };
    await read(REMEMBERED_TEXT_PER_GENERATION / 32, 4);
    expect(files.rememberedText).toBe(0);
    await read(REMEMBERED_TEXT_PER_GENERATION / 128, 600);
    expect(files.rememberedText).toBeGreaterThan(0);
    expect(files.rememberedText).toBeLessThanOrEqual(2.1 * REMEMBERED_TEXT_PER_GENERATION);
  });
});

describe('hostile session ids touch nothing outside the sessions folder', () => {
  const valid = newSessionId();
  const hostile = [
    '../../x',
    '../sentinel.txt',
    '..%2f..%2fsentinel.txt',
    '%2e%2e',
    '%2e%2e%2fsentinel',
    '..',
    '.',
    '',
    '/etc/passwd',
    `${valid.slice(0, 40)}/..`,
    `../${valid.slice(3)}`,
    `${valid}/../../sentinel.txt`,
    'a'.repeat(10_000),
    'é'.repeat(43),
    '\u202e'.repeat(43),
    'a\u0000b',
    `${valid.slice(0, 42)}\u0000`,
    'sentinel.txt',
  ];

  it.each(hostile.map((id) => [JSON.stringify(id.length > 60 ? `${id.slice(0, 20)}…(${id.length})` : id), id]))(
    '%s',
    async (_, id) => {
      const manager = filesManager();
      writeFileSync(join(directory, 'emt_.sess'), 'a file a hostile id might aim at');
      const before = snapshot(root.path);
      // Read, write, and destroy with the hostile cookie.
      const loaded = await manager.load(`emt_session=${id}`);
      expect(loaded.isNew).toBe(true);
      expect(loaded.id).not.toBe(id);
      const destroyed = manager.commit(loaded);
      await destroyed.persist?.();
      expect(snapshot(root.path)).toEqual(before);

      const jar = new CookieJar();
      jar.cookies.set('emt_session', id);
      const { state } = await exchange(manager, jar, (s) => {
        s.data.n = 1;
      });
      expect(state.id).not.toBe(id);
      const after = snapshot(root.path);
      // The new session's file is the one change (and the folder's mtime, because of it).
      expect(after.has(join('sessions', sessionName(state.id)))).toBe(true);
      after.delete(join('sessions', sessionName(state.id)));
      after.delete('sessions');
      before.delete('sessions');
      expect(after).toEqual(before);
    },
  );
});

describe('damaged and expired files', () => {
  async function storedSession(manager: SessionManager<Data>, now?: number) {
    const jar = new CookieJar();
    const { state } = await exchange(
      manager,
      jar,
      (s) => {
        s.data.user = { name: 'ada', note: 'x'.repeat(200) };
      },
      now,
    );
    return { jar, id: state.id, path: sessionFile(state.id) };
  }

  it('a truncated file is a fresh session, and is deleted', async () => {
    const manager = filesManager();
    const { jar, id, path } = await storedSession(manager);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const state = await manager.load(jar.header());
    expect(state.isNew).toBe(true);
    expect(state.record).toEqual({});
    expect(state.id).not.toBe(id);
    expect(existsSync(path)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not JSON', 'garbage \u0000\u00ff'],
    ['an array', '[1,2]'],
    ['no expiry', '{"data":{"n":1}}'],
    ['an expiry that is not a number', '{"expires":"2999-01-01","data":{"n":1}}'],
    ['no data', `{"expires":${Date.now() + 60_000}}`],
    ['data that is an array', `{"expires":${Date.now() + 60_000},"data":[1]}`],
    ['data that is null', `{"expires":${Date.now() + 60_000},"data":null}`],
  ])('a file with %s is a fresh session, and is deleted', async (_, contents) => {
    const manager = filesManager();
    const { jar, path } = await storedSession(manager);
    writeFileSync(path, contents);
    const state = await manager.load(jar.header());
    expect(state.isNew).toBe(true);
    expect(state.record).toEqual({});
    expect(existsSync(path)).toBe(false);
  });

  it('an expired file is missing, and is deleted', async () => {
    const manager = filesManager({ expire: 60 });
    const t0 = Date.now();
    const { jar, path } = await storedSession(manager, t0);
    expect((await manager.load(jar.header(), t0 + 59_000)).isNew).toBe(false);
    expect(existsSync(path)).toBe(true);
    const state = await manager.load(jar.header(), t0 + 60_001);
    expect(state.isNew).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});

describe('sweep', () => {
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);
  const stores: FilesStore[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });
  function sweeper(options: FilesOptions = {}): FilesStore {
    const all = { directory, sweepInterval: 0, ...options };
    const store = new FilesStore(all, resolveCommonOptions(all));
    stores.push(store);
    return store;
  }

  it('deletes expired session files and orphaned temp files, and keeps live ones and other files', async () => {
    const manager = filesManager();
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { state } = await exchange(manager, new CookieJar(), (s) => {
        s.data.i = i;
      });
      stored.push(state.id);
    }
    const [old, live, alsoLive] = stored as [string, string, string];
    utimesSync(sessionFile(old), hoursAgo(2), hoursAgo(2));
    utimesSync(sessionFile(alsoLive), hoursAgo(0.5), hoursAgo(0.5));
    writeFileSync(join(directory, '.0123456789abcdef.tmp'), '{');
    utimesSync(join(directory, '.0123456789abcdef.tmp'), hoursAgo(1), hoursAgo(1));
    writeFileSync(join(directory, '.fedcba9876543210.tmp'), '{');
    writeFileSync(join(directory, 'notes.txt'), 'mine');
    utimesSync(join(directory, 'notes.txt'), hoursAgo(48), hoursAgo(48));

    await sweeper().sweep();
    expect(readdirSync(directory).sort()).toEqual(
      ['.fedcba9876543210.tmp', '.sessions-key', sessionName(live), sessionName(alsoLive), 'notes.txt'].sort(),
    );
  });

  it('with a one-character prefix, still deletes only session files (a bare %s is refused)', async () => {
    const manager = filesManager({ filenameTemplate: 's%s' });
    const { state } = await exchange(manager, new CookieJar(), (s) => {
      s.data.n = 1;
    });
    utimesSync(sessionFileOf(directory, state.id, 's%s'), hoursAgo(2), hoursAgo(2));
    const others = ['notes.txt', 'README', 'a'.repeat(43), `s${'a'.repeat(42)}`, `s${'x'.repeat(43)}.bak`];
    for (const name of others) {
      writeFileSync(join(directory, name), 'mine');
      utimesSync(join(directory, name), hoursAgo(48), hoursAgo(48));
    }
    await sweeper({ filenameTemplate: 's%s' }).sweep();
    expect(readdirSync(directory).sort()).toEqual([...others, '.sessions-key'].sort());
  });

  it('runs by itself every sweepInterval seconds, and stops on close', async () => {
    // The interval's clock is the test's: time moves when the test says, not while it sleeps.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const manager = filesManager({ sweepInterval: 0.2 });
      const { state } = await exchange(manager, new CookieJar(), (s) => {
        s.data.n = 1;
      });
      utimesSync(sessionFile(state.id), hoursAgo(2), hoursAgo(2));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(199);
      expect(existsSync(sessionFile(state.id))).toBe(true);
      vi.advanceTimersByTime(1);
      // The sweep's file system work is real: wait for its outcome, not for a time.
      await vi.waitFor(() => expect(existsSync(sessionFile(state.id))).toBe(false));
      await manager.close();
      // Closed: no timer is left to sweep again (or to keep the process alive).
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('retired ids', () => {
  function store(): FilesStore {
    const all: FilesOptions = { directory, sweepInterval: 0 };
    return new FilesStore(all, resolveCommonOptions(all));
  }

  it("a write whose check ran before another process's retirement finds the marker after its rename, and takes its file back out", async () => {
    const manager = filesManager();
    const { state } = await exchange(manager, new CookieJar(), (s) => {
      s.data.n = 1;
    });
    const files = store();
    // The other process has left its marker and is about to delete the file: this write's check
    // (the file exists) passes, its rename lands, and then it sees the marker.
    writeFileSync(files.markerOf(state.id), '');
    expect(await files.update(state.id, '{"n":2}', Date.now() + 60_000, '{"n":1}')).toBe('refused');
    expect(existsSync(sessionFile(state.id))).toBe(false);
    await files.close();
  });

  it('the sweep deletes a marker once a session written when it was left would have expired', async () => {
    const manager = filesManager({ expire: 3600 });
    const jar = new CookieJar();
    const { state } = await exchange(manager, jar, (s) => {
      s.data.n = 1;
    });
    await exchange(manager, jar, (s) => s.destroy());
    const files = store();
    const marker = files.markerOf(state.id);
    expect(existsSync(marker)).toBe(true);
    await files.sweep(Date.now() + 3599_000);
    expect(existsSync(marker)).toBe(true);
    await files.sweep(Date.now() + 3601_000);
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(directory)).toEqual(['.sessions-key']);
    await files.close();
  });
});
