import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SessionManager } from '../../../src/manager.js';
import { SECRET } from '../../support/harness.js';

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

/** A manager over a fresh place of its own: a temp folder, a unique redis prefix, or the shared test secret. */
export function createBackend(kind: BackendKind, redisUrl: string): TestBackend {
  switch (kind) {
    case 'cookies':
      return { kind, manager: SessionManager.cookies(SECRET), close: async () => {} };
    case 'files': {
      const directory = mkdtempSync(join(tmpdir(), 'csm-adapters-'));
      const manager = SessionManager.files({ directory, sweepInterval: 0 });
      return {
        kind,
        manager,
        directory,
        close: async () => {
          await manager.close();
          rmSync(directory, { recursive: true, force: true });
        },
      };
    }
    case 'redis': {
      const redis = new Redis(redisUrl);
      const prefix = `csm-adapters:${randomUUID()}:`;
      const manager = SessionManager.redis(redis, { prefix });
      return {
        kind,
        manager,
        prefix,
        redis,
        close: async () => {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          redis.disconnect();
        },
      };
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
