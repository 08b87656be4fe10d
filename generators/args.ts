import { isAbsolute, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, type Backend, FRAMEWORK_NAMES, type Framework, isBackend, isFramework } from './catalogue.js';
import { UsageError } from './errors.js';

/** What the command line asked for; anything left undefined is decided later (flag, detection, prompt). */
export interface CliOptions {
  targetDir: string | undefined;
  framework: Framework | undefined;
  backend: Backend | undefined;
  language: 'ts' | 'js' | undefined;
  /** The folder of the session module in an existing app (default src/ when it exists, else the root). */
  dir: string | undefined;
  yes: boolean;
  force: boolean;
  dryRun: boolean;
  install: boolean;
  runtime: string | undefined;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: create-session-manager [target-dir] [options]

Writes a session manager and a /counter example into target-dir (default: the current directory).
In an existing app (its package.json depends on a framework) it adds them to the app and prints
the lines that wire them in; in an empty folder it writes a whole app.

Options:
  --framework <name>  ${FRAMEWORK_NAMES.join(' | ')}
  --backend <name>    ${BACKEND_NAMES.join(' | ')}
  --language <name>   ts | js (default: ts when tsconfig.json exists or for a new app, else js)
  --dir <path>        where session and counter go in an existing app (default: src/ if it exists, else the root)
  --yes, -y           accept the defaults for anything not given, never prompt
  --force             overwrite files, scripts and dependencies that differ
  --dry-run           print what would be written or changed, write nothing
  --runtime <spec>    the dependency spec written for @session-manager/runtime
  --no-install        do not run the package manager's install
  --help, -h          show this help
  --version, -v       show the version`;

export function parseCliArgs(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node's messages name the flag ("Unknown option '--frmework'"); add where to look for the valid ones.
    const message = error instanceof Error ? error.message.split('. ')[0] : String(error);
    throw new UsageError(`${message}.\nRun create-session-manager --help for the options.`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(`Expected at most one target directory, got: ${positionals.join(', ')}.`);
  }
  return {
    targetDir: positionals[0],
    framework: oneOf('--framework', values.framework, FRAMEWORK_NAMES, isFramework),
    backend: oneOf('--backend', values.backend, BACKEND_NAMES, isBackend),
    language: oneOf('--language', values.language, LANGUAGES, (value): value is 'ts' | 'js' =>
      (LANGUAGES as readonly string[]).includes(value),
    ),
    dir: relativeDir(nonEmpty('--dir', values.dir)),
    yes: values.yes === true,
    force: values.force === true,
    dryRun: values['dry-run'] === true,
    install: values['no-install'] !== true,
    runtime: nonEmpty('--runtime', values.runtime),
    help: values.help === true,
    version: values.version === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      framework: { type: 'string' },
      backend: { type: 'string' },
      language: { type: 'string' },
      dir: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      force: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      runtime: { type: 'string' },
      'no-install': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  valid: readonly T[],
  isValid: (value: string) => value is T,
): T | undefined {
  if (value === undefined || isValid(value)) return value;
  throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)}: expected one of ${valid.join(', ')}.`);
}

const LANGUAGES = ['ts', 'js'] as const;

/** A folder inside the project, as a relative path without `./` or a trailing slash. */
function relativeDir(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const dir = normalize(value).replace(/\/+$/, '');
  if (isAbsolute(dir) || dir === '..' || dir.startsWith('../')) {
    throw new UsageError(`--dir ${JSON.stringify(value)} must be a folder inside the project, such as src or lib.`);
  }
  return dir === '.' ? '' : dir;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() !== '') return value;
  throw new UsageError(`${flag} needs a value, for example ${flag} ^0.1.0 or ${flag} file:../runtime.`);
}
