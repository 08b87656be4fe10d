import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { NodePlopAPI } from 'node-plop';
import type { Answers } from './answers.js';
import { BACKENDS, FRAMEWORKS, RUNTIME_PACKAGE, TOOLING } from './catalogue.js';
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

/** One file and what the run does to it; `conflicts` lists what would be lost without --force. */
export interface Change {
  path: string;
  kind: ChangeKind;
  content: string;
  conflicts: string[];
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
  const read = (path: string) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : undefined);
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
  return changes.sort((a, b) => listingRank(a.path) - listingRank(b.path));
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

/** The conflicts that stop the run: what exists with other content when --force was not given. */
export function blockingConflicts(changes: readonly Change[], force: boolean): Change[] {
  return force ? [] : changes.filter((change) => change.conflicts.length > 0);
}
