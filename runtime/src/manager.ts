import { type Backend, type CommitPlan, type LoadedSession, NOTHING_TO_COMMIT } from './backends/backend.js';
import { CookiesBackend } from './backends/cookies.js';
import { FilesStore } from './backends/files.js';
import { type RedisClient, RedisStore } from './backends/redis.js';
import { StoreBackend } from './backends/store.js';
import { type RequestCookies, readSessionCookies, SetCookieWriter } from './cookie-header.js';
import { serialize } from './data.js';
import {
  type CookiesOptions,
  type FilesOptions,
  type RedisOptions,
  type ResolvedCommonOptions,
  resolveCommonOptions,
} from './options.js';
import { compressionLevel } from './seal.js';
import { SessionState } from './state.js';
import type { SessionData } from './types.js';

/**
 * A session manager: loads a request's session from its Cookie header and commits it to Set-Cookie
 * values and the store. It knows nothing of frameworks; the adapters move headers in and out.
 */
export class SessionManager<T extends object = SessionData> {
  /** Sessions sealed (AES-256-GCM) into the cookie itself. `secret` may be a rotation list, newest first. */
  static cookies<T extends object = SessionData>(
    secret: string | readonly string[],
    options: CookiesOptions = {},
  ): SessionManager<T> {
    const resolved = resolveCommonOptions(options);
    const writer = new SetCookieWriter(resolved);
    const backend = new CookiesBackend(secret, resolved, writer, {
      revocation: options.revocation,
      compression: compressionLevel(options.compression),
    });
    return new SessionManager<T>(backend, resolved);
  }

  /** Sessions in JSON files, one per session, in `directory`. */
  static files<T extends object = SessionData>(options: FilesOptions = {}): SessionManager<T> {
    const resolved = resolveCommonOptions(options);
    const writer = new SetCookieWriter(resolved);
    return new SessionManager<T>(
      new StoreBackend('files', new FilesStore(options, resolved), resolved, writer),
      resolved,
    );
  }

  /** Sessions in redis, through an ioredis `Redis` or `Cluster` the application created. */
  static redis<T extends object = SessionData>(client: RedisClient, options: RedisOptions = {}): SessionManager<T> {
    const resolved = resolveCommonOptions(options);
    const writer = new SetCookieWriter(resolved);
    return new SessionManager<T>(
      new StoreBackend('redis', new RedisStore(client, options, resolved), resolved, writer),
      resolved,
    );
  }

  readonly options: Readonly<ResolvedCommonOptions>;
  private readonly expireMs: number;
  private readonly refreshAfterMs: number;
  private readonly clock: () => number;

  private constructor(
    private readonly backend: Backend,
    options: ResolvedCommonOptions,
  ) {
    this.options = Object.freeze(options);
    this.expireMs = options.expire * 1000;
    this.refreshAfterMs = options.refreshAfter * 1000;
    this.clock = options.clock;
  }

  get backendKind(): Backend['kind'] {
    return this.backend.kind;
  }

  /**
   * The session a request's Cookie header refers to, or a fresh empty one when it refers to none
   * (missing, tampered, expired, unknown id). Rejects only with a SessionStoreError.
   */
  async load(cookieHeader: string | undefined, now = this.clock()): Promise<SessionState<T>> {
    return this.loadEager(cookieHeader, now);
  }

  /**
   * The same as `load`, but the state itself, not a promise, when the backend needs no I/O (cookies,
   * with no revocation list or an in-memory one). The adapters use it: a promise and a microtask
   * per request are a real share of a bare framework's own time per request.
   */
  loadEager(cookieHeader: string | undefined, now = this.clock()): SessionState<T> | Promise<SessionState<T>> {
    const cookies = readSessionCookies(cookieHeader, this.options.cookieName);
    if (cookies.main === undefined) return this.stateFor(undefined, cookies, now);
    const loaded = this.backend.load(cookies, now);
    return loaded instanceof Promise
      ? loaded.then((found) => this.stateFor(found, cookies, now))
      : this.stateFor(loaded, cookies, now);
  }

  private stateFor(loaded: LoadedSession | undefined, cookies: RequestCookies, now: number): SessionState<T> {
    if (loaded === undefined) {
      return new SessionState<T>({}, undefined, undefined, now + this.expireMs, cookies, false, now);
    }
    const baseline = loaded.text ?? JSON.stringify(loaded.data);
    const stale = loaded.stale === true;
    return new SessionState<T>(loaded.data, loaded.id, baseline, loaded.expiresAt, cookies, stale, now);
  }

  /**
   * Decides what the session needs: nothing (unchanged and not due to slide), a write, or a removal.
   * Synchronous, so adapters can set the cookies before headers are sent; throws SessionDataError
   * for a value JSON cannot store.
   */
  commit(state: SessionState<T>, now = this.clock()): CommitPlan {
    if (state.discarded) return NOTHING_TO_COMMIT;
    const text =
      !state.touched && state.baseline !== undefined ? state.baseline : serialize(state.record, !state.objectsShared);
    const { cookies } = state;
    const hadCookie = cookies.main !== undefined || cookies.chunks.size > 0;
    if (text === '{}') {
      // An empty session is no session: nothing to set, and whatever the browser holds is cleared.
      if (state.baseline === undefined && state.replacedId === undefined && !hadCookie) return NOTHING_TO_COMMIT;
      const retiredId = state.replacedId ?? (state.baseline === undefined ? undefined : state.id);
      return this.backend.remove(retiredId, cookies, state.expiresAt, now);
    }
    const changed = state.baseline !== text || state.replacedId !== undefined;
    const lastWrittenAt = state.expiresAt - this.expireMs;
    if (!changed && !state.stale && now - lastWrittenAt < this.refreshAfterMs) return NOTHING_TO_COMMIT;
    const { id, replacedId, expiresAt } = state;
    // From the load, not the commit: a request held open for a while gets no later expiry than one
    // that ended at once, so a copy of a cookie never outlives a revocation recorded after its load.
    const newExpiresAt = Math.min(now, state.loadedAt) + this.expireMs;
    return this.backend.write(
      id,
      text,
      newExpiresAt,
      cookies,
      replacedId,
      changed || state.stale,
      expiresAt,
      now,
      state.baseline,
    );
  }

  /** Stops background work (the files backend's sweeper) so the process can exit. */
  async close(): Promise<void> {
    await this.backend.close?.();
  }
}
