import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import nodePlop from 'node-plop';
import { COMMIT_ACTION } from './actions.js';
import { parseCliArgs, USAGE } from './args.js';
import { type Answers, isComplete, type KnownAnswers, settleAnswers } from './answers.js';
import {
  printChange,
  printDryRunEnd,
  printError,
  printHeader,
  printNextSteps,
  printNothingToChange,
  printPlan,
  printWiring,
} from './console-out.js';
import { CancelledError, exitCodeOf, GeneratorError } from './errors.js';
import { registerGenerator } from './generator.js';
import { installDependencies } from './install.js';
import { chooseLanguage, chooseMode, decideLayout } from './layout.js';
import { defaultRuntimeSpec, PACKAGE_ROOT } from './paths.js';
import type { GeneratorData, ReportedKind } from './plan.js';
import { detectPackageManager, readProject } from './project.js';
import { wiringFor } from './wiring.js';

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
    assertCanBeFolder(targetDir);
    const project = readProject(targetDir);
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
    const known = settleAnswers(options, project, interactive);
    // Decided before any question, so a prompt can say what it is doing.
    const mode = chooseMode(project, options.framework);
    const language = chooseLanguage(project, mode, options.language);
    const choice = { mode, language, esm: mode === 'new' || project.esm, detected: project.framework };
    if (!isComplete(known)) printPlan(choice);

    const plop = await nodePlop('', { destBasePath: targetDir, force: options.force });
    registerGenerator(plop, { defaults: known.defaults, mode });
    const generator = plop.getGenerator('session-manager');
    const answers = isComplete(known) ? pick(known) : await ask(generator.runPrompts, known);

    const layout = decideLayout(project, { mode, language, framework: answers.framework, dir: options.dir });
    const data: GeneratorData = {
      ...answers,
      runtime: options.runtime ?? defaultRuntimeSpec(),
      secret: randomBytes(32).toString('base64url'),
      force: options.force,
      dryRun: options.dryRun,
      layout,
    };
    printHeader(answers, targetDir, options.dryRun, layout);
    // Listed once the run succeeded: until the commit action, the file actions have only staged.
    const reports: Array<{ kind: ReportedKind; path: string }> = [];
    const { failures } = await generator.runActions(data, {
      onSuccess: ({ type, path }) => {
        if (type !== COMMIT_ACTION) reports.push({ kind: type as ReportedKind, path });
      },
    });
    if (failures.length > 0) {
      // After a failure plop adds an "Aborted" entry for every action left: noise, not a reason.
      const reasons = failures
        .map((failure) => failure.error || failure.message)
        .filter((reason) => reason !== ABORTED);
      throw new GeneratorError(reasons.join('\n') || 'The generator failed.');
    }
    for (const { kind, path } of reports) printChange(kind, path, options.dryRun);
    const conflicts = reports.filter(({ kind }) => kind === 'conflict').length;
    const changed = reports.filter(({ kind }) => kind !== 'unchanged' && kind !== 'conflict').map(({ path }) => path);

    if (options.dryRun) {
      if (layout.mode === 'add') printWiring(wiringFor(answers.framework, layout));
      printDryRunEnd(conflicts, options.force);
      return conflicts > 0 ? 1 : 0;
    }
    if (changed.length === 0) printNothingToChange();
    const manager = detectPackageManager(targetDir);
    const needsInstall = changed.includes('package.json') || !existsSync(join(targetDir, 'node_modules'));
    const installed = options.install && needsInstall;
    if (installed) installDependencies(manager, targetDir);
    if (layout.mode === 'add') printWiring(wiringFor(answers.framework, layout));
    printNextSteps({ targetDir, manager, installed: installed || !needsInstall, answers, layout });
    return 0;
  } catch (error) {
    if (error instanceof CancelledError) console.error(error.message);
    else printError(error instanceof Error ? error.message : String(error));
    return exitCodeOf(error);
  }
}

const ABORTED = 'Aborted due to previous action failure';

/** The target folder, or the nearest of its parents that exists, must be a folder: a file there stops the run. */
function assertCanBeFolder(targetDir: string): void {
  for (let path = targetDir; ; path = dirname(path)) {
    const stats = existsSync(path) ? statSync(path) : undefined;
    if (stats !== undefined) {
      if (!stats.isDirectory()) throw new GeneratorError(`${path} exists and is not a directory: nothing was written.`);
      return;
    }
    if (dirname(path) === path) return;
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
