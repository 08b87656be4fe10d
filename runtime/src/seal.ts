import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync, scryptSync } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SessionConfigError } from './errors.js';

/**
 * Sealing of cookie sessions: AES-256-GCM (authenticated encryption) with keys derived once per
 * secret, a random 96-bit IV per seal, and a key id in the clear so that a cookie sealed with an
 * older secret of the rotation list opens without trying every key.
 *
 * A secret is stretched by scrypt (deliberately slow, and memory-hard) before HKDF splits it into
 * the AES key and the key id: whoever holds a cookie and tries to guess the secret offline pays one
 * scrypt per guess, whether the guess is checked against the GCM tag or the key id. Requests never
 * pay it: it runs once per secret and process, when a manager is made.
 *
 *   v1.<key id>.<base64url(iv | ciphertext | tag)>
 *
 * The version, key id and cookie name are authenticated as associated data, so a cookie cannot be
 * moved to another cookie name or have its key id swapped.
 *
 * With compression on, a plaintext that deflate makes smaller is sealed as a zero byte followed by
 * its deflate-raw bytes (a plaintext never starts with a zero byte: it starts with the expiry's
 * digits). The marker is inside the ciphertext, so it is authenticated too, and every sealer opens
 * both forms: turning compression on or off ends no session.
 */

export const MIN_SECRET_LENGTH = 32;
/** What the variety estimate (`estimatedSecretBits`) must reach; 32 random hex characters score above it. */
export const MIN_SECRET_BITS = 100;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * How a secret becomes keys: scrypt with this salt and cost (2^15 blocks of 1 KB, so 32 MB of memory
 * for a moment, once per secret and process), then HKDF-SHA256 of its output, with the same salt.
 */
export const KEY_DERIVATION = {
  salt: 'create-session-manager/cookies/v1',
  N: 2 ** 15,
  r: 8,
  p: 1,
  maxmem: 64 * 1024 * 1024,
} as const;

/** Marks a compressed plaintext (see above). */
const COMPRESSED = 0;
/**
 * The most a compressed plaintext may inflate to. Only this process' keys seal, so this is a bound
 * of last resort; a larger plaintext is sealed uncompressed, so it never becomes unreadable.
 */
export const MAX_INFLATED_BYTES = 1024 * 1024;

/** Checks Emmett's `compression_level`: deflate's 1 (fastest) to 9 (smallest), 0 for off. */
export function compressionLevel(level: unknown): number {
  if (level === undefined) return 0;
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 9) {
    throw new SessionConfigError(
      `compression must be a deflate level from 1 (fastest) to 9 (smallest), or 0 for none; got ${JSON.stringify(level)}.`,
    );
  }
  return level;
}

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
const keyOf = (sealed: string): string => sealed.slice(-KEY_LENGTH);

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

  /** `key`: keyOf(sealed), computed once by the caller for the lookup and the add that may follow. */
  get(sealed: string, key: string): Opened<Decoded> | undefined {
    const found = this.current.get(key);
    if (found !== undefined) return found.sealed === sealed ? found.opened : undefined;
    const older = this.previous.get(key);
    if (older === undefined || older.sealed !== sealed) return undefined;
    this.add(sealed, key, older.opened);
    return older.opened;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  add(sealed: string, key: string, opened: Opened<Decoded>): void {
    if (sealed.length > MAX_REMEMBERED_LENGTH) return;
    if (this.current.size >= REMEMBERED_PER_GENERATION) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, { sealed, opened });
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

/** Where a seal's iv, ciphertext and tag are put together before they are encoded. */
let sealScratch = Buffer.allocUnsafe(1024);

const BASE64URL_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * Whether `text` is exactly what Buffer's base64url encoder writes for some bytes: only its 64
 * digits, no padding, no length that leaves a lone digit, and zero bits where the last digit has
 * more bits than the bytes need. The same answer as encoding the decoded bytes again and comparing,
 * without making that second string.
 */
export function isCanonicalBase64url(text: string): boolean {
  const rest = text.length % 4;
  if (rest === 1 || !BASE64URL_TEXT.test(text)) return false;
  if (rest === 0) return true;
  const last = BASE64URL_DIGITS.indexOf(text.charAt(text.length - 1));
  // Two digits left over carry one byte (4 spare bits); three carry two bytes (2 spare bits).
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

const HOW_TO_MAKE_ONE =
  "Make one with: node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\" " +
  '(or: openssl rand -base64 32).';

function weakSecretError(index: number, why: string): SessionConfigError {
  return new SessionConfigError(`Session secret${index > 0 ? ` #${index + 1}` : ''} ${why} ${HOW_TO_MAKE_ONE}`);
}

/** The sizes of the character classes a secret draws from (lower, upper, digits, the rest of ASCII). */
function alphabetSize(secret: string): number {
  let size = 0;
  if (/[a-z]/.test(secret)) size += 26;
  if (/[A-Z]/.test(secret)) size += 26;
  if (/[0-9]/.test(secret)) size += 10;
  if (/[^a-zA-Z0-9]/.test(secret)) size += 33;
  return size;
}

/**
 * A rough upper bound of the bits of randomness in a secret: each character that does not continue
 * a repeat (three or more characters seen earlier in the secret) counts log2 of the size of the
 * character classes the secret uses. Repetition and small alphabets score low (32 identical
 * characters: 5 bits; `password` four times: 38); random text of 32 characters scores well over
 * 100. It cannot tell a sentence or a known password from random text: only a random secret is safe.
 */
export function estimatedSecretBits(whole: string): number {
  // Past a few hundred characters the estimate is far above the bar anyway; this bounds its cost.
  const secret = whole.slice(0, 512);
  let fresh = 0;
  for (let at = 0; at < secret.length; ) {
    let longest = 0;
    for (let from = 0; from < at; from++) {
      let length = 0;
      while (at + length < secret.length && secret[from + length] === secret[at + length]) length++;
      if (length > longest) longest = length;
    }
    if (longest >= 3) at += longest;
    else {
      fresh++;
      at++;
    }
  }
  return fresh * Math.log2(Math.max(2, alphabetSize(secret)));
}

function checkSecret(secret: unknown, index: number): string {
  if (typeof secret !== 'string') throw new SessionConfigError(`Session secret #${index + 1} must be a string.`);
  if (secret.length < MIN_SECRET_LENGTH) {
    throw weakSecretError(index, `is ${secret.length} characters long; at least ${MIN_SECRET_LENGTH} are needed.`);
  }
  const bits = estimatedSecretBits(secret);
  if (bits < MIN_SECRET_BITS) {
    throw weakSecretError(
      index,
      `has too little variety to be guessed only by brute force (about ${Math.round(bits)} bits; at least ${MIN_SECRET_BITS} are needed: no long repeats, several kinds of characters).`,
    );
  }
  return secret;
}

/**
 * Keys already derived in this process, by secret: scrypt is slow on purpose, and an app (or a test
 * suite) that makes several managers with one secret pays it once.
 */
const derived = new Map<string, Key>();

function deriveKey(secret: string): Key {
  const known = derived.get(secret);
  if (known !== undefined) return known;
  const { salt, N, r, p, maxmem } = KEY_DERIVATION;
  const stretched = scryptSync(secret, salt, 32, { N, r, p, maxmem });
  const expand = (info: string, bytes: number) => Buffer.from(hkdfSync('sha256', stretched, salt, info, bytes));
  // The key id comes from the stretched secret too: checking a guess against it costs a scrypt.
  const key = { id: expand('key id', 6).toString('base64url'), key: expand('aes-256-gcm', 32) };
  derived.set(secret, key);
  return key;
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

  /**
   * `secrets[0]` seals; every secret opens. Keys are derived here, once, never per request.
   * `compression`: a deflate level (0, the default, for none).
   */
  constructor(
    secrets: string | readonly string[],
    cookieName: string,
    private readonly compression = 0,
  ) {
    const list = typeof secrets === 'string' ? [secrets] : [...secrets];
    if (list.length === 0) throw new SessionConfigError('The cookies backend needs at least one secret.');
    const checked = list.map(checkSecret);
    const keys = checked.map((secret): SealingKey => {
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
    const compressed = this.compression > 0 ? this.compress(plaintext) : undefined;
    const encrypted =
      compressed === undefined
        ? cipher.update(plaintext, 'utf8')
        : Buffer.concat([cipher.update(Buffer.of(COMPRESSED)), cipher.update(compressed)]);
    const last = cipher.final();
    const tag = cipher.getAuthTag();
    // iv | ciphertext | tag, put together in a reused buffer rather than a new one for each seal.
    const length = IV_BYTES + encrypted.length + last.length + TAG_BYTES;
    if (sealScratch.length < length) sealScratch = Buffer.allocUnsafe(length);
    iv.copy(sealScratch, 0);
    encrypted.copy(sealScratch, IV_BYTES);
    last.copy(sealScratch, IV_BYTES + encrypted.length);
    tag.copy(sealScratch, length - TAG_BYTES);
    const sealed = header + sealScratch.toString('base64url', 0, length);
    this.remembered.add(sealed, keyOf(sealed), { plaintext, stale: false, decoded: undefined });
    return sealed;
  }

  /** The deflate-raw bytes of `plaintext` when, with the marker, they are smaller; otherwise undefined. */
  private compress(plaintext: string): Buffer | undefined {
    const raw = Buffer.from(plaintext, 'utf8');
    if (raw.length > MAX_INFLATED_BYTES) return undefined;
    const deflated = deflateRawSync(raw, { level: this.compression });
    return deflated.length + 1 < raw.length ? deflated : undefined;
  }

  /** Undefined for anything that is not a cookie this sealer made: tampered, truncated, foreign, old. */
  open(sealed: string): Opened<Decoded> | undefined {
    const key = keyOf(sealed);
    const remembered = this.remembered.get(sealed, key);
    if (remembered !== undefined) return remembered;
    const opened = this.decrypt(sealed);
    if (opened !== undefined) this.remembered.add(sealed, key, opened);
    return opened;
  }

  private decrypt(sealed: string): Opened<Decoded> | undefined {
    const first = sealed.indexOf('.');
    const second = sealed.indexOf('.', first + 1);
    if (first !== VERSION.length || second === -1 || !sealed.startsWith(VERSION)) return undefined;
    const key = this.byId.get(sealed.slice(first + 1, second));
    if (!key) return undefined;
    const encoded = sealed.slice(second + 1);
    // Node's decoder skips invalid characters and ignores trailing bits: accept only the one canonical
    // spelling, so that no altered cookie opens.
    if (!isCanonicalBase64url(encoded)) return undefined;
    const body = Buffer.from(encoded, 'base64url');
    if (body.length < IV_BYTES + TAG_BYTES + 1) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(key.aad);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const decrypted = decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES));
      const last = decipher.final();
      const whole = last.length === 0 ? decrypted : Buffer.concat([decrypted, last]);
      const plaintext =
        whole[0] === COMPRESSED
          ? inflateRawSync(whole.subarray(1), { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8')
          : whole.toString('utf8');
      return { plaintext, stale: key !== this.current, decoded: undefined };
    } catch {
      return undefined;
    }
  }
}
