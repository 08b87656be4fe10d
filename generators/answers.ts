import type { CliOptions } from './args.js';
import { type Backend, DEFAULT_BACKEND, DEFAULT_FRAMEWORK, type Framework } from './catalogue.js';
import { UsageError } from './errors.js';
import type { ExistingProject } from './project.js';

export interface Answers {
  framework: Framework;
  backend: Backend;
}

/** What is settled before any prompt, and the default each question offers. */
export interface KnownAnswers {
  framework: Framework | undefined;
  backend: Backend | undefined;
  defaults: Answers;
}

/**
 * Settles the answers from flags; with --yes, defaults fill the rest. Without a terminal to ask
 * in, a missing answer is a usage error naming its flag: a CI job must never hang on a prompt.
 */
export function settleAnswers(options: CliOptions, project: ExistingProject, interactive: boolean): KnownAnswers {
  const defaults: Answers = { framework: project.framework ?? DEFAULT_FRAMEWORK, backend: DEFAULT_BACKEND };
  const known: KnownAnswers = {
    framework: options.framework ?? (options.yes ? defaults.framework : undefined),
    backend: options.backend ?? (options.yes ? defaults.backend : undefined),
    defaults,
  };
  const missing = missingFlags(known);
  if (missing.length > 0 && !interactive) {
    throw new UsageError(
      `Missing ${missing.join(' and ')}: there is no terminal to ask in. ` +
        `Pass ${missing.map((flag) => `${flag} <name>`).join(' ')}, or --yes for the defaults ` +
        `(${defaults.framework}, ${defaults.backend}).`,
    );
  }
  return known;
}

export function missingFlags(known: KnownAnswers): string[] {
  const missing: string[] = [];
  if (known.framework === undefined) missing.push('--framework');
  if (known.backend === undefined) missing.push('--backend');
  return missing;
}

export function isComplete(known: KnownAnswers): known is KnownAnswers & Answers {
  return known.framework !== undefined && known.backend !== undefined;
}
