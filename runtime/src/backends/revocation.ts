import { userKey } from '../ids.js';
import type { ResolvedCommonOptions } from '../options.js';
import { type RedisClient, RedisStore } from './redis.js';
import { REDIS_DEFAULTS } from './redis-options.js';

/**
 * Where the cookies backend records the session ids that `destroy()` (logout) and `regenerate()`
 * retired. A sealed cookie is valid on its own until it expires, so without such a list a cookie
 * captured before logout still opens the old session; with one, a retired id reads as a fresh session.
 *
 * `revoke(id, lifetime, now)` runs as the commit's store step (awaited before the response goes out;
 * a failure is a 503, so a logout never looks successful when it was not): the id must then read as
 * revoked for at least `lifetime` ms from `now`, the longest any copy of its cookie can still live
 * (see `revocationLifetime`); a second revoke of the same id must not shorten the first.
 * `isRevoked(id, now)` runs on every load of a cookie that opens; a rejection is answered like a store
 * outage. A list that answers synchronously is also asked when a loaded session is about to be
 * sealed again, so a request in flight during a logout does not re-seal the retired id. `now` is the
 * manager's clock (ms since the epoch; `Date.now()` unless the `clock` option says otherwise).
 */
export interface RevocationList {
  isRevoked(id: string, now: number): boolean | Promise<boolean>;
  revoke(id: string, lifetime: number, now: number): void | Promise<void>;
  /**
   * Sign out everywhere (`manager.revokeUser`): records that every session tied to `userId` at or
   * before `now` is revoked, for at least `lifetime` ms. A later call moves the time forward.
   */
  revokeUser?(userId: string, lifetime: number, now: number): void | Promise<void>;
  /** When `userId`'s sessions were last revoked (ms since the epoch), or undefined. */
  userRevokedAt?(userId: string, now: number): number | undefined | Promise<number | undefined>;
}

/**
 * How long (ms) a retired id must stay revoked: the latest expiry any copy of its cookie could ever
 * reach, counted from the moment the revocation is recorded. A copy's expiry counts from the moment
 * its request was checked against the list (see the manager's commit), and every check after the
 * revocation refuses the id, so no copy outlives `expire` seconds past the revocation.
 *
 * The one place that knows this: an absolute lifetime cap or per-session lifetimes, when sessions
 * get them, must make it the longest lifetime a session can be sealed with.
 */
export function revocationLifetime(options: Pick<ResolvedCommonOptions, 'expire'>): number {
  return options.expire * 1000;
}

/**
 * Revoked ids in this process's memory: enough for an app that runs as one process. Lost on restart,
 * and not shared between processes or servers: use RedisRevocationList for those.
 */
export class MemoryRevocationList implements RevocationList {
  private readonly revoked = new Map<string, number>();
  private pruneAt = 1024;
  /** User id -> [revoked at, kept until]. */
  private readonly users = new Map<string, [number, number]>();

  revokeUser(userId: string, lifetime: number, now = Date.now()): void {
    const until = Math.max(now + lifetime, this.users.get(userId)?.[1] ?? 0);
    this.users.set(userId, [now, until]);
  }

  userRevokedAt(userId: string, now = Date.now()): number | undefined {
    const entry = this.users.get(userId);
    if (entry === undefined) return undefined;
    if (entry[1] > now) return entry[0];
    this.users.delete(userId);
    return undefined;
  }

  isRevoked(id: string, now = Date.now()): boolean {
    const until = this.revoked.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.revoked.delete(id);
    return false;
  }

  revoke(id: string, lifetime: number, now = Date.now()): void {
    const until = now + lifetime;
    if (!(until > now) || (this.revoked.get(id) ?? 0) >= until) return;
    this.revoked.set(id, until);
    // Entries are dropped once expired; pruning when the map doubles keeps that O(1) per revoke.
    if (this.revoked.size >= this.pruneAt) {
      for (const [key, expiry] of this.revoked) if (expiry <= now) this.revoked.delete(key);
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
 * Revoked ids in redis, shared by every process and server of the app: a key `prefix+id` with a TTL
 * of the lifetime (written by the redis store's write script) on revoke, a lookup on load. The key's TTL runs on redis' clock from the
 * moment redis records it, never from a time the app computed earlier, so it outlives every copy of the
 * cookie. Commands are bounded and fail fast like the redis store's, with a SessionStoreError (the
 * adapters answer 503).
 */
export class RedisRevocationList implements RevocationList {
  private readonly store: RedisStore;

  constructor(client: RedisClient, options: RedisRevocationOptions = {}) {
    // The session store's bounded, fail-fast commands, reused: a revoked id is a key holding `{}`.
    this.store = new RedisStore(client, {
      prefix: options.prefix ?? 'emtrevoked:',
      commandTimeout: options.commandTimeout ?? REDIS_DEFAULTS.commandTimeout,
    });
  }

  async isRevoked(id: string): Promise<boolean> {
    // Redis drops the key when the revocation ends: whether it exists is the whole answer.
    return (await this.store.read(id, Date.now())) !== undefined;
  }

  async revokeUser(userId: string, lifetime: number, now = Date.now()): Promise<void> {
    // The value says when: sessions tied to the user at or before it are refused. Its TTL runs on redis' clock.
    if (lifetime > 0) await this.store.write(userKey(userId), `{"at":${now}}`, Date.now() + lifetime);
  }

  async userRevokedAt(userId: string): Promise<number | undefined> {
    const at = (await this.store.read(userKey(userId), Date.now()))?.data.at;
    return typeof at === 'number' ? at : undefined;
  }

  async revoke(id: string, lifetime: number): Promise<void> {
    // Real time on purpose: the store turns it back into a TTL, which redis counts in real time.
    // With the same `expire` everywhere, a later revoke of an id never ends before an earlier one.
    if (lifetime > 0) await this.store.write(id, '{}', Date.now() + lifetime);
  }
}
