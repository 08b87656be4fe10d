import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FRAMEWORKS, type Framework, SUPPORTED, TOOLING } from './catalogue.js';
import { variantOf, type Variant } from './variants.js';
import { GeneratorError } from './errors.js';
import type { ExistingProject, TestRunner } from './project.js';
import { judgeRange, majorOfSpec, majorsOf } from './versions.js';

export type Mode = 'new' | 'add';
export type Language = 'ts' | 'js';

/** Where and in what the files of a run are written: decided from the project and the flags. */
export interface Layout {
  mode: Mode;
  language: Language;
  esm: boolean;
  /** Which variant of the code templates (scripts/derive.ts). */
  variant: Variant;
  /** The folder of session.<ext> and counter.<ext>, relative to the project ('' is its root). */
  srcDir: string;
  /** The counter test (add mode), relative to the project. */
  testFile: string;
  runner: TestRunner;
  /** The script that runs the counter test when the project has no runner: `test`, or `test:sessions` when `test` is taken. */
  testScript: { name: string; command: string } | undefined;
  /** The file the wiring lines go into, relative to the project, when one was found. */
  entry: string | undefined;
  /** TypeScript for CommonJS without esModuleInterop: default imports become `import x = require()`. */
  requireImports: boolean;
}

/** The start scripts of the apps this generator writes (TOOLING's, and the JavaScript one). */
export const NEW_APP_STARTS = new Set([TOOLING.scripts.start, 'node src/server.js']);

/**
 * Add to an existing app when package.json depends on a framework, or when --framework names one
 * and the project has a start script or code of its own; otherwise write a whole new app.
 */
export function chooseMode(project: ExistingProject, frameworkFlag: Framework | undefined): Mode {
  const { packageJson } = project;
  if (packageJson === undefined) return 'new';
  // An app this generator wrote (its start script) is run again as the new app it is.
  if (NEW_APP_STARTS.has(packageJson.scripts?.start ?? '')) return 'new';
  if (project.framework !== undefined) return 'add';
  const hasStart = typeof packageJson.scripts?.start === 'string';
  return frameworkFlag !== undefined && (hasStart || project.hasSources) ? 'add' : 'new';
}

/** TypeScript when the project has a tsconfig.json (a new app: always), unless --language says otherwise. */
export function chooseLanguage(project: ExistingProject, mode: Mode, flag: Language | undefined): Language {
  return flag ?? (mode === 'new' || project.typescript ? 'ts' : 'js');
}

export function decideLayout(
  project: ExistingProject,
  options: { mode: Mode; language: Language; framework: Framework; dir: string | undefined },
): Layout {
  const { mode, language } = options;
  // A new app is ES modules in either language; an existing one keeps its module system.
  const esm = mode === 'new' || project.esm;
  if (mode === 'new') {
    return {
      mode,
      language,
      esm,
      variant: variantOf(language, 'esm'),
      srcDir: 'src',
      testFile: `test/counter.test.${language}`,
      runner: 'node',
      testScript: undefined,
      entry: undefined,
      requireImports: false,
    };
  }
  assertSupportedFramework(project, options.framework);
  const srcDir = options.dir ?? (hasFolder(project.dir, 'src') ? 'src' : '');
  const runner = project.runner ?? 'node';
  const testFile = placeTest(project.dir, language);
  const scripts = project.packageJson?.scripts ?? {};
  const testScript =
    project.runner === undefined
      ? {
          name: scripts.test === undefined ? 'test' : 'test:sessions',
          command: `node ${language === 'ts' ? '--import tsx ' : ''}--test ${testFile}`,
        }
      : undefined;
  return {
    mode,
    language,
    esm,
    variant:
      language === 'ts' && !esm && project.verbatimModuleSyntax
        ? 'ts-cjs-require'
        : variantOf(language, esm ? 'esm' : 'cjs'),
    srcDir,
    testFile,
    runner,
    testScript,
    entry: findEntry(project, srcDir, language),
    requireImports: language === 'ts' && !esm && !project.defaultImports,
  };
}

/** The variant of the test file: the project's, except that vitest runs its test files as ES modules whatever the project's module system. */
export function testVariantOf(layout: Layout): Variant {
  return layout.runner === 'vitest' ? variantOf(layout.language, 'esm') : layout.variant;
}

/** An existing app on a framework major the runtime has no adapter for is refused, naming what is supported. */
function assertSupportedFramework(project: ExistingProject, framework: Framework): void {
  const deps = { ...project.packageJson?.devDependencies, ...project.packageJson?.dependencies };
  const spec = deps[framework];
  const supported = SUPPORTED[framework];
  if (spec === undefined || supported === undefined || judgeRange(spec, supported) === 'ok') return;
  const name = FRAMEWORKS[framework].label.split(' ')[0];
  throw new GeneratorError(
    `package.json depends on ${framework} ${JSON.stringify(spec)} (${name} ${majorOfSpec(spec)}), which ` +
      `@session-manager/runtime does not support: it supports ${name} ${majorsOf(supported)}. ` +
      `Upgrade ${framework}, then run again; nothing was written.`,
  );
}

function hasFolder(dir: string, name: string): boolean {
  try {
    return readdirSync(join(dir, name)) !== undefined;
  } catch {
    return false;
  }
}

const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/;
const TEST_FOLDERS = new Set(['test', 'tests', '__tests__', 'spec']);
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '.next', 'out']);

/**
 * Next to the project's own tests (the folder of the first one found, named as they are named:
 * `.test` or `.spec`), so its runner finds the new one where it finds the others; `test/` when
 * the project has none (where jest, vitest, mocha and `node --test` all look).
 */
function placeTest(dir: string, language: Language): string {
  const found = findTests(dir, '', 0);
  const folder = found === undefined ? 'test' : found.folder;
  const name = `counter.${found?.suffix ?? 'test'}.${language}`;
  return folder === '' ? name : `${folder}/${name}`;
}

function findTests(
  root: string,
  folder: string,
  depth: number,
): { folder: string; suffix: 'test' | 'spec' } | undefined {
  let entries: Array<{ name: string; isDirectory(): boolean }>;
  try {
    entries = readdirSync(join(root, folder), { withFileTypes: true });
  } catch {
    return undefined;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const inTestFolder = TEST_FOLDERS.has(folder.split('/').at(-1) ?? '');
  for (const entry of entries) {
    if (entry.isDirectory()) continue;
    const match = TEST_FILE.exec(entry.name);
    if (match) return { folder, suffix: match[1] as 'test' | 'spec' };
    if (inTestFolder && /\.[cm]?[jt]sx?$/.test(entry.name)) return { folder, suffix: 'test' };
  }
  if (depth >= 3) return undefined;
  // Test folders first, then the rest, so `test/` wins over a test file deep in src/.
  const folders = entries.filter(
    (entry) => entry.isDirectory() && !SKIPPED.has(entry.name) && !entry.name.startsWith('.'),
  );
  folders.sort((a, b) => Number(TEST_FOLDERS.has(b.name)) - Number(TEST_FOLDERS.has(a.name)));
  for (const entry of folders) {
    const found = findTests(root, folder === '' ? entry.name : `${folder}/${entry.name}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The app's entry file: the file the start script runs, else package.json's `main`. */
/**
 * The file the app starts from, which the wiring goes into: the one the start script runs, else
 * package.json's `main`, else an index/app/server/main file in the source folder or the root; only a
 * file that exists (npm init writes `"main": "index.js"` whether or not there is one).
 */
function findEntry(project: ExistingProject, srcDir: string, language: Language): string | undefined {
  const start = project.packageJson?.scripts?.start ?? '';
  const fromStart = start
    .split(/\s+/)
    .find((word) => /\.[cm]?[jt]sx?$/.test(word) && !word.startsWith('-'))
    ?.replace(/^\.\//, '');
  const main =
    typeof project.packageJson?.main === 'string' ? project.packageJson.main.replace(/^\.\//, '') : undefined;
  const extension = language === 'ts' ? 'ts' : 'js';
  const folders = srcDir === '' ? [''] : [`${srcDir}/`, ''];
  const candidates = [
    ...[fromStart, main].flatMap((entry) => (entry === undefined ? [] : sourcesOf(entry, srcDir, language))),
    ...folders.flatMap((folder) => ['index', 'app', 'server', 'main'].map((name) => `${folder}${name}.${extension}`)),
  ];
  return candidates.find((path) => statSync(join(project.dir, path), { throwIfNoEntry: false })?.isFile());
}

/**
 * The source files an entry may name: itself, and in TypeScript the .ts of a .js (a start script
 * that runs the build output, dist/index.js, names src/index.ts), also in the source folder.
 */
function sourcesOf(entry: string, srcDir: string, language: Language): string[] {
  if (language !== 'ts' || !entry.endsWith('.js')) return [entry];
  const source = entry.replace(/\.js$/, '.ts');
  const inSrc = srcDir === '' ? source : `${srcDir}/${source.replace(/^(dist|build|lib|out)\//, '')}`;
  return [
    ...new Set([
      relative('.', source.replace(/^(dist|build|lib|out)\//, srcDir === '' ? '' : `${srcDir}/`)),
      source,
      inSrc,
    ]),
  ];
}
