import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';
import { SessionConfigError } from './errors.js';

/**
 * Sealing of cookie sessions: AES-256-GCM (authenticated encryption) with keys derived once per
 * secret by HKDF, a random 96-bit IV per seal, and a key id in the clear so that a cookie sealed
 * with an older secret of the rotation list opens without trying every key.
 *
 *   v1.<key id>.<base64url(iv | ciphertext | tag)>
 *
 * The version, key id and cookie name are authenticated as associated data, so a cookie cannot be
 * moved to another cookie name or have its key id swapped.
 */

export const MIN_SECRET_LENGTH = 32;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'create-session-manager/cookies/v1';

interface Key {
  id: string;
  key: Buffer;
}

/** A key as the sealer uses it: with its `v1.<key id>.` header and associated data, built once. */
interface SealingKey extends Key {
  header: string;
  aad: Buffer;
}

export interface Opened<Decoded = unknown> {
  readonly plaintext: string;
  /** Sealed with an older secret of the rotation list: seal again with the current one. */
  readonly stale: boolean;
  /**
   * What the caller made of the plaintext, kept with it for as long as the cookie is remembered,
   * so that a cookie sent again is not decoded again either. Undefined until the caller sets it.
   */
  decoded?: Decoded;
}

/** Cookies longer than this are not remembered, which bounds the cache to about 3 MB with what callers decoded. */
const MAX_REMEMBERED_LENGTH = 1024;
const REMEMBERED_PER_GENERATION = 512;
/** The most cookies a sealer remembers at once: two generations. */
export const REMEMBERED_LIMIT = 2 * REMEMBERED_PER_GENERATION;

/**
 * The last characters of a sealed text, which spell its GCM tag: a Map key that differs between any
 * two seals, and that is hashed for each request at a fifth of the cost of a whole cookie.
 */
const KEY_LENGTH = 22;

/**
 * Cookies this sealer recently opened or sealed, matched by their exact text. A browser sends the
 * same cookie until the session changes, and the cookie it sends next is the one sealed for its
 * last response; decryption is deterministic, so a text that opened once opens to the same plaintext
 * again and need not be decrypted twice. Only authenticated texts are kept, and a text is compared
 * whole, so a forged cookie never matches one; expiry is still checked on every request by the
 * caller, from the plaintext. Two generations of Maps bound the memory without per-entry bookkeeping.
 */
class RememberedCookies<Decoded> {
  private current = new Map<string, Remembered<Decoded>>();
  private previous = new Map<string, Remembered<Decoded>>();

  get(sealed: string): Opened<Decoded> | undefined {
    const key = sealed.slice(-KEY_LENGTH);
    const found = this.current.get(key);
    if (found !== undefined) return found.sealed === sealed ? found.opened : undefined;
    const older = this.previous.get(key);
    if (older === undefined || older.sealed !== sealed) return undefined;
    this.add(sealed, older.opened);
    return older.opened;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  add(sealed: string, opened: Opened<Decoded>): void {
    if (sealed.length > MAX_REMEMBERED_LENGTH) return;
    if (this.current.size >= REMEMBERED_PER_GENERATION) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(sealed.slice(-KEY_LENGTH), { sealed, opened });
  }
}

interface Remembered<Decoded> {
  readonly sealed: string;
  readonly opened: Opened<Decoded>;
}

// IVs come from a pooled random buffer: one randomFillSync per 256 seals instead of one per seal.
const ivPool = Buffer.alloc(IV_BYTES * 256);
let ivOffset = ivPool.length;
function nextIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function weakSecretError(index: number, length: number): SessionConfigError {
  return new SessionConfigError(
    `Session secret${index > 0 ? ` #${index + 1}` : ''} is ${length} characters long; at least ${MIN_SECRET_LENGTH} are needed. ` +
      `Make one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`,
  );
}

function deriveKey(secret: string): Key {
  const derive = (info: string, bytes: number) => Buffer.from(hkdfSync('sha256', secret, SALT, info, bytes));
  return { id: derive('key id', 6).toString('base64url'), key: derive('aes-256-gcm', 32) };
}

/** `Decoded`: what the caller keeps with a remembered cookie's plaintext (see Opened.decoded). */
export class Sealer<Decoded = unknown> {
  private readonly current: SealingKey;
  private readonly byId: Map<string, SealingKey>;
  private readonly remembered = new RememberedCookies<Decoded>();

  /** How many cookies are remembered now; never more than REMEMBERED_LIMIT. */
  get rememberedCount(): number {
    return this.remembered.size;
  }

  /** `secrets[0]` seals; every secret opens. Keys are derived here, once, never per request. */
  constructor(secrets: string | readonly string[], cookieName: string) {
    const list = typeof secrets === 'string' ? [secrets] : [...secrets];
    if (list.length === 0) throw new SessionConfigError('The cookies backend needs at least one secret.');
    list.forEach((secret, index) => {
      if (typeof secret !== 'string') throw new SessionConfigError(`Session secret #${index + 1} must be a string.`);
      if (secret.length < MIN_SECRET_LENGTH) throw weakSecretError(index, secret.length);
    });
    const keys = list.map((secret): SealingKey => {
      const key = deriveKey(secret);
      const header = `${VERSION}.${key.id}.`;
      return { ...key, header, aad: Buffer.from(header + cookieName) };
    });
    this.current = keys[0] as SealingKey;
    this.byId = new Map();
    // The first secret wins a (vanishingly unlikely) key id clash.
    for (const key of keys) if (!this.byId.has(key.id)) this.byId.set(key.id, key);
  }

  seal(plaintext: string): string {
    const { key, header, aad } = this.current;
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    const sealed = header + body.toString('base64url');
    this.remembered.add(sealed, { plaintext, stale: false, decoded: undefined });
    return sealed;
  }

  /** Undefined for anything that is not a cookie this sealer made: tampered, truncated, foreign, old. */
  open(sealed: string): Opened<Decoded> | undefined {
    const remembered = this.remembered.get(sealed);
    if (remembered !== undefined) return remembered;
    const opened = this.decrypt(sealed);
    if (opened !== undefined) this.remembered.add(sealed, opened);
    return opened;
  }

  private decrypt(sealed: string): Opened<Decoded> | undefined {
    const first = sealed.indexOf('.');
    const second = sealed.indexOf('.', first + 1);
    if (first !== VERSION.length || second === -1 || !sealed.startsWith(VERSION)) return undefined;
    const key = this.byId.get(sealed.slice(first + 1, second));
    if (!key) return undefined;
    const encoded = sealed.slice(second + 1);
    const body = Buffer.from(encoded, 'base64url');
    // Node's decoder skips invalid characters and ignores trailing bits: accept only the one canonical
    // spelling, so that no altered cookie opens.
    if (body.length < IV_BYTES + TAG_BYTES + 1 || body.toString('base64url') !== encoded) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(key.aad);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plaintext =
        decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES), undefined, 'utf8') + decipher.final('utf8');
      return { plaintext, stale: key !== this.current, decoded: undefined };
    } catch {
      return undefined;
    }
  }
}
