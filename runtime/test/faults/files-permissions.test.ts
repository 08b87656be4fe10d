import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { bundleForAnyone, isRoot, linesOf, NOBODY, spawnAsUser } from './support/as-user.js';

/**
 * The files backend against a real file system that refuses it: a folder that belongs to someone
 * else, a folder the app can no longer read, one it can no longer write. The app runs as `nobody`
 * (root ignores permissions), in its own process.
 */
let fixture: Awaited<ReturnType<typeof bundleForAnyone>>;
let parent: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fixture = await bundleForAnyone(new URL('./fixtures/files-server.ts', import.meta.url).pathname);
});
afterAll(() => fixture.remove());

let directory: string;
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
  chmodSync(directory, 0o700);
  rmSync(parent, { recursive: true, force: true });
});

/** A parent folder everyone may enter, and a sessions folder in it owned by the app's user. */
function sessionsFolder(owner: 'app' | 'root'): string {
  parent = mkdtempSync(join(tmpdir(), 'csm-perm-'));
  chmodSync(parent, 0o755);
  directory = join(parent, 'sessions');
  mkdirSync(directory, { mode: 0o700 });
  if (owner === 'app' && isRoot) chownSync(directory, NOBODY.uid, NOBODY.gid);
  if (owner === 'root') chmodSync(directory, 0o755);
  return directory;
}

async function check(dir: string): Promise<{ ok?: true; error?: { name: string; message: string } }> {
  const child = spawnAsUser(fixture.file, ['check'], { DIRECTORY: dir });
  children.push(child);
  const lines = linesOf(child);
  const { value } = await lines.next();
  return JSON.parse(value as string);
}

interface Report {
  name: string;
  code: string;
  operation?: string;
  typed: boolean;
}

/** The app as `nobody`, with the errors it reports to onError. */
async function serve(dir: string): Promise<{ url: string; reports: Report[] }> {
  const child = spawnAsUser(fixture.file, ['serve'], { DIRECTORY: dir });
  children.push(child);
  const lines = linesOf(child);
  const first = await lines.next();
  const url = /^listening (.*)$/.exec(first.value as string)?.[1];
  if (url === undefined) throw new Error(`the app did not start: ${first.value}`);
  const reports: Report[] = [];
  void (async () => {
    for (let line = await lines.next(); !line.done; line = await lines.next()) {
      reports.push((JSON.parse(line.value) as { reported: Report }).reported);
    }
  })();
  return { url, reports };
}

const storeError = (operation: string) => ({
  name: 'SessionStoreError',
  code: 'SESSION_STORE',
  operation,
  typed: true,
});

describe('a sessions folder owned by another user', () => {
  it.skipIf(!isRoot)(
    'is refused at start-up with a SessionConfigError that says how to fix it (needs root to run as nobody)',
    async () => {
      // Made by root, mode 0755: nobody may read it, and must not trust it.
      const dir = sessionsFolder('root');
      const result = await check(dir);
      expect(result.error?.name).toBe('SessionConfigError');
      expect(result.error?.message).toContain(`belongs to another user (uid 0; this process runs as ${NOBODY.uid})`);
      expect(result.error?.message).toContain(`chown ${NOBODY.uid} ${dir}`);
      expect(result.error?.message).toContain('allowSharedDirectory: true');
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('its own folder is accepted', async () => {
    expect(await check(sessionsFolder('app'))).toEqual({ ok: true });
  });
});

describe('store errors on a real file system: a typed SessionStoreError and a 503', () => {
  it('a folder the app can no longer read: the load fails', async () => {
    const dir = sessionsFolder('app');
    const { url, reports } = await serve(dir);
    const jar = new CookieJar();
    expect((await jar.get(`${url}/login`)).body).toBe('alice');
    chmodSync(dir, 0o000);
    const denied = await jar.get(`${url}/whoami`);
    expect(denied.status).toBe(503);
    expect(denied.setCookies).toEqual([]);
    await vi.waitFor(() => expect(reports).toEqual([storeError('read')]));
    chmodSync(dir, 0o700);
    expect((await jar.get(`${url}/whoami`)).body).toBe('alice');
  });

  it('a folder the app can no longer write: a logout fails, and the user is still logged in, as the 503 said', async () => {
    const dir = sessionsFolder('app');
    const { url, reports } = await serve(dir);
    const jar = new CookieJar();
    await jar.get(`${url}/login`);
    chmodSync(dir, 0o500);
    const logout = await jar.get(`${url}/logout`);
    expect(logout.status).toBe(503);
    expect(logout.setCookies).toEqual([]);
    await vi.waitFor(() => expect(reports).toEqual([storeError('delete')]));
    chmodSync(dir, 0o700);
    expect((await jar.get(`${url}/whoami`)).body).toBe('alice');
  });

  it('a regenerate whose old id cannot be retired writes no new id: a 503, and the session as it was', async () => {
    const dir = sessionsFolder('app');
    const { url, reports } = await serve(dir);
    const jar = new CookieJar();
    await jar.get(`${url}/login`);
    const sessionFiles = () => readdirSync(dir).filter((name) => !name.startsWith('.'));
    expect(sessionFiles()).toHaveLength(1);
    chmodSync(dir, 0o500);
    const regenerate = await jar.get(`${url}/regenerate`);
    expect(regenerate.status).toBe(503);
    expect(regenerate.setCookies).toEqual([]);
    await vi.waitFor(() => expect(reports).toEqual([storeError('delete')]));
    chmodSync(dir, 0o700);
    expect(sessionFiles()).toHaveLength(1);
    expect((await jar.get(`${url}/whoami`)).body).toBe('alice');
  });
});
