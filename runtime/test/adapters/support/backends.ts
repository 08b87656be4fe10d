import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { SessionManager } from '../../../src/manager.js';
import type { FilesOptions } from '../../../src/backends/files-options.js';
import { cookiesFixture, filesFixture, redisFixture, SECRET } from '../../support/harness.js';

export const BACKENDS = ['cookies', 'files', 'redis'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export { SECRET };

export interface TestBackend {
  readonly kind: BackendKind;
  readonly manager: SessionManager;
  /** The session files' folder (files backend). */
  readonly directory?: string;
  /** The key prefix (redis backend). */
  readonly prefix?: string;
  readonly redis?: Redis;
  close(): Promise<void>;
}

/**
 * A manager over a fresh place of its own (a temp folder, a unique redis prefix, the test secret),
 * built by the harness's fixtures: the one way the tests make a manager per backend.
 */
export function createBackend(kind: BackendKind): TestBackend {
  switch (kind) {
    case 'cookies': {
      const fixture = cookiesFixture();
      return { kind, manager: fixture.make() as SessionManager, close: () => fixture.dispose() };
    }
    case 'files': {
      const fixture = filesFixture();
      const manager = fixture.make({ sweepInterval: 0 } as FilesOptions) as SessionManager;
      return { kind, manager, directory: fixture.directory, close: () => fixture.dispose() };
    }
    case 'redis': {
      const fixture = redisFixture('adapters');
      const { client: redis, prefix } = fixture;
      return { kind, manager: fixture.make() as SessionManager, prefix, redis, close: () => fixture.dispose() };
    }
  }
}

/** Name, inode and mtime of every file in a folder: any write (temp file + rename) changes it. */
export function snapshotFolder(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .map((name) => {
      const { ino, mtimeMs } = statSync(join(directory, name));
      return `${name} ${ino} ${mtimeMs}`;
    });
}

/** The MONITOR watch every redis test shares. */
export { watchRedis as monitorRedis } from '../../support/redis-monitor.js';
