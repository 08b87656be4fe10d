import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The generator's cost next to a well-known scaffolder: the median wall time of
 * `create-session-manager <dir> --yes --no-install` and of create-vite's non-interactive
 * vanilla-ts scaffold, each into a fresh temp dir, runs alternated so both see the same machine.
 */

const fromRepo = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const OUR_BIN = fromRepo('bin/create-session-manager.js');
// create-vite is the bench workspace's own dependency: resolved from here, wherever npm put it.
const CREATE_VITE = createRequire(import.meta.url).resolve('create-vite/index.js');

interface Scaffolder {
  name: string;
  args: (dir: string) => string[];
  /** A file the scaffold must have written, so a fast failure never passes for a fast run. */
  writes: string;
}

const SCAFFOLDERS: Record<'ours' | 'createVite', Scaffolder> = {
  ours: {
    name: 'create-session-manager --yes --no-install',
    args: (dir) => [OUR_BIN, dir, '--yes', '--no-install'],
    writes: 'package.json',
  },
  createVite: {
    name: 'create-vite --template vanilla-ts',
    // --no-interactive and --no-immediate: no prompt, no install, no dev server.
    args: (dir) => [CREATE_VITE, dir, '--template', 'vanilla-ts', '--no-interactive', '--no-immediate'],
    writes: 'package.json',
  },
};

export interface GeneratorResult {
  runs: number;
  oursMedianMs: number;
  createViteMedianMs: number;
  oursRunsMs: number[];
  createViteRunsMs: number[];
}

function timeOnce(scaffolder: Scaffolder, root: string, name: string): number {
  const dir = join(root, name);
  const started = performance.now();
  // Run from the temp root with a relative target: create-vite resolves even an absolute target
  // against its working directory.
  const run = spawnSync(process.execPath, scaffolder.args(name), {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  const elapsed = performance.now() - started;
  if (run.status !== 0 || !existsSync(join(dir, scaffolder.writes))) {
    throw new Error(`${scaffolder.name} failed (exit ${run.status}): ${run.stderr?.toString().slice(-2000)}`);
  }
  return elapsed;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** `{ skipped }` with the reason when the generator is not there to measure. */
export function benchGenerator(runs: number): GeneratorResult | { skipped: string } {
  if (!existsSync(OUR_BIN)) return { skipped: `${OUR_BIN} does not exist yet` };
  const root = mkdtempSync(join(tmpdir(), 'csm-bench-gen-'));
  try {
    // One unmeasured run each, so the first measured one does not pay for a cold file cache.
    timeOnce(SCAFFOLDERS.ours, root, 'warm-ours');
    timeOnce(SCAFFOLDERS.createVite, root, 'warm-vite');
    const ours: number[] = [];
    const createVite: number[] = [];
    for (let index = 0; index < runs; index++) {
      ours.push(timeOnce(SCAFFOLDERS.ours, root, `ours-${index}`));
      createVite.push(timeOnce(SCAFFOLDERS.createVite, root, `vite-${index}`));
    }
    return {
      runs,
      oursMedianMs: median(ours),
      createViteMedianMs: median(createVite),
      oursRunsMs: ours,
      createViteRunsMs: createVite,
    };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
