import { type Backend, type CommitPlan, type LoadedSession, NOTHING_TO_COMMIT } from './backends/backend.js';
import { CookiesBackend } from './backends/cookies.js';
import type { CookiesOptions } from './backends/cookies-options.js';
import { FilesStore } from './backends/files.js';
import type { FilesOptions } from './backends/files-options.js';
import { type RedisClient, RedisStore } from './backends/redis.js';
import type { RedisOptions } from './backends/redis-options.js';
import { StoreBackend } from './backends/store.js';
import { type RequestCookies, readSessionCookies, SetCookieWriter } from './cookie-header.js';
import { serialize } from './data.js';
import { SessionConfigError } from './errors.js';
import { checkUserId } from './ids.js';
import { keepsChanges, thrownKeepsChanges } from './keeps-changes.js';
import {
  createdOf,
  joinMeta,
  keepsEmptySession,
  lifetimeOf,
  longestLifetimeOf,
  mayHoldMeta,
  metaMembers,
  splitMeta,
  userOf,
  withCreated,
} from './meta.js';
import { MAX_EXPIRE, type ResolvedCommonOptions, resolveCommonOptions } from './options.js';
import { compressionLevel } from './seal.js';
import { type SessionPolicy, SessionState } from './state.js';
import type { SessionData } from './types.js';

/** A session tied to a user, as listUserSessions() shows it. */
export interface UserSession {
  /** A hash of the session id (getSessionInfo().idHash of the same session): tells sessions apart. */
  readonly idHash: string;
  /** When it was created (first stored tied to a user or under absoluteExpire), when known. */
  readonly created: Date | undefined;
  /** When it was last written: a request that changed it, or slid its expiry. */
  readonly lastSeen: Date;
  readonly expiresAt: Date;
}

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
  private readonly absoluteMs: number | undefined;
  private readonly clock: () => number;
  private readonly policy: SessionPolicy;

  private constructor(
    private readonly backend: Backend,
    options: ResolvedCommonOptions,
  ) {
    this.options = Object.freeze(options);
    this.expireMs = options.expire * 1000;
    this.refreshAfterMs = options.refreshAfter * 1000;
    this.absoluteMs = options.absoluteExpire === undefined ? undefined : options.absoluteExpire * 1000;
    this.clock = options.clock;
    this.policy = Object.freeze({
      clock: options.clock,
      keepCreatedOnRegenerate: options.keepCreatedOnRegenerate,
      idHash: (id: string) => backend.idHash?.(id) ?? id,
    });
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
   * The same as `load`, but the state itself, not a promise, when the backend answers without one
   * (cookies, with no revocation list or an in-memory one; files, whose reads are synchronous). The
   * adapters use it: a promise and a microtask per request are a real share of a bare framework's
   * own time per request. A store failure is always a rejected promise, never a throw.
   */
  loadEager(cookieHeader: string | undefined, now = this.clock()): SessionState<T> | Promise<SessionState<T>> {
    const cookies = readSessionCookies(cookieHeader, this.options.cookieName);
    if (cookies.main === undefined) return this.stateFor(undefined, cookies, now);
    let loaded: ReturnType<Backend['load']>;
    try {
      loaded = this.backend.load(cookies, now);
    } catch (error) {
      return Promise.reject(error);
    }
    return loaded instanceof Promise
      ? loaded.then((found) => this.stateFor(found, cookies, now))
      : this.stateFor(loaded, cookies, now);
  }

  private stateFor(loaded: LoadedSession | undefined, cookies: RequestCookies, now: number): SessionState<T> {
    if (loaded === undefined) return this.freshState(cookies, now);
    const stored = loaded.text ?? JSON.stringify(loaded.data);
    const stale = loaded.stale === true;
    // Most sessions hold no meta (meta.ts): one substring test, and the stored text is the baseline.
    if (!mayHoldMeta(stored)) {
      const state = new SessionState<T>(loaded.data, loaded.id, stored, loaded.expiresAt, cookies, stale, now);
      state.policy = this.policy;
      return state;
    }
    const meta = splitMeta(loaded.data);
    // Past the absolute timeout a session is over, however recently it was used.
    const created = createdOf(meta);
    if (created !== undefined && this.absoluteMs !== undefined && created + this.absoluteMs <= now) {
      return this.freshState(cookies, now);
    }
    const dataText = meta === undefined ? stored : JSON.stringify(loaded.data);
    const baseline = joinMeta(metaMembers(meta), dataText);
    const state = new SessionState<T>(loaded.data, loaded.id, baseline, loaded.expiresAt, cookies, stale, now);
    state.meta = meta;
    state.dataBaseline = dataText;
    state.storedBaseline = stored;
    state.policy = this.policy;
    return state;
  }

  private freshState(cookies: RequestCookies, now: number): SessionState<T> {
    const state = new SessionState<T>({}, undefined, undefined, now + this.expireMs, cookies, false, now);
    state.policy = this.policy;
    return state;
  }

  /**
   * Commits a request's session as its response goes out with `status`: a 5xx keeps none of the
   * request's changes (keeps-changes.ts). What the adapters call; `commit` is the same without a
   * response.
   */
  commitResponse(state: SessionState<T>, status: number): CommitPlan {
    if (!keepsChanges(status)) state.discarded = true;
    return this.commit(state);
  }

  /**
   * The request's handler threw `error`: an HTTP answer below 500 (koa's `ctx.throw(401)`, hono's
   * `HTTPException`, an error with such a `status` or `statusCode`) keeps the session's changes,
   * anything else keeps none. Returns whether they are kept.
   */
  handlerThrew(state: SessionState<T>, error: unknown): boolean {
    const kept = thrownKeepsChanges(error);
    if (!kept) state.discarded = true;
    return kept;
  }

  /**
   * Decides what the session needs: nothing (unchanged and not due to slide), a write, or a removal.
   * Synchronous, so adapters can set the cookies before headers are sent; throws SessionDataError
   * for a value JSON cannot store.
   */
  commit(state: SessionState<T>, now = this.clock()): CommitPlan {
    if (state.discarded) return NOTHING_TO_COMMIT;
    const dataText =
      !state.touched && state.dataBaseline !== undefined
        ? state.dataBaseline
        : serialize(state.record, !state.objectsShared);
    const { cookies } = state;
    let { meta } = state;
    const hadCookie = cookies.main !== undefined || cookies.chunks.size > 0;
    if (dataText === '{}' && !keepsEmptySession(meta)) {
      // An empty session is no session: nothing to set, and whatever the browser holds is cleared.
      if (state.baseline === undefined && state.replacedId === undefined && !hadCookie) return NOTHING_TO_COMMIT;
      const retiredId = state.replacedId ?? (state.baseline === undefined ? undefined : state.id);
      return this.backend.remove(retiredId, cookies, state.expiresAt, now, this.revokeFor(state));
    }
    // The absolute timeout counts from the first store; so does listUserSessions()' `created`.
    if ((this.absoluteMs !== undefined || userOf(meta) !== undefined) && createdOf(meta) === undefined) {
      meta = state.meta = withCreated(meta, now);
    }
    const text = meta === undefined ? dataText : joinMeta(metaMembers(meta), dataText);
    const changed = state.baseline !== text || state.replacedId !== undefined;
    const lifetime = lifetimeOf(meta);
    const idleMs = lifetime === undefined || lifetime === 0 ? this.expireMs : lifetime * 1000;
    // From the load, not the commit: a request held open for a while gets no later expiry than one
    // that ended at once, so a copy of a cookie never outlives a revocation recorded after its load.
    let newExpiresAt = Math.min(now, state.loadedAt) + idleMs;
    let capped = false;
    const created = createdOf(meta);
    if (this.absoluteMs !== undefined && created !== undefined && created + this.absoluteMs < newExpiresAt) {
      newExpiresAt = created + this.absoluteMs;
      capped = true;
    }
    if (!changed && !state.stale && !state.touchRequested) {
      // Slides once the same share of its lifetime has passed as refreshAfter is of expire.
      const refreshAfterMs =
        idleMs === this.expireMs ? this.refreshAfterMs : (idleMs * this.refreshAfterMs) / this.expireMs;
      const lastWrittenAt = state.expiresAt - idleMs;
      if (now - lastWrittenAt < refreshAfterMs) return NOTHING_TO_COMMIT;
      // Nothing to slide past the absolute timeout.
      if (capped && newExpiresAt <= state.expiresAt) return NOTHING_TO_COMMIT;
    }
    const { id, replacedId, expiresAt } = state;
    return this.backend.write(
      id,
      text,
      newExpiresAt,
      cookies,
      replacedId,
      changed || state.stale,
      expiresAt,
      now,
      state.storedBaseline,
      meta === undefined
        ? undefined
        : {
            // Max-Age: none for a browser-session cookie; never past the absolute timeout.
            maxAge:
              lifetime === 0
                ? null
                : capped
                  ? Math.max(0, Math.floor((newExpiresAt - now) / 1000))
                  : lifetime === undefined
                    ? undefined
                    : lifetime,
            revokeFor: this.revokeFor(state),
            user: userOf(meta),
          },
    );
  }

  /**
   * How long (ms) a retired id must stay revoked (cookies backend): the longest any copy of its
   * cookie can live, the manager's `expire` or a longer lifetime setSessionExpiry() gave it.
   */
  private revokeFor(state: SessionState<T>): number {
    return Math.max(this.expireMs, state.retiredLifetimeMs, longestLifetimeOf(state.meta) * 1000);
  }

  /**
   * Sign out everywhere: ends every session bindSessionToUser() tied to this user, as a logout ends
   * one (a request in flight writes none of them back). Files and redis retire each of them; the
   * cookies backend records the user in its revocation list, which then refuses every cookie tied
   * to the user before now (a SessionConfigError without a list). A store failure rejects with a
   * SessionStoreError. A session the user signs in to afterwards is not affected.
   */
  async revokeUser(userId: string): Promise<void> {
    checkUserId('revokeUser()', userId);
    // Cookies: a copy tied before now lives at most the longest lifetime a session can be sealed with.
    const longest = this.absoluteMs ?? Math.max(this.expireMs, MAX_EXPIRE * 1000);
    await this.backend.revokeUser(userId, longest, this.clock());
  }

  /**
   * The live sessions tied to a user (files, redis), most recently seen first, for an "active
   * sessions" page: a hash of each id (never the id, which is a credential; compare it with
   * getSessionInfo().idHash to mark this device), when it was created, last written and expires.
   * Cookie sessions live in the browsers and the server keeps no list: a SessionConfigError.
   */
  async listUserSessions(userId: string): Promise<UserSession[]> {
    checkUserId('listUserSessions()', userId);
    if (this.backend.listUserSessions === undefined) {
      throw new SessionConfigError(
        'listUserSessions() needs the files or redis backend: cookie sessions live in the browsers, and the server keeps no list of them.',
      );
    }
    const now = this.clock();
    const sessions = await this.backend.listUserSessions(userId, now);
    return sessions
      .map(({ idHash, created, lastWritten, expiresAt, lifetime }) => {
        const idleMs = lifetime === undefined || lifetime === 0 ? this.expireMs : lifetime * 1000;
        return {
          idHash,
          created: created === undefined ? undefined : new Date(created),
          lastSeen: new Date(lastWritten ?? Math.min(now, expiresAt - idleMs)),
          expiresAt: new Date(expiresAt),
        };
      })
      .sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  /**
   * Deletes every session of this manager, and nothing else (Emmett's `SessionManager.clear()`):
   * files removes the session files its template names, redis the keys under its prefix (`SCAN` and
   * `UNLINK` in batches, on every master of a Cluster). Resolves to how many. Cookie sessions live in
   * the browsers: a SessionConfigError that says how to end them (rotate the secret). A store failure
   * rejects with a SessionStoreError.
   */
  async clear(): Promise<number> {
    if (this.backend.clear === undefined) {
      throw new SessionConfigError(
        'clear() cannot delete cookie sessions: they are stored in the browsers. To end every one of them, put a new secret first in the secret list and remove the old ones: every existing cookie then reads as a fresh session.',
      );
    }
    return this.backend.clear();
  }

  /** Stops background work (the files backend's sweeper) so the process can exit. */
  async close(): Promise<void> {
    await this.backend.close?.();
  }
}
