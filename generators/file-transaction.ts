import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeSystemError, GeneratorError } from './errors.js';

interface StagedFile {
  /** The file the content is for: a symbolic link's target, so the link stays a link. */
  target: string;
  /** The content, written beside the target, waiting to be renamed over it. */
  temp: string;
  /** What the target held before, to put back if a later rename fails; undefined for a new file. */
  previous: { bytes: Buffer; mode: number } | undefined;
}

/**
 * Writes the generator's files all or nothing. `stage` writes each file's new content to a temp file
 * beside it (creating missing folders), so a read-only folder or file, a full disk or a file where a
 * folder should be fails before any file of the user's changed. `commit` renames the temp files into
 * place, each rename atomic; should one still fail, the files renamed before it get their old bytes
 * back. A failure leaves the project as it was and says so, or names what could not be restored.
 */
export class FileTransaction {
  private readonly staged: StagedFile[] = [];
  /** The folders this run created, parents first. */
  private readonly createdFolders: string[] = [];

  constructor(private readonly root: string) {}

  /** `mode` applies to a file this creates (an existing file keeps its own). */
  stage(path: string, content: string, mode?: number): void {
    const destination = join(this.root, path);
    try {
      this.createFolders(dirname(destination));
      const target = followLink(destination);
      const current = statSync(target, { throwIfNoEntry: false });
      // A rename needs only the folder's permission: honour the file's own, as writing it in place would.
      if (current !== undefined) accessSync(target, constants.W_OK);
      const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
      const previous = current && { bytes: readFileSync(target), mode: current.mode & 0o7777 };
      this.staged.push({ target, temp, previous });
      writeFileSync(temp, content, { flag: 'wx', mode: mode ?? 0o666 });
      if (current !== undefined) keepAccess(temp, current);
      else if (mode !== undefined) chmodSync(temp, mode);
    } catch (error) {
      throw failure(destination, error, this.discard());
    }
  }

  commit(): void {
    const renamed: StagedFile[] = [];
    for (const file of this.staged) {
      try {
        renameSync(file.temp, file.target);
      } catch (error) {
        throw failure(file.target, error, [...restore(renamed), ...this.discard()]);
      }
      renamed.push(file);
    }
    this.staged.length = 0;
    this.createdFolders.length = 0;
  }

  /** Removes the temp files and the folders created for them; returns what could not be removed. */
  discard(): string[] {
    const leftovers: string[] = [];
    for (const { temp } of this.staged.splice(0).reverse()) {
      attempt(leftovers, temp, () => unlinkSync(temp));
    }
    for (const folder of this.createdFolders.splice(0).reverse()) {
      attempt(leftovers, folder, () => rmdirSync(folder));
    }
    return leftovers;
  }

  /** Creates the missing folders one by one, so each one made is known and can be removed again. */
  private createFolders(folder: string): void {
    const missing: string[] = [];
    for (let path = folder; !existsSync(path); path = dirname(path)) missing.unshift(path);
    for (const path of missing) {
      mkdirSync(path);
      this.createdFolders.push(path);
    }
  }
}

/** Puts back, newest first, what the renamed files replaced; returns what could not be restored. */
function restore(renamed: readonly StagedFile[]): string[] {
  const leftovers: string[] = [];
  for (const { target, previous } of [...renamed].reverse()) {
    attempt(leftovers, target, () => {
      if (previous === undefined) return unlinkSync(target);
      writeFileSync(target, previous.bytes);
      chmodSync(target, previous.mode);
    });
  }
  return leftovers;
}

function failure(path: string, error: unknown, leftovers: readonly string[]): GeneratorError {
  const what = `Could not write ${path}: ${describeSystemError(error)}.`;
  if (leftovers.length === 0) {
    return new GeneratorError(`${what}\nNothing was changed: every file and folder is as it was before the run.`);
  }
  return new GeneratorError(
    `${what}\nUndoing the files written before it failed too; check these by hand:\n${leftovers.map((line) => `  ${line}`).join('\n')}`,
  );
}

function attempt(leftovers: string[], path: string, undo: () => void): void {
  try {
    undo();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') leftovers.push(`${path}: ${describeSystemError(error)}`);
  }
}

function followLink(path: string): string {
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ? realpathSync(path) : path;
}

/** The replacement gets the replaced file's mode and, where allowed (as root), its owner. */
function keepAccess(temp: string, replaced: Stats): void {
  chmodSync(temp, replaced.mode & 0o7777);
  try {
    chownSync(temp, replaced.uid, replaced.gid);
  } catch {
    // Only root may give a file away; anyone else's replacement is theirs, as an editor's save would be.
  }
}
