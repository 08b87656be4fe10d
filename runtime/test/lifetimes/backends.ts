import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SessionManager } from '../../src/manager.js';
import type { CookiesOptions } from '../../src/backends/cookies-options.js';
import type { FilesOptions } from '../../src/backends/files-options.js';
import type { RedisOptions } from '../../src/backends/redis-options.js';
import { redisUrl, SECRET, uniquePrefix } from '../support/harness.js';

export const BACKENDS = ['cookies', 'files', 'redis'] as const;
export type BackendKind = (typeof BACKENDS)[number];

/** A clock the test moves by hand: expiry is decided by it, never by waiting. */
export class TestClock {
  now = Date.now();
  readonly read = (): number => this.now;
  advance(seconds: number): void {
    this.now += seconds * 1000;
  }
}

export type AnyOptions = CookiesOptions & FilesOptions & RedisOptions;

export interface Place {
  readonly kind: BackendKind;
  /** A manager over this place (the same folder, prefix or secret each time), with the test clock. */
  make(options?: AnyOptions): SessionManager;
  readonly directory: string;
  readonly prefix: string;
  readonly redis: Redis;
  dispose(): Promise<void>;
}

/** A fresh temp folder, redis prefix and clock for one test: real files, a real redis-server. */
export function place(kind: BackendKind, clock: TestClock): Place {
  const directory = mkdtempSync(join(tmpdir(), 'csm-lifetimes-'));
  const prefix = uniquePrefix('lifetimes');
  const redis = new Redis(redisUrl());
  const managers: SessionManager[] = [];
  return {
    kind,
    directory,
    prefix,
    redis,
    make: (options = {}) => {
      const common = { clock: clock.read, ...options };
      const manager =
        kind === 'cookies'
          ? SessionManager.cookies(SECRET, common)
          : kind === 'files'
            ? SessionManager.files({ directory, sweepInterval: 0, ...common })
            : SessionManager.redis(redis, { prefix, ...common });
      managers.push(manager);
      return manager;
    },
    dispose: async () => {
      for (const manager of managers) await manager.close();
      rmSync(directory, { recursive: true, force: true });
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
