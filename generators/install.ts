import { spawnSync } from 'node:child_process';
import { GeneratorError } from './errors.js';
import type { PackageManager } from './project.js';

/** Runs `<manager> install` in the project, its output going straight to the user's terminal. */
export function installDependencies(manager: PackageManager, cwd: string): void {
  console.log(`\nRunning ${manager} install...\n`);
  const result = spawnSync(manager, ['install'], { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit code ${result.status ?? result.signal}`;
    throw new GeneratorError(
      `${manager} install failed (${why}). The files are written; run ${manager} install yourself once that is fixed.`,
    );
  }
}
