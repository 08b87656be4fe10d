import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, collect, ensureCliBuilt, RUNTIME_SPEC, tempDir } from '../generator/support.js';

/**
 * The generator meets a hostile file system: the user's files must come out unchanged, with a clear
 * message and a failing exit code. Permission cases need a user the kernel checks: as root (which
 * bypasses permissions) the command runs as `nobody` through setpriv; as anyone else, directly.
 */
const FLAGS = ['--framework', 'express', '--backend', 'cookies', '--no-install', '--runtime', RUNTIME_SPEC];
const NOBODY = { uid: 65534, gid: 65534 };
const isRoot = process.getuid?.() === 0;

beforeAll(ensureCliBuilt);

let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function project(files: Record<string, string>): string {
  const dir = tempDir('csm-gen-faults-');
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir.path, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, path), content);
  }
  return dir.path;
}

/** Every file and folder under `dir`, with each file's content and each entry's mode. */
function snapshot(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const mode = (statSync(path).mode & 0o7777).toString(8);
      if (entry.isDirectory()) {
        entries[`${relative(dir, path)}/`] = mode;
        walk(path);
      } else {
        entries[relative(dir, path)] = `${mode} ${readFileSync(path, 'utf8')}`;
      }
    }
  };
  walk(dir);
  return entries;
}

/** Runs the command without a terminal; `asUnprivileged` drops root for the permission cases. */
function run(args: readonly string[], cwd: string, asUnprivileged = false): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args];
  const [file, ...rest] =
    asUnprivileged && isRoot
      ? ['setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', ...command]
      : command;
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
}

const MODULE_PACKAGE = '{ "name": "mine", "type": "module" }\n';

describe('generator faults: a clear message, a failing exit code, and the user files unchanged', () => {
  it('target path is a file', async () => {
    const cwd = project({ app: 'my notes\n' });
    const before = snapshot(cwd);
    const result = await run(['app', ...FLAGS], cwd);
    // The generator reports this as a usage error (exit 2, like a bad flag); see the report.
    expectCleanFailure(result, 2);
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
    expect(snapshot(cwd)).toEqual(before);
  });

  // KNOWN BUG (reported to the lead): the files written before the failing one are left behind
  // (package.json updated, .gitignore, .env, tsconfig.json, .env.example created). `it.fails`
  // keeps this visible: once the generator rolls back, this test fails and must become `it`.
  it.fails(
    'a write fails halfway (a folder it cannot write into): everything written before is rolled back',
    async () => {
      const cwd = project({ 'package.json': MODULE_PACKAGE });
      mkdirSync(join(cwd, 'src'), { mode: 0o755 });
      // The target is writable, its src/ folder is not: the first files succeed, src/session.ts fails.
      openTo(cwd, cwd, join(cwd, 'package.json'));
      if (!isRoot) chmodSync(join(cwd, 'src'), 0o555);
      const before = snapshot(cwd);
      const result = await run(FLAGS, cwd, true);
      if (!isRoot) chmodSync(join(cwd, 'src'), 0o755);
      expectCleanFailure(result, 1);
      expect(result.stderr).toContain('src/session.ts');
      expect(snapshot(cwd)).toEqual(before);
    },
  );
});
