import { MAX_CHUNKS, type RequestCookies, type SetCookieWriter } from '../cookie-header.js';
import { parseStored, type SessionRecord } from '../data.js';
import { SessionConfigError, SessionTooLargeError } from '../errors.js';
import { idHash, isSessionId } from '../ids.js';
import { mayHoldMeta, userOf } from '../meta.js';
import type { ResolvedCommonOptions } from '../options.js';
import { Sealer } from '../seal.js';
import type { Backend, CommitPlan, LoadedSession, WriteExtras } from './backend.js';
import { type RevocationList, revocationLifetime } from './revocation.js';

/** Browsers keep at most 4096 bytes of one Set-Cookie (name, value and attributes). */
const COOKIE_LIMIT = 4096;
const CHUNKED = /^([2-9])~/;

/**
 * How many cookies the request's main cookie says the session was split into (1 when it is not
 * chunked). Only those chunks were written under this cookie name: any other `name.N` cookie
 * belongs to someone else, and is neither read nor cleared.
 */
function declaredChunks(main: string | undefined): number {
  const chunked = main === undefined ? null : CHUNKED.exec(main);
  const count = chunked === null ? 1 : Number(chunked[1]);
  return count > MAX_CHUNKS ? 1 : count;
}

/**
 * A cookie's plaintext, split and checked once, and kept with the cookie while the sealer remembers
 * it: a browser sends the same cookie until the session changes, so read-only requests find it here.
 */
class DecodedSession {
  /**
   * Once a second request brought the cookie: the data when every value is a primitive (frozen,
   * and copied for each request, which costs less than a parse), or null when one is an object.
   */
  private flat: Readonly<SessionRecord> | null | undefined;
  /** The record parsed while decoding, until the first request takes it. */
  private unused: SessionRecord | undefined;

  constructor(
    readonly id: string,
    /** The data's JSON. */
    readonly text: string,
    readonly expiresAt: number,
    parsed: SessionRecord,
  ) {
    this.unused = parsed;
  }

  /** A record of its own for one request: no request ever sees an object another one changed. */
  data(): SessionRecord | undefined {
    const { unused, flat } = this;
    if (unused !== undefined) {
      this.unused = undefined;
      return unused;
    }
    if (flat) return { ...flat };
    const parsed = parseStored(this.text);
    if (flat === undefined && parsed !== undefined) {
      const primitives = Object.values(parsed).every((value) => typeof value !== 'object' || value === null);
      this.flat = primitives ? Object.freeze({ ...parsed }) : null;
    }
    return parsed;
  }
}

/** A plaintext that is not `<expires>.<id>.<JSON object>`: only a bug could seal one. */
const INVALID = Symbol('invalid session plaintext');

function decode(plaintext: string): DecodedSession | typeof INVALID {
  const idStart = plaintext.indexOf('.') + 1;
  const textStart = plaintext.indexOf('.', idStart) + 1;
  if (idStart === 0 || textStart === 0) return INVALID;
  const id = plaintext.slice(idStart, textStart - 1);
  const text = plaintext.slice(textStart);
  const parsed = isSessionId(id) ? parseStored(text) : undefined;
  if (parsed === undefined) return INVALID;
  return new DecodedSession(id, text, Number(plaintext.slice(0, idStart - 1)), parsed);
}

/** The user a loaded cookie session is tied to (bindSessionToUser), read without splitting its meta. */
function userTiedTo(loaded: LoadedSession): { id: string; bound: number } | undefined {
  return loaded.text !== undefined && !mayHoldMeta(loaded.text) ? undefined : userOf(loaded.data);
}

/**
 * The cookies backend: the whole session, sealed, in the cookie. Sealed text is
 * `<expires, ms since the epoch>.<session id>.<data JSON>`, so expiry is enforced by the server even if a
 * browser keeps the cookie; the id lets regenerate/destroy retire it through the optional revocation
 * list (without one, a retired cookie opens until it expires). A session too large for one cookie is
 * split into `name`, `name.1`, `name.2`.
 */
export class CookiesBackend implements Backend {
  readonly kind = 'cookies';
  private readonly sealer: Sealer<DecodedSession | typeof INVALID>;
  private readonly name: string;
  private readonly chunkSize: number;
  private readonly clock: () => number;
  private readonly revocation: RevocationList | undefined;
  /** How long a retired id stays revoked (ms). */
  private readonly revokeFor: number;
  /**
   * Set once the list answered a load synchronously (the in-memory one does): it is then also asked
   * at commit, at no I/O cost. A list that answers with a promise is not, as the commit must decide its
   * cookies synchronously; its revocation outlives any copy sealed by a request in flight anyway.
   */
  private listAnswersAtOnce = false;

  constructor(
    secret: string | readonly string[],
    options: ResolvedCommonOptions,
    private readonly writer: SetCookieWriter,
    { revocation, compression = 0 }: { revocation?: RevocationList | undefined; compression?: number } = {},
  ) {
    this.revocation = revocation;
    this.name = options.cookieName;
    this.sealer = new Sealer<DecodedSession | typeof INVALID>(secret, this.name, compression);
    this.chunkSize = COOKIE_LIMIT - writer.overhead(`${this.name}.9`) - 2;
    this.clock = options.clock;
    this.revokeFor = revocationLifetime(options);
  }

  load(cookies: RequestCookies, now: number): LoadedSession | Promise<LoadedSession | undefined> | undefined {
    const loaded = this.open(cookies, now);
    if (loaded === undefined || this.revocation === undefined) return loaded;
    // Stay synchronous when the list answers synchronously (the in-memory one does).
    const revoked = this.revocation.isRevoked(loaded.id, now);
    const user = this.revocation.userRevokedAt === undefined ? undefined : userTiedTo(loaded);
    if (user !== undefined) {
      // Tied to a user: refused too if revokeUser() ran at or after the tie (sign out everywhere).
      const at = (this.revocation.userRevokedAt as NonNullable<RevocationList['userRevokedAt']>)(user.id, now);
      const refused = (isRevoked: boolean, revokedAt: number | undefined) =>
        isRevoked || (revokedAt !== undefined && revokedAt >= user.bound);
      if (typeof revoked === 'boolean' && !(at instanceof Promise)) {
        this.listAnswersAtOnce = true;
        return refused(revoked, at) ? undefined : loaded;
      }
      return Promise.all([revoked, at]).then(([isRevoked, revokedAt]) =>
        refused(isRevoked, revokedAt) ? undefined : loaded,
      );
    }
    if (typeof revoked === 'boolean') {
      this.listAnswersAtOnce = true;
      return revoked ? undefined : loaded;
    }
    return revoked.then((isRevoked) => (isRevoked ? undefined : loaded));
  }

  /** Sign out everywhere: the revocation list refuses every cookie tied to the user at or before `now`. */
  async revokeUser(userId: string, lifetime: number, now: number): Promise<void> {
    const { revocation } = this;
    if (revocation?.revokeUser === undefined) {
      throw new SessionConfigError(
        'revokeUser() with the cookies backend needs a revocation list (new MemoryRevocationList() for one process, new RedisRevocationList(redis) for several): a sealed cookie is valid on its own until it expires.',
      );
    }
    await revocation.revokeUser(userId, Math.max(lifetime, this.revokeFor), now);
  }

  idHash(id: string): string {
    return idHash(id);
  }

  private open(cookies: RequestCookies, now: number): LoadedSession | undefined {
    const sealed = this.join(cookies);
    if (sealed === undefined) return undefined;
    const opened = this.sealer.open(sealed);
    if (opened === undefined) return undefined;
    opened.decoded ??= decode(opened.plaintext);
    const session = opened.decoded;
    // Expiry is checked on every request, remembered cookie or not.
    if (session === INVALID || !(session.expiresAt > now)) return undefined;
    const data = session.data();
    if (data === undefined) return undefined;
    return { id: session.id, data, text: session.text, expiresAt: session.expiresAt, stale: opened.stale };
  }

  write(
    id: string,
    text: string,
    expiresAt: number,
    cookies: RequestCookies,
    replacedId: string | undefined,
    _changed: boolean,
    _replacedExpiresAt: number,
    now: number,
    _baseline?: string,
    extras?: WriteExtras,
  ): CommitPlan {
    // Revoked while this request was in flight (a logout in another tab, or an attacker holding a
    // request open across the victim's logout): never sealed again.
    if (replacedId === undefined && this.listAnswersAtOnce && this.revocation?.isRevoked(id, now) === true) {
      return this.remove(undefined, cookies);
    }
    // To the millisecond, never rounded up: the cookie expires exactly when the session does.
    const expires = Math.floor(expiresAt);
    const sealed = this.sealer.seal(`${expires}.${id}.${text}`);
    const maxAge = extras?.maxAge;
    const parts = this.split(sealed, maxAge);
    const setCookies: string[] = [];
    for (let index = 0; index < parts.length; index++) {
      setCookies.push(
        this.writer.set(index === 0 ? this.name : `${this.name}.${index}`, parts[index] as string, expires, maxAge),
      );
    }
    // Chunks left over from a larger session: cleared, so the browser does not keep sending them.
    if (cookies.chunks.size > 0) {
      const declared = declaredChunks(cookies.main);
      for (const index of cookies.chunks.keys()) {
        if (index >= parts.length && index < declared) setCookies.push(this.writer.clear(`${this.name}.${index}`));
      }
    }
    return { setCookies, persist: this.revoker(replacedId, extras?.revokeFor) };
  }

  remove(
    id: string | undefined,
    cookies: RequestCookies,
    _expiresAt?: number,
    _now?: number,
    revokeFor?: number,
  ): CommitPlan {
    const setCookies = [this.writer.clear(this.name)];
    const declared = declaredChunks(cookies.main);
    for (const index of cookies.chunks.keys()) {
      if (index < declared) setCookies.push(this.writer.clear(`${this.name}.${index}`));
    }
    return { setCookies, persist: this.revoker(id, revokeFor) };
  }

  /**
   * The commit's store step for the cookies backend: recording a retired id, when there is a list.
   * The revocation's lifetime counts from when it runs, which may be well after the commit (a handler
   * that sends its headers and ends the response later): every load until then may still pass.
   */
  private revoker(id: string | undefined, sessionRevokeFor = 0): CommitPlan['persist'] {
    const { revocation, clock } = this;
    if (id === undefined || revocation === undefined) return undefined;
    // A session with a lifetime of its own (setSessionExpiry) may have copies that live longer.
    const revokeFor = Math.max(this.revokeFor, sessionRevokeFor);
    return async () => {
      await revocation.revoke(id, revokeFor, clock());
    };
  }

  private split(sealed: string, maxAge?: number | null): string[] {
    // A Max-Age of the session's own (setSessionExpiry) may be wider than the manager's.
    const chunkSize =
      maxAge === undefined || maxAge === null
        ? this.chunkSize
        : COOKIE_LIMIT - this.writer.overhead(`${this.name}.9`, maxAge) - 2;
    if (sealed.length <= chunkSize) return [sealed];
    const count = Math.ceil((sealed.length + 2) / chunkSize);
    if (count > MAX_CHUNKS) throw new SessionTooLargeError(sealed.length, MAX_CHUNKS * chunkSize - 2);
    const parts = [`${count}~${sealed.slice(0, chunkSize - 2)}`];
    for (let start = chunkSize - 2; start < sealed.length; start += chunkSize) {
      parts.push(sealed.slice(start, start + chunkSize));
    }
    return parts;
  }

  private join(cookies: RequestCookies): string | undefined {
    const main = cookies.main as string;
    const chunked = CHUNKED.exec(main);
    if (chunked === null) return main;
    let sealed = main.slice(2);
    const count = Number(chunked[1]);
    if (count > MAX_CHUNKS) return undefined;
    for (let index = 1; index < count; index++) {
      const part = cookies.chunks.get(index);
      if (part === undefined) return undefined;
      sealed += part;
    }
    return sealed;
  }
}
