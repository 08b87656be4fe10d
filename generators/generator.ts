import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodePlopAPI } from 'node-plop';
import { actionsFor, registerActionTypes } from './actions.js';
import type { Answers } from './answers.js';
import { DEFAULT_BACKEND, DEFAULT_FRAMEWORK } from './catalogue.js';
import { PARTIALS_DIR } from './paths.js';
import type { Mode } from './layout.js';
import type { GeneratorData } from './plan.js';
import { promptsFor } from './prompts.js';

export interface GeneratorConfig {
  /** The answers the prompts pre-select (the CLI passes the framework found in the user's package.json). */
  defaults?: Answers;
  /** Whether the run writes a new app or adds to the user's (the framework choices name majors accordingly). */
  mode?: Mode;
}

/** The `session-manager` generator: two questions, then one action per file of the session setup. */
export function registerGenerator(plop: NodePlopAPI, config: GeneratorConfig = {}): void {
  const defaults = config.defaults ?? { framework: DEFAULT_FRAMEWORK, backend: DEFAULT_BACKEND };

  // Templates compare answers to pick their variant: {{#if (eq backend "redis")}}.
  plop.setHelper('eq', (a: unknown, b: unknown) => a === b);
  // What several templates share ({{> session-options}}), one file each.
  for (const file of readdirSync(PARTIALS_DIR)) {
    plop.setPartial(file.replace(/\.hbs$/, ''), readFileSync(join(PARTIALS_DIR, file), 'utf8'));
  }
  registerActionTypes(plop);

  plop.setGenerator('session-manager', {
    description: 'A session manager and a /counter example for your framework and session store',
    prompts: promptsFor(defaults, config.mode),
    actions: (answers) => actionsFor(plop, answers as GeneratorData),
  });
}
