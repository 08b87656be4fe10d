import { readFileSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NodePlopAPI } from 'node-plop';
import type { Answers } from './answers.js';
import { BACKENDS, FRAMEWORKS, RUNTIME_PACKAGE, TOOLING } from './catalogue.js';
import { describeSystemError, GeneratorError } from './errors.js';
import { appendLines, missingEnvLines, missingIgnoreLines } from './line-files.js';
import { formatPackageJson, freshPackageJson, mergePackageJson, type PackageNeeds } from './package-json.js';
import { TEMPLATES_DIR } from './paths.js';
import type { PackageJson } from './project.js';

/** Everything the templates and actions see: the answers plus how this run was asked to behave. */
export interface GeneratorData extends Answers {
  /** The dependency spec for @session-manager/runtime. */
  runtime: string;
  /** A fresh random SESSION_SECRET, used only when .env lacks one. */
  secret: string;
  force: boolean;
  dryRun: boolean;
}

export type ChangeKind = 'create' | 'update' | 'overwrite' | 'unchanged';

/** How a change is reported: a dry run without --force reports blocking ones as `conflict`. */
export type ReportedKind = ChangeKind | 'conflict';

/** One file and what the run does to it. */
export interface Change {
  path: string;
  kind: ChangeKind;
  content: string;
  /** What would be lost: these stop the run unless --force. */
  conflicts: string[];
  /** What is in the way (a folder where the file goes): this stops the run even with --force. */
  obstacle?: string;
}

/** The files rendered from templates/, in the order they are listed. */
export function templatesFor({ framework, backend }: Answers): ReadonlyArray<readonly [string, string]> {
  return [
    ['tsconfig.json', 'tsconfig.json.hbs'],
    ['.env.example', 'env.example.hbs'],
    ['src/session.ts', `session/${backend}.ts.hbs`],
    ['src/app.ts', `app/${framework}.ts.hbs`],
    ['src/server.ts', 'server.ts.hbs'],
    ['test/counter.test.ts', 'counter.test.ts.hbs'],
  ];
}

/**
 * Works out every change before anything is written, so a run with conflicts can write nothing at
 * all. Synchronous because plop calls a generator's actions function without awaiting it.
 */
export function planChanges(plop: NodePlopAPI, data: GeneratorData): Change[] {
  const dir = plop.getDestBasePath();
  const obstacles = new Map<string, string>();
  const read = (path: string) => {
    const found = inspect(dir, path);
    if (found.obstacle !== undefined) obstacles.set(path, found.obstacle);
    return found.text;
  };
  const changes: Change[] = [];

  const packageText = read('package.json');
  const needs = packageNeeds(data, dir);
  if (packageText === undefined) {
    changes.push(wholeFile('package.json', formatPackageJson(freshPackageJson(needs)), undefined));
  } else {
    const merged = mergePackageJson(JSON.parse(packageText) as PackageJson, needs, data.force);
    changes.push(
      mergedFile('package.json', packageText, formatPackageJson(merged.json, packageText), merged.conflicts),
    );
  }

  const ignore = ['node_modules/', '.env', ...(data.backend === 'files' ? ['sessions/'] : [])];
  const gitignore = read('.gitignore') ?? '';
  changes.push(mergedFile('.gitignore', gitignore, appendLines(gitignore, missingIgnoreLines(gitignore, ignore)), []));

  const env = read('.env');
  const wanted = envValues(data);
  const envText = env ?? '# Local settings, kept out of git. Variables set in the environment win over this file.\n';
  changes.push(mergedFile('.env', env ?? '', appendLines(envText, missingEnvLines(envText, wanted)), []));

  for (const [path, template] of templatesFor(data)) {
    const content = plop.renderString(readFileSync(join(TEMPLATES_DIR, template), 'utf8'), data);
    changes.push(wholeFile(path, content, read(path)));
  }
  return changes
    .map((change) => (obstacles.has(change.path) ? { ...change, obstacle: obstacles.get(change.path) } : change))
    .sort((a, b) => listingRank(a.path) - listingRank(b.path));
}

/**
 * A file's current text (undefined when missing), or why no file can be written at `path`: planning
 * finds these, so the run refuses before writing instead of failing halfway with a bare EISDIR.
 */
function inspect(dir: string, path: string): { text?: string; obstacle?: string } {
  const folders = dirname(path)
    .split('/')
    .filter((part) => part !== '.');
  for (let depth = 1; depth <= folders.length; depth++) {
    const folder = folders.slice(0, depth).join('/');
    const stats = statIn(dir, folder);
    if (stats === undefined) return {};
    if (!stats.isDirectory()) return { obstacle: `${folder} is a file, where the generator needs a folder` };
  }
  const stats = statIn(dir, path);
  if (stats === undefined) return {};
  if (stats.isDirectory()) return { obstacle: 'is a folder, where the generator writes a file' };
  if (!stats.isFile()) return { obstacle: 'is not a regular file' };
  try {
    return { text: readFileSync(join(dir, path), 'utf8') };
  } catch (error) {
    throw new GeneratorError(`Could not read ${join(dir, path)}: ${describeSystemError(error)}.`);
  }
}

function statIn(dir: string, path: string): Stats | undefined {
  try {
    return statSync(join(dir, path));
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new GeneratorError(`Could not look at ${join(dir, path)}: ${describeSystemError(error)}.`);
  }
}

// Project files first, then the code: the order a reader of the listing expects.
const LISTING_ORDER = ['package.json', 'tsconfig.json', '.gitignore', '.env', '.env.example'];
const listingRank = (path: string) => {
  const rank = LISTING_ORDER.indexOf(path);
  return rank === -1 ? LISTING_ORDER.length : rank;
};

function wholeFile(path: string, content: string, existing: string | undefined): Change {
  if (existing === undefined) return { path, kind: 'create', content, conflicts: [] };
  if (existing === content) return { path, kind: 'unchanged', content, conflicts: [] };
  return { path, kind: 'overwrite', content, conflicts: ['exists with other content'] };
}

function mergedFile(path: string, existing: string, content: string, conflicts: string[]): Change {
  if (existing === content) return { path, kind: 'unchanged', content, conflicts };
  return { path, kind: existing === '' ? 'create' : conflicts.length > 0 ? 'overwrite' : 'update', content, conflicts };
}

function packageNeeds(data: GeneratorData, dir: string): PackageNeeds {
  const framework = FRAMEWORKS[data.framework];
  const backend = BACKENDS[data.backend];
  return {
    name: packageName(dir),
    scripts: { ...TOOLING.scripts },
    engines: { ...TOOLING.engines },
    dependencies: { [RUNTIME_PACKAGE]: data.runtime, ...framework.dependencies, ...backend.dependencies },
    devDependencies: { ...TOOLING.devDependencies, ...framework.devDependencies },
  };
}

function envValues({ backend, secret }: GeneratorData): Record<string, string> {
  const values: Record<string, string> = { ...BACKENDS[backend].env };
  if ('SESSION_SECRET' in values) values.SESSION_SECRET = secret;
  return values;
}

/** A valid npm name from the folder's name. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name || 'session-app';
}

/** The changes that stop the run: what is in the way, and without --force what exists with other content. */
export function blockingChanges(changes: readonly Change[], force: boolean): Change[] {
  return changes.filter((change) => change.obstacle !== undefined || (!force && change.conflicts.length > 0));
}

/** Why a blocking change blocks, for the listing. */
export function blockingReasons(change: Change): string[] {
  return change.obstacle !== undefined ? [change.obstacle] : change.conflicts;
}
