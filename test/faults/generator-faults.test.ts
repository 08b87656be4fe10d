import { spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  type CliResult,
  collect,
  assertBuilt,
  projectWith,
  ROOT,
  RUNTIME_SPEC,
  snapshotEntries,
  tempDir,
} from '../generator/support.js';

/**
 * The generator meets a hostile file system: the user's files must come out unchanged, with a clear
 * message and a failing exit code. Permission cases need a user the kernel checks: as root (which
 * bypasses permissions) the command runs as `nobody` through setpriv; as anyone else, directly.
 */
const FLAGS = ['--framework', 'express', '--backend', 'cookies', '--no-install', '--runtime', RUNTIME_SPEC];
const NOBODY = { uid: 65534, gid: 65534 };
const isRoot = process.getuid?.() === 0;

let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

/**
 * `nobody` may not be able to reach the checkout (a clone under a 0700 temp folder, as in CI), so the
 * unprivileged runs use a copy of the built command (self-contained: bin, bundle, templates) in a
 * folder everyone can read.
 */
let unprivilegedBin = BIN;
const cliCopy = tempDir('csm-gen-cli-');
beforeAll(async () => {
  assertBuilt();
  if (!isRoot) return;
  chmodSync(cliCopy.path, 0o755);
  for (const part of ['bin', 'dist', 'templates', 'package.json']) {
    cpSync(join(ROOT, part), join(cliCopy.path, part), { recursive: true });
  }
  unprivilegedBin = join(cliCopy.path, 'bin', 'create-session-manager.js');
});
afterAll(() => cliCopy.remove());

function project(files: Record<string, string>): string {
  const dir = projectWith('csm-gen-faults-', files);
  dirs.push(dir);
  return dir.path;
}

const snapshot = snapshotEntries;

/** Runs the command without a terminal; `asUnprivileged` drops root for the permission cases. */
function run(args: readonly string[], cwd: string, asUnprivileged = false): Promise<CliResult> {
  const [file, ...rest] =
    asUnprivileged && isRoot
      ? [
          'setpriv',
          `--reuid=${NOBODY.uid}`,
          `--regid=${NOBODY.gid}`,
          '--clear-groups',
          process.execPath,
          unprivilegedBin,
          ...args,
        ]
      : [process.execPath, BIN, ...args];
  const child = spawn(file as string, rest, {
    cwd,
    env: { ...process.env, HOME: cwd, NO_COLOR: '1', FORCE_COLOR: undefined, npm_config_user_agent: undefined },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  return collect(child);
}

/** Lets `nobody` enter the temp folder (mkdtemp makes it 0700) and, when `owned`, write to `path`. */
function openTo(root: string, ...owned: string[]): void {
  chmodSync(root, 0o755);
  if (!isRoot) return;
  for (const path of owned) chownSync(path, NOBODY.uid, NOBODY.gid);
}

function expectCleanFailure(result: CliResult, code: number): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  // plop adds one such line per action after a failed one: noise the user must not see.
  expect(result.stderr).not.toContain('Aborted due to previous action failure');
}

/** A write failed after earlier files were prepared: the message says so, and no change is reported. */
function expectRolledBack(result: CliResult, failedPath: string): void {
  expectCleanFailure(result, 1);
  expect(result.stderr).toContain(`Could not write ${failedPath}`);
  expect(result.stderr).toContain('Nothing was changed');
  expect(result.stdout).not.toMatch(/created|updated|overwrote/);
}

const MODULE_PACKAGE = '{ "name": "mine", "type": "module" }\n';

describe('generator faults: a clear message, a failing exit code, and the user files unchanged', () => {
  it('target path is a file', async () => {
    const cwd = project({ app: 'my notes\n' });
    const before = snapshot(cwd);
    const result = await run(['app', ...FLAGS], cwd);
    // Not a usage error (exit 2 is for bad flags and values): the command was right, the disk is in the way.
    expectCleanFailure(result, 1);
    expect(result.stderr).toContain(`${join(cwd, 'app')} exists and is not a directory`);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('package.json in the target is not valid JSON', async () => {
    const broken = '{ "name": "mine", "type": "module",\n';
    const cwd = project({ 'package.json': broken, 'src/keep.ts': 'export {};\n' });
    const before = snapshot(cwd);
    const result = await run(FLAGS, cwd);
    expectCleanFailure(result, 1);
    expect(result.stderr).toContain(`${join(cwd, 'package.json')} is not valid JSON`);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('package.json in the target cannot be read', async () => {
    const cwd = project({ 'package.json': MODULE_PACKAGE });
    openTo(cwd);
    chmodSync(join(cwd, 'package.json'), 0o200);
    const before = snapshot(cwd);
    const result = await run(FLAGS, cwd, true);
    expectCleanFailure(result, 1);
    expect(result.stderr).toContain(`Could not read ${join(cwd, 'package.json')}: permission denied (EACCES)`);
    expect(result.stderr).not.toContain('not valid JSON');
    expect(snapshot(cwd)).toEqual(before);
  });

  it('target folder is not writable', async () => {
    const cwd = project({ 'package.json': MODULE_PACKAGE });
    openTo(cwd);
    if (!isRoot) chmodSync(cwd, 0o555);
    const before = snapshot(cwd);
    const result = await run(FLAGS, cwd, true);
    if (!isRoot) chmodSync(cwd, 0o755);
    expectCleanFailure(result, 1);
    expect(result.stderr).toMatch(/EACCES|permission denied/i);
    expect(result.stderr).toContain(cwd);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('an output path is a folder: refused before anything is written, even with --force', async () => {
    const cwd = project({ 'package.json': MODULE_PACKAGE, '.gitignore': 'mine\n', 'src/server.ts/keep': 'x\n' });
    const before = snapshot(cwd);
    const result = await run([...FLAGS, '--force'], cwd);
    expectCleanFailure(result, 1);
    expect(result.stderr).toContain('src/server.ts: is a folder');
    expect(result.stderr).not.toContain('EISDIR');
    expect(snapshot(cwd)).toEqual(before);

    const dryRun = await run([...FLAGS, '--force', '--dry-run'], cwd);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/conflict\s+src\/server\.ts: is a folder/);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('a file where a folder must be: refused before anything is written, naming it', async () => {
    const cwd = project({ 'package.json': MODULE_PACKAGE, test: 'my test notes\n' });
    const before = snapshot(cwd);
    const result = await run([...FLAGS, '--force'], cwd);
    expectCleanFailure(result, 1);
    expect(result.stderr).toContain('test/counter.test.ts: test is a file');
    expect(snapshot(cwd)).toEqual(before);
  });

  it('a write fails halfway (a folder it cannot write into): everything written before is rolled back', async () => {
    const cwd = project({ 'package.json': MODULE_PACKAGE });
    mkdirSync(join(cwd, 'src'), { mode: 0o755 });
    // The target is writable, its src/ folder is not: the first files succeed, src/session.ts fails.
    openTo(cwd, cwd, join(cwd, 'package.json'));
    if (!isRoot) chmodSync(join(cwd, 'src'), 0o555);
    const before = snapshot(cwd);
    const result = await run(FLAGS, cwd, true);
    if (!isRoot) chmodSync(join(cwd, 'src'), 0o755);
    expectRolledBack(result, join(cwd, 'src/session.ts'));
    expect(result.stderr).toMatch(/permission denied \(EACCES\)/);
    expect(snapshot(cwd)).toEqual(before);
  });

  it('a write fails at the last file (read-only): earlier files, merges and new folders are all undone', async () => {
    const userTest = 'import "./mine.js";\n';
    const cwd = project({
      'package.json': MODULE_PACKAGE,
      '.gitignore': 'dist\n',
      '.env': 'DATABASE_URL=postgres://localhost/shop\n',
      'test/counter.test.ts': userTest,
    });
    // Every file before it is writable (package.json merged, .gitignore and .env appended, src/ created);
    // test/counter.test.ts, the last one written, is not: read-only for its owner, or root's for `nobody`.
    openTo(cwd, cwd, join(cwd, 'test'), ...['package.json', '.gitignore', '.env'].map((path) => join(cwd, path)));
    if (!isRoot) chmodSync(join(cwd, 'test/counter.test.ts'), 0o444);
    const before = snapshot(cwd);
    const result = await run([...FLAGS, '--force'], cwd, true);
    expectRolledBack(result, join(cwd, 'test/counter.test.ts'));
    expect(snapshot(cwd)).toEqual(before);
    expect(readdirSync(cwd).sort()).toEqual(['.env', '.gitignore', 'package.json', 'test']);
  });
});
