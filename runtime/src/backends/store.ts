import type { RequestCookies, SetCookieWriter } from '../cookie-header.js';
import type { SessionRecord } from '../data.js';
import { isSessionId } from '../ids.js';
import type { ResolvedCommonOptions } from '../options.js';
import type { Backend, CommitPlan, LoadedSession, WriteExtras } from './backend.js';

/** A session as a server-side store holds it. */
export interface StoredSession {
  data: SessionRecord;
  text?: string;
  expiresAt: number;
  /** Stored without a usable expiry: write it again. */
  stale?: boolean;
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
  /** Undefined when missing, retired, expired or corrupt. */
  read(id: string, now: number): Promise<StoredSession | undefined>;
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

  async load(cookies: RequestCookies, now: number): Promise<LoadedSession | undefined> {
    const id = cookies.main as string;
    if (!isSessionId(id)) return undefined;
    const stored = await this.store.read(id, now);
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
    let persist: () => Promise<unknown>;
    if (replacedId !== undefined) {
      const until = this.retiredUntil(replacedExpiresAt, now);
      persist = async () => {
        // The old id is retired first: if the store fails in between, no id is left usable that
        // the request meant to retire (the user may have to sign in again; the response is a 503).
        await store.retire(replacedId, until);
        await store.write(id, text, expiresAt);
      };
    } else if (baseline === undefined) persist = () => store.write(id, text, expiresAt);
    // A session this request loaded: written only if its id is still live (see WriteOutcome), and
    // merged with what another request stored meanwhile.
    else if (changed) persist = () => store.update(id, text, expiresAt, baseline);
    else persist = () => store.touch(id, text, expiresAt);
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

  async close(): Promise<void> {
    await this.store.close?.();
  }
}
