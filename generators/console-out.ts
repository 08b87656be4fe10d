import { relative } from 'node:path';
import { styleText } from 'node:util';
import type { Answers } from './answers.js';
import { FRAMEWORKS } from './catalogue.js';
import type { ReportedKind } from './plan.js';
import type { PackageManager } from './project.js';

type Style = Parameters<typeof styleText>[0];

/** Colour only for a terminal that wants it (NO_COLOR, FORCE_COLOR as usual). */
const useColor =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

const paint = (style: Style, text: string) => (useColor ? styleText(style, text) : text);

const LABELS: Record<ReportedKind, { done: string; planned: string; style: Style }> = {
  create: { done: 'created', planned: 'would create', style: 'green' },
  update: { done: 'updated', planned: 'would update', style: 'cyan' },
  overwrite: { done: 'overwrote', planned: 'would overwrite', style: 'yellow' },
  unchanged: { done: 'unchanged', planned: 'unchanged', style: 'dim' },
  conflict: { done: 'conflict', planned: 'conflict', style: 'red' },
};

export function printHeader(answers: Answers, targetDir: string, dryRun: boolean): void {
  const where = displayDir(targetDir);
  const prefix = dryRun ? 'Dry run: ' : '';
  console.log(
    `${prefix}${paint('bold', FRAMEWORKS[answers.framework].label)} with ${paint('bold', answers.backend)} sessions in ${where}\n`,
  );
}

export function printChange(kind: ReportedKind, path: string, dryRun: boolean): void {
  const label = LABELS[kind];
  console.log(`  ${paint(label.style, (dryRun ? label.planned : label.done).padEnd(15))} ${path}`);
}

export function printError(message: string): void {
  console.error(`${paint('red', 'error:')} ${message}`);
}

export function printNothingToChange(): void {
  console.log('\nNothing to change: this project already has this session setup.');
}

export function printDryRunEnd(conflicts: number, force: boolean): void {
  console.log('\nDry run: nothing was written.');
  if (conflicts > 0) {
    // With --force only what is in the way still blocks, and --force does not help with that.
    const unless = force ? 'until they are moved' : 'without --force';
    console.error(
      `${paint('red', 'error:')} ${conflicts} conflicting file(s): a real run would write nothing ${unless}.`,
    );
  }
}

/** The commands to run next, in the project's package manager, each with what it is for. */
export function printNextSteps(options: {
  targetDir: string;
  manager: PackageManager;
  installed: boolean;
  answers: Answers;
}): void {
  const { manager } = options;
  // `bun test` is bun's own test runner, not the package.json script.
  const run = (script: string) => (manager === 'bun' ? `bun run ${script}` : `${manager} ${script}`);
  const steps: Array<[command: string, why: string]> = [];
  const where = relative(process.cwd(), options.targetDir);
  if (where !== '') steps.push([`cd ${where.includes(' ') ? JSON.stringify(where) : where}`, '']);
  if (!options.installed) steps.push([manager === 'yarn' ? 'yarn' : `${manager} install`, '']);
  if (options.answers.backend === 'redis') {
    steps.push(['', 'start Redis, or set REDIS_URL in .env (default redis://127.0.0.1:6379)']);
  }
  steps.push([run('test'), 'runs the counter test']);
  steps.push([run('start'), 'serves http://127.0.0.1:3000/counter (PORT=<port> for another port)']);
  const width = Math.max(...steps.map(([command]) => command.length));
  const lines = steps.map(([command, why]) =>
    why === ''
      ? command
      : command === ''
        ? paint('dim', `# ${why}`)
        : `${command.padEnd(width)}  ${paint('dim', `# ${why}`)}`,
  );
  console.log(`\n${paint('bold', 'Next steps:')}\n${lines.map((line) => `  ${line}`).join('\n')}`);
  console.log('\nsrc/session.ts configures the sessions: every option is spelled out with its default.');
}

function displayDir(dir: string): string {
  const where = relative(process.cwd(), dir);
  return where === '' ? 'the current directory' : where.startsWith('..') ? dir : `./${where}`;
}
