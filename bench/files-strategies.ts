import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
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
 * - cached: a per-process cache of each file's text, validated by one lstat (inode, size, mtime,
 *   ctime): a hit skips open, read and close; a miss reads as sync does.
 */

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const sessions = Number(process.argv[2] ?? 10_000);
const operations = Number(process.argv[3] ?? 20_000);
const folder = mkdtempSync(join(tmpdir(), 'csm-files-strategies-'));
const paths = Array.from({ length: sessions }, (_, index) =>
  join(folder, `s_${index.toString(36).padStart(43, '0')}.sess`),
);
const contents = (counter: number) => `{"expires":${Date.now() + 3_600_000},"data":{"counter":${counter}}}\n`;
for (const path of paths) writeFileSync(path, contents(2), { mode: 0o600 });

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

interface Cached {
  ino: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  text: string;
}
const cache = new Map<string, Cached>();
function readCached(path: string): string {
  const stats = lstatSync(path, { bigint: true });
  const hit = cache.get(path);
  if (
    hit &&
    hit.ino === Number(stats.ino) &&
    hit.size === Number(stats.size) &&
    hit.mtimeNs === stats.mtimeNs &&
    hit.ctimeNs === stats.ctimeNs
  ) {
    return hit.text;
  }
  const text = readSync(path);
  cache.set(path, {
    ino: Number(stats.ino),
    size: Number(stats.size),
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    text,
  });
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
    `${label.padEnd(34)} CPU ${((used.user + used.system) / operations).toFixed(1).padStart(6)} us/op ` +
      `(system ${(used.system / operations).toFixed(1).padStart(6)}), wall ${wall.toFixed(1).padStart(7)} us/op`,
  );
}

console.log(
  `${sessions.toLocaleString('en-US')} session files, ${operations.toLocaleString('en-US')} operations each\n`,
);
await time('read: sync', (path) => readSync(path));
await time('read: async (fs/promises)', (path) => readAsync(path));
await time('read: cached, lstat-validated', (path) => readCached(path));
await time('lstat alone (a cache hit floor)', (path) => lstatSync(path));
await time('write: sync (temp + rename)', (path, index) => writeSync(path, contents(index)));
await time('write: async (temp + rename)', (path, index) => writeAsync(path, contents(index)));
await time('read after each write: cached', (path, index) => {
  writeSync(path, contents(index));
  return readCached(path);
});
rmSync(folder, { recursive: true, force: true });
