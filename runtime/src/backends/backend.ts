import type { RequestCookies } from '../cookie-header.js';
import type { SessionRecord } from '../data.js';

/** A session as a backend found it. */
export interface LoadedSession {
  id: string;
  data: SessionRecord;
  /** The data's JSON as stored, when the backend has it at hand (saves one stringify). */
  text?: string | undefined;
  /** When the session expires, in ms since the epoch; the cookie expires at the same moment. */
  expiresAt: number;
  /** Readable, but must be written again even if unchanged (sealed with an old secret). */
  stale?: boolean;
}

/**
 * What committing a session does: Set-Cookie values, known at once so that adapters can send them
 * before the headers go out, and the store work to await before the response is finished.
 */
export interface CommitPlan {
  setCookies: string[];
  persist: (() => Promise<void>) | undefined;
}

export const NOTHING_TO_COMMIT: CommitPlan = Object.freeze({ setCookies: [], persist: undefined }) as CommitPlan;

/** What a write needs to know beyond the data, for a session with meta (meta.ts). */
export interface WriteExtras {
  /**
   * The cookie's Max-Age in seconds when it is not the manager's `expire` (a lifetime of its own, or
   * capped by the absolute timeout); null for a browser-session cookie (no Max-Age, no Expires).
   */
  maxAge?: number | null | undefined;
  /** How long (ms) a retired id stays revoked (cookies backend): at least the manager's `expire`. */
  revokeFor?: number | undefined;
  /**
   * The user bindSessionToUser() tied the session to, and when: the redis store keeps it in the
   * user's index, and a store creates no session tied before a revokeUser() of that user.
   */
  user?: { id: string; bound: number } | undefined;
}

/** A session tied to a user, as listUserSessions() finds it in a store. */
export interface StoredUserSession {
  /** A hash of the session id (getSessionInfo().idHash of the same session). */
  idHash: string;
  /** ms since the epoch, when known. */
  created: number | undefined;
  /** When it was last written (ms since the epoch), when the store knows it. */
  lastWritten: number | undefined;
  expiresAt: number;
  /** This session's own idle lifetime (seconds), if setSessionExpiry() gave it one. */
  lifetime: number | undefined;
}

/** What the core needs of a storage backend; the core does the rest (change tracking, expiry policy). */
export interface Backend {
  readonly kind: 'cookies' | 'files' | 'redis';
  /** Undefined when the cookies name no live session; throws SessionStoreError when the store fails. */
  load(cookies: RequestCookies, now: number): Promise<LoadedSession | undefined> | LoadedSession | undefined;
  /**
   * Store the session (new, changed, or with its expiry slid) and set its cookie. `replacedId` is
   * deleted (cookies: revoked for as long as a copy of its cookie can live). `now`: the manager's clock.
   * `baseline`: the JSON the request's session was loaded with under `id`, undefined for a new
   * session (a store may then refuse to write it back if it was retired meanwhile, and merges it
   * with what another request wrote meanwhile).
   */
  write(
    id: string,
    text: string,
    expiresAt: number,
    cookies: RequestCookies,
    replacedId: string | undefined,
    changed: boolean,
    replacedExpiresAt: number,
    now: number,
    baseline: string | undefined,
    extras?: WriteExtras,
  ): CommitPlan;
  /**
   * Forget the session: delete `id` from the store (cookies: revoke it for `revokeFor` ms) when
   * given, and clear the cookies the request sent.
   */
  remove(
    id: string | undefined,
    cookies: RequestCookies,
    expiresAt: number,
    now: number,
    revokeFor: number,
  ): CommitPlan;
  /** What listUserSessions() shows for a session id, and getSessionInfo().idHash. */
  idHash?(id: string): string;
  /** Delete every stored session of this manager, and nothing else; resolves to how many (files, redis). */
  clear?(): Promise<number>;
  /**
   * Sign out everywhere: end every session tied to `userId`. Files and redis retire each of them,
   * as a logout does; the cookies backend records the user in its revocation list, which then
   * refuses every cookie tied to the user before `now`, for `lifetime` ms.
   */
  revokeUser(userId: string, lifetime: number, now: number): Promise<void>;
  /** The live sessions tied to `userId` (files, redis; the cookies backend keeps no record of them). */
  listUserSessions?(userId: string, now: number): Promise<StoredUserSession[]>;
  /** Stop background work (the files sweeper). */
  close?(): Promise<void>;
}
