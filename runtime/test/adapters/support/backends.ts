import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SessionManager } from '../../../src/manager.js';

export const BACKENDS = ['cookies', 'files', 'redis'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export const SECRET = 'adapter-tests-secret-0123456789-abcdefghij';

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

/**
 * The commands redis receives for keys under a prefix, seen through a MONITOR connection. `settle`
 * sends a marker and waits until MONITOR has seen it, so every earlier command has been seen too.
 */
export async function monitorRedis(redisUrl: string, prefix: string) {
  const monitorClient = new Redis(redisUrl);
  const markerClient = new Redis(redisUrl);
  const monitor = await monitorClient.monitor();
  const seen: string[][] = [];
  const waiting = new Map<string, () => void>();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const release = waiting.get(args[1] ?? '');
    if (release) release();
    else if (args.some((arg) => arg.startsWith(prefix))) seen.push(args);
  });
  return {
    /** The command names seen so far, for example ['EVAL', 'GET', 'PTTL', 'SET']. */
    commands: () => seen.map((args) => args[0]?.toUpperCase() ?? ''),
    clear: () => {
      seen.length = 0;
    },
    async settle(): Promise<void> {
      const marker = `${prefix}marker:${randomUUID()}`;
      const markerSeen = new Promise<void>((resolve) => waiting.set(marker, resolve));
      await markerClient.exists(marker);
      await markerSeen;
      waiting.delete(marker);
    },
    close(): void {
      monitor.disconnect();
      monitorClient.disconnect();
      markerClient.disconnect();
    },
  };
}
