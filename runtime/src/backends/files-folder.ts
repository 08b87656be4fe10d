import { createHmac, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { SessionConfigError } from '../errors.js';

/** The folder's key file: hidden, so no filenameTemplate can produce its name. */
export const KEY_FILE = '.sessions-key';
/** Opens never follow a planted symbolic link, and never wait on a planted FIFO. */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Refuses a sessions folder that others could tamper with: anyone who can write to it can delete,
 * replace or plant session files, and anyone who owns it can change that. `allowShared` is the
 * explicit opt-out for a folder shared by design.
 */
export function checkFolder(directory: string, allowShared: boolean): void {
  const stats = statSync(directory);
  if (!stats.isDirectory()) {
    throw new SessionConfigError(`The sessions directory ${directory} is not a folder.`);
  }
  if (allowShared) return;
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new SessionConfigError(
      `The sessions directory ${directory} belongs to another user (uid ${stats.uid}; this process runs as ${uid}), ` +
        `who could read, change or plant sessions. Use a folder of this user's (chown ${uid} ${directory}), ` +
        'or, if the folder is shared on purpose, pass allowSharedDirectory: true.',
    );
  }
  const mode = stats.mode & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new SessionConfigError(
      `The sessions directory ${directory} can be written by ${mode & 0o020 ? 'its group' : 'other users'} ` +
        `(mode ${mode.toString(8).padStart(4, '0')}), who could plant or replace sessions. ` +
        `Make it private (chmod 700 ${directory}), or, if it is shared on purpose, pass allowSharedDirectory: true.`,
    );
  }
}

/**
 * The folder's own key for naming session files, made on first use: 32 random bytes in `.sessions-key`
 * (0600). A key kept beside the files it names needs no new option or secret, and every process and
 * host that shares the folder names files alike. It keeps a listing, a backup or a log of file names
 * from revealing any session id; whoever can read the key can also read the sessions themselves.
 * Two processes starting at once agree: the key is written to a temp file and linked into place,
 * which fails if the other one got there first, and then that one's key is read.
 */
export function folderKey(directory: string, allowShared: boolean): Buffer {
  const path = join(directory, KEY_FILE);
  const existing = readKey(path, allowShared);
  if (existing !== undefined) return existing;
  const temp = join(directory, `.${randomBytes(8).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Not made, or already gone.
    }
  }
  return readKey(path, allowShared) as Buffer;
}

function readKey(path: string, allowShared: boolean): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SessionConfigError(
      `The sessions key ${path} cannot be opened (${(error as NodeJS.ErrnoException).code}): it must be a regular file, not a link.`,
    );
  }
  try {
    const stats = fstatSync(fd);
    const uid = process.getuid?.();
    const foreign = !allowShared && uid !== undefined && stats.uid !== uid;
    if (!stats.isFile() || foreign || (stats.mode & 0o022) !== 0) {
      throw new SessionConfigError(
        `The sessions key ${path} is not a private regular file of this user. Delete it (every stored session ` +
          'is then lost) and let the app make a new one.',
      );
    }
    const key = Buffer.from(readFileSync(fd, 'utf8').trim(), 'base64url');
    if (key.length !== 32) {
      throw new SessionConfigError(
        `The sessions key ${path} is damaged. Delete it (every stored session is then lost) and let the app make a new one.`,
      );
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

/** The name part of a session's file: HMAC-SHA256 of the id with the folder's key, 43 base64url characters. */
export function hashedName(key: Buffer, id: string): string {
  return createHmac('sha256', key).update(id).digest('base64url');
}
