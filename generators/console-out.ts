import { relative } from 'node:path';
import { styleText } from 'node:util';
import type { Answers } from './answers.js';
import { ENV_VARIABLES, FRAMEWORKS, type Framework } from './catalogue.js';
import type { Language, Layout, Mode } from './layout.js';
import type { ReportedKind } from './plan.js';
import type { PackageManager } from './project.js';
import type { Wiring } from './wiring.js';

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

const LANGUAGES: Record<Language, string> = { ts: 'TypeScript', js: 'JavaScript' };

/** `TypeScript, ES modules`: how the generated code is written. */
export function describeCode(language: Language, esm: boolean): string {
  return `${LANGUAGES[language]}, ${esm ? 'ES modules' : 'CommonJS'}`;
}

/** Before the questions: what the run will do with this folder, as detected. */
export function printPlan(choice: { mode: Mode; language: Language; esm: boolean; detected: Framework | undefined }) {
  const code = describeCode(choice.language, choice.esm);
  if (choice.mode === 'add') {
    const found = choice.detected === undefined ? 'an existing app' : `an existing ${choice.detected} app`;
    console.log(`Found ${found}: adding sessions to it, your files untouched (${code}).\n`);
  } else {
    console.log(`Writing a new app (${code}).\n`);
  }
}

export function printHeader(answers: Answers, targetDir: string, dryRun: boolean, layout: Layout): void {
  const where = displayDir(targetDir);
  const prefix = dryRun ? 'Dry run: ' : '';
  const verbatim = layout.variant === 'ts-cjs-require' ? ', verbatimModuleSyntax: import = require' : '';
  const code = describeCode(layout.language, layout.esm) + verbatim;
  if (layout.mode === 'add') {
    const framework = answers.framework === 'node' ? 'node:http' : answers.framework;
    console.log(
      `${prefix}${paint('bold', answers.backend)} sessions added to the ${paint('bold', framework)} app in ${where} (${code}); your files stay as they are\n`,
    );
    return;
  }
  console.log(
    `${prefix}${paint('bold', FRAMEWORKS[answers.framework].label)} with ${paint('bold', answers.backend)} sessions in ${where} (${code})\n`,
  );
}

/** The lines to paste into the user's app, exactly as they are to be written. */
export function printWiring(wiring: Wiring): void {
  const into = wiring.entry === undefined ? 'your app' : wiring.entry;
  const block = (lines: readonly string[]) => lines.map((line) => `    ${line}`).join('\n');
  console.log(
    `\n${paint('bold', `Wire it into ${into}:`)}\n` +
      `  with your imports:\n${block(wiring.imports)}\n` +
      `  ${wiring.where}:\n${block(wiring.setup)}`,
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
  layout: Layout;
}): void {
  const { manager } = options;
  // `bun test` is bun's own test runner, not the package.json script.
  const run = (script: string) => (manager === 'bun' ? `bun run ${script}` : `${manager} ${script}`);
  const steps: Array<[command: string, why: string]> = [];
  const where = relative(process.cwd(), options.targetDir);
  if (where !== '') steps.push([`cd ${where.includes(' ') ? JSON.stringify(where) : where}`, '']);
  if (!options.installed) steps.push([manager === 'yarn' ? 'yarn' : `${manager} install`, '']);
  if (options.answers.backend === 'redis') {
    steps.push(['', `start Redis, or set REDIS_URL in .env (default ${ENV_VARIABLES.REDIS_URL.value})`]);
  }
  const { layout } = options;
  if (layout.mode === 'add') {
    const script = layout.testScript?.name ?? 'test';
    steps.push([
      script === 'test' ? run('test') : `${manager} run ${script}`,
      `runs your tests and ${layout.testFile}`,
    ]);
    steps.push(['', 'then wire it in as above and visit /counter on your app']);
  } else {
    steps.push([run('test'), 'runs the counter test']);
    steps.push([
      run('start'),
      `serves http://127.0.0.1:${ENV_VARIABLES.PORT.value}/counter (PORT=<port> for another port)`,
    ]);
  }
  const width = Math.max(...steps.map(([command]) => command.length));
  const lines = steps.map(([command, why]) =>
    why === ''
      ? command
      : command === ''
        ? paint('dim', `# ${why}`)
        : `${command.padEnd(width)}  ${paint('dim', `# ${why}`)}`,
  );
  console.log(`\n${paint('bold', 'Next steps:')}\n${lines.map((line) => `  ${line}`).join('\n')}`);
  const sessionFile = `${layout.srcDir === '' ? '' : `${layout.srcDir}/`}session.${layout.language}`;
  console.log(`\n${sessionFile} configures the sessions: every option is spelled out with its default.`);
}

function displayDir(dir: string): string {
  const where = relative(process.cwd(), dir);
  return where === '' ? 'the current directory' : where.startsWith('..') ? dir : `./${where}`;
}
