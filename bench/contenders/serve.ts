import { AsyncLocalStorage } from 'node:async_hooks';
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { SessionManager } from '@session-manager/runtime';

/**
 * What every contender server shares: the two routes' answers, the secret, how it is told what to
 * run (argv: the variant; env: BENCH_REDIS_URL, BENCH_FILES_DIR) and how it tells the orchestrator
 * where it listens (one line on stdout: `listening <port>`).
 */

/** 32+ characters, as this project and @fastify/session require. */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** Sessions live an hour everywhere, so no contender slides or expires during a run. */
export const EXPIRE_SECONDS = 3600;

export interface Visits {
  counter?: number;
}

/** GET /counter: read and write. */
export function countVisit(session: Visits): string {
  session.counter = (session.counter ?? 0) + 1;
  return `This is your ${session.counter} visit`;
}

/** GET /peek: read only. */
export function peekVisit(session: Visits): string {
  return `This is your ${session.counter ?? 0} visit`;
}

/** The variant asked for on the command line, checked against the ones this server knows. */
export function variant<V extends string>(known: readonly V[]): V {
  const asked = process.argv[2];
  if (!known.includes(asked as V)) {
    console.error(`unknown variant ${String(asked)}; known: ${known.join(', ')}`);
    process.exit(2);
  }
  return asked as V;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the orchestrator sets it)`);
  return value;
}

/**
 * Announces the port, exits cleanly on SIGTERM so that `--cpu-prof` can write its profile, and
 * answers the orchestrator's commands on stdin, one a line:
 *
 * - `track`: from now on, remember the distinct Cookie headers of the requests that arrive;
 * - `seen`: stop, and answer `seen <count>`: how many distinct cookies the load really sent.
 *
 * Tracking is a second 'request' listener on the server, so every framework gets it the same way
 * and it costs nothing while it is off (it is off while anything is measured).
 */
export function announce(server: Server, close: () => Promise<unknown> | unknown): void {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  if (port === undefined) throw new Error(`cannot tell the port from ${String(address)}`);
  process.once('SIGTERM', () => {
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  });
  const seen = new Set<string>();
  const track = (request: { headers: { cookie?: string } }) => {
    if (request.headers.cookie !== undefined) seen.add(request.headers.cookie);
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = line.trim();
    if (command === 'track') {
      seen.clear();
      server.prependListener('request', track);
      process.stdout.write('tracking\n');
    } else if (command === 'seen') {
      server.removeListener('request', track);
      process.stdout.write(`seen ${seen.size}\n`);
      seen.clear();
    }
  });
  process.stdout.write(`listening ${port}\n`);
}

export type OurBackend = 'cookies' | 'files' | 'redis' | 'redis-autopipelining';

/** This project's manager for a backend, with what must be closed when the server stops. */
export function ourManager(backend: OurBackend): { manager: SessionManager<Visits>; close: () => Promise<void> } {
  const options = { expire: EXPIRE_SECONDS };
  // Set by bench/store-options.ts, which compares the store options; unset in the main bench.
  const merge = process.env.BENCH_MERGE !== 'off';
  const waitForReplica = process.env.BENCH_WAIT_FOR_REPLICA ? Number(process.env.BENCH_WAIT_FOR_REPLICA) : undefined;
  if (backend === 'cookies') {
    const manager = SessionManager.cookies<Visits>(SECRET, options);
    return { manager, close: () => manager.close() };
  }
  if (backend === 'files') {
    const manager = SessionManager.files<Visits>({ ...options, merge, directory: requireEnv('BENCH_FILES_DIR') });
    return { manager, close: () => manager.close() };
  }
  // ioredis' enableAutoPipelining sends the commands issued in one event-loop turn as one write.
  const client = new Redis(requireEnv('BENCH_REDIS_URL'), { enableAutoPipelining: backend === 'redis-autopipelining' });
  const wait = waitForReplica === undefined ? {} : { waitForReplica };
  const manager = SessionManager.redis<Visits>(client, { ...options, merge, ...wait, prefix: 'bench-ours:' });
  return {
    manager,
    close: async () => {
      await manager.close();
      client.disconnect();
    },
  };
}

/**
 * A peer library, loaded by a name TS does not follow: several peers declare `req.session` (or
 * fastify's `request.session`) globally with types that clash with each other and with this
 * project's adapters, so the bench describes the little it uses of each one itself.
 */
export async function loadPeer<T>(name: string): Promise<T> {
  const module = (await import(name)) as { default?: T };
  return (module.default ?? module) as T;
}

/** The same, for a peer whose ES module has named exports only. */
export async function loadPeerModule<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}

const FLOOR_KEY = createHash('sha256').update(SECRET).digest();
const FLOOR_IVS = Buffer.alloc(12 * 256);
let floorIvAt = FLOOR_IVS.length;

/** Counts of cookies this process sealed or opened: the floor decrypts each once, as this project's runtime does. */
const floorSealed = new Map<string, number>();
function rememberFloor(sealed: string, counter: number): void {
  if (floorSealed.size >= 1024) floorSealed.clear();
  floorSealed.set(sealed, counter);
}

/**
 * The floor of a sealed-cookie session, for the `seal-floor` rows: a hand-written counter kept in
 * an AES-256-GCM cookie, with nothing around the crypto (no session object, no change tracking, no
 * expiry, no JSON). /counter seals the new count and sets the cookie; a cookie this process sealed
 * or opened is not decrypted again. What a session library costs beyond this row is its own;
 * what this row costs beyond the bare framework, no library that seals each change can avoid.
 */
export function sealedCounter(cookieHeader: string | undefined, setCookie: (value: string) => void): Visits {
  const sealed = /(?:^|; )floor=([\w-]+)/.exec(cookieHeader ?? '')?.[1];
  let counter: number | undefined;
  if (sealed !== undefined) counter = floorSealed.get(sealed);
  if (sealed !== undefined && counter === undefined) {
    const body = Buffer.from(sealed, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', FLOOR_KEY, body.subarray(0, 12));
      decipher.setAuthTag(body.subarray(body.length - 16));
      counter = Number(
        decipher.update(body.subarray(12, body.length - 16), undefined, 'utf8') + decipher.final('utf8'),
      );
      rememberFloor(sealed, counter);
    } catch {
      counter = undefined;
    }
  }
  return new VisitsThrough(counter, (value) =>
    setCookie(`floor=${sealCount(value)}; Max-Age=${EXPIRE_SECONDS}; Path=/; HttpOnly; SameSite=Lax`),
  );
}

/** The floors' IVs, from a pooled random buffer as this project's sealer takes them. */
function nextFloorIv(): Buffer {
  if (floorIvAt === FLOOR_IVS.length) {
    randomFillSync(FLOOR_IVS);
    floorIvAt = 0;
  }
  const iv = FLOOR_IVS.subarray(floorIvAt, floorIvAt + 12);
  floorIvAt += 12;
  return iv;
}

function sealCount(value: number): string {
  const iv = nextFloorIv();
  const cipher = createCipheriv('aes-256-gcm', FLOOR_KEY, iv);
  const sealed = Buffer.concat([
    iv,
    cipher.update(String(value), 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]).toString('base64url');
  rememberFloor(sealed, value);
  return sealed;
}

const SESSION_FLOOR_AAD = Buffer.from('floor');
const SESSION_FLOOR_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The floor of a sealed-cookie session that carries what this project's cookie must carry, for the
 * `seal-floor-session` rows: the session's expiry (checked by the server on every request), its
 * id (what a revocation list needs) and its data as JSON, sealed with the cookie's name as associated
 * data, in a Set-Cookie with Max-Age. Nothing else: no remembered cookies, no session object, no
 * change tracking, no canonical-encoding check, no chunking or rotation. What a library costs beyond
 * this row is its own logic; the cost of the plaintext itself is this row's.
 */
export function sealedSession(cookieHeader: string | undefined, setCookie: (value: string) => void): Visits {
  const sealed = /(?:^|; )floor=([\w-]+)/.exec(cookieHeader ?? '')?.[1];
  let id: string | undefined;
  let data: Visits | undefined;
  if (sealed !== undefined) {
    const body = Buffer.from(sealed, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', FLOOR_KEY, body.subarray(0, 12));
      decipher.setAAD(SESSION_FLOOR_AAD);
      decipher.setAuthTag(body.subarray(body.length - 16));
      const plaintext = Buffer.concat([
        decipher.update(body.subarray(12, body.length - 16)),
        decipher.final(),
      ]).toString('utf8');
      const idStart = plaintext.indexOf('.') + 1;
      const dataStart = plaintext.indexOf('.', idStart) + 1;
      const candidate = plaintext.slice(idStart, dataStart - 1);
      if (Number(plaintext.slice(0, idStart - 1)) > Date.now() && SESSION_FLOOR_ID.test(candidate)) {
        id = candidate;
        data = JSON.parse(plaintext.slice(dataStart)) as Visits;
      }
    } catch {
      data = undefined;
    }
  }
  const session = data ?? {};
  return new VisitsThrough(session.counter, (value) => {
    session.counter = value;
    id ??= randomBytes(32).toString('base64url');
    const expires = Date.now() + EXPIRE_SECONDS * 1000;
    const value64 = sealText(`${expires}.${id}.${JSON.stringify(session)}`);
    setCookie(`floor=${value64}; Max-Age=${EXPIRE_SECONDS}; Path=/; HttpOnly; SameSite=Lax`);
  });
}

function sealText(plaintext: string): string {
  const iv = nextFloorIv();
  const cipher = createCipheriv('aes-256-gcm', FLOOR_KEY, iv);
  cipher.setAAD(SESSION_FLOOR_AAD);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString(
    'base64url',
  );
}

const FILE_OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const FLOOR_ID = /(?:^|; )floorfile=([A-Za-z0-9_-]{43})(?:;|$)/;
const floorTempPrefix = randomBytes(4).toString('hex');
let floorTemps = 0;

/**
 * The floor of a files session, for the `file-floor` row: a counter kept in one JSON file per
 * session, read with the calls this project's files store uses (open with O_NOFOLLOW | O_NONBLOCK,
 * fstat, read, close) and written as any atomic file store must (a temp file, 0600, renamed over
 * the old one), with nothing else: the file is named by the id itself (no keyed hash), no lock, no
 * merge, no expiry, no retired-id marker, no session object. What this row costs beyond the bare
 * framework, no files store that never shows a reader half a file can avoid.
 */
export function fileCounter(folder: string, cookieHeader: string | undefined, setCookie: (value: string) => void) {
  const known = FLOOR_ID.exec(cookieHeader ?? '')?.[1];
  let counter: number | undefined;
  if (known !== undefined) {
    let fd: number | undefined;
    try {
      fd = openSync(join(folder, `${known}.json`), FILE_OPEN_FLAGS);
      if (fstatSync(fd).isFile()) counter = (JSON.parse(readFileSync(fd, 'utf8')) as Visits).counter;
    } catch {
      counter = undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  const id = counter === undefined ? undefined : known;
  return new VisitsThrough(counter, (value) => {
    const name = id ?? randomBytes(32).toString('base64url');
    const temp = join(folder, `.${floorTempPrefix}${(floorTemps++).toString(16)}.tmp`);
    writeFileSync(temp, JSON.stringify({ counter: value }), { flag: 'wx', mode: 0o600 });
    renameSync(temp, join(folder, `${name}.json`));
    if (id === undefined) setCookie(`floorfile=${name}; Max-Age=${EXPIRE_SECONDS}; Path=/; HttpOnly; SameSite=Lax`);
  });
}

const requestContext = new AsyncLocalStorage<object>();

/**
 * For the `seal-floor-context` rows: runs the rest of a request's chain inside an
 * AsyncLocalStorage, as any library must for an importable `session` (GUIDE.md asks for one).
 * Enabling it makes node run a hook for every promise and tick, which is the cost this row adds
 * to the floor.
 */
export function inRequestContext<R>(request: object, next: () => R): R {
  return requestContext.run(request, next);
}

/**
 * A counter whose assignment is handed to `write`: how the bench wraps a session API that is not a
 * plain object. The accessors live on the class, not on an object literal made per request: a
 * literal's own getter and setter give each request's object a new hidden class, which cost about
 * 7 µs a request on fastify and would be charged to the library wrapped.
 */
export class VisitsThrough implements Visits {
  constructor(
    private current: number | undefined,
    private readonly write: (value: number) => void,
  ) {}

  get counter(): number | undefined {
    return this.current;
  }

  set counter(value: number | undefined) {
    this.current = value;
    if (value !== undefined) this.write(value);
  }
}
