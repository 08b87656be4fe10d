import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, readTree, ROOT, RUNTIME_SPEC, runCli, tempDir } from './support.js';

// The command as a user meets it: real processes, real folders, no terminal (stdin is a pipe).
beforeAll(assertBuilt);

let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function project(files: Record<string, string> = {}): string {
  const dir = tempDir();
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir.path, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, path), content);
  }
  return dir.path;
}

const QUIET = ['--runtime', RUNTIME_SPEC, '--no-install'];
const EXPRESS_COOKIES = ['--framework', 'express', '--backend', 'cookies', ...QUIET];

describe('usage errors exit 2 and say what is valid', () => {
  it('rejects an unknown framework, listing the valid ones, and writes nothing', async () => {
    const cwd = project();
    const result = await runCli(['app', '--framework', 'rails', '--backend', 'cookies'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid --framework "rails": expected one of express, fastify, koa, hono, node.');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('rejects an unknown backend, listing the valid ones', async () => {
    const result = await runCli(['--framework', 'koa', '--backend', 'mongo'], { cwd: project() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid --backend "mongo": expected one of cookies, files, redis.');
  });

  it('rejects an unknown flag, naming it', async () => {
    const result = await runCli(['--frmework', 'express'], { cwd: project() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--frmework'");
    expect(result.stderr).toContain('--help');
  });

  it('without a terminal and without --yes, names the missing flags instead of waiting for an answer', async () => {
    const cwd = project();
    const both = await runCli([], { cwd });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Missing --framework and --backend');
    expect(both.stderr).toContain('--yes');

    const one = await runCli(['--framework', 'hono'], { cwd });
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('Missing --backend');
    expect(one.stderr).not.toContain('--framework and');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('prints the usage with --help and the version with --version', async () => {
    const cwd = project();
    const help = await runCli(['--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--framework <name>  express | fastify | koa | hono | node');
    const version = await runCli(['--version'], { cwd });
    expect(version.stdout.trim()).toBe('0.1.0');
  });
});

describe('writing', () => {
  it('creates a missing target folder, with --yes defaulting to express and cookies', async () => {
    const cwd = project();
    const result = await runCli(['apps/shop', '--yes', ...QUIET], { cwd });
    expect(result.code).toBe(0);
    const tree = readTree(join(cwd, 'apps/shop'));
    expect(Object.keys(tree).sort()).toEqual([
      '.env',
      '.env.example',
      '.gitignore',
      'package.json',
      'src/app.ts',
      'src/server.ts',
      'src/session.ts',
      'test/counter.test.ts',
      'tsconfig.json',
    ]);
    expect(tree['src/app.ts']).toContain('from "express"');
    expect(tree['src/session.ts']).toContain('SessionManager.cookies(secret');
    expect(tree['.env']).toMatch(/^SESSION_SECRET=[A-Za-z0-9_-]{43}$/m);
    expect(JSON.parse(tree['package.json']!).name).toBe('shop');
  });

  it("depends on the checkout's runtime through file: when run from a source checkout", async () => {
    const cwd = project();
    await runCli(['--yes', '--no-install'], { cwd });
    const { dependencies } = JSON.parse(readTree(cwd)['package.json']!);
    expect(dependencies['@session-manager/runtime']).toBe(`file:${join(ROOT, 'runtime')}`);
  });

  it('changes nothing on a second run with the same answers, and says so', async () => {
    const cwd = project();
    expect((await runCli(EXPRESS_COOKIES, { cwd })).code).toBe(0);
    const before = readTree(cwd);
    const again = await runCli(EXPRESS_COOKIES, { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to change');
    expect(again.stdout).not.toMatch(/created|updated|overwrote/);
    expect(readTree(cwd)).toEqual(before);
  });

  it("appends a missing SESSION_SECRET to an existing .env and keeps the user's lines", async () => {
    const cwd = project({ '.env': 'DATABASE_URL=postgres://localhost/shop' });
    expect((await runCli(EXPRESS_COOKIES, { cwd })).code).toBe(0);
    expect(readTree(cwd)['.env']).toMatch(/^DATABASE_URL=postgres:\/\/localhost\/shop\nSESSION_SECRET=[\w-]{43}\n$/);
  });

  it('never touches an .env that already has a SESSION_SECRET', async () => {
    const env = '# mine\nexport SESSION_SECRET=my-own-secret-that-is-long-enough-to-use\n';
    const cwd = project({ '.env': env });
    expect((await runCli(EXPRESS_COOKIES, { cwd })).code).toBe(0);
    expect(readTree(cwd)['.env']).toBe(env);
  });

  it('adds its lines to an existing .gitignore', async () => {
    const cwd = project({ '.gitignore': 'dist\n/node_modules\n' });
    await runCli(['--framework', 'node', '--backend', 'files', ...QUIET], { cwd });
    expect(readTree(cwd)['.gitignore']).toBe('dist\n/node_modules\n.env\nsessions/\n');
  });

  it('adds to an app that depends on a framework: that framework, its language, no whole app', async () => {
    const cwd = project({ 'package.json': '{ "type": "module", "devDependencies": { "koa": "^3.0.0" } }' });
    const result = await runCli(['--yes', ...QUIET], { cwd });
    expect(result.code).toBe(0);
    const tree = readTree(cwd);
    expect(tree['counter.js']).toContain('export const counter = async (ctx, next)');
    expect(tree['src/app.ts']).toBeUndefined();
    expect(result.stdout).toContain('(JavaScript, ES modules)');
  });
});

describe('never destroying user work', () => {
  const userFiles = {
    'package.json': JSON.stringify({ name: 'mine', type: 'module', scripts: { dev: 'x' } }),
    'tsconfig.json': '{}\n',
    'src/app.ts': 'export const app = "mine";\n',
  };
  const existingApp = {
    'package.json': JSON.stringify({ name: 'mine', scripts: { start: 'node index.js' } }),
    'tsconfig.json': '{}\n',
    'src/session.ts': 'export const session = "mine";\n',
  };

  it('lists the conflicts, writes nothing and exits 1', async () => {
    const cwd = project(existingApp);
    const result = await runCli(EXPRESS_COOKIES, { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toContain('src/session.ts: exists with other content');
    expect(result.stderr).toContain('--force');
    expect(readTree(cwd)).toEqual(existingApp);
  });

  it("in a new app, a start script of the user's is a conflict too", async () => {
    const files = { 'package.json': JSON.stringify({ name: 'mine', type: 'module', scripts: { start: 'node x.js' } }) };
    const cwd = project(files);
    const result = await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('package.json: scripts.start is "node x.js"');
    expect(readTree(cwd)).toEqual(files);
  });

  it('calls a CommonJS package.json a conflict: the generated code needs "type": "module"', async () => {
    const cwd = project({ 'package.json': '{ "name": "old", "type": "commonjs" }' });
    const result = await runCli(EXPRESS_COOKIES, { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('package.json: "type" is "commonjs"');
  });

  it('overwrites the conflicts with --force, keeping what does not conflict', async () => {
    const cwd = project(existingApp);
    const result = await runCli([...EXPRESS_COOKIES, '--force'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/overwrote\s+src\/session\.ts/);
    const tree = readTree(cwd);
    expect(tree['src/session.ts']).toContain('SessionManager.cookies(secrets');
    // An existing app's scripts are never replaced, not even with --force.
    expect(JSON.parse(tree['package.json']!)).toMatchObject({ name: 'mine', scripts: { start: 'node index.js' } });
  });

  it('with --dry-run lists every change and writes nothing, not even the target folder', async () => {
    const cwd = project({ '.gitignore': 'dist\n' });
    const result = await runCli(['new-app', ...EXPRESS_COOKIES, '--dry-run'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would create\s+src\/session\.ts/);
    expect(result.stdout).toMatch(/would create\s+package\.json/);
    expect(result.stdout).toContain('nothing was written');
    expect(existsSync(join(cwd, 'new-app'))).toBe(false);

    const here = await runCli([...EXPRESS_COOKIES, '--dry-run'], { cwd });
    expect(here.stdout).toMatch(/would update\s+\.gitignore/);
    expect(readTree(cwd)).toEqual({ '.gitignore': 'dist\n' });
  });
  it('with --dry-run marks the conflicts among the changes and exits 1, as the real run would', async () => {
    const cwd = project(existingApp);
    const result = await runCli([...EXPRESS_COOKIES, '--dry-run'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/conflict\s+src\/session\.ts: exists with other content/);
    expect(result.stdout).toMatch(/would create\s+src\/counter\.ts/);
    // The wiring is printed on a dry run too.
    expect(result.stdout).toContain('import { sessions } from "@session-manager/runtime/express";');
    expect(readTree(cwd)).toEqual(existingApp);

    const forced = await runCli([...EXPRESS_COOKIES, '--dry-run', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/would overwrite\s+src\/session\.ts/);
    expect(readTree(cwd)).toEqual(existingApp);
  });

  it('writes a new app where package.json names no framework and no --framework is given', async () => {
    const cwd = project(userFiles);
    const result = await runCli(['--backend', 'cookies', '--yes', ...QUIET, '--dry-run'], { cwd });
    expect(result.stdout).toMatch(/conflict\s+src\/app\.ts: exists with other content/);
    expect(readTree(cwd)).toEqual(userFiles);
  });
});

describe('next steps', () => {
  const cases: Array<{
    name: string;
    files: Record<string, string>;
    env: Record<string, string>;
    install: string;
    test: string;
  }> = [
    { name: 'npm by default', files: {}, env: {}, install: 'npm install', test: 'npm test' },
    {
      name: 'pnpm from its lock file',
      files: { 'pnpm-lock.yaml': '' },
      env: {},
      install: 'pnpm install',
      test: 'pnpm test',
    },
    { name: 'yarn from its lock file', files: { 'yarn.lock': '' }, env: {}, install: 'yarn', test: 'yarn test' },
    {
      name: 'bun from the user agent of `bun create`',
      files: {},
      env: { npm_config_user_agent: 'bun/1.2.0 npm/? node/v22.0.0 linux x64' },
      install: 'bun install',
      test: 'bun run test',
    },
  ];

  it.each(cases)('uses $name', async ({ files, env, install, test }) => {
    const cwd = project(files);
    const result = await runCli(['my-app', ...EXPRESS_COOKIES], { cwd, env });
    expect(result.code).toBe(0);
    const steps = result.stdout.slice(result.stdout.indexOf('Next steps:'));
    expect(steps).toContain('cd my-app');
    expect(steps).toMatch(new RegExp(`^  ${install}$`, 'm'));
    expect(steps).toMatch(new RegExp(`^  ${test} +# runs the counter test`, 'm'));
  });
});
