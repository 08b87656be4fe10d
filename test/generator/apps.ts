import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type CliResult, collect, ROOT, userEnv } from './support.js';

// Helpers of the tests that install and run generated apps (e2e.test.ts, existing-apps.test.ts).

export function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return collect(spawn(command, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...userEnv(), NO_COLOR: '1', ...extra };
}

export function expectSuccess(result: CliResult, step: string): void {
  expect(result.code, `${step} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Resolves once the output holds `expected`; for a pattern, with its captured groups. */
export function waitForOutput(child: ChildProcess, expected: string | RegExp): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(expected)} within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match =
        typeof expected === 'string' ? (output.includes(expected) ? [expected] : null) : expected.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match.slice(1));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ${String(expected)}:\n${output}`)));
  });
}

/** npm start runs sh, then tsx, then node: signal the whole process group. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs at most `size` tasks at once; the others wait their turn. */
export function pool(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * The runtime as npm would publish it, packed into `dir`: installed from the tarball, it sits in the
 * app's node_modules (not a link into the checkout), so its types meet the app's own framework
 * (fastify 4's, not the checkout's fastify 5). Returns the `file:` spec of the tarball.
 */
export function packRuntime(dir: string): string {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: join(ROOT, 'runtime'),
    encoding: 'utf8',
    env: userEnv(),
  });
  const [packed] = JSON.parse(output) as Array<{ filename: string }>;
  return `file:${join(dir, packed!.filename)}`;
}
