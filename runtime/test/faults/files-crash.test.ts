import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesStore } from '../../src/backends/files.js';
import { SessionManager } from '../../src/manager.js';
import { resolveCommonOptions } from '../../src/options.js';
import { sessionFileOf } from '../support/harness.js';
import { isWholePayload, payloadFor, type WriterPayload } from './fixtures/payload.js';

const WRITER = fileURLToPath(new URL('./fixtures/files-writer.ts', import.meta.url));
/** Two writer processes per round, each killed with SIGKILL at a random moment. */
const ROUNDS = 20;
const SHARED_SESSIONS = 4;

let dir: string;
let bundleDir: string;
let writerBundle: string;
let sharedIds: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'csm-crash-'));
  // One bundle of the writer and the runtime: each child then starts in milliseconds, without a TS loader.
  bundleDir = mkdtempSync(join(tmpdir(), 'csm-crash-bundle-'));
  writerBundle = join(bundleDir, 'files-writer.mjs');
  await build({
    entryPoints: [WRITER],
    outfile: writerBundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
  });
  const manager = SessionManager.files<WriterPayload>({ directory: dir, sweepInterval: 0 });
  sharedIds = [];
  for (let i = 0; i < SHARED_SESSIONS; i++) {
    const state = await manager.load(undefined);
    Object.assign(state.data, payloadFor('seed', i));
    await manager.commit(state).persist?.();
    sharedIds.push(state.id);
  }
  await manager.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

interface Writer {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | null>;
}

function startWriter(name: string): Writer {
  const child = spawn(process.execPath, [writerBundle, dir, name, ...sharedIds], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.startsWith('ready\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`writer ${name} exited before it was ready:\n${errors}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
  return { child, output: () => output, ready, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The parsed envelope of a session file, or a description of what is wrong with it. */
function inspect(name: string): string | undefined {
  const text = readFileSync(join(dir, name), 'utf8');
  let envelope: { expires?: unknown; data?: unknown };
  try {
    envelope = JSON.parse(text);
  } catch {
    return `${name} is not JSON (${text.length} bytes)`;
  }
  if (typeof envelope.expires !== 'number' || envelope.expires <= Date.now()) return `${name} has a bad expiry`;
  if (!isWholePayload(envelope.data)) return `${name} holds data no writer wrote`;
  return undefined;
}

function sharedFileProblems(): string[] {
  return sharedIds.map((id) => inspect(basename(sessionFileOf(dir, id)))).filter((problem) => problem !== undefined);
}

describe('files backend under SIGKILL', () => {
  it(`every session file is whole after ${ROUNDS * 2} kills of two concurrent writer processes`, async () => {
    let kills = 0;
    let writes = 0;
    let readsDuringWrites = 0;
    const problems: string[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const writers = [startWriter(`a${round}`), startWriter(`b${round}`)];
      await Promise.all(writers.map((writer) => writer.ready));
      // Read the shared files while both processes write them (a reader never sees half a file),
      // until each has written a few times: a count of its writes, not a time, however slow the machine.
      const writing = () => writers.every((writer) => writer.output().split('.').length - 1 >= 2);
      do {
        problems.push(...sharedFileProblems());
        readsDuringWrites += SHARED_SESSIONS;
        await sleep(2);
      } while (!writing());
      await Promise.all(
        writers.map(async (writer) => {
          // A kill at a random point of a write: the randomness is the fault being injected, nothing waits on it.
          await sleep(Math.random() * 120);
          writer.child.kill('SIGKILL');
          if ((await writer.exited) === 'SIGKILL') kills++;
        }),
      );
      for (const writer of writers) {
        expect(writer.output(), 'a shared session went missing').not.toContain('M');
        writes += writer.output().split('.').length - 1;
      }
      problems.push(...sharedFileProblems());
    }

    expect(problems).toEqual([]);
    expect(kills).toBe(ROUNDS * 2);
    // The writers really were writing when they died.
    expect(writes).toBeGreaterThan(ROUNDS * 2);
    expect(readsDuringWrites).toBeGreaterThan(0);

    const names = readdirSync(dir);
    const sessions = names.filter((name) => /^emt_[A-Za-z0-9_-]{43}\.sess$/.test(name));
    const others = names.filter((name) => !sessions.includes(name) && name !== '.sessions-key');
    expect(sessions.map(inspect).filter((problem) => problem !== undefined)).toEqual([]);
    expect(sessions.length).toBeGreaterThanOrEqual(SHARED_SESSIONS);
    // Anything else can only be a temp file a kill left between write and rename, or a merge lock a
    // kill left between taking and releasing it.
    for (const name of others) expect(name).toMatch(/^\.([0-9a-f]{16}\.tmp|[A-Za-z0-9_-]{43}\.lock)$/);

    // The sweeper removes orphaned temp files once they are old, and no session file with them.
    const store = new FilesStore({ directory: dir, sweepInterval: 0 }, resolveCommonOptions({}));
    await store.sweep(Date.now() + 61_000);
    await store.close();
    const after = readdirSync(dir);
    expect(after.filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'))).toEqual([]);
    expect(after.sort()).toEqual([...sessions, '.sessions-key'].sort());

    console.info(
      `[faults] files crash: ${kills} SIGKILLs survived, ${writes} writes, ${sessions.length} session files whole, ` +
        `${others.length} orphan temp and lock files swept, ${readsDuringWrites} reads during concurrent writes`,
    );
  }, 120_000);
});
