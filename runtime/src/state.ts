import type { RequestCookies } from './cookie-header.js';
import { type GuardOwner, guardData, ownerOf, type SessionRecord } from './data.js';
import { newSessionId } from './ids.js';
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
    this.data = guardData(record, this) as Session<T>;
  }

  get id(): string {
    this.currentId ??= newSessionId();
    return this.currentId;
  }

  get isNew(): boolean {
    return this.baseline === undefined;
  }

  /** A new id for the same data, and the old id deleted: call it on login (session fixation). */
  regenerate(): void {
    if (this.replacedId === undefined && this.baseline !== undefined) this.replacedId = this.id;
    this.currentId = newSessionId();
  }

  /** Empties the session, deletes it from the store and clears its cookie (logout). */
  destroy(): void {
    this.regenerate();
    for (const key of Object.keys(this.record)) delete this.record[key];
    this.touched = true;
    this.baseline = undefined;
    this.stale = false;
  }
}

/**
 * The state behind a session data object, for the control functions. Only a SessionState makes a
 * guard with an owner; not checked with instanceof, so that a session made by the runtime's other
 * build (ES module or CommonJS, both loaded in one app) is found too.
 */
export function stateOf(data: object): SessionState<object> | undefined {
  return ownerOf(data) as SessionState<object> | undefined;
}
