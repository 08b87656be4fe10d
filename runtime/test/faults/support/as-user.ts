import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';

/** Who the child runs as: `nobody` when the test runs as root (root ignores file permissions). */
export const NOBODY = { uid: 65534, gid: 65534 };
export const isRoot = process.getuid?.() === 0;

/**
 * A fixture bundled into one file in a folder everyone can read, so that `nobody` can run it even
 * when the checkout itself is private (a clone under a 0700 temp folder, as in CI).
 */
export async function bundleForAnyone(entry: string): Promise<{ file: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'csm-as-user-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'fixture.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: file,
    logLevel: 'error',
  });
  chmodSync(file, 0o644);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `node file ...args` as `nobody` (through setpriv) when root, else as the current user. */
export function spawnAsUser(file: string, args: string[], env: Record<string, string>): ChildProcess {
  const command = isRoot
    ? ['setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', process.execPath, file, ...args]
    : [process.execPath, file, ...args];
  return spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, ...env },
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The child's stdout lines, as they come. */
export function linesOf(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
}
