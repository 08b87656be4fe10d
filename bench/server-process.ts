import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Contender, SERVER_SCRIPTS } from './contenders.js';
import { pinnedTo, SERVER_CORE } from './system.js';

/**
 * Where the contender servers are compiled to, so they run as plain JavaScript, as users run. Under
 * the bench workspace's node_modules: packages resolve from there as from bench/ (its own
 * dependencies first, then the root's), and linters leave it alone.
 */
const COMPILED = 'bench/node_modules/.cache/csm-bench-servers';

/**
 * Compiles bench/contenders/*.ts to JavaScript (into `outDir`, which must be under bench/node_modules so
 * that the servers' imports resolve) (types are checked by `npm run typecheck`, not here).
 * Running the servers through tsx instead would add its loader thread (~35 MB RSS) to every server.
 */
export function compileServers(outDir = COMPILED): void {
  rmSync(outDir, { recursive: true, force: true });
  const sources = readdirSync('bench/contenders')
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join('bench/contenders', name));
  const flags = ['--ignoreConfig', '--outDir', outDir, '--rootDir', 'bench/contenders'];
  flags.push('--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023');
  flags.push('--types', 'node', '--skipLibCheck', '--noCheck');
  const run = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', ...flags, ...sources], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`compiling the contender servers failed:\n${run.stdout}${run.stderr}`);
}

function compiledScript(contender: Contender, compiled: string): string {
  return join(compiled, basename(SERVER_SCRIPTS[contender.framework]).replace(/\.ts$/, '.js'));
}

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** What the server printed on stderr, to explain a failure. */
  readonly stderr: () => string;
  /**
   * Sends a command line (see `announce` in contenders/serve.ts) and resolves with the first line
   * the server prints after it that starts with `answer`.
   */
  command(line: string, answer: string): Promise<string>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

/**
 * Starts a contender (compiled by compileServers) as its own node process on the server core, and waits for the port it
 * announces. `profileDir` adds `--cpu-prof`: the profile is written when the server exits on stop().
 */
export function startServer(
  contender: Contender,
  env: Record<string, string>,
  profileDir?: string,
  compiled = COMPILED,
): Promise<ServerProcess> {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const command = [...pinnedTo(SERVER_CORE), process.execPath, ...nodeArgs, compiledScript(contender, compiled)];
  const child = spawn(command[0] as string, [...command.slice(1), contender.variant], {
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  // Lines the server prints after it started, handed to whoever waits for them.
  const waiting: { answer: string; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  child.on('exit', () => {
    for (const wait of waiting.splice(0)) wait.reject(new Error(`${contender.id} exited before answering`));
  });
  const send = (line: string, answer: string) =>
    new Promise<string>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${contender.id} has exited: cannot send ${line}`));
        return;
      }
      waiting.push({ answer, resolve, reject });
      child.stdin?.write(`${line}\n`);
    });

  return new Promise((resolve, reject) => {
    let stdout = '';
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${contender.id} did not start: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no port announced within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', (error) => fail(error.message));
    const exited = (code: number | null, signal: string | null) => fail(`exited (${signal ?? code})`);
    child.once('exit', exited);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      let newline = stdout.indexOf('\n');
      while (newline !== -1) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        newline = stdout.indexOf('\n');
        if (started) {
          const at = waiting.findIndex((wait) => line.startsWith(wait.answer));
          if (at !== -1) waiting.splice(at, 1)[0]?.resolve(line);
          continue;
        }
        const match = line.match(/^listening (\d+)$/);
        if (!match || child.pid === undefined) continue;
        started = true;
        clearTimeout(timer);
        child.removeListener('exit', exited);
        resolve({
          pid: child.pid,
          url: `http://127.0.0.1:${match[1]}`,
          stderr: () => stderr,
          command: send,
          stop: () => stopChild(child),
        });
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
