import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, FRAMEWORK_NAMES } from '../../generators/catalogue.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'create-session-manager.js');
export const RUNTIME_SPEC = `file:${join(ROOT, 'runtime')}`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Checks that the builds the tests run are current: dist/ (the bundle the bin runs, with the derived
 * templates) and runtime/dist/ (what generated apps install). The tests never build in the checkout:
 * `npm test` builds first (its `pretest` script); a test file run alone after a change to a source
 * needs `npm run build` first, and says so.
 */
export function assertBuilt(): void {
  const newerThan = (built: string, sources: string[]) => {
    const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
    return sources.find((file) => statSync(file).mtimeMs > builtAt);
  };
  const newer =
    newerThan(join(ROOT, 'dist', 'cli.js'), [
      join(ROOT, 'plopfile.ts'),
      ...listFiles(join(ROOT, 'generators')),
      ...listFiles(join(ROOT, 'scripts')),
      ...listFiles(join(ROOT, 'templates')),
    ]) ?? newerThan(join(ROOT, 'runtime', 'dist', 'index.js'), listFiles(join(ROOT, 'runtime', 'src')));
  if (newer !== undefined) {
    throw new Error(
      `${relative(ROOT, newer)} is newer than its build: run \`npm run build\` (npm test does it first).`,
    );
  }
}

/** Runs the command as a user would, without a terminal (stdin is a closed pipe). */
export function runCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...userEnv(), NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    collect(child).then(resolve, reject);
  });
}

/** The environment of a user's shell: without the npm_* variables of an `npm test` running these tests. */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh temporary folder; `remove()` deletes it. */
export function tempDir(prefix = 'csm-gen-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh temporary folder holding `files` (path -> content), a user's project for a test. */
export function projectWith(prefix: string, files: Record<string, string>): { path: string; remove(): void } {
  const dir = tempDir(prefix);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir.path, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, path), content);
  }
  return dir;
}

/**
 * Every entry under `dir`, to compare before and after a run: folders as `name/` with their mode,
 * files as their mode and bytes (latin1 maps each byte to one character), links as `-> target`.
 */
export function snapshotEntries(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const name = relative(dir, path);
      if (entry.isSymbolicLink()) {
        entries[name] = `-> ${readlinkSync(path)}`;
        continue;
      }
      const mode = (statSync(path).mode & 0o7777).toString(8);
      if (entry.isDirectory()) {
        entries[`${name}/`] = mode;
        walk(path);
      } else entries[name] = `${mode} ${readFileSync(path, 'latin1')}`;
    }
  };
  walk(dir);
  return entries;
}

/** Every file under `dir` (skipping node_modules), as relative path -> content, in a stable order. */
export function readTree(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  for (const file of listFiles(dir)) tree[relative(dir, file)] = readFileSync(file, 'utf8');
  return tree;
}

/**
 * The generated files as one text, with what changes between runs (the random secret, the
 * checkout's path) replaced by placeholders, for snapshots.
 */
export function printTree(tree: Record<string, string>): string {
  return Object.entries(tree)
    .map(([path, content]) => `===== ${path} =====\n${normalize(content)}`)
    .join('\n');
}

export function normalize(text: string): string {
  return text
    .replace(/^SESSION_SECRET=[A-Za-z0-9_-]{43}$/m, 'SESSION_SECRET=<random 43 characters>')
    .replaceAll(RUNTIME_SPEC, 'file:<checkout>/runtime');
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name !== 'node_modules')
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? listFiles(path) : [path];
    })
    .sort();
}

/** All 15 framework x backend pairs. */
export const PAIRS = FRAMEWORK_NAMES.flatMap((framework) => BACKEND_NAMES.map((backend) => ({ framework, backend })));
