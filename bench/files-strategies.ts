import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `node --import tsx bench/files-strategies.ts [sessions] [operations]`: the ways the files backend
 * could read and write a session file, side by side over a folder of `sessions` files, each op
 * on the next file in turn (as many users would): CPU time (user + system) and wall time per
 * operation, in this process. What it compares:
 *
 * - sync: open (O_NOFOLLOW | O_NONBLOCK, so a planted FIFO or link never blocks), fstat, read,
 *   close; writes to a temp file and rename, with the *Sync calls (what the backend does);
 * - async: the same calls through fs/promises (each a hand-off to libuv's thread pool and back);
 * - remembered: a per-process cache of each file's text, validated by one lstat (inode, size,
 *   modification time), kept only for a file that had settled (modified 2 s before the read), as
 *   the backend does (runtime/src/backends/files-remembered.ts): a hit skips open, fstat, read and
 *   close; a miss reads as sync does;
 * - and for a write, what the backend's update adds to a bare temp-and-rename: the merge lock (a
 *   hard link to the temp file, removed after), the re-read under it, and the lstat of the
 *   retired-id marker.
 */

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const sessions = Number(process.argv[2] ?? 10_000);
const operations = Number(process.argv[3] ?? 20_000);
const folder = mkdtempSync(join(tmpdir(), 'csm-files-strategies-'));
const paths = Array.from({ length: sessions }, (_, index) =>
  join(folder, `s_${index.toString(36).padStart(43, '0')}.sess`),
);
const contents = (counter: number) => `{"expires":${Date.now() + 3_600_000},"data":{"counter":${counter}}}\n`;
// Written a minute ago: settled files, as a session a user only reads mostly is.
const aMinuteAgo = Math.floor(Date.now() / 1000) - 60;
for (const path of paths) {
  writeFileSync(path, contents(2), { mode: 0o600 });
  utimesSync(path, aMinuteAgo, aMinuteAgo);
}

function readSync(path: string): string {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) throw new Error('not a file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

async function readAsync(path: string): Promise<string> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a file');
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

interface Remembered {
  ino: number;
  size: number;
  mtimeMs: number;
  text: string;
}
const SETTLED_MS = 2000;
const remembered = new Map<string, Remembered>();
function readWithStats(path: string): { text: string; stats: Stats } {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('not a file');
    return { text: readFileSync(fd, 'utf8'), stats };
  } finally {
    closeSync(fd);
  }
}
function readRemembered(path: string): string {
  const known = remembered.get(path);
  if (known !== undefined) {
    const stats = lstatSync(path);
    if (stats.isFile() && stats.ino === known.ino && stats.size === known.size && stats.mtimeMs === known.mtimeMs) {
      return known.text;
    }
  }
  const readAt = Date.now();
  const { text, stats } = readWithStats(path);
  if (stats.mtimeMs < readAt - SETTLED_MS) {
    remembered.set(path, { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, text });
  } else remembered.delete(path);
  return text;
}

let temp = 0;
function writeSync(path: string, text: string): void {
  const name = join(folder, `.t${temp++}.tmp`);
  writeFileSync(name, text, { flag: 'wx', mode: 0o600 });
  renameSync(name, path);
}
async function writeAsync(path: string, text: string): Promise<void> {
  const name = join(folder, `.t${temp++}.tmp`);
  await writeFile(name, text, { flag: 'wx', mode: 0o600 });
  await rename(name, path);
}
/** The backend's update: temp file, its hard link as the merge lock, re-read, rename, marker lstat, unlock. */
const TEMP_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK;
function updateLocked(path: string, text: string): void {
  const name = join(folder, `.t${temp++}.tmp`);
  const lock = `${path}.lock`;
  const fd = openSync(name, TEMP_FLAGS, 0o600);
  linkSync(name, lock);
  try {
    readSync(path);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(name, path);
  lstatSync(`${path}.retired`, { throwIfNoEntry: false });
  unlinkSync(lock);
}

async function time(label: string, op: (path: string, index: number) => unknown): Promise<void> {
  // A round first, unmeasured: the page cache and the JIT warm up.
  for (let index = 0; index < Math.min(operations, sessions); index++)
    await op(paths[index % sessions] as string, index);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let index = 0; index < operations; index++) await op(paths[index % sessions] as string, index);
  const used = process.cpuUsage(cpu);
  const wall = ((performance.now() - started) * 1000) / operations;
  console.log(
    `${label.padEnd(40)} CPU ${((used.user + used.system) / operations).toFixed(1).padStart(6)} us/op ` +
      `(system ${(used.system / operations).toFixed(1).padStart(6)}), wall ${wall.toFixed(1).padStart(7)} us/op`,
  );
}

console.log(
  `${sessions.toLocaleString('en-US')} session files, ${operations.toLocaleString('en-US')} operations each\n`,
);
await time('read: sync', (path) => readSync(path));
await time('read: async (fs/promises)', (path) => readAsync(path));
await time('read: remembered, lstat-validated', (path) => readRemembered(path));
await time('lstat alone (a remembered read floor)', (path) => lstatSync(path));
await time('write: sync (temp + rename)', (path, index) => writeSync(path, contents(index)));
await time('write: async (temp + rename)', (path, index) => writeAsync(path, contents(index)));
await time('update: sync, lock + re-read + marker', (path, index) => updateLocked(path, contents(index)));
await time('read after each write: remembered', (path, index) => {
  writeSync(path, contents(index));
  return readRemembered(path);
});
rmSync(folder, { recursive: true, force: true });
