import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseStored } from '../data.js';
import { SessionStoreError } from '../errors.js';
import { isSessionId, userHash } from '../ids.js';
import { createdOf, lifetimeOf, userOf } from '../meta.js';
import { positiveSeconds, type ResolvedCommonOptions } from '../options.js';
import { checkFolder, folderKey, hashedName, OPEN_FLAGS } from './files-folder.js';
import { FILES_DEFAULTS, type FilesOptions, filenameTemplateParts } from './files-options.js';
import {
  type ReadFile,
  REMEMBERED_IDS_PER_GENERATION,
  type RememberedId,
  RememberedIds,
  textIfSame,
} from './files-remembered.js';
import { mergeChanges } from './merge.js';
import type { SessionStore, StoredSession, UserSessionEntry, WriteOutcome } from './store.js';

/** A temp file older than this was left by a crash between write and rename. */
const ORPHAN_TEMP_MS = 60_000;
/** The names `writeAtomically` gives its temp files: a per-process random half, then a counter. */
const TEMP_NAME = /^\.[0-9a-f]{16}\.tmp$/;
/** How many ids' hashed names one generation remembers (files-remembered.ts). */
export const REMEMBERED_HASHES_PER_GENERATION = REMEMBERED_IDS_PER_GENERATION;
/** A retired id's marker: a hidden name, so no filenameTemplate can produce it. */
const MARKER_SUFFIX = '.retired';
const MARKER_NAME = /^\.[A-Za-z0-9_-]{43}\.retired$/;
/** A marker is created without following a planted link and without waiting on a planted FIFO. */
const RETIRE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** A session's merge lock: a hidden name, made only if it does not exist. */
const LOCK_SUFFIX = '.lock';
const LOCK_NAME = /^\.[A-Za-z0-9_-]{43}\.lock$/;
/** A user's revocation time (revokeUser): a hidden name, the user id's hash, never the id. */
const USER_MARKER_SUFFIX = '.revoked-user';
const USER_MARKER_NAME = /^\.[A-Za-z0-9_-]{22}\.revoked-user$/;
/** A temp file is made only if its name is free: never a file written through. */
const TEMP_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/**
 * A lock is held for one synchronous read, merge and rename: one whose file was last modified
 * longer ago than this was left by a process that died holding it. Waiting for a live one gives up
 * after the same time.
 */
const LOCK_STALE_MS = 2000;

/**
 * Files store: one JSON file per session, `{"expires": <ms>, "data": {...}}`, written to a temp
 * file in the same folder and renamed over the old one, so a reader (or a crash) never sees half a
 * file. Files are 0600 in a 0700 folder, which must belong to this user and be closed to others;
 * a file's name is a keyed hash of its session id (files-folder.ts). Expired and corrupt files read
 * as missing and are deleted; a sweep deletes expired files in the background.
 *
 * A request's reads and writes are synchronous system calls, on purpose. A session file is a few
 * hundred bytes in the page cache: open, read and close are short kernel calls, while every async
 * fs call is a hand-off to a libuv pool thread and back (the pool has only four threads, shared
 * with DNS and crypto), so synchronous calls make the files backend several times faster (see the
 * benchmark, bench/files-strategies.ts). A file this process has read, that had settled by then and
 * has not changed since (one lstat: same inode, size and modification time), is not opened and read
 * again (files-remembered.ts); a write reads its file in full, under the merge lock. No call opens
 * a planted FIFO or follows a planted link. The cost is that a stalled disk stalls the
 * process: keep `directory` on a local disk; for a network filesystem or several hosts use the
 * redis backend. The sweep, which may touch thousands of files, stays asynchronous.
 */
export class FilesStore implements SessionStore {
  readonly directory: string;
  private readonly before: string;
  private readonly after: string;
  private readonly expireMs: number;
  private readonly key: Buffer;
  private readonly remembered: RememberedIds;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly merge: boolean;
  private sweeping: Promise<void> | undefined;
  /** The manager's clock: a sweep judges expiry by the same time as a load. */
  private readonly clock: () => number;

  constructor(options: FilesOptions, common: ResolvedCommonOptions) {
    this.merge = options.merge ?? true;
    const template = options.filenameTemplate ?? FILES_DEFAULTS.filenameTemplate;
    [this.before, this.after] = filenameTemplateParts(template);
    this.directory = resolve(options.directory ?? FILES_DEFAULTS.directory);
    this.expireMs = common.expire * 1000;
    this.clock = common.clock;
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    const allowShared = options.allowSharedDirectory === true;
    checkFolder(this.directory, allowShared);
    this.key = folderKey(this.directory, allowShared);
    this.remembered = new RememberedIds((id) => hashedName(this.key, id));
    const sweepSeconds = positiveSeconds('sweepInterval', options.sweepInterval ?? FILES_DEFAULTS.sweepInterval, true);
    if (sweepSeconds > 0) {
      this.sweeper = setInterval(() => void this.sweep(), sweepSeconds * 1000);
      this.sweeper.unref();
    }
  }

  /** The path of a session's file, named after a keyed hash of its id (files-folder.ts). */
  pathOf(id: string): string {
    return this.filePath(this.hashOf(id));
  }

  private filePath(hash: string): string {
    return join(this.directory, this.before + hash + this.after);
  }

  /** The path of the marker a retired id leaves (see `retire`). */
  markerOf(id: string): string {
    return join(this.directory, `.${this.hashOf(id)}${MARKER_SUFFIX}`);
  }

  /** What listUserSessions() shows for a session: the hash its file is named after. */
  idHash(id: string): string {
    return this.hashOf(id);
  }

  /** The hashed name of an id, remembered for the ids seen recently (files-remembered.ts). */
  private hashOf(id: string): string {
    return this.remembered.of(id).hash;
  }

  /** How many hashed names are remembered now; never more than two generations. */
  get rememberedHashes(): number {
    return this.remembered.size;
  }

  /** How many characters of session files' text are remembered now (files-remembered.ts). */
  get rememberedText(): number {
    return this.remembered.text;
  }

  /**
   * The text of an id's file: what this process last read there when an lstat shows the same
   * settled file still in place (files-remembered.ts), read again otherwise (and then remembered).
   */
  private readKnown(entry: RememberedId, path: string): string | undefined {
    if (entry.text !== undefined) {
      let stats: Stats | undefined;
      try {
        stats = lstatSync(path, { throwIfNoEntry: false });
      } catch (error) {
        throw storeError('read', path, error);
      }
      if (stats === undefined) {
        this.remembered.know(entry, undefined);
        return undefined;
      }
      const same = textIfSame(entry, stats);
      if (same !== undefined) return same;
    }
    const readAt = Date.now();
    const file = readSessionFile(path);
    this.remembered.know(entry, file, readAt);
    return file?.text;
  }

  /** Whether a file exists at `path` (a symbolic link counts, and is not followed). */
  private exists(path: string, operation: string): boolean {
    try {
      return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch (error) {
      throw storeError(operation, path, error);
    }
  }

  /** Synchronous, as every request's file call here: no promise, and a failure throws at once. */
  read(id: string, now: number): StoredSession | undefined {
    const entry = this.remembered.of(id);
    const path = this.filePath(entry.hash);
    const text = this.readKnown(entry, path);
    if (text === undefined) return undefined;
    const envelope = parseStored(text);
    const expires = envelope?.expires;
    const data = envelope?.data;
    if (
      typeof expires !== 'number' ||
      data === null ||
      typeof data !== 'object' ||
      Array.isArray(data) ||
      expires <= now
    ) {
      removeQuietly(path);
      this.remembered.know(entry, undefined);
      return undefined;
    }
    return { data: data as StoredSession['data'], expiresAt: expires };
  }

  async write(id: string, text: string, expiresAt: number): Promise<void> {
    const entry = this.remembered.of(id);
    const path = this.filePath(entry.hash);
    const contents = `{"expires":${expiresAt},"data":${text}}\n`;
    // A file just written has not settled: nothing of it is remembered (files-remembered.ts).
    this.remembered.know(entry, undefined);
    try {
      this.writeAtomically(path, contents);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storeError('write', path, error);
      // The folder was removed while the app ran: make it again, once.
      try {
        mkdirSync(this.directory, { recursive: true, mode: 0o700 });
        this.writeAtomically(path, contents);
      } catch (retryError) {
        throw storeError('write', path, retryError);
      }
    }
  }

  async update(id: string, text: string, expiresAt: number, baseline: string): Promise<WriteOutcome> {
    const entry = this.remembered.of(id);
    const path = this.filePath(entry.hash);
    if (!this.merge) {
      if (!this.exists(path, 'write')) return 'refused';
      return this.replace(entry, path, text, expiresAt);
    }
    // Another process may be merging into the same file: one at a time, under a lock. Within this
    // process the lock is always free here, as the read, merge and rename below are synchronous.
    const lock = join(this.directory, `.${entry.hash}${LOCK_SUFFIX}`);
    const temp = await this.lock(lock, path);
    try {
      // Written back only while the file is still there: a retired, expired or swept session stays
      // gone. A session another request changed since this one loaded it gets this request's changes
      // merged in (merge.ts). Read in full under the lock, never taken from memory: what another
      // process wrote is merged exactly.
      const current = readSessionFile(path);
      if (current === undefined) {
        this.remembered.know(entry, undefined);
        return 'refused';
      }
      const stored = dataOf(current.text, this.clock());
      if (stored === undefined) return 'refused';
      // The file was just read, in this same synchronous step: it is still there for the rename.
      if (stored.text === baseline) return this.replace(entry, path, text, expiresAt, temp);
      // Merged: the expiry is the later of the two requests' (one of them may have set a lifetime).
      const merged = mergeChanges(stored.text, baseline, text) ?? text;
      return this.replace(entry, path, merged, Math.max(expiresAt, stored.expires), temp);
    } finally {
      temp.discard();
      removeQuietly(lock);
    }
  }

  /**
   * Takes the merge lock: waits while another process holds it, breaks one its holder left behind.
   * The lock is a second name (a hard link, made only if the name is free) of the temp file the
   * update will write and rename: a new file costs the file system far more than a new name, and
   * the update needs the temp file anyway. Its modification time is the holder's (made, then
   * written just before the rename), so a lock left by a process that died ages like a lock file.
   */
  private async lock(lock: string, path: string): Promise<TempFile> {
    let temp: TempFile;
    try {
      temp = new TempFile(this.directory);
    } catch (error) {
      throw storeError('write', path, error);
    }
    const started = Date.now();
    for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
      try {
        linkSync(temp.path, lock);
        return temp;
      } catch (error) {
        if (!isCode(error, 'EEXIST')) {
          temp.discard();
          throw storeError('write', path, error);
        }
      }
      const held = lstatSync(lock, { throwIfNoEntry: false });
      if (held !== undefined && Date.now() - held.mtimeMs > LOCK_STALE_MS) removeQuietly(lock);
      else if (Date.now() - started > LOCK_STALE_MS) {
        temp.discard();
        throw new SessionStoreError('files', 'write', `Session file ${path} stayed locked by another process.`);
      } else await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Renames `text` over the session's file, which the caller has just found in place (and the id
   * not retired), through `temp` when the caller made it already (the merge lock's). The caller's
   * check and the rename run in one synchronous step, so no other request of this process comes
   * between them.
   */
  private replace(entry: RememberedId, path: string, text: string, expiresAt: number, temp?: TempFile): WriteOutcome {
    // A file just written has not settled: nothing of it is remembered (files-remembered.ts).
    this.remembered.know(entry, undefined);
    try {
      this.writeAtomically(path, `{"expires":${expiresAt},"data":${text}}\n`, temp);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return 'refused'; // the folder itself is gone, and the session with it
      throw storeError('write', path, error);
    }
    // Another process may have retired the id between the check and the rename: its marker says so.
    if (this.exists(join(this.directory, `.${entry.hash}${MARKER_SUFFIX}`), 'write')) {
      removeQuietly(path);
      return 'refused';
    }
    return 'stored';
  }

  touch(id: string, text: string, expiresAt: number): Promise<WriteOutcome> {
    // A rewrite with nothing changed: with the merge, what another request stored meanwhile stays.
    return this.update(id, text, expiresAt, text);
  }

  async retire(id: string, until: number): Promise<void> {
    const entry = this.remembered.of(id);
    this.remembered.know(entry, undefined);
    await this.retireHandle(entry.hash, until);
  }

  /** Retires the session whose file is named after `hash` (see `retire`). */
  async retireHandle(hash: string, _until: number): Promise<void> {
    const marker = join(this.directory, `.${hash}${MARKER_SUFFIX}`);
    const path = join(this.directory, this.before + hash + this.after);
    try {
      // The marker first, then the file: a writer that checked the file before the unlink finds the
      // marker after its rename. The sweep removes markers with the expired sessions.
      closeSync(openSync(marker, RETIRE_FLAGS, 0o600));
      unlinkSync(path);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storeError('delete', path, error);
    }
  }

  /** Deletes expired session files and orphaned temp files; one at a time, so requests keep flowing. */
  sweep(now = this.clock()): Promise<void> {
    this.sweeping ??= this.sweepOnce(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping;
  }

  private async sweepOnce(now: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return;
    }
    for (const name of names) {
      // Only names this store makes: the folder may hold other files, which are not ours to delete.
      const isSession = this.isSessionFile(name);
      const isTemp = TEMP_NAME.test(name);
      const isLock = LOCK_NAME.test(name);
      if (!isSession && !isTemp && !isLock && !MARKER_NAME.test(name) && !USER_MARKER_NAME.test(name)) continue;
      const path = join(this.directory, name);
      try {
        // Every write sets expires to write time + expire, so the file's mtime tells its expiry; a
        // retired id's marker is kept as long as a session written when it was retired could live.
        const { mtimeMs } = await stat(path);
        const limit = isTemp ? ORPHAN_TEMP_MS : isLock ? LOCK_STALE_MS : this.expireMs;
        if (now - mtimeMs > limit) await unlink(path);
      } catch {
        // Gone already, or not ours to delete: the next sweep will see.
      }
    }
  }

  /** Whether a file name is one this store makes for a session: its template around a hashed id. */
  private isSessionFile(name: string): boolean {
    return (
      name.length > this.before.length + this.after.length &&
      name.startsWith(this.before) &&
      name.endsWith(this.after) &&
      isSessionId(name.slice(this.before.length, name.length - this.after.length))
    );
  }

  /**
   * Writes the new session first, then reads the user's revocation time: a revokeUser() that wrote
   * its time after this read scans the folder after this write, and finds the file.
   */
  async createTied(userId: string, bound: number, id: string, text: string, expiresAt: number): Promise<WriteOutcome> {
    await this.write(id, text, expiresAt);
    const revokedAt = this.userRevokedAt(userId);
    if (revokedAt === undefined || revokedAt < bound) return 'stored';
    await this.retire(id, expiresAt);
    return 'refused';
  }

  async markUserRevoked(userId: string, at: number, _lifetime: number): Promise<void> {
    const path = this.userMarkerOf(userId);
    const time = Math.max(Math.floor(at), this.userRevokedAt(userId) ?? 0);
    try {
      this.writeAtomically(path, String(time));
    } catch (error) {
      throw storeError('write', path, error);
    }
  }

  private userMarkerOf(userId: string): string {
    return join(this.directory, `.${userHash(userId)}${USER_MARKER_SUFFIX}`);
  }

  private userRevokedAt(userId: string): number | undefined {
    const text = readSessionFile(this.userMarkerOf(userId))?.text;
    const at = text === undefined ? Number.NaN : Number(text);
    return Number.isFinite(at) ? at : undefined;
  }

  /**
   * The live sessions tied to a user. The folder is read through (no index to keep in step with the
   * files): one read per session file, so this costs in proportion to the folder. A file that does
   * not name the user is skipped before it is parsed.
   */
  async userSessions(userId: string, now: number): Promise<UserSessionEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw storeError('list', this.directory, error);
    }
    const needle = JSON.stringify(userId);
    const found: UserSessionEntry[] = [];
    for (const name of names) {
      if (!this.isSessionFile(name)) continue;
      const path = join(this.directory, name);
      const text = readSessionFile(path)?.text;
      if (text === undefined || !text.includes(needle)) continue;
      const envelope = parseStored(text);
      const expires = envelope?.expires;
      const data = envelope?.data as StoredSession['data'] | undefined;
      if (typeof expires !== 'number' || expires <= now || userOf(data)?.id !== userId) continue;
      const hash = name.slice(this.before.length, name.length - this.after.length);
      let lastWritten: number | undefined;
      try {
        lastWritten = (await stat(path)).mtimeMs;
      } catch {
        continue; // removed meanwhile
      }
      found.push({
        handle: hash,
        idHash: hash,
        created: createdOf(data),
        lastWritten,
        expiresAt: expires,
        lifetime: lifetimeOf(data),
      });
    }
    return found;
  }

  /**
   * Deletes every session file of this store (Emmett's `clear()`): only names its template makes,
   * so other files in the folder stay. One at a time, asynchronously, so requests keep flowing; a
   * request in flight then finds its file gone and writes nothing back (`replace`).
   */
  async clear(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return 0;
      throw storeError('clear', this.directory, error);
    }
    let removed = 0;
    for (const name of names) {
      if (!this.isSessionFile(name)) continue;
      try {
        await unlink(join(this.directory, name));
        removed += 1;
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw storeError('clear', join(this.directory, name), error);
      }
    }
    return removed;
  }

  private writeAtomically(path: string, contents: string, made?: TempFile): void {
    const temp = made ?? new TempFile(this.directory);
    try {
      temp.renameOver(path, contents);
    } finally {
      if (made === undefined) temp.discard();
    }
  }
}

/**
 * A temp file beside the session files (0600, made only if its name is free), written once and
 * renamed over a session's file, so a reader or a crash never sees half a file.
 */
class TempFile {
  readonly path: string;
  private fd: number | undefined;
  private renamed = false;

  constructor(directory: string) {
    this.path = join(directory, nextTempName());
    this.fd = openSync(this.path, TEMP_FLAGS, 0o600);
  }

  renameOver(target: string, contents: string): void {
    const fd = this.fd as number;
    this.fd = undefined;
    try {
      writeFileSync(fd, contents);
    } finally {
      closeSync(fd);
    }
    renameSync(this.path, target);
    this.renamed = true;
  }

  /** Closes it and removes it, unless it became a session's file. */
  discard(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (!this.renamed) removeQuietly(this.path);
  }
}

// Temp names: a random half drawn once per process, so concurrent processes never share one, and a
// counter, so no randomness is drawn per write.
const tempPrefix = randomBytes(4).toString('hex');
let tempCounter = 0;
function nextTempName(): string {
  tempCounter = (tempCounter + 1) >>> 0;
  return `.${tempPrefix}${tempCounter.toString(16).padStart(8, '0')}.tmp`;
}

/**
 * A session file's text and identity, or undefined when there is none. Something else planted at
 * its name (a symbolic link, a FIFO, a device, a folder) is no session: it is never followed, never
 * waited on (a FIFO would block the process), and is removed like a corrupt file (a folder is left
 * alone).
 */
function readSessionFile(path: string): ReadFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    if (isCode(error, 'ELOOP')) {
      removeQuietly(path);
      return undefined;
    }
    throw storeError('read', path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      if (!stats.isDirectory()) removeQuietly(path);
      return undefined;
    }
    return { text: readFileSync(fd, 'utf8'), stats };
  } catch (error) {
    throw storeError('read', path, error);
  } finally {
    closeSync(fd);
  }
}

/**
 * The session JSON inside a file's text (`{"expires":<ms>,"data":<json>}`, as `write` makes it),
 * or undefined when it has expired or is not such a file.
 */
function dataOf(contents: string, now: number): { text: string; expires: number } | undefined {
  const envelope = parseStored(contents);
  const expires = envelope?.expires;
  const data = envelope?.data;
  if (
    typeof expires !== 'number' ||
    expires <= now ||
    data === null ||
    typeof data !== 'object' ||
    Array.isArray(data)
  ) {
    return undefined;
  }
  const start = contents.indexOf(',"data":');
  // As written by this store: the data's own text, byte for byte, so it compares with the baseline.
  const text = start > 0 && contents.endsWith('}\n') ? contents.slice(start + 8, -2) : JSON.stringify(data);
  return { text, expires };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or the sweep will see it.
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function storeError(operation: string, path: string, error: unknown): SessionStoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new SessionStoreError('files', operation, `Session file ${operation} failed for ${path} (${code}).`, error);
}
