import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const RUNTIME = fileURLToPath(new URL('../../', import.meta.url));
export const ROOT = join(RUNTIME, '..');

export const run = promisify(execFile);

/** dist/ is what gets packed: build it when a source, the build script or package.json is newer. */
export function buildRuntimeIfStale(): void {
  const built = join(RUNTIME, 'dist/cjs/index.js');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const inputs = [
    ...readdirSync(join(RUNTIME, 'src'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name)),
    join(RUNTIME, 'scripts/build.ts'),
    join(RUNTIME, 'package.json'),
  ];
  if (inputs.some((path) => statSync(path).mtimeMs > builtAt)) {
    execFileSync('npm', ['run', 'build', '-w', '@session-manager/runtime'], { cwd: ROOT, stdio: 'ignore' });
  }
}

/** `npm pack` of a package folder into a new temp folder; the tarball's path. */
export async function pack(folder: string, args: string[] = []): Promise<string> {
  return (await packWithFiles(folder, args)).tarball;
}

/** `npm pack` of a package folder into a new temp folder: the tarball's path and the files it holds. */
export async function packWithFiles(
  folder: string,
  args: string[] = [],
): Promise<{ tarball: string; files: string[] }> {
  const destination = mkdtempSync(join(tmpdir(), 'session-manager-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination, ...args], {
    cwd: folder,
  });
  const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  return { tarball: join(destination, filename), files: files.map((file) => file.path).sort() };
}

/**
 * `npm install` in a user's project folder, from the npm cache when it can (the repository's own
 * install filled it with most of what these projects use).
 */
export async function npmInstall(folder: string, args: string[] = []): Promise<void> {
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...args], {
    cwd: folder,
    maxBuffer: 16 * 1024 * 1024,
  });
}
