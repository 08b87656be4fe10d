import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, projectWith, RUNTIME_SPEC, runCli, snapshotEntries, tempDir } from '../generator/support.js';

/**
 * The generator's error paths and the decisions that have no other test: what the user sees, the
 * exit code, and what is (or is not) written. Real processes, real folders, a real npm.
 */
beforeAll(assertBuilt);

let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function project(files: Record<string, string> = {}): string {
  const dir = projectWith('csm-gen-paths-', files);
  dirs.push(dir);
  return dir.path;
}

const EXPRESS_COOKIES = ['--framework', 'express', '--backend', 'cookies', '--runtime', RUNTIME_SPEC];

/**
 * npm that must fail without touching the network: offline, with an empty cache of its own, so every
 * package it needs is ENOTCACHED. A real npm install failing, as it does on a machine cut off.
 */
function offlineNpm(): NodeJS.ProcessEnv {
  const cache = tempDir('csm-gen-npm-cache-');
  dirs.push(cache);
  return { npm_config_offline: 'true', npm_config_cache: cache.path, npm_config_update_notifier: 'false' };
}

describe('usage errors: exit 2, nothing written', () => {
  it('two target folders', async () => {
    const cwd = project();
    const result = await runCli(['one', 'two', ...EXPRESS_COOKIES, '--no-install'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Expected at most one target directory, got: one, two.');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each([[''], ['   ']])('an empty --runtime (%j)', async (value) => {
    const cwd = project();
    const result = await runCli(['app', '--framework', 'koa', '--backend', 'files', '--runtime', value], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--runtime needs a value, for example --runtime ^0.1.0');
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('a package.json that is JSON but not an object', () => {
  it.each([['[]'], ['"my-app"'], ['null'], ['42'], ['true']])(
    '%s: exit 1, naming the file, nothing written',
    async (text) => {
      const cwd = project({ 'package.json': text });
      const before = snapshotEntries(cwd);
      const result = await runCli([...EXPRESS_COOKIES, '--no-install'], { cwd });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${join(cwd, 'package.json')} does not hold a JSON object; fix it and run again.`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(snapshotEntries(cwd)).toEqual(before);
    },
  );
});

const nextSteps = (stdout: string) => stdout.slice(stdout.indexOf('Next steps:'));

describe('the package manager', () => {
  it('takes a lock file found in a parent folder (a workspace root), two levels up', async () => {
    const root = project({
      'pnpm-lock.yaml': '',
      'packages/web/package.json': '{ "name": "web", "type": "module" }\n',
    });
    const result = await runCli([...EXPRESS_COOKIES, '--no-install'], { cwd: join(root, 'packages/web') });
    expect(result.code, result.stderr).toBe(0);
    expect(nextSteps(result.stdout)).toMatch(/^ {2}pnpm install$/m);
    expect(nextSteps(result.stdout)).toMatch(/^ {2}pnpm test +# runs the counter test/m);
  });

  it('takes the nearest lock file: the target folder before its parent', async () => {
    const root = project({ 'pnpm-lock.yaml': '', 'web/yarn.lock': '' });
    const result = await runCli(['web', ...EXPRESS_COOKIES, '--no-install'], { cwd: root });
    expect(result.code, result.stderr).toBe(0);
    expect(nextSteps(result.stdout)).toMatch(/^ {2}yarn$/m);
  });

  it.each([['bun.lock'], ['bun.lockb']])(
    'takes bun from %s, with `bun run test` (bun test is its own runner)',
    async (lock) => {
      const cwd = project({ [lock]: '' });
      const result = await runCli(['app', ...EXPRESS_COOKIES, '--no-install'], { cwd });
      expect(result.code, result.stderr).toBe(0);
      expect(nextSteps(result.stdout)).toMatch(/^ {2}bun install$/m);
      expect(nextSteps(result.stdout)).toMatch(/^ {2}bun run test +# runs the counter test/m);
      expect(nextSteps(result.stdout)).toMatch(/^ {2}bun run start +# serves/m);
    },
  );
});

describe('the install step', () => {
  it('a failing install: exit 1, says the files are written and what to run, and they are', async () => {
    const cwd = project();
    const result = await runCli(['app', ...EXPRESS_COOKIES], { cwd, env: offlineNpm() });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Running npm install...');
    expect(result.stderr).toMatch(
      /npm install failed \(exit code \d+\)\. The files are written; run npm install yourself/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, 'app', 'src', 'session.ts'))).toBe(true);
    expect(existsSync(join(cwd, 'app', 'package.json'))).toBe(true);
  });

  it('is skipped when nothing changed and the dependencies are there, and then says how to go on', async () => {
    const cwd = project();
    const first = await runCli(['app', ...EXPRESS_COOKIES, '--no-install'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    mkdirSync(join(cwd, 'app', 'node_modules'));
    // The install would fail (offline npm, as the test above shows): exit 0 shows it was not run.
    const again = await runCli(['app', ...EXPRESS_COOKIES], { cwd, env: offlineNpm() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('Running npm install');
    expect(again.stdout).toContain('Nothing to change');
    const steps = nextSteps(again.stdout);
    expect(steps).not.toMatch(/npm install/);
    expect(steps).toMatch(/^ {2}npm test +# runs the counter test/m);
  });
});
