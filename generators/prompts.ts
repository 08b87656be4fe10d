import type { PromptQuestion } from 'node-plop';
import type { Answers } from './answers.js';
import { BACKENDS, BACKEND_NAMES, FRAMEWORKS, FRAMEWORK_NAMES } from './catalogue.js';

/** The two questions, as plop list prompts built from the catalogue; `defaults` pre-selects. */
export function promptsFor(defaults: Answers): PromptQuestion[] {
  return [
    {
      type: 'list',
      name: 'framework',
      message: 'Which framework does your app use?',
      choices: FRAMEWORK_NAMES.map((value) => ({ value, name: FRAMEWORKS[value].label })),
      default: defaults.framework,
    },
    {
      type: 'list',
      name: 'backend',
      message: 'Where should sessions be stored?',
      choices: BACKEND_NAMES.map((value) => ({ value, name: BACKENDS[value].label })),
      default: defaults.backend,
    },
  ];
}
