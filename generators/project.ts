import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FRAMEWORK_NAMES, type Framework } from './catalogue.js';
import { describeSystemError, GeneratorError } from './errors.js';

export type PackageJson = Record<string, unknown> & {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
};

export type TestRunner = 'jest' | 'vitest' | 'mocha' | 'node';

/** The project the generator writes into, as found before anything is written. */
export interface ExistingProject {
  dir: string;
  packageJson: PackageJson | undefined;
  /** The framework the user's package.json already depends on, if any. */
  framework: Framework | undefined;
  /** A tsconfig.json: the project is written in TypeScript. */
  typescript: boolean;
  /**
   * Whether the project's TypeScript allows a default import of a CommonJS module (`import express
   * from "express"`): esModuleInterop, allowSyntheticDefaultImports, or a node16/nodenext module.
   * True when it cannot tell (a tsconfig that extends another, or one it cannot read).
   */
  defaultImports: boolean;
  /**
   * Whether its TypeScript refuses ES module syntax in CommonJS files: `verbatimModuleSyntax` with a
   * CommonJS or node16/nodenext module (TypeScript 5.9's `tsc --init`). False when it cannot tell.
   */
  verbatimModuleSyntax: boolean;
  /** `"type": "module"` in package.json; anything else is CommonJS. */
  esm: boolean;
  /** The test runner the project uses, from its test script and dependencies. */
  runner: TestRunner | undefined;
  /** Whether the project has code of its own: a .js/.ts file at its root or in src/. */
  hasSources: boolean;
}

export function readProject(dir: string): ExistingProject {
  const packageJson = readPackageJson(join(dir, 'package.json'));
  return {
    dir,
    packageJson,
    framework: detectFramework(packageJson),
    typescript: isFile(join(dir, 'tsconfig.json')),
    defaultImports: allowsDefaultImports(readTsconfig(join(dir, 'tsconfig.json'))),
    verbatimModuleSyntax: refusesEsmSyntaxInCommonJs(readTsconfig(join(dir, 'tsconfig.json'))),
    esm: packageJson?.type === 'module',
    runner: detectRunner(packageJson),
    hasSources: ['.', 'src'].some((folder) =>
      listNames(join(dir, folder)).some((name) => SOURCE.test(name) && isFile(join(dir, folder, name))),
    ),
  };
}

interface Tsconfig {
  extends?: unknown;
  compilerOptions?: Record<string, unknown>;
}

/** The project's tsconfig.json, or undefined when there is none or it cannot be read. */
function readTsconfig(path: string): Tsconfig | undefined {
  if (!isFile(path)) return undefined;
  try {
    return JSON.parse(withoutJsonComments(readFileSync(path, 'utf8'))) as Tsconfig;
  } catch {
    return undefined;
  }
}

function refusesEsmSyntaxInCommonJs(config: Tsconfig | undefined): boolean {
  const options = config?.compilerOptions ?? {};
  return (
    options.verbatimModuleSyntax === true && /^(commonjs|node(16|18|20|next))$/i.test(String(options.module ?? ''))
  );
}

function allowsDefaultImports(config: Tsconfig | undefined): boolean {
  if (config === undefined) return true;
  const options = config.compilerOptions ?? {};
  if (/^(node(16|18|20|next)|preserve)$/i.test(String(options.module ?? ''))) return true;
  if (options.esModuleInterop === true || options.allowSyntheticDefaultImports === true) return true;
  const settled = 'esModuleInterop' in options || 'allowSyntheticDefaultImports' in options;
  return !settled && config.extends !== undefined;
}

/** tsconfig.json is JSON with comments and trailing commas. */
function withoutJsonComments(text: string): string {
  let result = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === '"') {
      const end = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(index))?.[0] ?? char;
      result += end;
      index += end.length - 1;
    } else if (text.startsWith('//', index)) {
      index = text.indexOf('\n', index) === -1 ? text.length : text.indexOf('\n', index) - 1;
    } else if (text.startsWith('/*', index)) {
      index = text.indexOf('*/', index) === -1 ? text.length : text.indexOf('*/', index) + 1;
    } else {
      result += char;
    }
  }
  return result.replace(/,(\s*[}\]])/g, '$1');
}

const SOURCE = /^(?!.*\.config\.)[^.].*\.[cm]?[jt]sx?$/;

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

function listNames(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

const RUNNERS: readonly TestRunner[] = ['vitest', 'jest', 'mocha'];

/** The runner the test script calls, else the one the project depends on; `node --test` counts as node:test. */
function detectRunner(packageJson: PackageJson | undefined): TestRunner | undefined {
  const script = packageJson?.scripts?.test ?? '';
  const called = RUNNERS.find((runner) => new RegExp(`(^|[\\s/])${runner}(\\s|$)`).test(script));
  if (called !== undefined) return called;
  if (/\bnode\b.*\s--test\b/.test(script)) return 'node';
  const names = { ...packageJson?.devDependencies, ...packageJson?.dependencies };
  return RUNNERS.find((runner) => Object.hasOwn(names, runner));
}

function readPackageJson(path: string): PackageJson | undefined {
  // A folder named package.json is not the user's manifest: planning reports it as in the way.
  if (!existsSync(path) || !statSync(path).isFile()) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GeneratorError(`Could not read ${path}: ${describeSystemError(error)}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GeneratorError(`${path} is not valid JSON (${(error as Error).message}); fix it and run again.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GeneratorError(`${path} does not hold a JSON object; fix it and run again.`);
  }
  return parsed as PackageJson;
}

function detectFramework(packageJson: PackageJson | undefined): Framework | undefined {
  const names = { ...packageJson?.devDependencies, ...packageJson?.dependencies };
  return FRAMEWORK_NAMES.find((framework) => framework !== 'node' && Object.hasOwn(names, framework));
}

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

const LOCK_FILES: ReadonlyArray<readonly [string, PackageManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
];

/**
 * The package manager the project uses: a lock file in the target folder or above it wins, then
 * the one that launched us (`pnpm create`, `yarn create`, `bunx` set npm_config_user_agent), then npm.
 */
export function detectPackageManager(dir: string, userAgent = process.env.npm_config_user_agent): PackageManager {
  for (let current = dir; ; current = dirname(current)) {
    for (const [file, manager] of LOCK_FILES) {
      if (existsSync(join(current, file))) return manager;
    }
    if (dirname(current) === current) break;
  }
  const launcher = userAgent?.split('/')[0];
  return launcher === 'pnpm' || launcher === 'yarn' || launcher === 'bun' ? launcher : 'npm';
}
