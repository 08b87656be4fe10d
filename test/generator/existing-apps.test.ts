import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Backend } from '../../generators/catalogue.js';
import { CookieJar } from '../../runtime/test/support/cookie-jar.js';
import { freePort } from '../support/ports.js';
import { childEnv, expectSuccess, killGroup, packRuntime, pool, run, waitForOutput } from './apps.js';
import { type Fixture, FIXTURES } from './fixtures.js';
import { collect, assertBuilt, ROOT, runCli, snapshotEntries, tempDir } from './support.js';

// Real apps a user already has (test/fixtures/existing-apps/), each with its own tests: the
// generator adds sessions to a copy without touching the app's files, the copy is installed
// (npm cache first), its own typecheck and `npm test` pass with the counter test counted, and the
// app, wired with exactly the lines the run printed, counts /counter visits over HTTP.
//
// `npm test` runs a slice (FULL_MATRIX below); `npm run test:existing-apps` runs every fixture with
// every backend.

const BACKENDS: Backend[] = ['cookies', 'files', 'redis'];

// The default run: a slice (the whole matrix: npm run test:existing-apps).
// The two the issue names once the runtime accepts express 4 and fastify 4 (its peer ranges say so);
// before that, the hono app.
const peers = JSON.parse(readFileSync(join(ROOT, 'runtime/package.json'), 'utf8')).peerDependencies ?? {};
const olderMajors = /\^4/.test(peers.express ?? '') && /\^4/.test(peers.fastify ?? '');
const SLICE = new Set(
  olderMajors
    ? ['express4-jest-cjs:cookies', 'fastify4-vitest-esm-ts:files', 'express5-node-test-cjs-ts-verbatim:redis']
    : ['hono4-node-test-esm-ts:cookies'],
);
const FULL_MATRIX = process.env.CSM_EXISTING_APPS === 'all';

const CASES = FIXTURES.flatMap((fixture) => BACKENDS.map((backend) => ({ fixture, backend }))).filter(
  ({ fixture, backend }) => FULL_MATRIX || SLICE.has(`${fixture.name}:${backend}`),
);

const workspace = tempDir('csm-existing-');
const children = new Set<ChildProcess>();
let runtimeSpec: string;

beforeAll(() => {
  assertBuilt();
  runtimeSpec = packRuntime(workspace.path);
});

// Removing many installed apps takes a while on a busy machine.
afterAll(async () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  await rm(workspace.path, { recursive: true, force: true });
}, 600_000);

const slots = pool(2);

describe.concurrent('an existing app', () => {
  it.each(CASES)(
    '$fixture.name + $backend: adds sessions without touching the app; its tests and /counter pass',
    async ({ fixture, backend }) => {
      await slots(async () => {
        const dir = join(workspace.path, `${fixture.name}-${backend}`);
        cpSync(join(ROOT, 'test/fixtures/existing-apps', fixture.name), dir, { recursive: true });
        const before = snapshotEntries(dir);
        const env = {
          REDIS_URL: inject('redisUrl'),
          SESSION_DIR: join(workspace.path, `${fixture.name}-${backend}-s`),
        };

        const args = ['--backend', backend, '--yes', '--runtime', runtimeSpec, '--no-install', ...fixture.flags];
        const result = await runCli(args, { cwd: dir });
        expectSuccess(result, 'generate');
        expect(result.stdout).toContain(`(${fixture.expected.code})`);
        for (const file of fixture.expected.files) expect(result.stdout).toMatch(new RegExp(`created\\s+${file}\\n`));
        expectUntouched(before, snapshotEntries(dir));

        const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir);
        expectSuccess(install, 'npm install');
        const scripts = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts as Record<string, string>;
        if (scripts.typecheck !== undefined) expectSuccess(await run('npm', ['run', 'typecheck'], dir), 'typecheck');
        const test = await run('npm', ['test'], dir, env);
        expectSuccess(test, 'npm test');
        expect(passedTests(fixture.expected.runner, test.stdout + test.stderr)).toBe(fixture.ownTests + 3);

        applyWiring(dir, fixture, result.stdout);
        await exerciseApp(dir, env);
      });
    },
    600_000,
  );
});

/** Files that only ever gain lines at their end. */
const APPENDED = new Set(['.gitignore', '.env', '.env.example']);

/**
 * Every file the app had is byte-identical (and keeps its mode), except package.json, which only
 * gained entries, and the files lines are appended to.
 */
function expectUntouched(before: Record<string, string>, after: Record<string, string>): void {
  for (const [path, entry] of Object.entries(before)) {
    if (path === 'package.json') continue;
    if (APPENDED.has(path)) expect(after[path]!.startsWith(entry), `${path} was not only appended to`).toBe(true);
    else expect(after[path], `${path} changed`).toBe(entry);
  }
  const [mode, ...text] = before['package.json']!.split(' ');
  const [newMode, ...newText] = after['package.json']!.split(' ');
  expect(newMode).toBe(mode);
  expect(gained(JSON.parse(text.join(' ')), JSON.parse(newText.join(' ')))).toBe(true);
}

/** Whether `after` holds everything `before` held, unchanged, in the same order. */
function gained(before: unknown, after: unknown): boolean {
  if (typeof before !== 'object' || before === null) return before === after;
  if (typeof after !== 'object' || after === null) return false;
  const keys = Object.keys(before);
  const kept = Object.keys(after).filter((key) => keys.includes(key));
  if (kept.join() !== keys.join()) return false;
  return keys.every((key) => gained((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key]));
}

/** The number of passed tests as the runner reports it. */
function passedTests(runner: string, output: string): number | undefined {
  const patterns: Record<string, RegExp> = {
    jest: /Tests:\s+(\d+) passed/,
    vitest: /Tests\s+(\d+) passed/,
    mocha: /(\d+) passing/,
    node: /^# pass (\d+)$/m,
  };
  const found = patterns[runner]!.exec(output);
  return found ? Number(found[1]) : undefined;
}

/**
 * Pastes the printed lines as a user would: the imports after the file's last import (or require),
 * the setup lines after the line where the app is made, and the edits the print asks for.
 */
function applyWiring(dir: string, fixture: Fixture, stdout: string): void {
  const printed = stdout.slice(stdout.indexOf('Wire it into'));
  const sections = printed.split(/\n {2}(?=\S)/).slice(1);
  const lines = (section: string | undefined) =>
    (section ?? '')
      .split('\n')
      .slice(1)
      .filter((line) => line.startsWith('    '))
      .map((line) => line.slice(4));
  const imports = lines(sections[0]);
  const setup = lines(sections[1]);
  // One line a module; two under verbatimModuleSyntax (`import x = require()`, then its names).
  expect(imports.length).toBe(fixture.expected.code.includes('verbatimModuleSyntax') ? 6 : 3);
  expect(setup.length).toBeGreaterThan(0);

  const path = join(dir, fixture.wire.file);
  const source = readFileSync(path, 'utf8').split('\n');
  const lastImport = source.findLastIndex((line) => /^(import |const .* = require\()/.test(line));
  source.splice(lastImport + 1, 0, ...imports);
  const anchor = source.findIndex((line, index) => index > lastImport && line.trim() === fixture.wire.after);
  expect(anchor, `"${fixture.wire.after}" in ${fixture.wire.file}`).toBeGreaterThan(-1);
  // At the anchor's indentation: the app may be made inside a function (fastify's buildApp()).
  const indent = /^\s*/.exec(source[anchor]!)![0];
  source.splice(anchor + 1, 0, ...setup.map((line) => indent + line));
  let wired = source.join('\n');
  if (fixture.wire.replace !== undefined) {
    const [from, to] = fixture.wire.replace;
    expect(printed).toContain(to);
    wired = wired.replace(from, to);
  }
  writeFileSync(path, wired);
}

/** `PORT=<port> npm start`, then /counter 1, 2, 3 for one browser and 1 for another. */
async function exerciseApp(dir: string, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const server = spawn('npm', ['start'], { cwd: dir, env: childEnv({ ...env, PORT: String(port) }), detached: true });
  children.add(server);
  const exited = collect(server);
  try {
    await waitForOutput(server, `listening on http://127.0.0.1:${port}`);
    const url = `http://127.0.0.1:${port}/counter`;
    const browser = new CookieJar();
    for (const count of [1, 2, 3]) {
      expect(await browser.get(url)).toMatchObject({ status: 200, body: `This is your ${count} visit` });
    }
    expect(await new CookieJar().get(url)).toMatchObject({ status: 200, body: 'This is your 1 visit' });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  } finally {
    killGroup(server, 'SIGTERM');
    await exited;
    children.delete(server);
  }
}
