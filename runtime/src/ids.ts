import { randomFillSync } from 'node:crypto';

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
