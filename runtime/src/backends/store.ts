import type { RequestCookies, SetCookieWriter } from '../cookie-header.js';
import type { SessionRecord } from '../data.js';
import { isSessionId } from '../ids.js';
import type { ResolvedCommonOptions } from '../options.js';
import type { Backend, CommitPlan, LoadedSession } from './backend.js';

/** A session as a server-side store holds it. */
export interface StoredSession {
  data: SessionRecord;
  text?: string;
  expiresAt: number;
  /** Stored without a usable expiry: write it again. */
  stale?: boolean;
}

/** What the files and redis stores provide: storage by id, nothing about cookies or requests. */
export interface SessionStore {
  /** Undefined when missing, expired or corrupt; throws SessionStoreError when the store fails. */
  read(id: string, now: number): Promise<StoredSession | undefined>;
  /** Stores data that changed. */
  write(id: string, text: string, expiresAt: number): Promise<void>;
  /** Extends the expiry of data that did not change. */
  touch(id: string, text: string, expiresAt: number): Promise<void>;
  delete(id: string): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A backend whose cookie holds only the session id. The id's shape is checked before the store
 * sees it, so a hostile cookie never reaches a file path or a redis key, and an unknown id is never
 * adopted: the core gives such a request a fresh id.
 */
export class StoreBackend implements Backend {
  private readonly name: string;

  constructor(
    readonly kind: 'files' | 'redis',
    private readonly store: SessionStore,
    options: ResolvedCommonOptions,
    private readonly writer: SetCookieWriter,
  ) {
    this.name = options.cookieName;
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
  ): CommitPlan {
    const { store } = this;
    const persist =
      replacedId === undefined
        ? changed
          ? () => store.write(id, text, expiresAt)
          : () => store.touch(id, text, expiresAt)
        : async () => {
            // The new id first: if the store fails between the two, the user keeps a session.
            await store.write(id, text, expiresAt);
            await store.delete(replacedId);
          };
    return { setCookies: [this.writer.set(this.name, id, expiresAt)], persist };
  }

  remove(id: string | undefined, _cookies: RequestCookies, _expiresAt: number): CommitPlan {
    const { store } = this;
    return {
      setCookies: [this.writer.clear(this.name)],
      persist: id === undefined ? undefined : () => store.delete(id),
    };
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }
}
