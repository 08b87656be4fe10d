import { SessionConfigError } from './errors.js';
import type { RevocationList } from './revocation.js';

export type SameSite = 'Lax' | 'Strict' | 'None';

/** Extra attributes for the session cookie, Emmett's `cookie_data`. */
export interface CookieData {
  /** Default `/`. */
  path?: string;
  /** Default `true`: scripts in the page cannot read the session cookie. */
  httpOnly?: boolean;
  /** CHIPS partitioned cookie; browsers require `secure: true` with it. */
  partitioned?: boolean;
  priority?: 'Low' | 'Medium' | 'High';
}

/** Options every backend accepts (Emmett's names, in camelCase). */
export interface CommonOptions {
  /** Seconds after which an unused session expires; enforced by the server, not only the browser. Default 3600. */
  expire?: number;
  /** Send the cookie over HTTPS only. Default false. */
  secure?: boolean;
  /** The cookie's SameSite attribute. Default 'Lax'. */
  sameSite?: SameSite;
  /** The cookie's Domain attribute. Default: none (the request's host only). */
  domain?: string;
  /** The cookie's name. Default 'emt_session'. */
  cookieName?: string;
  /** More cookie attributes. */
  cookieData?: CookieData;
  /**
   * An unchanged session is re-sent (cookie and store expiry) only once this many seconds of its
   * lifetime have passed, so read-only requests write nothing. Default: half of `expire`. 0 slides on every request.
   */
  refreshAfter?: number;
}

export interface CookiesOptions extends CommonOptions {
  /**
   * Makes logout and regenerate final. A sealed cookie is valid on its own until it expires: without
   * a revocation list, a cookie copied before `destroy()` or `regenerate()` (by an attacker, or by the
   * browser's back-up) still opens the old session until its expiry (at most `expire` seconds after
   * its last write). With one, the retired session id is recorded until that expiry and such a cookie
   * reads as a fresh session. `new MemoryRevocationList()` suits a single process;
   * `new RedisRevocationList(redis)` is shared by every process and server. Default: none.
   */
  revocation?: RevocationList;
}

export interface FilesOptions extends CommonOptions {
  /** Folder of the session files; created (mode 0700) when missing. Default './sessions'. */
  directory?: string;
  /** File name with one `%s` for the session id. Default 'emt_%s.sess'. */
  filenameTemplate?: string;
  /** Seconds between sweeps that delete expired files; 0 disables. Default 600. */
  sweepInterval?: number;
}

export interface RedisOptions extends CommonOptions {
  /** Prefix of every key. Default 'emtsess:'. */
  prefix?: string;
  /** Milliseconds after which a redis command counts as failed. Default 2000. */
  commandTimeout?: number;
}

export const DEFAULTS = {
  expire: 3600,
  secure: false,
  sameSite: 'Lax',
  cookieName: 'emt_session',
  filenameTemplate: 'emt_%s.sess',
  directory: './sessions',
  prefix: 'emtsess:',
  commandTimeout: 2000,
  sweepInterval: 600,
} as const;

/** The options shared by all backends, checked and with their defaults filled in. */
export interface ResolvedCommonOptions {
  expire: number;
  secure: boolean;
  sameSite: SameSite;
  domain: string | undefined;
  cookieName: string;
  cookieData: CookieData;
  refreshAfter: number;
}

// RFC 6265 token characters: what a cookie name may be made of.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What may stand in a Domain or Path attribute without breaking the Set-Cookie header.
const ATTRIBUTE_VALUE = /^[\u0021-\u003A\u003C-\u007E]+$/;
const SAME_SITE: readonly SameSite[] = ['Lax', 'Strict', 'None'];
const PRIORITY: readonly NonNullable<CookieData['priority']>[] = ['Low', 'Medium', 'High'];

export function positiveSeconds(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new SessionConfigError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got ${String(value)}.`,
    );
  }
  return value;
}

export function resolveCommonOptions(options: CommonOptions): ResolvedCommonOptions {
  const expire = positiveSeconds('expire', options.expire ?? DEFAULTS.expire);
  const sameSite = options.sameSite ?? DEFAULTS.sameSite;
  if (!SAME_SITE.includes(sameSite)) {
    throw new SessionConfigError(`sameSite must be one of ${SAME_SITE.join(', ')}, got ${JSON.stringify(sameSite)}.`);
  }
  const secure = options.secure ?? DEFAULTS.secure;
  if (sameSite === 'None' && !secure) {
    throw new SessionConfigError("sameSite 'None' needs secure: true; browsers drop such cookies otherwise.");
  }
  const cookieName = options.cookieName ?? DEFAULTS.cookieName;
  if (!COOKIE_NAME.test(cookieName)) {
    throw new SessionConfigError(
      `cookieName ${JSON.stringify(cookieName)} is not a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~ only).`,
    );
  }
  const { domain } = options;
  if (domain !== undefined && !ATTRIBUTE_VALUE.test(domain)) {
    throw new SessionConfigError(`domain ${JSON.stringify(domain)} is not a valid cookie domain.`);
  }
  const cookieData = { ...options.cookieData };
  if (cookieData.path !== undefined && !ATTRIBUTE_VALUE.test(cookieData.path)) {
    throw new SessionConfigError(`cookieData.path ${JSON.stringify(cookieData.path)} is not a valid cookie path.`);
  }
  if (cookieData.partitioned && !secure) {
    throw new SessionConfigError('cookieData.partitioned needs secure: true; browsers drop such cookies otherwise.');
  }
  if (cookieData.priority !== undefined && !PRIORITY.includes(cookieData.priority)) {
    throw new SessionConfigError(
      `cookieData.priority must be one of ${PRIORITY.join(', ')}, got ${JSON.stringify(cookieData.priority)}.`,
    );
  }
  const refreshAfter = positiveSeconds('refreshAfter', options.refreshAfter ?? expire / 2, true);
  // Past `expire`, a session that is only read would never slide and would expire while in use.
  if (refreshAfter > expire) {
    throw new SessionConfigError(`refreshAfter (${refreshAfter}) must not be longer than expire (${expire}).`);
  }
  return { expire, secure, sameSite, domain, cookieName, cookieData, refreshAfter };
}
