import type { PromptQuestion } from 'node-plop';
import type { Answers } from './answers.js';
import { BACKENDS, BACKEND_NAMES, FRAMEWORKS, FRAMEWORK_NAMES, type Framework, SUPPORTED } from './catalogue.js';
import type { Mode } from './layout.js';
import { majorsOf } from './versions.js';

/**
 * A framework as a choice. A new app gets the major the catalogue installs ("Express 5"); an
 * existing app keeps its own, so there the choice names every major supported ("Express (4 and 5)").
 */
function frameworkLabel(framework: Framework, mode: Mode): string {
  const { label } = FRAMEWORKS[framework];
  const supported = SUPPORTED[framework];
  if (mode === 'new' || supported === undefined) return label;
  const [name = label] = label.split(' ');
  return `${name} (${majorsOf(supported)})`;
}

/**
 * The two questions, as plop list prompts built from the catalogue; `defaults` pre-selects, `mode`
 * says whether the app is new or the user's own.
 */
export function promptsFor(defaults: Answers, mode: Mode = 'new'): PromptQuestion[] {
  return [
    {
      type: 'list',
      name: 'framework',
      message: 'Which framework does your app use?',
      choices: FRAMEWORK_NAMES.map((value) => ({ value, name: frameworkLabel(value, mode) })),
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
