import type { RedisClient } from './backends/redis.js';
import { RedisStore } from './backends/redis.js';
import { DEFAULTS, resolveCommonOptions } from './options.js';

/**
 * Where the cookies backend records the session ids that `destroy()` (logout) and `regenerate()`
 * retired. A sealed cookie is valid on its own until it expires, so without such a list a cookie
 * captured before logout still opens the old session; with one, a retired id reads as a fresh session.
 *
 * `revoke(id, expiresAt)` runs as the commit's store step (awaited before the response goes out; a
 * failure is a 503, so a logout never looks successful when it was not). `isRevoked(id)` runs on every
 * load of a cookie that opens; a rejection is answered like a store outage. An id need only be kept
 * until `expiresAt` (ms since the epoch): after that the cookie is refused as expired anyway.
 */
export interface RevocationList {
  isRevoked(id: string): boolean | Promise<boolean>;
  revoke(id: string, expiresAt: number): void | Promise<void>;
}

/**
 * Revoked ids in this process's memory: enough for an app that runs as one process. Lost on restart,
 * and not shared between processes or servers: use RedisRevocationList for those.
 */
export class MemoryRevocationList implements RevocationList {
  private readonly revoked = new Map<string, number>();
  private pruneAt = 1024;

  isRevoked(id: string): boolean {
    const expiresAt = this.revoked.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt > Date.now()) return true;
    this.revoked.delete(id);
    return false;
  }

  revoke(id: string, expiresAt: number): void {
    if (expiresAt <= Date.now()) return;
    this.revoked.set(id, expiresAt);
    // Entries are dropped once expired; pruning when the map doubles keeps that O(1) per revoke.
    if (this.revoked.size >= this.pruneAt) {
      const now = Date.now();
      for (const [key, until] of this.revoked) if (until <= now) this.revoked.delete(key);
      this.pruneAt = Math.max(1024, this.revoked.size * 2);
    }
  }

  /** How many ids are held (expired ones included until the next prune). */
  get size(): number {
    return this.revoked.size;
  }
}

export interface RedisRevocationOptions {
  /** Prefix of the revocation keys. Default 'emtrevoked:'. */
  prefix?: string;
  /** Milliseconds after which a redis command counts as failed. Default 2000. */
  commandTimeout?: number;
}

/**
 * Revoked ids in redis, shared by every process and server of the app: `SET prefix+id {} EX <seconds
 * until the cookie would expire>` on revoke, a lookup on load. Commands are bounded and fail fast like
 * the redis store's, with a SessionStoreError (the adapters answer 503).
 */
export class RedisRevocationList implements RevocationList {
  private readonly store: RedisStore;

  constructor(client: RedisClient, options: RedisRevocationOptions = {}) {
    // The session store's bounded, fail-fast commands, reused: a revoked id is a key holding `{}`.
    this.store = new RedisStore(
      client,
      { prefix: options.prefix ?? 'emtrevoked:', commandTimeout: options.commandTimeout ?? DEFAULTS.commandTimeout },
      resolveCommonOptions({}),
    );
  }

  async isRevoked(id: string): Promise<boolean> {
    return (await this.store.read(id, Date.now())) !== undefined;
  }

  async revoke(id: string, expiresAt: number): Promise<void> {
    if (expiresAt > Date.now()) await this.store.write(id, '{}', expiresAt);
  }
}
