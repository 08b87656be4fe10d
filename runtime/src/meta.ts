import type { SessionRecord } from './data.js';

/**
 * What the session layer keeps about a session besides its data: its own lifetime (remember me),
 * when it was created (absolute timeout), the user it is tied to, and flashed messages. They are
 * stored as members of the same JSON object as the data, under keys that start with a NUL character,
 * which the data guard refuses for a key of yours: no user key can read or overwrite them, and they
 * never show in the session object.
 *
 * Being top-level members, they merge like data keys when two requests of one session overlap
 * (backends/merge.ts, and the redis write script): a member one request changed is put over what
 * the other stored; each flash is a member of its own, so a flash one request adds and one the other
 * takes are both kept and gone respectively.
 */
export const META_MARK = '\u0000';
/** `[seconds, longest seconds ever set]`: this session's idle lifetime (setSessionExpiry). */
const LIFETIME = '\u0000e';
/** ms since the epoch: when the session was first stored under absoluteExpire or with a user. */
const CREATED = '\u0000c';
/** `[user id, ms since the epoch it was tied at]` (bindSessionToUser). */
const USER = '\u0000u';
/** Prefix of a flash's member; the rest is its time and a random part, so names sort oldest first. */
const FLASH = '\u0000f';

/** The JSON spelling of a meta key's first character: how a stored text shows it may hold meta. */
const MARK_IN_JSON = '"\\u0000';

/** A flashed message, as takeFlashes() returns it. */
export interface Flash {
  readonly message: string;
  /** `'message'` unless flash() was given one, as in Emmett. */
  readonly category: string;
}

/** The meta members of a session, by their key: a plain record, merged and stored as members. */
export type MetaRecord = SessionRecord;

/** Whether a stored text may hold meta members (a cheap test before any walk). */
export function mayHoldMeta(text: string): boolean {
  return text.includes(MARK_IN_JSON);
}

/** Moves the meta members out of a parsed record (in place); undefined when it has none. */
export function splitMeta(record: SessionRecord): MetaRecord | undefined {
  let meta: MetaRecord | undefined;
  for (const key of Object.keys(record)) {
    if (key.charCodeAt(0) !== 0) continue;
    meta ??= {};
    meta[key] = record[key];
    delete record[key];
  }
  return meta;
}

/** The meta members as JSON member text, in a fixed order ('' when there are none). */
export function metaMembers(meta: MetaRecord | undefined): string {
  if (meta === undefined) return '';
  const keys = Object.keys(meta).sort();
  let text = '';
  for (const key of keys) {
    if (meta[key] === undefined) continue;
    text += `${text === '' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(meta[key])}`;
  }
  return text;
}

/** The stored form: the data's JSON object with the meta members first. */
export function joinMeta(members: string, dataText: string): string {
  if (members === '') return dataText;
  return dataText === '{}' ? `{${members}}` : `{${members},${dataText.slice(1)}`;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** This session's idle lifetime in seconds (0: a browser-session cookie), or undefined: the manager's. */
export function lifetimeOf(meta: MetaRecord | undefined): number | undefined {
  const value = meta?.[LIFETIME];
  return Array.isArray(value) && isCount(value[0]) ? value[0] : undefined;
}

/** The longest lifetime ever set for this session (seconds): how long a copy of its cookie may live. */
export function longestLifetimeOf(meta: MetaRecord | undefined): number {
  const value = meta?.[LIFETIME];
  return Array.isArray(value) && isCount(value[1]) ? value[1] : 0;
}

export function withLifetime(meta: MetaRecord | undefined, seconds: number): MetaRecord {
  const longest = Math.max(seconds, longestLifetimeOf(meta));
  return { ...meta, [LIFETIME]: [seconds, longest] };
}

export function createdOf(meta: MetaRecord | undefined): number | undefined {
  const value = meta?.[CREATED];
  return isCount(value) ? value : undefined;
}

export function withCreated(meta: MetaRecord | undefined, created: number | undefined): MetaRecord | undefined {
  if (created === undefined) {
    if (meta === undefined || !(CREATED in meta)) return meta;
    const { [CREATED]: _, ...rest } = meta;
    return rest;
  }
  return { ...meta, [CREATED]: created };
}

/** The user the session is tied to, and when it was tied. */
export function userOf(meta: MetaRecord | undefined): { id: string; bound: number } | undefined {
  const value = meta?.[USER];
  return Array.isArray(value) && typeof value[0] === 'string' && isCount(value[1])
    ? { id: value[0], bound: value[1] }
    : undefined;
}

export function withUser(meta: MetaRecord | undefined, userId: string, now: number): MetaRecord {
  return { ...meta, [USER]: [userId, now] };
}

export function hasFlashes(meta: MetaRecord | undefined): boolean {
  if (meta === undefined) return false;
  for (const key in meta) if (key.startsWith(FLASH)) return true;
  return false;
}

/** A flash's member name: its time (fixed width, so names sort oldest first) and a random part. */
export function flashKey(now: number, random: string): string {
  return `${FLASH}${Math.max(0, Math.floor(now)).toString(36).padStart(10, '0')}${random}`;
}

export function withFlash(meta: MetaRecord | undefined, key: string, message: string, category: string): MetaRecord {
  return { ...meta, [key]: [category, message] };
}

/** The flashes, oldest first, and the meta without them. */
export function takeFlashesFrom(meta: MetaRecord | undefined): { flashes: Flash[]; rest: MetaRecord | undefined } {
  if (meta === undefined) return { flashes: [], rest: meta };
  const keys = Object.keys(meta)
    .filter((key) => key.startsWith(FLASH))
    .sort();
  if (keys.length === 0) return { flashes: [], rest: meta };
  const rest: MetaRecord = { ...meta };
  const flashes: Flash[] = [];
  for (const key of keys) {
    const value = rest[key];
    delete rest[key];
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') {
      flashes.push({ category: value[0], message: value[1] });
    }
  }
  return { flashes, rest };
}

/**
 * Whether a session with this meta and empty data is still worth storing: a flash for the next
 * request, or a user binding. A lifetime or a creation time alone is not.
 */
export function keepsEmptySession(meta: MetaRecord | undefined): boolean {
  return meta !== undefined && (hasFlashes(meta) || USER in meta);
}
