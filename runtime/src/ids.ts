import { createHash, randomFillSync } from 'node:crypto';

/**
 * Session ids: 256 random bits in base64url (43 characters). Ids come from a pooled random buffer,
 * refilled every 128 ids, because one randomBytes call per request costs more than the id itself.
 */
const ID_BYTES = 32;
const pool = Buffer.alloc(ID_BYTES * 128);
let offset = pool.length;

export function newSessionId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Checked before an id reaches a file path or a redis key: anything else is no session at all. */
export function isSessionId(value: string): boolean {
  return value.length === 43 && ID_SHAPE.test(value);
}

/**
 * The key part for a user (its session index, its revocation): a hash, so no user id reaches a key
 * or a log; in braces, so a Cluster keeps every key of one user in one hash slot. A ':' no session
 * id has, so it never reads as one.
 */
export function userKey(userId: string): string {
  return `user:{${userHash(userId)}}`;
}

/** A user id's hash, 22 base64url characters: what names the user's keys and files. */
export function userHash(userId: string): string {
  return createHash('sha256').update(userId).digest('base64url').slice(0, 22);
}

/** What listUserSessions() shows for a session: a hash of its id, never the id (a bearer credential). */
export function idHash(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 16);
}

/** Checked before a user id reaches a hash, a key or a file scan. */
export function checkUserId(what: string, userId: unknown): string {
  if (typeof userId !== 'string' || userId === '' || userId.length > 256) {
    throw new TypeError(`${what} takes a user id of 1 to 256 characters, got ${JSON.stringify(userId)}.`);
  }
  return userId;
}
