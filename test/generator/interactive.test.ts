import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { BIN, type CliResult, collect, assertBuilt, ROOT, readTree, RUNTIME_SPEC, tempDir } from './support.js';

// Real pseudo-terminals (util-linux `script`), so inquirer sees a TTY and reads raw keys.
beforeAll(assertBuilt);

let dirs: Array<{ remove(): void }> = [];
let children: ChildProcess[] = [];
afterEach(() => {
  // A test that failed while waiting for the screen leaves its command at a prompt.
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children = [];
  for (const dir of dirs) dir.remove();
  dirs = [];
});

const KEY = { down: '\x1b[B', enter: '\r', ctrlC: '\x03' };

/** Runs the command in a pseudo-terminal; `waitFor` resolves once the screen shows the text. */
function runInTerminal(args: string[], cwd: string) {
  const command = ['node', BIN, ...args].map((word) => `'${word}'`).join(' ');
  // -e: exit with the command's code; -f: flush output as it comes; -q: no "Script started" lines.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const done: Promise<CliResult> = collect(child);
  children.push(child);
  let raw = '';
  let screen = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
    // Without colours and cursor moves: what the user reads.
    screen = stripVTControlCharacters(raw);
    for (const waiter of waiters.filter(({ text }) => screen.includes(text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  return {
    done,
    screen: () => screen,
    waitFor: (text: string) =>
      new Promise<void>((resolve) => (screen.includes(text) ? resolve() : waiters.push({ text, resolve }))),
    press: (...keys: string[]) => child.stdin.write(keys.join('')),
  };
}

function project(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path;
}

it('asks only the missing question, and the arrow keys pick the backend', async () => {
  const cwd = project();
  const terminal = runInTerminal(['--framework', 'koa', '--runtime', RUNTIME_SPEC, '--no-install'], cwd);
  await terminal.waitFor('Where should sessions be stored?');
  terminal.press(KEY.down);
  await terminal.waitFor('❯ files');
  terminal.press(KEY.enter);
  const { code } = await terminal.done;

  expect(code).toBe(0);
  expect(terminal.screen()).not.toContain('Which framework');
  const tree = readTree(cwd);
  expect(tree['src/session.ts']).toContain('SessionManager.files({');
  expect(tree['src/app.ts']).toContain('from "koa"');
});

it('asks both questions, pre-selecting the defaults', async () => {
  const cwd = project();
  const terminal = runInTerminal(['--runtime', RUNTIME_SPEC, '--no-install'], cwd);
  await terminal.waitFor('Which framework does your app use?');
  terminal.press(KEY.enter);
  await terminal.waitFor('Where should sessions be stored?');
  terminal.press(KEY.down, KEY.down);
  await terminal.waitFor('❯ redis');
  terminal.press(KEY.enter);
  expect((await terminal.done).code).toBe(0);

  const tree = readTree(cwd);
  expect(tree['src/app.ts']).toContain('from "express"');
  expect(tree['src/session.ts']).toContain('SessionManager.redis(redis, {');
});

it('Ctrl-C at a prompt exits 130 with one line and writes nothing', async () => {
  const cwd = project();
  const terminal = runInTerminal(['new-app', '--no-install'], cwd);
  await terminal.waitFor('Which framework does your app use?');
  terminal.press(KEY.ctrlC);
  const { code } = await terminal.done;

  expect(code).toBe(130);
  const after = terminal.screen().slice(terminal.screen().indexOf('node:http (no framework)'));
  expect(after.trim().split(/\r?\n/).slice(1).join('\n').trim()).toBe('Cancelled: nothing was written.');
  expect(readdirSync(cwd)).toEqual([]);
});

it('in an existing app, says it adds to it in its language and pre-selects its framework', async () => {
  const cwd = project();
  cpSync(join(ROOT, 'test/fixtures/existing-apps/koa2-node-test-esm'), cwd, { recursive: true });
  const terminal = runInTerminal(['--runtime', RUNTIME_SPEC, '--no-install'], cwd);
  await terminal.waitFor('Which framework does your app use?');
  expect(terminal.screen()).toContain(
    'Found an existing koa app: adding sessions to it, your files untouched (JavaScript, ES modules).',
  );
  // The detected framework is the highlighted choice: Enter takes it. The app keeps its own major
  // (koa 2 here), so the choices name the majors supported, not the one a new app would get.
  await terminal.waitFor('❯ Koa (2 and 3)');
  expect(terminal.screen()).not.toContain('Koa 3');
  expect(terminal.screen()).toContain('Express (4 and 5)');
  terminal.press(KEY.enter);
  await terminal.waitFor('Where should sessions be stored?');
  terminal.press(KEY.enter);
  expect((await terminal.done).code).toBe(0);

  const tree = readTree(cwd);
  expect(tree['src/counter.js']).toContain('export const counter = async (ctx, next)');
  expect(tree['src/app.ts']).toBeUndefined();
});

it('in an empty folder, says it writes a new app', async () => {
  const cwd = project();
  const terminal = runInTerminal(['--backend', 'cookies', '--runtime', RUNTIME_SPEC, '--no-install'], cwd);
  await terminal.waitFor('Which framework does your app use?');
  expect(terminal.screen()).toContain('Writing a new app (TypeScript, ES modules).');
  terminal.press(KEY.ctrlC);
  expect((await terminal.done).code).toBe(130);
});
