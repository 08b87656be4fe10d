import { readFileSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { NodePlopAPI } from 'node-plop';
import type { Answers } from './answers.js';
import {
  APP_ENV,
  BACKENDS,
  ENV_VARIABLES,
  FRAMEWORKS,
  RUNTIME_PACKAGE,
  SESSION_DEFAULTS,
  TOOLING,
} from './catalogue.js';
import { derivedName, type Variant } from './variants.js';
import { describeSystemError, GeneratorError } from './errors.js';
import { type Layout, NEW_APP_STARTS, testVariantOf } from './layout.js';
import { appendLines, missingEnvLines, missingIgnoreLines } from './line-files.js';
import { formatPackageJson, freshPackageJson, mergePackageJson, type PackageNeeds } from './package-json.js';
import { DERIVED_TEMPLATES_DIR, TEMPLATES_DIR } from './paths.js';
import type { PackageJson } from './project.js';

/** Everything the templates and actions see: the answers plus how this run was asked to behave. */
export interface GeneratorData extends Answers {
  /** The dependency spec for @session-manager/runtime. */
  runtime: string;
  /** A fresh random SESSION_SECRET, used only when .env lacks one. */
  secret: string;
  force: boolean;
  dryRun: boolean;
  /** New app or add to an existing one, language, module system, where the files go. */
  layout: Layout;
}

/** What the templates read besides the answers. */
interface TemplateData extends GeneratorData {
  runner: Layout['runner'];
  /** The path from the test's folder to session.<ext>'s folder, as an import starts it: `../src`, `.`. */
  testToSrc: string;
  /** The runtime's defaults the session file spells out. */
  defaults: typeof SESSION_DEFAULTS;
  /** Each environment variable's default value, by name. */
  env: Record<string, string>;
  /** The variables .env.example lists, in order, with their comment lines. */
  envExample: Array<{ name: string; value: string; about: readonly string[] }>;
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
  /** The mode of a file this run creates (.env holds the secret: 0600); an existing file keeps its own. */
  mode?: number;
}

/**
 * A file made from a template: where it goes, which template (a path in templates/), in which
 * variant. A template's path says where its file lands, `src/session.redis.ts.hbs` as `src/session.ts`
 * (the word after the first dot names the framework or backend); `.hbs` marks the templates that
 * hold handlebars, the others are copied as they are.
 */
interface Rendered {
  path: string;
  template: string;
  variant: Variant | undefined;
}

/** The files made from templates/, in the order they are listed. */
export function templatesFor({ framework, backend, layout }: GeneratorData): Rendered[] {
  const { variant, language } = layout;
  const code = (path: string, template: string, as: Variant = variant): Rendered => ({
    path,
    template,
    variant: as,
  });
  if (layout.mode === 'add') {
    const src = layout.srcDir === '' ? '' : `${layout.srcDir}/`;
    return [
      code(`${src}session.${language}`, `src/session.${backend}.ts.hbs`),
      code(`${src}counter.${language}`, `src/counter.${framework}.ts`),
      code(layout.testFile, 'test/counter.add.test.ts.hbs', testVariantOf(layout)),
    ];
  }
  return [
    ...(language === 'ts' ? [{ path: 'tsconfig.json', template: 'tsconfig.json', variant: undefined }] : []),
    { path: '.env.example', template: ENV_EXAMPLE_TEMPLATE, variant: undefined },
    code(`src/session.${language}`, `src/session.${backend}.ts.hbs`),
    code(`src/app.${language}`, `src/app.${framework}.ts`),
    code(`src/server.${language}`, 'src/server.ts.hbs'),
    code(`test/counter.test.${language}`, 'test/counter.test.ts.hbs'),
  ];
}

const ENV_EXAMPLE_TEMPLATE = '.env.example.hbs';

function templateText({ template, variant }: Rendered): string {
  const path =
    variant === undefined || variant === 'ts'
      ? join(TEMPLATES_DIR, template)
      : join(DERIVED_TEMPLATES_DIR, variant, derivedName(template, variant));
  return readFileSync(path, 'utf8');
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

  const { layout } = data;
  const packageText = read('package.json');
  const needs = packageNeeds(data, dir, packageText === undefined ? {} : (JSON.parse(packageText) as PackageJson));
  if (packageText === undefined) {
    changes.push(wholeFile('package.json', formatPackageJson(freshPackageJson(needs)), undefined));
  } else {
    const merged = mergePackageJson(JSON.parse(packageText) as PackageJson, needs, data.force, layout.mode);
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
  const envChange = mergedFile('.env', env ?? '', appendLines(envText, missingEnvLines(envText, wanted)), []);
  changes.push(env === undefined ? { ...envChange, mode: 0o600 } : envChange);

  const templateData: TemplateData = {
    ...data,
    runner: layout.runner,
    testToSrc: testToSrc(layout),
    defaults: SESSION_DEFAULTS,
    env: Object.fromEntries(Object.entries(ENV_VARIABLES).map(([name, { value }]) => [name, value])),
    envExample: [...APP_ENV, ...BACKENDS[data.backend].env].map((name) => ({ name, ...ENV_VARIABLES[name] })),
  };
  if (layout.mode === 'add') {
    // The user's .env.example only gains the variables it lacks, as .env does.
    const example = read('.env.example');
    const rendered = plop.renderString(readFileSync(join(TEMPLATES_DIR, ENV_EXAMPLE_TEMPLATE), 'utf8'), templateData);
    const sessionFile = templatesFor(data)[0]!.path;
    changes.push(mergedFile('.env.example', example ?? '', exampleWithout(example, rendered, sessionFile), []));
  }
  for (const rendered of templatesFor(data)) {
    const text = templateText(rendered);
    let content = rendered.template.endsWith('.hbs') ? plop.renderString(text, templateData) : text;
    // Without esModuleInterop, CommonJS TypeScript imports a CommonJS module's export whole.
    if (layout.requireImports && rendered.variant === 'ts-cjs') {
      content = content.replace(/^import (\w+) from ("[^"]+");$/gm, 'import $1 = require($2);');
    }
    changes.push(wholeFile(rendered.path, content, read(rendered.path)));
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

function packageNeeds(data: GeneratorData, dir: string, existing: PackageJson): PackageNeeds {
  const framework = FRAMEWORKS[data.framework];
  const backend = BACKENDS[data.backend];
  const { layout } = data;
  const dependencies = { [RUNTIME_PACKAGE]: data.runtime, ...backend.dependencies };
  if (layout.mode === 'add') return { name: '', ...addModeNeeds(data, existing), dependencies };
  if (layout.language === 'js') {
    return {
      name: packageName(dir),
      scripts: { start: [...NEW_APP_STARTS][1]!, test: 'node --test' },
      engines: { ...TOOLING.engines },
      dependencies: { ...dependencies, ...framework.dependencies },
      devDependencies: {},
    };
  }
  return {
    name: packageName(dir),
    scripts: { ...TOOLING.scripts },
    engines: { ...TOOLING.engines },
    dependencies: { ...dependencies, ...framework.dependencies },
    devDependencies: { ...TOOLING.devDependencies, ...framework.devDependencies },
  };
}

/**
 * Added to an existing app: what its counter test needs to run in the project's own runner, and a
 * script for it only when the project has no runner. Its framework, scripts and engines stay its own.
 */
function addModeNeeds(
  { layout, framework }: GeneratorData,
  existing: PackageJson,
): Pick<PackageNeeds, 'scripts' | 'engines' | 'devDependencies'> {
  const has = { ...existing.devDependencies, ...existing.dependencies };
  const devDependencies: Record<string, string> = {};
  if (layout.language === 'ts') devDependencies['@types/node'] = TOOLING.devDependencies['@types/node'];
  if (layout.runner === 'node' && layout.language === 'ts') devDependencies.tsx = TOOLING.devDependencies.tsx;
  // @jest/globals comes with jest: the same range keeps the two in step.
  if (layout.runner === 'jest') devDependencies['@jest/globals'] = has.jest ?? '*';
  // The test serves its throwaway Hono app on node:http.
  if (framework === 'hono') devDependencies['@hono/node-server'] = FRAMEWORKS.hono.dependencies['@hono/node-server'];
  const scripts = layout.testScript === undefined ? {} : { [layout.testScript.name]: layout.testScript.command };
  return { scripts, engines: {}, devDependencies };
}

/** How the test imports the session module: `../src` from test/, `.` from the same folder. */
function testToSrc(layout: Layout): string {
  const path = relative(dirname(layout.testFile), layout.srcDir === '' ? '.' : layout.srcDir) || '.';
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * The session variables (not PORT: the app has its own) with their comments, appended to an existing
 * .env.example when it lacks them, or as a new one.
 */
function exampleWithout(existing: string | undefined, rendered: string, sessionFile: string): string {
  const blocks = rendered.split(/\n\n+/).filter((block) => /^SESSION_|^REDIS_/m.test(block));
  if (existing === undefined) {
    const intro = `# The session settings ${sessionFile} reads. Copy to .env (kept out of git) and fill in;\n# variables set in the environment win over .env.`;
    return `${[intro, ...blocks.map((block) => block.trimEnd())].join('\n\n')}\n`;
  }
  const missing = blocks.filter((block) => {
    const key = /^([A-Z_]+)=/m.exec(block)![1]!;
    return missingEnvLines(existing, { [key]: '' }).length > 0;
  });
  if (missing.length === 0) return existing;
  const separator = existing === '' || existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  return `${existing}${separator}${missing.map((block) => block.trimEnd()).join('\n\n')}\n`;
}

function envValues({ backend, secret }: GeneratorData): Record<string, string> {
  return Object.fromEntries(
    BACKENDS[backend].env.map((name) => [name, name === 'SESSION_SECRET' ? secret : ENV_VARIABLES[name].value]),
  );
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
