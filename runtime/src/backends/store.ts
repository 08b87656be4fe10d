import type { RequestCookies, SetCookieWriter } from '../cookie-header.js';
import type { SessionRecord } from '../data.js';
import { idHash, isSessionId } from '../ids.js';
import type { ResolvedCommonOptions } from '../options.js';
import type { Backend, CommitPlan, LoadedSession, StoredUserSession, WriteExtras } from './backend.js';

/** A session as a server-side store holds it. */
export interface StoredSession {
  data: SessionRecord;
  text?: string;
  expiresAt: number;
  /** Stored without a usable expiry: write it again. */
  stale?: boolean;
}

/** A session tied to a user as a store finds it: `handle` is what `retireHandle` takes. */
export interface UserSessionEntry extends StoredUserSession {
  handle: string;
}

/**
 * What a conditional write did: `refused` when the id it was for had been retired (logout,
 * regenerate), had expired or had been deleted since the request loaded it. Not an error: the
 * session is gone, and a request that loaded it before then must not bring it back.
 */
export type WriteOutcome = 'stored' | 'refused';

/**
 * What the files and redis stores provide: storage by id, nothing about cookies or requests. Every
 * method throws SessionStoreError when the store fails or does not answer in time.
 */
export interface SessionStore {
  /**
   * Undefined when missing, retired, expired or corrupt. A store whose reads are synchronous system
   * calls (files) answers without a promise, and throws its SessionStoreError.
   */
  read(id: string, now: number): Promise<StoredSession | undefined> | StoredSession | undefined;
  /** Stores data under an id that was never stored (a new session), unconditionally. */
  write(id: string, text: string, expiresAt: number): Promise<void>;
  /**
   * Rewrites the session a request loaded; refused if its id was retired or is gone meanwhile.
   * `baseline` is the JSON the request loaded: if the stored session changed since (another
   * request's write), only the top-level keys this request changed are applied over it (merge.ts).
   */
  update(id: string, text: string, expiresAt: number, baseline: string): Promise<WriteOutcome>;
  /** Extends the expiry of a session that did not change; refused like `update`. */
  touch(id: string, text: string, expiresAt: number): Promise<WriteOutcome>;
  /**
   * Deletes the session and retires its id until `until` (ms since the epoch): no `update` or
   * `touch` of a request already in flight can write it back.
   */
  retire(id: string, until: number): Promise<void>;
  /**
   * Deletes every session of this store and nothing else (Emmett's `clear()`); resolves to how
   * many. A request in flight finds its session gone, and writes nothing back.
   */
  clear(): Promise<number>;
  /** The live sessions tied to `userId` (redis: through the user's index; files: a scan of the folder). */
  userSessions(userId: string, now: number): Promise<UserSessionEntry[]>;
  /** Retires a session `userSessions` found, as `retire` does for an id. */
  retireHandle(handle: string, until: number): Promise<void>;
  /** Records that `id` is tied to `userId` until `expiresAt` (redis keeps an index; files scan instead). */
  indexUser?(userId: string, id: string, expiresAt: number): Promise<unknown>;
  /**
   * Stores a new session tied to a user (as `write`), unless the user's sessions were revoked at or
   * after `bound`, the time it was tied: a request in flight during revokeUser() that regenerates
   * its session must not bring the user back under a new id. Checked so that a revokeUser() running
   * at the same moment either sees the new session or is seen by this check.
   */
  createTied(userId: string, bound: number, id: string, text: string, expiresAt: number): Promise<WriteOutcome>;
  /** Records a revokeUser() of `userId` at `at` (ms since the epoch), kept `lifetime` ms; never moved back. */
  markUserRevoked(userId: string, at: number, lifetime: number): Promise<void>;
  /** Forgets retired sessions from the user's index. */
  forgetUserSessions?(userId: string, handles: string[]): Promise<void>;
  /** What listUserSessions() shows for an id, when not a plain hash of it (files: the file's hash). */
  idHash?(id: string): string;
  close?(): Promise<void>;
}

/**
 * A backend whose cookie holds only the session id. The id's shape is checked before the store
 * sees it, so a hostile cookie never reaches a file path or a redis key, and an unknown id is never
 * adopted: the core gives such a request a fresh id.
 */
export class StoreBackend implements Backend {
  private readonly name: string;
  private readonly expireMs: number;

  constructor(
    readonly kind: 'files' | 'redis',
    private readonly store: SessionStore,
    options: ResolvedCommonOptions,
    private readonly writer: SetCookieWriter,
  ) {
    this.name = options.cookieName;
    this.expireMs = options.expire * 1000;
  }

  /** Without a promise when the store answered without one (files): see `SessionManager.loadEager`. */
  load(cookies: RequestCookies, now: number): Promise<LoadedSession | undefined> | LoadedSession | undefined {
    const id = cookies.main as string;
    if (!isSessionId(id)) return undefined;
    const stored = this.store.read(id, now);
    if (stored instanceof Promise) return stored.then((found) => found && { id, ...found });
    return stored && { id, ...stored };
  }

  write(
    id: string,
    text: string,
    expiresAt: number,
    _cookies: RequestCookies,
    replacedId: string | undefined,
    changed: boolean,
    replacedExpiresAt: number,
    now: number,
    baseline: string | undefined,
    extras?: WriteExtras,
  ): CommitPlan {
    const { store } = this;
    const user = extras?.user;
    // A new id: a session tied to a user is created only if the user was not signed out everywhere since.
    const create =
      user === undefined
        ? () => store.write(id, text, expiresAt)
        : () => store.createTied(user.id, user.bound, id, text, expiresAt);
    let persist: () => Promise<unknown>;
    if (replacedId !== undefined) {
      const until = this.retiredUntil(replacedExpiresAt, now);
      persist = async () => {
        // The old id is retired first: if the store fails in between, no id is left usable that
        // the request meant to retire (the user may have to sign in again; the response is a 503).
        await store.retire(replacedId, until);
        await create();
      };
    } else if (baseline === undefined) persist = create;
    // A session this request loaded: written only if its id is still live (see WriteOutcome), and
    // merged with what another request stored meanwhile.
    else if (changed) persist = () => store.update(id, text, expiresAt, baseline);
    else persist = () => store.touch(id, text, expiresAt);
    // A loaded session tied to a user stays in the user's index (redis), in the same round trip.
    if (user !== undefined && baseline !== undefined && replacedId === undefined && store.indexUser !== undefined) {
      const writeSession = persist;
      const index = store.indexUser.bind(store);
      persist = () => Promise.all([writeSession(), index(user.id, id, expiresAt)]);
    }
    return {
      setCookies: [this.writer.set(this.name, id, expiresAt, extras?.maxAge)],
      persist: persist as () => Promise<void>,
    };
  }

  remove(id: string | undefined, _cookies: RequestCookies, expiresAt: number, now: number): CommitPlan {
    const { store } = this;
    const until = this.retiredUntil(expiresAt, now);
    return {
      setCookies: [this.writer.clear(this.name)],
      persist: id === undefined ? undefined : () => store.retire(id, until),
    };
  }

  /**
   * How long a retired id stays marked: as long as any copy of the session could live, the one this
   * request loaded (`expiresAt`) or one another request slid meanwhile (now + expire).
   */
  private retiredUntil(expiresAt: number, now: number): number {
    return Math.max(expiresAt, now + this.expireMs);
  }

  clear(): Promise<number> {
    return this.store.clear();
  }

  idHash(id: string): string {
    return this.store.idHash?.(id) ?? idHash(id);
  }

  async listUserSessions(userId: string, now: number): Promise<StoredUserSession[]> {
    return (await this.store.userSessions(userId, now)).map(({ handle: _, ...session }) => session);
  }

  /**
   * Records the revocation time, then retires each of the user's sessions as a logout does (a
   * tombstone, a marker), so that no request in flight writes one back, nor creates one tied before
   * it (createTied); then forgets them from the user's index.
   */
  async revokeUser(userId: string, lifetime: number, now: number): Promise<void> {
    const { store } = this;
    // First the time: a session created from now on checks it; one created before is listed below.
    await store.markUserRevoked(userId, now, Math.max(lifetime, this.expireMs));
    const sessions = await store.userSessions(userId, now);
    await Promise.all(
      sessions.map(({ handle, expiresAt }) => store.retireHandle(handle, this.retiredUntil(expiresAt, now))),
    );
    await store.forgetUserSessions?.(
      userId,
      sessions.map(({ handle }) => handle),
    );
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }
}
