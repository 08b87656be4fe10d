import { parseStored } from '../data.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { idHash, userKey } from '../ids.js';
import { createdOf, lifetimeOf, userOf } from '../meta.js';
import { changedMembers } from './merge.js';
import type { ResolvedCommonOptions } from '../options.js';
import { RedisClock } from './redis-clock.js';
import { REDIS_DEFAULTS, type RedisOptions } from './redis-options.js';
import {
  INDEX_SCRIPT,
  READ_SCRIPT,
  REVOKE_USER_SCRIPT,
  runScript,
  runScriptOnKeys,
  type ScriptClient,
  TOMBSTONE,
  WRITE_SCRIPT,
} from './redis-scripts.js';
import type { SessionStore, StoredSession, UserSessionEntry, WriteOutcome } from './store.js';

/**
 * The few commands the redis store sends: scripts (EVALSHA, EVAL when redis does not know the script
 * yet) and TIME. An ioredis `Redis` or `Cluster` fits as it is; so does any client with the same methods.
 */
export interface RedisClient extends ScriptClient {
  readonly status: string;
  time(): Promise<unknown>;
  /** Commands sent together to one node (ioredis); needed only with `waitForReplica`. */
  pipeline?(commands: Array<Array<string | number>>): { exec(): Promise<Array<[Error | null, unknown]> | null> };
  /** For clear(): walking the keys under the prefix, and removing them. */
  scan?(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<unknown>;
  unlink?(...keys: string[]): Promise<number>;
  /** A Cluster's connections to its masters: clear() walks each, as SCAN sees one node's keys only. */
  nodes?(role: 'master'): RedisClient[];
  /** For listUserSessions() and revokeUser(): a user's index of session ids. */
  smembers?(key: string): Promise<string[]>;
  srem?(key: string, ...members: string[]): Promise<number>;
}

/** Keys SCAN asks for, and UNLINK removes, at a time: bounded work per command on a busy redis. */
const CLEAR_BATCH = 500;

/**
 * Client states in which redis is known to be unreachable, whether or not this store saw it ready
 * (a client whose first connection failed is `reconnecting` too).
 */
const LOST = new Set(['reconnecting', 'close', 'end']);

type Mode = 'create' | 'tied' | 'update' | 'merge' | 'touch' | 'retire';

/**
 * Redis store: a session is a key `prefix + id` holding its JSON with a time to live. Each read and
 * each write is one script round trip (redis-scripts.ts): a new session is stored as it is; a loaded
 * one is written back (changed) or its expiry slid (unchanged, once `refreshAfter` passed) only if
 * its key still holds it; logout and regenerate replace the key with a tombstone that those writes
 * never overwrite, so a request in flight cannot undo them.
 *
 * Every command is bounded by `commandTimeout`, and a write also carries that deadline into its
 * script, converted to redis' clock: a write that redis runs after the request was told it failed
 * (it sat in a paused server or a slow network) changes nothing. Once the client has been
 * connected, or while it is known to be disconnected, a command fails at once instead of waiting in
 * ioredis' offline queue.
 */
export class RedisStore implements SessionStore {
  private readonly prefix: string;
  private readonly timeoutMs: number;
  /** How much earlier than the local timeout the script's deadline falls: a reply needs time to come back. */
  private readonly replyAllowanceMs: number;
  private readonly clock = new RedisClock();
  private readonly merge: boolean;
  private readonly waitForReplica: number | undefined;
  private connectedOnce = false;
  /** The manager's clock: a TTL is the time from its now to the expiry the manager decided. */
  private readonly now: () => number;

  constructor(
    private readonly client: RedisClient,
    options: RedisOptions,
    /** The manager's clock (ms since the epoch), from which expiry times are turned into TTLs. */
    { clock }: Pick<ResolvedCommonOptions, 'clock'> = { clock: Date.now },
  ) {
    this.now = clock;
    if (client === null || typeof client !== 'object' || typeof client.evalsha !== 'function') {
      throw new TypeError(
        'SessionManager.redis needs a redis client, for example `new Redis(process.env.REDIS_URL)` from ioredis.',
      );
    }
    this.prefix = options.prefix ?? REDIS_DEFAULTS.prefix;
    this.timeoutMs = options.commandTimeout ?? REDIS_DEFAULTS.commandTimeout;
    // NaN or 0 would fire the timer at once and fail every request.
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new SessionConfigError(
        `commandTimeout must be a positive number of milliseconds, got ${String(options.commandTimeout)}.`,
      );
    }
    this.replyAllowanceMs = Math.min(100, this.timeoutMs / 10);
    this.merge = options.merge ?? true;
    this.waitForReplica = options.waitForReplica;
    if (this.waitForReplica !== undefined) {
      if (!Number.isFinite(this.waitForReplica) || this.waitForReplica <= 0 || this.waitForReplica >= this.timeoutMs) {
        throw new SessionConfigError(
          `waitForReplica must be a positive number of milliseconds below commandTimeout (${this.timeoutMs}), got ${String(options.waitForReplica)}.`,
        );
      }
      if (typeof client.pipeline !== 'function') {
        throw new SessionConfigError(
          'waitForReplica needs a client with pipeline(), as ioredis Redis and Cluster have.',
        );
      }
    }
  }

  async read(id: string, now: number): Promise<StoredSession | undefined> {
    const key = this.prefix + id;
    // Redis' TIME only when no recent reply told it: writes bring it back every time.
    const reply = this.clock.needsSample()
      ? await this.run('read', () => runScript(this.client, READ_SCRIPT, key, 1))
      : await this.run('read', () => runScript(this.client, READ_SCRIPT, key));
    const [text, ttl, seconds, microseconds] = reply as [string | null, number, string?, string?];
    if (seconds !== undefined) this.clock.observe(seconds, microseconds);
    if (typeof text !== 'string' || ttl === -2 || text.startsWith(TOMBSTONE[0] as string)) return undefined;
    const data = parseStored(text);
    if (data === undefined) return undefined;
    // -1: a key without expiry (written by someone else): give it one at the end of this request.
    return ttl === -1 ? { data, expiresAt: now, stale: true } : { data, expiresAt: now + ttl };
  }

  async write(id: string, text: string, expiresAt: number): Promise<void> {
    await this.change('write', 'create', id, expiresAt, text);
  }

  update(id: string, text: string, expiresAt: number, baseline: string): Promise<WriteOutcome> {
    return this.change('write', 'update', id, expiresAt, text, this.merge ? baseline : undefined);
  }

  touch(id: string, _text: string, expiresAt: number): Promise<WriteOutcome> {
    return this.change('touch', 'touch', id, expiresAt, '');
  }

  async retire(id: string, until: number): Promise<void> {
    await this.change('delete', 'retire', id, until, '');
  }

  /**
   * Adds `id` to the user's index, which then lives at least as long as the session; resolves to
   * the time of the user's last revokeUser(), if any.
   */
  async indexUser(userId: string, id: string, expiresAt: number): Promise<number | undefined> {
    const ttl = Math.max(1000, Math.ceil(expiresAt - this.now()));
    const keys = [this.indexKey(userId), this.revokedKey(userId)];
    const at = await this.run('write', () => runScriptOnKeys(this.client, INDEX_SCRIPT, keys, id, ttl));
    return typeof at === 'string' && Number.isFinite(Number(at)) ? Number(at) : undefined;
  }

  /** In the index first, then the revocation time read in the same step; created only if tied after it. */
  async createTied(userId: string, bound: number, id: string, text: string, expiresAt: number): Promise<WriteOutcome> {
    const revokedAt = await this.indexUser(userId, id, expiresAt);
    if (revokedAt !== undefined && revokedAt >= bound) return 'refused';
    // 'tied' is refused over a tombstone: a revokeUser() that listed the id meanwhile retired it.
    return this.change('write', 'tied', id, expiresAt, text);
  }

  async markUserRevoked(userId: string, at: number, lifetime: number): Promise<void> {
    const key = this.revokedKey(userId);
    await this.run('write', () => runScript(this.client, REVOKE_USER_SCRIPT, key, Math.floor(at), Math.ceil(lifetime)));
  }

  /** The user's revocation time: beside the index, in the same hash slot. */
  private revokedKey(userId: string): string {
    return `${this.indexKey(userId)}:revoked`;
  }

  /** The sessions in the user's index that are still there and still tied to the user; the others leave it. */
  async userSessions(userId: string, now: number): Promise<UserSessionEntry[]> {
    const { client } = this;
    const smembers = client.smembers;
    if (typeof smembers !== 'function') {
      throw new SessionConfigError('revokeUser() and listUserSessions() need a redis client with SMEMBERS (ioredis).');
    }
    const ids = await this.run('read', () => smembers.call(client, this.indexKey(userId)));
    const found: UserSessionEntry[] = [];
    const gone: string[] = [];
    await Promise.all(
      ids.map(async (id) => {
        const stored = await this.read(id, now);
        if (stored === undefined || userOf(stored.data)?.id !== userId) {
          gone.push(id);
          return;
        }
        found.push({
          handle: id,
          idHash: idHash(id),
          created: createdOf(stored.data),
          lastWritten: undefined,
          expiresAt: stored.expiresAt,
          lifetime: lifetimeOf(stored.data),
        });
      }),
    );
    await this.forgetUserSessions(userId, gone);
    return found;
  }

  retireHandle(id: string, until: number): Promise<void> {
    return this.retire(id, until);
  }

  async forgetUserSessions(userId: string, ids: string[]): Promise<void> {
    const { client } = this;
    const srem = client.srem;
    if (ids.length === 0 || typeof srem !== 'function') return;
    await this.run('delete', () => srem.call(client, this.indexKey(userId), ...ids));
  }

  /** `prefix + user:{<hash of the user id>}`: no user id in a key, and never a session id's shape. */
  private indexKey(userId: string): string {
    return this.prefix + userKey(userId);
  }

  /**
   * Deletes every key under the prefix (Emmett's `clear()`): `SCAN MATCH <prefix>*` and `UNLINK` in
   * batches, never `KEYS` (which blocks redis); on a Cluster, on every master. Keys of other prefixes
   * stay. A request in flight then finds its key gone and writes nothing back (the write script).
   */
  async clear(): Promise<number> {
    const { client } = this;
    if (typeof client.scan !== 'function' || typeof client.unlink !== 'function') {
      throw new SessionConfigError('clear() needs a redis client with SCAN and UNLINK (an ioredis Redis or Cluster).');
    }
    const cluster = typeof client.nodes === 'function';
    const nodes = cluster ? (client.nodes as NonNullable<RedisClient['nodes']>)('master') : [client];
    // The prefix is matched literally: glob characters in it are escaped.
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let removed = 0;
    for (const node of nodes) {
      const scan = node.scan as NonNullable<RedisClient['scan']>;
      const unlink = node.unlink as NonNullable<RedisClient['unlink']>;
      let cursor = '0';
      do {
        const reply = (await this.run('clear', () =>
          scan.call(node, cursor, 'MATCH', pattern, 'COUNT', CLEAR_BATCH),
        )) as [string, string[]];
        cursor = reply[0];
        const keys = reply[1];
        if (keys.length === 0) continue;
        // On a Cluster one command names keys of one hash slot only: one UNLINK per key there.
        const counts = cluster
          ? await Promise.all(keys.map((key) => this.run('clear', () => unlink.call(node, key))))
          : [await this.run('clear', () => unlink.call(node, ...keys))];
        for (const count of counts) removed += count;
      } while (cursor !== '0');
    }
    return removed;
  }

  private async change(
    operation: string,
    mode: Mode,
    id: string,
    expiresAt: number,
    text: string,
    baseline?: string,
  ): Promise<WriteOutcome> {
    const key = this.prefix + id;
    const ttl = Math.max(1, Math.ceil(expiresAt - this.now()));
    const reply = await this.run(operation, (remainingMs) => {
      const deadline = this.clock.deadlineIn(remainingMs() - this.replyAllowanceMs);
      if (deadline !== undefined) return this.writeBy(deadline, mode, key, ttl, text, baseline);
      // No recent reply told redis' time: ask for it (once in a while, on a quiet server).
      return this.client.time().then((time) => {
        const [seconds, microseconds] = time as [string, string];
        this.clock.observe(seconds, microseconds);
        const known = this.clock.deadlineIn(remainingMs() - this.replyAllowanceMs) as number;
        return this.writeBy(known, mode, key, ttl, text, baseline);
      });
    });
    const [outcome, seconds, microseconds] = reply as [string, string, string];
    this.clock.observe(seconds, microseconds);
    if (outcome === 'late') {
      throw new SessionStoreError(
        'redis',
        operation,
        `Redis ran the command after its ${this.timeoutMs} ms deadline and refused it; the session was not ${past(operation)}.`,
      );
    }
    return outcome === 'refused' ? 'refused' : 'stored';
  }

  /**
   * The write script. When another request wrote the session since this one loaded it (`changed`),
   * a second call merges this request's changes over what is stored now, in the script: one more
   * round trip, and never more than one.
   */
  private writeBy(
    deadline: number,
    mode: Mode,
    key: string,
    ttl: number,
    text: string,
    baseline: string | undefined,
  ): Promise<unknown> {
    if (baseline === undefined) return this.send(mode, key, [mode, deadline, ttl, text]);
    return this.send(mode, key, [mode, deadline, ttl, text, baseline]).then((result) => {
      if ((result as [string])[0] !== 'changed') return result;
      const changes = changedMembers(baseline, text) ?? [];
      return this.send('merge', key, ['merge', deadline, ttl, text, ...changes]);
    });
  }

  /**
   * Runs the write script; with `waitForReplica`, in one pipeline with `WAIT 1 <ms>` on the same
   * node (WAIT names no key: sent alone to a Cluster it would go to any node), and a write no
   * replica acknowledged in time is an error. An expiry slide does not wait: losing one costs little.
   */
  private send(mode: Mode, key: string, args: Array<string | number>): Promise<unknown> {
    const wait = this.waitForReplica;
    if (wait === undefined || mode === 'touch') return runScript(this.client, WRITE_SCRIPT, key, ...args);
    return this.sendAndWait(wait, key, args);
  }

  private async sendAndWait(wait: number, key: string, args: Array<string | number>): Promise<unknown> {
    const pipeline = (first: Array<string | number>) =>
      (this.client.pipeline as NonNullable<RedisClient['pipeline']>)([first, ['wait', 1, wait]]).exec();
    let results = await pipeline(['evalsha', WRITE_SCRIPT.sha, 1, key, ...args]);
    if (results?.[0]?.[0]?.message.startsWith('NOSCRIPT')) {
      results = await pipeline(['eval', WRITE_SCRIPT.source, 1, key, ...args]);
    }
    const [[scriptError, reply] = [null, undefined], [waitError, acknowledged] = [null, undefined]] = results ?? [];
    if (scriptError) throw scriptError;
    if ((reply as [string])[0] !== 'stored') return reply;
    if (waitError) throw waitError;
    if (typeof acknowledged !== 'number' || acknowledged < 1) {
      throw new Error(`no replica acknowledged the write within ${wait} ms (WAIT); the master has it`);
    }
    return reply;
  }

  /** Runs `command` within the timeout; `remainingMs` tells the command how much of it is left. */
  private run<R>(operation: string, command: (remainingMs: () => number) => Promise<R>): Promise<R> {
    const { status } = this.client;
    if (status === 'ready') this.connectedOnce = true;
    else if (this.connectedOnce || LOST.has(status)) {
      return Promise.reject(
        new SessionStoreError(
          'redis',
          operation,
          `Redis is unavailable (connection ${status}); the session could not be ${past(operation)}.`,
        ),
      );
    }
    const started = performance.now();
    const remainingMs = () => this.timeoutMs - (performance.now() - started);
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new SessionStoreError(
            'redis',
            operation,
            `Redis did not answer within ${this.timeoutMs} ms; the session could not be ${past(operation)}.`,
          ),
        );
      }, this.timeoutMs);
      command(remainingMs).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          const message = error instanceof Error ? error.message : String(error);
          reject(
            new SessionStoreError(
              'redis',
              operation,
              `Redis failed (${message}); the session could not be ${past(operation)}.`,
              error,
            ),
          );
        },
      );
    });
  }
}

function past(operation: string): string {
  return operation === 'read'
    ? 'read'
    : operation === 'write'
      ? 'saved'
      : operation === 'touch'
        ? 'extended'
        : operation === 'clear'
          ? 'cleared'
          : 'deleted';
}
