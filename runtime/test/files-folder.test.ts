import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionConfigError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import type { FilesOptions } from '../src/backends/files-options.js';
import { CookieJar, type Data, exchange, tempDir } from './support/harness.js';

const REPO = new URL('../../', import.meta.url);
const run = promisify(execFile);

let root: ReturnType<typeof tempDir>;
let directory: string;
const managers: SessionManager<Data>[] = [];
beforeEach(() => {
  root = tempDir('files-folder');
  directory = join(root.path, 'sessions');
});
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
  root.remove();
});

function filesManager(options: FilesOptions = {}): SessionManager<Data> {
  const manager = SessionManager.files<Data>({ directory, sweepInterval: 0, ...options });
  managers.push(manager);
  return manager;
}

/** The session files in the folder: every name that is not hidden (key, temp files, markers). */
const sessionNames = () => readdirSync(directory).filter((name) => !name.startsWith('.'));

async function storedSession(manager: SessionManager<Data>) {
  const jar = new CookieJar();
  const { state } = await exchange(manager, jar, (s) => {
    s.data.user = 'alice';
  });
  const [name] = sessionNames();
  return { jar, id: state.id, path: join(directory, name as string) };
}

describe('file names', () => {
  it('are a keyed hash of the id: the id appears in no name and in no file', async () => {
    const manager = filesManager();
    const { jar, id } = await storedSession(manager);
    const names = readdirSync(directory);
    expect(names.join('\n')).not.toContain(id);
    for (const name of names) expect(readFileSync(join(directory, name), 'latin1')).not.toContain(id);
    expect(sessionNames()).toEqual([expect.stringMatching(/^emt_[A-Za-z0-9_-]{43}\.sess$/)]);
    expect((await manager.load(jar.header())).data.user).toBe('alice');
  });

  it("the key is the folder's own (.sessions-key, 0600), shared by every manager on the folder", async () => {
    const { jar, path } = await storedSession(filesManager());
    expect(statSync(join(directory, '.sessions-key')).mode & 0o777).toBe(0o600);
    expect((await filesManager().load(jar.header())).data.user).toBe('alice');
    // The same file under the same name in another folder (another key) is no session there.
    const other = join(root.path, 'other');
    const elsewhere = SessionManager.files<Data>({ directory: other, sweepInterval: 0 });
    managers.push(elsewhere);
    copyFileSync(path, join(other, basename(path)));
    expect((await elsewhere.load(jar.header())).isNew).toBe(true);
  });

  it('filenameTemplate keeps its meaning around the hash', async () => {
    const manager = filesManager({ filenameTemplate: 'sess-%s.json' });
    const { jar } = await storedSession(manager);
    expect(sessionNames()).toEqual([expect.stringMatching(/^sess-[A-Za-z0-9_-]{43}\.json$/)]);
    expect((await manager.load(jar.header())).data.user).toBe('alice');
  });

  it('a damaged key file is a SessionConfigError that says what to do', () => {
    mkdirSync(directory, { mode: 0o700 });
    writeFileSync(join(directory, '.sessions-key'), 'short\n', { mode: 0o600 });
    expect(() => filesManager()).toThrow(SessionConfigError);
    expect(() => filesManager()).toThrow(/damaged\. Delete it/);
  });
});

describe('a folder others can write to is refused at start-up', () => {
  it.each([
    [0o770, 'its group', '0770'],
    [0o777, 'its group', '0777'],
    [0o702, 'other users', '0702'],
  ])('mode %#: a SessionConfigError naming the problem and the fixes', (mode, who, shown) => {
    mkdirSync(directory);
    chmodSync(directory, mode);
    let error: unknown;
    try {
      filesManager();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as Error).message).toContain(`can be written by ${who} (mode ${shown})`);
    expect((error as Error).message).toContain(`chmod 700 ${directory}`);
    expect((error as Error).message).toContain('allowSharedDirectory: true');
    expect(readdirSync(directory)).toEqual([]);
  });

  it('allowSharedDirectory: true is the explicit opt-out', async () => {
    mkdirSync(directory);
    chmodSync(directory, 0o777);
    const manager = filesManager({ allowSharedDirectory: true });
    const { jar } = await storedSession(manager);
    expect((await manager.load(jar.header())).data.user).toBe('alice');
  });
});

describe('something planted where a session file goes', () => {
  it('a symbolic link is not followed: a fresh session, and the link is removed', async () => {
    const manager = filesManager();
    const { jar, path } = await storedSession(manager);
    const planted = join(root.path, 'planted.json');
    writeFileSync(planted, JSON.stringify({ expires: Date.now() + 60_000, data: { user: 'mallory' } }));
    unlinkSync(path);
    symlinkSync(planted, path);
    const state = await manager.load(jar.header());
    expect(state.isNew).toBe(true);
    expect(state.data.user).toBeUndefined();
    expect(sessionNames()).toEqual([]);
    expect(readFileSync(planted, 'utf8')).toContain('mallory');
  });

  it('a folder is no session either, and is left alone', async () => {
    const manager = filesManager();
    const { jar, path } = await storedSession(manager);
    unlinkSync(path);
    mkdirSync(path);
    expect((await manager.load(jar.header())).isNew).toBe(true);
    expect(statSync(path).isDirectory()).toBe(true);
  });

  it.each([
    ['', false],
    [', also in place of a file this process has read and remembers', true],
  ])('a FIFO does not hang the process: a fresh session, and the FIFO is removed%s', async (_, remembered) => {
    // In a child process, so that a read that blocks fails this test by its timeout instead of
    // freezing the test runner.
    const loader = new URL('node_modules/tsx/dist/loader.mjs', REPO).href;
    const managerModule = new URL('runtime/src/manager.ts', REPO).href;
    const script = `
      import { execFileSync } from 'node:child_process';
      import { readdirSync, unlinkSync, utimesSync } from 'node:fs';
      import { basename, join } from 'node:path';
      const { SessionManager } = await import(${JSON.stringify(managerModule)});
      const directory = ${JSON.stringify(directory)};
      const manager = SessionManager.files({ directory, sweepInterval: 0 });
      const state = await manager.load(undefined);
      state.data.user = 'alice';
      await manager.commit(state).persist();
      const path = join(directory, readdirSync(directory).find((name) => !name.startsWith('.')));
      if (${remembered}) {
        // Settled a minute ago and read once: the store remembers its text.
        const settled = Math.floor(Date.now() / 1000) - 60;
        utimesSync(path, settled, settled);
        if ((await manager.load('emt_session=' + state.id)).data.user !== 'alice') throw new Error('not read');
      }
      unlinkSync(path);
      execFileSync('mkfifo', [path]);
      const again = await manager.load('emt_session=' + state.id);
      const left = readdirSync(directory).filter((name) => !name.startsWith('.'));
      console.log(JSON.stringify({ isNew: again.isNew, user: again.data.user ?? null, left }));
      await manager.close();`;
    const { stdout } = await run(process.execPath, ['--import', loader, '--input-type=module', '-e', script], {
      timeout: 15_000,
    });
    expect(JSON.parse(stdout)).toEqual({ isNew: true, user: null, left: [] });
  });
});
