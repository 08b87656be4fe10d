import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { CookieJar } from './cookie-jar.js';
import type { CommitPlan } from '../../src/backends/backend.js';
import { FilesStore } from '../../src/backends/files.js';
import { SessionManager } from '../../src/manager.js';
import type { FilesOptions } from '../../src/backends/files-options.js';
import type { RedisOptions } from '../../src/backends/redis-options.js';
import { type CommonOptions, resolveCommonOptions } from '../../src/options.js';
import type { SessionState } from '../../src/state.js';
// The global setup declares the `redisUrl` that `inject` returns.
import type {} from './global-setup.js';

export { CookieJar };

/** A secret long enough for the cookies backend (tests only). */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmn';

/** Untyped session data, for tests that use arbitrary keys. */
export type Data = Record<string, unknown>;

export interface Exchange {
  state: SessionState<Data>;
  plan: CommitPlan;
}

/**
 * One request through the core, as an adapter does it: load from the jar's Cookie header, let
 * `handle` touch the session, commit, await the store work, keep the Set-Cookie values in the jar.
 */
export async function exchange(
  manager: SessionManager<Data>,
  jar: CookieJar,
  handle?: (state: SessionState<Data>) => void,
  now?: number,
): Promise<Exchange> {
  const state = await manager.load(jar.header(), now);
  handle?.(state);
  const plan = manager.commit(state, now);
  await plan.persist?.();
  jar.store(plan.setCookies);
  return { state, plan };
}

/**
 * Where the files backend keeps a session: the folder's key hashes the id into the file name, so
 * tests ask the store (a FilesStore on the same folder reads the same key) instead of building it.
 */
export function sessionFileOf(directory: string, id: string, filenameTemplate?: string): string {
  const options: FilesOptions = { directory, sweepInterval: 0, filenameTemplate };
  return new FilesStore(options, resolveCommonOptions(options)).pathOf(id);
}

/** A temp folder removed after the test file. */
export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `csm-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The shared test redis (started by the global setup). */
export function redisUrl(): string {
  return inject('redisUrl');
}

let prefixCounter = 0;
/** A key prefix no other test (or test file running in parallel) uses. */
export function uniquePrefix(label: string): string {
  prefixCounter += 1;
  return `csmtest:${label}:${process.pid}:${Date.now().toString(36)}:${prefixCounter}:`;
}

/** Everything a test needs to run the same scenario against each backend and look at its storage. */
export interface BackendFixture {
  readonly kind: 'cookies' | 'files' | 'redis';
  make(options?: CommonOptions): SessionManager<Data>;
  /**
   * What the store holds, one entry per session (always empty for cookies, which store nothing
   * server-side): ids for redis, file names for files (which are a hash of the id).
   */
  storedIds(): Promise<string[]>;
  /** Whether the store holds a live session for `id`. */
  holds(id: string): Promise<boolean>;
  /** Removes a session from the store behind the manager's back, as an expiry or a sweep would. */
  forget(id: string): Promise<void>;
  dispose(): Promise<void>;
}

export function cookiesFixture(): BackendFixture {
  return {
    kind: 'cookies',
    make: (options = {}) => SessionManager.cookies<Data>(SECRET, options),
    storedIds: async () => [],
    holds: async () => false,
    forget: async () => {},
    dispose: async () => {},
  };
}

export function filesFixture(): BackendFixture & { directory: string } {
  const dir = tempDir('files');
  const managers: SessionManager<Data>[] = [];
  return {
    kind: 'files',
    directory: dir.path,
    make: (options = {}) => {
      const manager = SessionManager.files<Data>({ directory: dir.path, ...(options as FilesOptions) });
      managers.push(manager);
      return manager;
    },
    storedIds: async () => {
      return readdirSync(dir.path)
        .filter((name) => name.startsWith('emt_') && name.endsWith('.sess'))
        .sort();
    },
    holds: async (id) => existsSync(sessionFileOf(dir.path, id)),
    forget: async (id) => {
      rmSync(sessionFileOf(dir.path, id), { force: true });
    },
    dispose: async () => {
      for (const manager of managers) await manager.close();
      dir.remove();
    },
  };
}

export function redisFixture(label: string): BackendFixture & { client: Redis; prefix: string } {
  const client = new Redis(redisUrl());
  const prefix = uniquePrefix(label);
  return {
    kind: 'redis',
    client,
    prefix,
    make: (options = {}) => SessionManager.redis<Data>(client, { prefix, ...(options as RedisOptions) }),
    // Keys holding a session: a retired id's key holds a tombstone, which is no session.
    storedIds: async () => {
      const keys = await client.keys(`${prefix}*`);
      const values = keys.length === 0 ? [] : await client.mget(...keys);
      return keys
        .filter((_, index) => values[index]?.startsWith('{'))
        .map((key) => key.slice(prefix.length))
        .sort();
    },
    holds: async (id) => (await client.get(prefix + id))?.startsWith('{') === true,
    forget: async (id) => {
      await client.del(prefix + id);
    },
    dispose: async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
}

/** The value of a Set-Cookie line's attribute (case-insensitive name), or undefined when absent. */
export function cookieAttribute(setCookie: string, name: string): string | undefined {
  for (const part of setCookie.split(';').slice(1)) {
    const [key = '', ...rest] = part.trim().split('=');
    if (key.toLowerCase() === name.toLowerCase()) return rest.join('=');
  }
  return undefined;
}

/** The name=value pair of a Set-Cookie line. */
export function cookiePair(setCookie: string): { name: string; value: string } {
  const pair = setCookie.split(';')[0] ?? '';
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
}
