import { chmodSync, cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from 'prettier';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../generators/catalogue.js';
import { FIXTURES } from './fixtures.js';
import { assertBuilt, normalize, printTree, ROOT, RUNTIME_SPEC, runCli, readTree, tempDir } from './support.js';

// Add mode without installing: every file it writes into each fixture app (one per language and
// module system, runner and framework), for each backend, committed under __snapshots__/add/, with
// the wiring it prints. The install-and-run matrix is existing-apps.test.ts.
const workspace = tempDir('csm-add-');
beforeAll(assertBuilt);
afterAll(workspace.remove);

let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function copyOf(fixture: string): string {
  const dir = tempDir('csm-add-case-');
  dirs.push(dir);
  cpSync(join(ROOT, 'test/fixtures/existing-apps', fixture), dir.path, { recursive: true });
  return dir.path;
}

const QUIET = ['--runtime', RUNTIME_SPEC, '--no-install'];

describe.each(FIXTURES)('$name', (fixture) => {
  describe.each(BACKEND_NAMES)('%s', (backend) => {
    const dir = join(workspace.path, `${fixture.name}-${backend}`);
    let before: Record<string, string>;
    let tree: Record<string, string>;
    let stdout: string;

    beforeAll(async () => {
      cpSync(join(ROOT, 'test/fixtures/existing-apps', fixture.name), dir, { recursive: true });
      before = readTree(dir);
      const result = await runCli(['--backend', backend, '--yes', ...QUIET, ...fixture.flags], { cwd: dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      stdout = result.stdout;
      tree = readTree(dir);
    });

    it('writes the expected files, says what it detected and prints the wiring', async () => {
      const written = Object.fromEntries(Object.entries(tree).filter(([path]) => before[path] !== tree[path]));
      const output = `===== output =====\n${normalize(stdout)}\n${printTree(written)}`;
      await expect(output).toMatchFileSnapshot(`__snapshots__/add/${fixture.name}-${backend}.txt`);
      expect(stdout).toContain(`(${fixture.expected.code})`);
      for (const file of fixture.expected.files) expect(Object.keys(written)).toContain(file);
    });

    it('leaves every file of the app as it was, except package.json and the appended lines', () => {
      for (const [path, content] of Object.entries(before)) {
        if (path === '.gitignore' || path === '.env.example') expect(tree[path]!.startsWith(content), path).toBe(true);
        else if (path !== 'package.json') expect(tree[path], path).toBe(content);
      }
    });

    it('writes code that prettier (default settings) leaves as it is', async () => {
      for (const file of fixture.expected.files) {
        expect.soft(await check(tree[file]!, { filepath: file }), `${file} is not prettier-formatted`).toBe(true);
      }
    });
  });
});

describe('add mode', () => {
  it('creates .env readable by its owner only', async () => {
    const cwd = copyOf('express4-jest-cjs');
    expect((await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd })).code).toBe(0);
    expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o600);
  });

  it("leaves an existing .env's mode as it is when appending to it", async () => {
    const cwd = copyOf('express4-jest-cjs');
    writeFileSync(join(cwd, '.env'), 'DATABASE_URL=postgres://localhost/shop\n');
    chmodSync(join(cwd, '.env'), 0o640);
    expect((await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd })).code).toBe(0);
    expect(statSync(join(cwd, '.env')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(cwd, '.env'), 'utf8')).toMatch(/^DATABASE_URL=.*\nSESSION_SECRET=[\w-]{43}\n$/);
  });

  it('refuses an unsupported framework major, naming the supported ones, and writes nothing', async () => {
    const cwd = copyOf('express4-jest-cjs');
    const packageJson = readFileSync(join(cwd, 'package.json'), 'utf8');
    writeFileSync(join(cwd, 'package.json'), packageJson.replace('"express": "^4.21.2"', '"express": "^3.21.2"'));
    const before = readTree(cwd);
    const result = await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('package.json depends on express "^3.21.2" (Express 3)');
    expect(result.stderr).toContain('it supports Express 4 and 5');
    expect(readTree(cwd)).toEqual(before);
  });

  it.each([
    ['fastify', '"fastify": "^3.29.0"', 'Fastify 4 and 5'],
    ['koa', '"koa": "^1.7.0"', 'Koa 2 and 3'],
  ])('refuses %s at an unsupported major', async (framework, dependency, supported) => {
    const cwd = copyOf('koa2-node-test-esm');
    writeFileSync(
      join(cwd, 'package.json'),
      JSON.stringify({ type: 'module', dependencies: JSON.parse(`{${dependency}}`) }),
    );
    const result = await runCli(['--backend', 'cookies', '--yes', ...QUIET, '--framework', framework], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`it supports ${supported}`);
  });

  it('adds a test:sessions script when the project has a test script but no runner, and keeps its test script', async () => {
    const cwd = copyOf('node-http-cjs');
    const packageJson = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    packageJson.scripts.test = 'echo "Error: no test specified" && exit 1';
    writeFileSync(join(cwd, 'package.json'), JSON.stringify(packageJson, null, 2));
    const result = await runCli(['--backend', 'files', '--yes', '--framework', 'node', ...QUIET], { cwd });
    expect(result.code).toBe(0);
    const { scripts } = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    expect(scripts.test).toBe(packageJson.scripts.test);
    expect(scripts['test:sessions']).toBe('node --test test/counter.test.js');
    expect(result.stdout).toContain('npm run test:sessions');
  });

  it('--language and --dir override the detection', async () => {
    const cwd = copyOf('koa2-node-test-esm');
    const result = await runCli(
      ['--backend', 'files', '--yes', '--language', 'ts', '--dir', 'lib/sessions', ...QUIET],
      {
        cwd,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(TypeScript, ES modules)');
    const tree = readTree(cwd);
    expect(tree['lib/sessions/session.ts']).toContain('SessionManager.files({');
    expect(tree['lib/sessions/counter.ts']).toContain('export const counter: Middleware');
    expect(tree['test/counter.test.ts']).toContain('from "../lib/sessions/session.js"');
  });

  it('CommonJS TypeScript without esModuleInterop gets `import x = require()` for default imports', async () => {
    const cwd = copyOf('express5-mocha-cjs-ts');
    const tsconfig = '{\n  // no esModuleInterop\n  "compilerOptions": { "module": "commonjs", "strict": true, },\n}\n';
    writeFileSync(join(cwd, 'tsconfig.json'), tsconfig);
    expect((await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd })).code).toBe(0);
    const test = readFileSync(join(cwd, 'test/counter.test.ts'), 'utf8');
    expect(test).toContain('import assert = require("node:assert/strict");');
    expect(test).toContain('import express = require("express");');
    expect(test).toContain('import { sessions } from "@session-manager/runtime/express";');
    expect(test).not.toMatch(/^import \w+ from /m);
  });

  it('names an entry file that exists: npm init\'s "main": "index.js" without a start script, the app in src/index.ts', async () => {
    const cwd = copyOf('express5-node-test-cjs-ts-verbatim');
    const packageJson = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    delete packageJson.scripts.start;
    writeFileSync(join(cwd, 'package.json'), JSON.stringify(packageJson, null, 2));
    const result = await runCli(['--backend', 'cookies', '--yes', ...QUIET], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Wire it into src/index.ts:');
    expect(result.stdout).toContain('import counterModule = require("./counter");');
  });

  it('a dry run writes nothing and prints the wiring', async () => {
    const cwd = copyOf('express5-mocha-cjs-ts');
    const before = readTree(cwd);
    const result = await runCli(['--backend', 'redis', '--yes', '--dry-run', ...QUIET], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would create\s+src\/counter\.ts/);
    expect(result.stdout).toContain('import { sessions } from "@session-manager/runtime/express";');
    expect(result.stdout).toContain('import { counter } from "./counter";');
    expect(result.stdout).toContain('app.use(sessions(sessionManager));');
    expect(readTree(cwd)).toEqual(before);
  });
});
