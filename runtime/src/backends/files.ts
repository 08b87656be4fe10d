import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseStored } from '../data.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { isSessionId } from '../ids.js';
import { DEFAULTS, type FilesOptions, positiveSeconds, type ResolvedCommonOptions } from '../options.js';
import type { SessionStore, StoredSession } from './store.js';

/** A temp file older than this was left by a crash between write and rename. */
const ORPHAN_TEMP_MS = 60_000;
/** The names `writeAtomically` gives its temp files. */
const TEMP_NAME = /^\.[0-9a-f]{16}\.tmp$/;

/**
 * Files store: one JSON file per session, `{"expires": <ms>, "data": {...}}`, written to a temp
 * file in the same folder and renamed over the old one, so a reader (or a crash) never sees half a
 * file. Files are 0600 in a 0700 folder. Expired and corrupt files read as missing and are deleted;
 * a sweep deletes expired files in the background.
 */
export class FilesStore implements SessionStore {
  readonly directory: string;
  private readonly before: string;
  private readonly after: string;
  private readonly expireMs: number;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(options: FilesOptions, common: ResolvedCommonOptions) {
    const template = options.filenameTemplate ?? DEFAULTS.filenameTemplate;
    const parts = template.split('%s');
    if (parts.length !== 2 || /[/\\\0]/.test(template) || template.startsWith('.')) {
      throw new SessionConfigError(
        `filenameTemplate ${JSON.stringify(template)} must contain exactly one %s, no path separator, and not start with a dot (for example 'emt_%s.sess').`,
      );
    }
    [this.before, this.after] = parts as [string, string];
    this.directory = resolve(options.directory ?? DEFAULTS.directory);
    this.expireMs = common.expire * 1000;
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    const sweepSeconds = positiveSeconds('sweepInterval', options.sweepInterval ?? DEFAULTS.sweepInterval, true);
    if (sweepSeconds > 0) {
      this.sweeper = setInterval(() => void this.sweep(), sweepSeconds * 1000);
      this.sweeper.unref();
    }
  }

  /** The path of a session's file. Ids are checked by the caller; this never sees a hostile one. */
  pathOf(id: string): string {
    return join(this.directory, this.before + id + this.after);
  }

  async read(id: string, now: number): Promise<StoredSession | undefined> {
    const path = this.pathOf(id);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw storeError('read', path, error);
    }
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
      await unlink(path).catch(() => {});
      return undefined;
    }
    return { data: data as StoredSession['data'], expiresAt: expires };
  }

  async write(id: string, text: string, expiresAt: number): Promise<void> {
    const path = this.pathOf(id);
    const contents = `{"expires":${expiresAt},"data":${text}}\n`;
    try {
      await this.writeAtomically(path, contents);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storeError('write', path, error);
      // The folder was removed while the app ran: make it again, once.
      try {
        await mkdir(this.directory, { recursive: true, mode: 0o700 });
        await this.writeAtomically(path, contents);
      } catch (retryError) {
        throw storeError('write', path, retryError);
      }
    }
  }

  touch(id: string, text: string, expiresAt: number): Promise<void> {
    return this.write(id, text, expiresAt);
  }

  async delete(id: string): Promise<void> {
    const path = this.pathOf(id);
    try {
      await unlink(path);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storeError('delete', path, error);
    }
  }

  /** Deletes expired session files and orphaned temp files; one at a time, so requests keep flowing. */
  sweep(now = Date.now()): Promise<void> {
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
      const isSession =
        name.length > this.before.length + this.after.length &&
        name.startsWith(this.before) &&
        name.endsWith(this.after) &&
        isSessionId(name.slice(this.before.length, name.length - this.after.length));
      const isTemp = TEMP_NAME.test(name);
      if (!isSession && !isTemp) continue;
      const path = join(this.directory, name);
      try {
        // Every write sets expires to write time + expire, so the file's mtime tells its expiry.
        const { mtimeMs } = await stat(path);
        if (now - mtimeMs > (isTemp ? ORPHAN_TEMP_MS : this.expireMs)) await unlink(path);
      } catch {
        // Gone already, or not ours to delete: the next sweep will see.
      }
    }
  }

  private async writeAtomically(path: string, contents: string): Promise<void> {
    const temp = join(this.directory, `.${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(contents, 'utf8');
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function storeError(operation: string, path: string, error: unknown): SessionStoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return new SessionStoreError('files', operation, `Session file ${operation} failed for ${path} (${code}).`, error);
}
