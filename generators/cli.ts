import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import nodePlop from 'node-plop';
import plopfile from '../plopfile.js';
import { parseCliArgs, USAGE } from './args.js';
import { type Answers, isComplete, type KnownAnswers, settleAnswers } from './answers.js';
import {
  printChange,
  printDryRunEnd,
  printError,
  printHeader,
  printNextSteps,
  printNothingToChange,
} from './console-out.js';
import { CancelledError, exitCodeOf, GeneratorError, UsageError } from './errors.js';
import { installDependencies } from './install.js';
import { defaultRuntimeSpec, PACKAGE_ROOT } from './paths.js';
import type { GeneratorData, ReportedKind } from './plan.js';
import { detectPackageManager, readProject } from './project.js';

/**
 * create-session-manager, start to end: read the flags, look at the target project, settle the
 * answers (asking only in a terminal), let the plop generator plan and write, install, say what next.
 * Resolves to the process exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const options = parseCliArgs(argv);
    if (options.help) return print(USAGE);
    if (options.version) return print(packageVersion());

    const targetDir = resolve(options.targetDir ?? '.');
    if (existsSync(targetDir) && !statSync(targetDir).isDirectory()) {
      throw new UsageError(`${targetDir} exists and is not a directory.`);
    }
    const project = readProject(targetDir);
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
    const known = settleAnswers(options, project, interactive);

    const plop = await nodePlop('', { destBasePath: targetDir, force: options.force });
    plopfile(plop, { defaults: known.defaults });
    const generator = plop.getGenerator('session-manager');
    const answers = isComplete(known) ? pick(known) : await ask(generator.runPrompts, known);

    const data: GeneratorData = {
      ...answers,
      runtime: options.runtime ?? defaultRuntimeSpec(),
      secret: randomBytes(32).toString('base64url'),
      force: options.force,
      dryRun: options.dryRun,
    };
    printHeader(answers, targetDir, options.dryRun);
    const changed: string[] = [];
    let conflicts = 0;
    const { failures } = await generator.runActions(data, {
      onSuccess: ({ type, path }) => {
        printChange(type as ReportedKind, path, options.dryRun);
        if (type === 'conflict') conflicts++;
        else if (type !== 'unchanged') changed.push(path);
      },
    });
    if (failures.length > 0) {
      const reasons = failures.map((failure) => failure.error || failure.message).join('\n');
      const hint = reasons.includes('nothing was written')
        ? '\nRun again with --force to overwrite them, or with --dry-run to see every change.'
        : '';
      throw new GeneratorError(reasons + hint);
    }

    if (options.dryRun) {
      printDryRunEnd(conflicts);
      return conflicts > 0 ? 1 : 0;
    }
    if (changed.length === 0) printNothingToChange();
    const manager = detectPackageManager(targetDir);
    const needsInstall = changed.includes('package.json') || !existsSync(join(targetDir, 'node_modules'));
    const installed = options.install && needsInstall;
    if (installed) installDependencies(manager, targetDir);
    printNextSteps({ targetDir, manager, installed: installed || !needsInstall, answers });
    return 0;
  } catch (error) {
    if (error instanceof CancelledError) console.error(error.message);
    else printError(error instanceof Error ? error.message : String(error));
    return exitCodeOf(error);
  }
}

function pick({ framework, backend }: Answers): Answers {
  return { framework, backend };
}

/**
 * Asks the missing questions through plop; a flag's answer bypasses its question ('_' asks it).
 * Ctrl-C makes inquirer re-raise SIGINT: answer it with one line and exit 130, before anything is written.
 */
async function ask(runPrompts: (bypass?: string[]) => Promise<Answers>, known: KnownAnswers): Promise<Answers> {
  const onInterrupt = () => {
    console.error('\nCancelled: nothing was written.');
    process.exit(new CancelledError('').exitCode);
  };
  process.once('SIGINT', onInterrupt);
  // inquirer closes its input before re-raising SIGINT: without this timer the event loop would
  // empty first and node would exit (code 13) before the signal lands.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    return pick(await runPrompts([known.framework ?? '_', known.backend ?? '_']));
  } finally {
    clearInterval(keepAlive);
    process.removeListener('SIGINT', onInterrupt);
  }
}

function print(text: string): number {
  console.log(text);
  return 0;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
