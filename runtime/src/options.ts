import { type SetCookie, stringifySetCookie } from 'cookie';
import { SessionConfigError } from './errors.js';

/** The cookie's SameSite attribute, in any case (`'lax'`, `'LAX'`, as Emmett users write it); normalised. */
export type SameSite =
  | 'Lax'
  | 'Strict'
  | 'None'
  | Lowercase<'Lax' | 'Strict' | 'None'>
  | Uppercase<'Lax' | 'Strict' | 'None'>;
type CookiePriority = 'Low' | 'Medium' | 'High';

/** Extra attributes for the session cookie, Emmett's `cookie_data`. */
export interface CookieData {
  /** Default `/`. */
  path?: string;
  /** Default `true`: scripts in the page cannot read the session cookie. */
  httpOnly?: boolean;
  /** CHIPS partitioned cookie; browsers require `secure: true` with it. */
  partitioned?: boolean;
  /** In any case; normalised. */
  priority?: CookiePriority | Lowercase<CookiePriority> | Uppercase<CookiePriority>;
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
  /**
   * Seconds after its creation when a session ends however active it is (an absolute timeout).
   * Sliding never extends a session past it, and the cookie's Max-Age never points past it.
   * `regenerateSession()` (login) starts the count again, unless you pass
   * `{ seconds, keepOnRegenerate: true }`. Default: off.
   */
  absoluteExpire?: number | { seconds: number; keepOnRegenerate?: boolean };
  /**
   * The time, in ms since the epoch, for every expiry and revocation decision the manager makes.
   * Default `Date.now`. For tests that move time without waiting; the redis store and the redis
   * revocation list still count key TTLs on redis' own clock.
   */
  clock?: () => number;
}

/** The defaults of the options every backend shares (each backend's own are in its *-options.ts). */
export const COMMON_DEFAULTS = {
  expire: 3600,
  secure: false,
  sameSite: 'Lax',
  cookieName: 'emt_session',
} as const;

/** cookieData, checked, with its values normalised. */
export interface ResolvedCookieData {
  path?: string;
  httpOnly?: boolean;
  partitioned?: boolean;
  priority?: CookiePriority;
}

/** The options shared by all backends, checked and with their defaults filled in. */
export interface ResolvedCommonOptions {
  expire: number;
  secure: boolean;
  sameSite: 'Lax' | 'Strict' | 'None';
  domain: string | undefined;
  cookieName: string;
  cookieData: ResolvedCookieData;
  refreshAfter: number;
  /** Seconds, or undefined when off. */
  absoluteExpire: number | undefined;
  keepCreatedOnRegenerate: boolean;
  clock: () => number;
}

// RFC 6265 token characters: what a cookie name may be made of.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAME_SITE = new Map<string, ResolvedCommonOptions['sameSite']>([
  ['lax', 'Lax'],
  ['strict', 'Strict'],
  ['none', 'None'],
]);
const PRIORITY = new Map<string, CookiePriority>([
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
]);
const COOKIE_DATA_KEYS = new Set(['path', 'httpOnly', 'partitioned', 'priority']);
/** Attributes Emmett users may put in cookie_data that this port takes elsewhere, and where. */
const COOKIE_DATA_ELSEWHERE: Record<string, string> = {
  maxAge: 'the session decides Max-Age and Expires: use the `expire` option (or setSessionExpiry() for one session)',
  'max-age': 'the session decides Max-Age and Expires: use the `expire` option (or setSessionExpiry() for one session)',
  expires: 'the session decides Max-Age and Expires: use the `expire` option (or setSessionExpiry() for one session)',
  domain: 'use the `domain` option',
  secure: 'use the `secure` option',
  sameSite: 'use the `sameSite` option',
  samesite: 'use the `sameSite` option',
  name: 'use the `cookieName` option',
  value: 'the session writes the value',
};

/**
 * Checks one attribute with the `cookie` package's own rules (the ones it applies when it writes a
 * Set-Cookie), so a value that would break or be dropped from the header is refused at start-up.
 */
function checkWithCookieRules(what: string, attributes: SetCookie): void {
  try {
    stringifySetCookie(attributes);
  } catch (error) {
    throw new SessionConfigError(`${what} is not valid in a Set-Cookie header (${(error as Error).message}).`);
  }
}

function oneOf<V>(name: string, table: Map<string, V>, value: unknown): V {
  const found = typeof value === 'string' ? table.get(value.toLowerCase()) : undefined;
  if (found === undefined) {
    throw new SessionConfigError(
      `${name} must be one of ${[...table.values()].join(', ')} (in any case), got ${JSON.stringify(value)}.`,
    );
  }
  return found;
}

function resolveCookieData(given: CookieData | undefined, secure: boolean): ResolvedCookieData {
  const cookieData: ResolvedCookieData = {};
  if (given === undefined) return cookieData;
  if (given === null || typeof given !== 'object') {
    throw new SessionConfigError(`cookieData must be an object of cookie attributes, got ${String(given)}.`);
  }
  for (const key of Object.keys(given)) {
    if (COOKIE_DATA_KEYS.has(key)) continue;
    const elsewhere = COOKIE_DATA_ELSEWHERE[key];
    throw new SessionConfigError(
      elsewhere === undefined
        ? `cookieData.${key} is not a cookie attribute this manager sets; it takes path, httpOnly, partitioned and priority.`
        : `cookieData.${key} is refused: ${elsewhere}.`,
    );
  }
  const { path, httpOnly, partitioned, priority } = given;
  if (path !== undefined) {
    if (typeof path !== 'string' || path === '') {
      throw new SessionConfigError(`cookieData.path must be a non-empty string, got ${JSON.stringify(path)}.`);
    }
    checkWithCookieRules(`cookieData.path ${JSON.stringify(path)}`, { name: 'n', value: '', path });
    cookieData.path = path;
  }
  for (const [name, flag] of [
    ['httpOnly', httpOnly],
    ['partitioned', partitioned],
  ] as const) {
    if (flag !== undefined && typeof flag !== 'boolean') {
      throw new SessionConfigError(`cookieData.${name} must be true or false, got ${JSON.stringify(flag)}.`);
    }
    if (flag !== undefined) cookieData[name] = flag;
  }
  if (cookieData.partitioned && !secure) {
    throw new SessionConfigError('cookieData.partitioned needs secure: true; browsers drop such cookies otherwise.');
  }
  if (priority !== undefined) cookieData.priority = oneOf('cookieData.priority', PRIORITY, priority);
  return cookieData;
}

export function positiveSeconds(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new SessionConfigError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got ${String(value)}.`,
    );
  }
  return value;
}

/** Browsers keep a cookie at most 400 days (RFC 6265bis), whatever its Max-Age says. */
export const MAX_EXPIRE = 400 * 24 * 3600;

function checkExpire(value: number): number {
  const expire = positiveSeconds('expire', value);
  // Max-Age is whole seconds: under one, the cookie would be sent with Max-Age=0 and deleted at once.
  if (expire < 1) throw new SessionConfigError(`expire must be at least 1 second, got ${expire}.`);
  if (expire > MAX_EXPIRE) {
    throw new SessionConfigError(
      `expire must be at most ${MAX_EXPIRE} seconds (400 days): browsers drop a cookie after 400 days whatever it says, got ${expire}.`,
    );
  }
  return expire;
}

/**
 * Names browsers give a meaning to, or that this runtime does: a `__Host-` cookie is only kept when
 * it is Secure, has no Domain and Path=/, a `__Secure-` one when it is Secure; a name ending in `.`
 * and digits is how a large session's chunk cookies are named, so another manager could read it as
 * its own chunk.
 */
function checkCookieNameRules(cookieName: string, secure: boolean, domain: string | undefined, path: string): void {
  const refuse = (why: string) => {
    throw new SessionConfigError(`cookieName ${JSON.stringify(cookieName)} ${why}`);
  };
  const lower = cookieName.toLowerCase();
  if (lower.startsWith('__host-')) {
    if (!secure) refuse('needs secure: true (browsers drop a __Host- cookie without Secure).');
    if (domain !== undefined) refuse('cannot have a domain (browsers drop a __Host- cookie with a Domain).');
    if (path !== '/') refuse(`needs cookieData.path '/' (browsers drop a __Host- cookie with another path).`);
  }
  if (lower.startsWith('__secure-') && !secure) {
    refuse('needs secure: true (browsers drop a __Secure- cookie without Secure).');
  }
  if (/\.[0-9]+$/.test(cookieName)) {
    refuse("ends in a dot and digits, as the chunk cookies of a large session do ('sess.1'): choose another name.");
  }
}

export function resolveCommonOptions(options: CommonOptions): ResolvedCommonOptions {
  const expire = checkExpire(options.expire ?? COMMON_DEFAULTS.expire);
  const sameSite = oneOf('sameSite', SAME_SITE, options.sameSite ?? COMMON_DEFAULTS.sameSite);
  const secure = options.secure ?? COMMON_DEFAULTS.secure;
  if (sameSite === 'None' && !secure) {
    throw new SessionConfigError("sameSite 'None' needs secure: true; browsers drop such cookies otherwise.");
  }
  const cookieName = options.cookieName ?? COMMON_DEFAULTS.cookieName;
  if (typeof cookieName !== 'string' || cookieName === '') {
    throw new SessionConfigError(`cookieName must be a non-empty string, got ${JSON.stringify(cookieName)}.`);
  }
  // Stricter than the cookie package (which lets `,` `(` `/` through): RFC 6265 token characters only.
  if (!COOKIE_NAME.test(cookieName)) {
    throw new SessionConfigError(
      `cookieName ${JSON.stringify(cookieName)} is not a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~ only).`,
    );
  }
  const { domain } = options;
  if (domain !== undefined) {
    if (typeof domain !== 'string' || domain === '') {
      throw new SessionConfigError(`domain must be a non-empty string, got ${JSON.stringify(domain)}.`);
    }
    checkWithCookieRules(`domain ${JSON.stringify(domain)}`, { name: 'n', value: '', domain });
  }
  const cookieData = resolveCookieData(options.cookieData, secure);
  checkCookieNameRules(cookieName, secure, domain, cookieData.path ?? '/');
  const refreshAfter = positiveSeconds('refreshAfter', options.refreshAfter ?? expire / 2, true);
  // Past `expire`, a session that is only read would never slide and would expire while in use.
  if (refreshAfter > expire) {
    throw new SessionConfigError(`refreshAfter (${refreshAfter}) must not be longer than expire (${expire}).`);
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') {
    throw new SessionConfigError(`clock must be a function returning ms since the epoch, got ${String(clock)}.`);
  }
  const { absoluteExpire, keepCreatedOnRegenerate } = resolveAbsoluteExpire(options.absoluteExpire);
  return {
    expire,
    secure,
    sameSite,
    domain,
    cookieName,
    cookieData,
    refreshAfter,
    absoluteExpire,
    keepCreatedOnRegenerate,
    clock,
  };
}

function resolveAbsoluteExpire(given: CommonOptions['absoluteExpire']): {
  absoluteExpire: number | undefined;
  keepCreatedOnRegenerate: boolean;
} {
  if (given === undefined) return { absoluteExpire: undefined, keepCreatedOnRegenerate: false };
  const asObject = typeof given === 'object' && given !== null;
  const seconds = asObject ? given.seconds : given;
  const absoluteExpire = positiveSeconds('absoluteExpire', seconds as number);
  if (absoluteExpire < 1) {
    throw new SessionConfigError(`absoluteExpire must be at least 1 second, got ${absoluteExpire}.`);
  }
  const keep = asObject ? given.keepOnRegenerate : undefined;
  if (keep !== undefined && typeof keep !== 'boolean') {
    throw new SessionConfigError(`absoluteExpire.keepOnRegenerate must be true or false, got ${JSON.stringify(keep)}.`);
  }
  return { absoluteExpire, keepCreatedOnRegenerate: keep === true };
}
