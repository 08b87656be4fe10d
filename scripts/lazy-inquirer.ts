/**
 * Stands in for inquirer inside node-plop, which imports it at load time: inquirer and its
 * dependencies are slow to load, yet only an interactive run asks anything. The build
 * (scripts/build.ts) points node-plop's import here; the real inquirer loads on the first prompt.
 */
import type { Answers, DistinctQuestion } from 'inquirer';

async function prompt(questions: DistinctQuestion[], answers?: Partial<Answers>): Promise<Answers> {
  const { default: inquirer } = await import('inquirer');
  return inquirer.prompt(questions, answers);
}

// node-plop's prompt bypass looks up custom prompt types here; this generator registers none.
prompt.prompts = {};

export default {
  prompt,
  registerPrompt(): never {
    throw new Error('create-session-manager does not support custom prompt types.');
  },
};
