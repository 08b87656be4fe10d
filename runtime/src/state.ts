import type { RequestCookies } from './cookie-header.js';
import { type GuardOwner, guardData, ownerOf, type SessionRecord } from './data.js';
import { newSessionId } from './ids.js';
import {
  createdOf,
  type Flash,
  flashKey,
  longestLifetimeOf,
  type MetaRecord,
  takeFlashesFrom,
  userOf,
  withCreated,
  withFlash,
  withLifetime,
  withUser,
} from './meta.js';
import type { Session, SessionData } from './types.js';

/**
 * One request's session: the data the handler sees and what the core needs to decide, at commit,
 * whether anything has to be written. Control operations live here, never on the data object,
 * so no session key can shadow them.
 */
export class SessionState<T extends object = SessionData> implements GuardOwner {
  /** The guarded data object handed to user code. */
  readonly data: Session<T>;
  /** Set when regenerate or destroy retired the id the request came with. */
  replacedId: string | undefined;
  /** Changes are kept only if the response succeeds; adapters set this for 5xx responses and throws. */
  discarded = false;
  /**
   * Set by the data guard once the data may have changed: a key set or deleted, or an object value
   * handed out (a nested change happens through it). Until then commit knows the JSON is the
   * baseline without serializing it again.
   */
  touched = false;
  /** Set by the data guard once an object value went in or out: commit must check the whole record. */
  objectsShared = false;
  /** Drawn when first needed: a request that never stores a session never pays for an id. */
  private currentId: string | undefined;
  /**
   * Lifetime, creation time, user and flashes (meta.ts): kept beside the data, never in it.
   * Replaced, never changed in place, so the loaded one can be compared with it.
   */
  meta: MetaRecord | undefined;
  /** The data's JSON when loaded, without the meta; the same string as `baseline` when there is none. */
  dataBaseline: string | undefined;
  /**
   * The text the store holds for this session, as loaded: what a store compares with before it writes
   * (merge.ts). The same string as `baseline` unless stored meta members were in another order.
   */
  storedBaseline: string | undefined;
  /** touchSession(): slide the expiry at this commit even if it is not due. */
  touchRequested = false;
  /**
   * How long (ms) a cookie of the id regenerate or destroy retired may live at most beyond the
   * manager's `expire`: the longest lifetime setSessionExpiry() gave it.
   */
  retiredLifetimeMs = 0;
  /** What the manager decides for every state it makes; set by the manager. */
  policy: SessionPolicy = DEFAULT_POLICY;
  /** What takeFlashes() took in this request: later calls in the request return the same. */
  private taken: Flash[] | undefined;

  constructor(
    /** The plain object behind `data`. */
    readonly record: SessionRecord,
    id: string | undefined,
    /** The data's JSON when loaded; undefined for a new session. */
    public baseline: string | undefined,
    public expiresAt: number,
    readonly cookies: RequestCookies,
    /** The stored copy must be rewritten even if unchanged (sealed with an old secret). */
    public stale: boolean,
    /**
     * The manager's time when the request loaded the session (and the cookies backend checked its id
     * against the revocation list): a new expiry counts from here, not from the commit.
     */
    readonly loadedAt: number,
  ) {
    this.currentId = id;
    this.dataBaseline = baseline;
    this.storedBaseline = baseline;
    this.data = guardData(record, this) as Session<T>;
  }

  get id(): string {
    this.currentId ??= newSessionId();
    return this.currentId;
  }

  get isNew(): boolean {
    return this.baseline === undefined;
  }

  /**
   * A new id for the same data, and the old id deleted: call it on login (session fixation). The
   * creation time the absolute timeout counts from starts again, unless the manager keeps it.
   */
  regenerate(): void {
    if (this.replacedId === undefined && this.baseline !== undefined) {
      this.replacedId = this.id;
      this.retiredLifetimeMs = longestLifetimeOf(this.meta) * 1000;
    }
    this.currentId = newSessionId();
    if (!this.policy.keepCreatedOnRegenerate && createdOf(this.meta) !== undefined) {
      this.meta = withCreated(this.meta, undefined);
    }
  }

  /** Empties the session, deletes it from the store and clears its cookie (logout). */
  destroy(): void {
    this.regenerate();
    for (const key of Object.keys(this.record)) delete this.record[key];
    this.touched = true;
    this.baseline = undefined;
    this.dataBaseline = undefined;
    this.storedBaseline = undefined;
    this.stale = false;
    // The old session's lifetime, user and unread flashes go with it; a flash made after this stays.
    this.meta = undefined;
    this.taken = undefined;
  }

  /** This session's idle lifetime from now on, in seconds; 0 makes a browser-session cookie. */
  setLifetime(seconds: number): void {
    this.meta = withLifetime(this.meta, seconds);
  }

  bindUser(userId: string): void {
    if (userOf(this.meta)?.id !== userId) this.meta = withUser(this.meta, userId, this.policy.clock());
  }

  flash(message: string, category: string): void {
    this.meta = withFlash(this.meta, flashKey(this.policy.clock(), newSessionId().slice(0, 8)), message, category);
  }

  /** The flashes stored for this request, oldest first; the first call takes them out of the session. */
  takeFlashes(): Flash[] {
    if (this.taken === undefined) {
      const { flashes, rest } = takeFlashesFrom(this.meta);
      this.taken = flashes;
      this.meta = rest;
    }
    return [...this.taken];
  }
}

/** What a manager decides for the sessions it loads (one object per manager, shared by its states). */
export interface SessionPolicy {
  /** The manager's clock (ms since the epoch). */
  readonly clock: () => number;
  /** Whether regenerate keeps the creation time the absolute timeout counts from. */
  readonly keepCreatedOnRegenerate: boolean;
  /** What listUserSessions() shows for a session id (getSessionInfo().idHash). */
  readonly idHash: (id: string) => string;
}

const DEFAULT_POLICY: SessionPolicy = Object.freeze({
  clock: Date.now,
  keepCreatedOnRegenerate: false,
  idHash: (id: string) => id,
});

/**
 * The state behind a session data object, for the control functions. Only a SessionState makes a
 * guard with an owner; not checked with instanceof, so that a session made by the runtime's other
 * build (ES module or CommonJS, both loaded in one app) is found too.
 */
export function stateOf(data: object): SessionState<object> | undefined {
  return ownerOf(data) as SessionState<object> | undefined;
}
