/**
 * For running the generator with plop itself (`npx plop --plopfile plopfile.ts`); the command
 * (generators/cli.ts) registers the same generator from generators/generator.ts.
 */
export { registerGenerator as default } from './generators/generator.js';
