import type { Framework } from '../../generators/catalogue.js';

// The existing apps under test/fixtures/existing-apps/ and what the generator must decide for each.

export interface Fixture {
  name: string;
  framework: Framework;
  /** What the detection must decide: language and module system, runner, where the files go. */
  expected: { code: string; runner: string; files: string[] };
  /** Extra flags: an app without a framework dependency names it. */
  flags: string[];
  /** How many tests the app has of its own (the counter test adds 3). */
  ownTests: number;
  /** Where the printed wiring goes: the file, the line the setup lines follow, and edits the print asks for. */
  wire: { file: string; after: string; replace?: [string, string] };
}

export const FIXTURES: Fixture[] = [
  {
    name: 'express4-jest-cjs',
    framework: 'express',
    expected: {
      code: 'JavaScript, CommonJS',
      runner: 'jest',
      files: ['session.js', 'counter.js', '__tests__/counter.test.js'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'index.js', after: 'const app = express();' },
  },
  {
    name: 'fastify4-vitest-esm-ts',
    framework: 'fastify',
    expected: {
      code: 'TypeScript, ES modules',
      runner: 'vitest',
      files: ['src/session.ts', 'src/counter.ts', 'test/counter.test.ts'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'src/app.ts', after: 'const app = Fastify();' },
  },
  {
    name: 'koa2-node-test-esm',
    framework: 'koa',
    expected: {
      code: 'JavaScript, ES modules',
      runner: 'node',
      files: ['src/session.js', 'src/counter.js', 'test/counter.test.js'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'src/app.js', after: 'export const app = new Koa();' },
  },
  {
    name: 'express5-mocha-cjs-ts',
    framework: 'express',
    expected: {
      code: 'TypeScript, CommonJS',
      runner: 'mocha',
      files: ['src/session.ts', 'src/counter.ts', 'test/counter.test.ts'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'src/index.ts', after: 'export const app = express();' },
  },
  {
    // `npm init -y` and TypeScript 5.9's `tsc --init`: CommonJS under verbatimModuleSyntax.
    name: 'express5-node-test-cjs-ts-verbatim',
    framework: 'express',
    expected: {
      code: 'TypeScript, CommonJS, verbatimModuleSyntax: import = require',
      runner: 'node',
      files: ['src/session.ts', 'src/counter.ts', 'test/counter.test.ts'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'src/index.ts', after: 'const app = express();' },
  },
  {
    name: 'hono4-node-test-esm-ts',
    framework: 'hono',
    expected: {
      code: 'TypeScript, ES modules',
      runner: 'node',
      files: ['src/session.ts', 'src/counter.ts', 'test/counter.test.ts'],
    },
    flags: [],
    ownTests: 1,
    wire: { file: 'src/app.ts', after: 'export const app = new Hono();' },
  },
  {
    name: 'node-http-cjs',
    framework: 'node',
    expected: {
      code: 'JavaScript, CommonJS',
      runner: 'node',
      files: ['session.js', 'counter.js', 'test/counter.test.js'],
    },
    flags: ['--framework', 'node'],
    ownTests: 0,
    wire: {
      file: 'server.js',
      after: 'const port = Number(process.env.PORT || 3000);',
      replace: ['createServer(handler)', 'createServer(withCounter)'],
    },
  },
];
