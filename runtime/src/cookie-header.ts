import type { ResolvedCommonOptions } from './options.js';

/**
 * The most cookies a cookies-backend session is split into: `name`, `name.1`, `name.2`. Node rejects
 * requests with more than 16 KB of headers: three full cookies leave room for the rest.
 */
export const MAX_CHUNKS = 3;

/**
 * The session's cookies as the request sent them: the main cookie and, for a cookies-backend session
 * too large for one cookie, its chunks (`name.1`, `name.2`).
 */
export interface RequestCookies {
  /** Value of the cookie named exactly `cookieName`, if sent. */
  main: string | undefined;
  /** Chunk number -> value, for the `cookieName.1` and `cookieName.2` cookies. Empty for most requests. */
  chunks: Map<number, string>;
}

const NO_CHUNKS: Map<number, string> = new Map();

/**
 * Reads only the session's cookies out of a Cookie header. It never throws: a malformed header
 * is just a header in which the session cookie is missing. The first of duplicated names wins,
 * as browsers send the most specific path first.
 */
export function readSessionCookies(header: string | undefined, cookieName: string): RequestCookies {
  const result: RequestCookies = { main: undefined, chunks: NO_CHUNKS };
  if (!header) return result;
  const chunkPrefix = `${cookieName}.`;
  let start = 0;
  let eq = -1;
  const length = header.length;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    // The next '=' is searched again only once passed, so a header of many '='-less parts
    // (";;;;...") costs one scan, not one per part.
    if (eq < start) {
      eq = header.indexOf('=', start);
      if (eq === -1) break;
    }
    if (eq < end) {
      const name = header.slice(start, eq).trim();
      if (name === cookieName) {
        if (result.main === undefined) result.main = unquote(header.slice(eq + 1, end).trim());
      } else if (name.length === chunkPrefix.length + 1 && name.startsWith(chunkPrefix)) {
        // Exactly `name.1` .. `name.2`: `name.01` or `name.1e0` is another cookie, not a chunk.
        const index = name.charCodeAt(chunkPrefix.length) - 48;
        if (index >= 1 && index < MAX_CHUNKS) {
          if (result.chunks === NO_CHUNKS) result.chunks = new Map();
          if (!result.chunks.has(index)) result.chunks.set(index, unquote(header.slice(eq + 1, end).trim()));
        }
      }
    }
    start = end + 1;
  }
  return result;
}

function unquote(value: string): string {
  return value.length > 1 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34
    ? value.slice(1, -1)
    : value;
}

/** Builds Set-Cookie header values; the attributes that never change are rendered once per manager. */
export class SetCookieWriter {
  private readonly suffix: string;
  private readonly maxAge: string;
  private expiresSecond = -1;
  private expiresText = '';

  constructor(options: ResolvedCommonOptions) {
    const { cookieData } = options;
    let suffix = `; Path=${cookieData.path ?? '/'}`;
    if (options.domain !== undefined) suffix += `; Domain=${options.domain}`;
    if (cookieData.httpOnly ?? true) suffix += '; HttpOnly';
    if (options.secure) suffix += '; Secure';
    suffix += `; SameSite=${options.sameSite}`;
    if (cookieData.partitioned) suffix += '; Partitioned';
    if (cookieData.priority) suffix += `; Priority=${cookieData.priority}`;
    this.suffix = suffix;
    this.maxAge = `; Max-Age=${Math.floor(options.expire)}`;
  }

  /**
   * A cookie that lives until `expiresAt` (ms); Max-Age and Expires say the same as the server.
   * `maxAge`: seconds, when not the manager's `expire`; null makes a browser-session cookie (neither).
   */
  set(name: string, value: string, expiresAt: number, maxAge?: number | null): string {
    if (maxAge === undefined) return `${name}=${value}${this.maxAge}; Expires=${this.expires(expiresAt)}${this.suffix}`;
    if (maxAge === null) return `${name}=${value}${this.suffix}`;
    return `${name}=${value}; Max-Age=${Math.floor(maxAge)}; Expires=${this.expires(expiresAt)}${this.suffix}`;
  }

  /** A cookie that tells the browser to forget `name`. */
  clear(name: string): string {
    return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${this.suffix}`;
  }

  /**
   * Bytes a Set-Cookie for `name` takes besides its value, to know when a value must be split.
   * `maxAge` as for `set`: a wider Max-Age leaves less room for the value.
   */
  overhead(name: string, maxAge?: number | null): number {
    const age = maxAge === undefined || maxAge === null ? this.maxAge : `; Max-Age=${Math.floor(maxAge)}`;
    return name.length + 1 + age.length + '; Expires=Thu, 01 Jan 1970 00:00:00 GMT'.length + this.suffix.length;
  }

  private expires(expiresAt: number): string {
    // toUTCString costs more than the rest of the header; most requests in a second share it.
    const second = Math.floor(expiresAt / 1000);
    if (second !== this.expiresSecond) {
      this.expiresSecond = second;
      this.expiresText = new Date(second * 1000).toUTCString();
    }
    return this.expiresText;
  }
}
