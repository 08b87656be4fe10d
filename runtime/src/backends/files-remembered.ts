import type { Stats } from 'node:fs';

/**
 * How many ids one generation remembers (about 250 bytes each with a small session's text); two
 * generations are kept, so an id seen within the last 16,384 to 32,768 ids is found.
 */
export const REMEMBERED_IDS_PER_GENERATION = 16_384;
/**
 * The characters of file text one generation keeps at most: the memory stays bounded whatever
 * the sessions' size. A file larger than a 64th of it is not kept at all.
 */
export const REMEMBERED_TEXT_PER_GENERATION = 1 << 20;
const LARGEST_REMEMBERED_TEXT = REMEMBERED_TEXT_PER_GENERATION / 64;
/**
 * A file's text is remembered only if the file was last modified this long before the read began.
 * File times are coarse (a clock tick; a second on some file systems), and an inode number can be
 * reused at once: a file written in the same tick as the one read could show the same inode, size
 * and time. Any change made after the read carries a later time than one this old, so it shows.
 */
export const SETTLED_MS = 2000;

/** A session file as read: its text, and the stats of the descriptor it was read through. */
export interface ReadFile {
  readonly text: string;
  readonly stats: Stats;
}

/**
 * What this process knows of one id: its file's hashed name, and the text of its file as last read
 * with the file's inode, size and modification time (`text` undefined: nothing known).
 */
export class RememberedId {
  text: string | undefined = undefined;
  ino = 0;
  size = 0;
  mtimeMs = 0;
  /** The generation whose text count includes `text` (see RememberedIds). */
  generation = 0;
  constructor(readonly hash: string) {}
}

/**
 * The text this process last read for an id, if `stats` (an lstat of the id's path) show that very
 * file still in place. Every store write makes a new file (a temp file renamed into place), so
 * another process's write shows as another inode or, if the number was reused, a later time; an edit
 * in place shows in the size or the time.
 */
export function textIfSame(entry: RememberedId, stats: Stats): string | undefined {
  return stats.ino === entry.ino && stats.size === entry.size && stats.mtimeMs === entry.mtimeMs && stats.isFile()
    ? entry.text
    : undefined;
}

/**
 * The ids seen recently, each with its hashed name (an HMAC costs more than a lookup) and the text
 * of its file if it had settled when read (a file unchanged since this process read it need not be
 * opened and read again: one lstat tells). Bounded without per-entry bookkeeping: two generations
 * of Maps, the older one dropped when the newer one is full of ids or of text.
 */
export class RememberedIds {
  private current = new Map<string, RememberedId>();
  private older = new Map<string, RememberedId>();
  private generation = 1;
  private textInCurrent = 0;

  constructor(private readonly hashOf: (id: string) => string) {}

  of(id: string): RememberedId {
    const found = this.current.get(id);
    if (found !== undefined) return found;
    const entry = this.older.get(id) ?? new RememberedId(this.hashOf(id));
    if (this.current.size >= REMEMBERED_IDS_PER_GENERATION || this.textInCurrent >= REMEMBERED_TEXT_PER_GENERATION) {
      this.older = this.current;
      this.current = new Map();
      this.generation += 1;
      this.textInCurrent = 0;
    }
    this.current.set(id, entry);
    entry.generation = this.generation;
    this.textInCurrent += entry.text?.length ?? 0;
    return entry;
  }

  /**
   * Records what a read that began at `readAt` (wall-clock ms) found: its text is kept if the file
   * had settled by then (SETTLED_MS) and is not too large. Undefined: the file is gone, or changed.
   */
  know(entry: RememberedId, file: ReadFile | undefined, readAt = 0): void {
    const keep =
      file !== undefined &&
      file.text.length <= LARGEST_REMEMBERED_TEXT &&
      file.stats.mtimeMs < readAt - SETTLED_MS &&
      file.stats.isFile();
    const text = keep ? file.text : undefined;
    if (entry.generation === this.generation) this.textInCurrent += (text?.length ?? 0) - (entry.text?.length ?? 0);
    entry.text = text;
    if (keep) {
      entry.ino = file.stats.ino;
      entry.size = file.stats.size;
      entry.mtimeMs = file.stats.mtimeMs;
    }
  }

  /** How many ids are remembered now; never more than two generations. */
  get size(): number {
    return this.current.size + this.older.size;
  }

  /** How many characters of file text are remembered now. */
  get text(): number {
    let total = 0;
    for (const map of [this.current, this.older]) for (const entry of map.values()) total += entry.text?.length ?? 0;
    return total;
  }
}
