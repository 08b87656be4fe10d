import { dirname, relative } from 'node:path';
import type { Framework } from './catalogue.js';
import type { Layout } from './layout.js';
import { requireAlias } from './variants.js';

/** The lines that wire the session middleware and the counter into the user's app, in its own syntax. */
export interface Wiring {
  /** The file they go into, when the project says which it is. */
  entry: string | undefined;
  /** With the file's other imports (or requires). */
  imports: string[];
  /** Where the app is set up, before its routes. */
  setup: string[];
  /** What `setup` is placed after, in words. */
  where: string;
}

const SETUP: Record<Framework, { middleware: string; setup: string[]; where: string }> = {
  express: {
    middleware: 'sessions',
    setup: ['app.use(sessions(sessionManager));', 'app.use(counter);'],
    where: 'after `const app = express()`, before your routes',
  },
  fastify: {
    middleware: 'sessions',
    setup: ['app.register(sessions, { manager: sessionManager });', 'app.register(counter);'],
    where: 'after `const app = fastify()`, before your routes',
  },
  koa: {
    middleware: 'sessions',
    setup: ['app.use(sessions(sessionManager));', 'app.use(counter);'],
    where: 'after `const app = new Koa()`, before your routes',
  },
  hono: {
    middleware: 'sessions',
    setup: ['app.use(sessions(sessionManager));', 'app.route("/", counter);'],
    where: 'after `const app = new Hono()`, before your routes',
  },
  node: {
    middleware: 'withSessions',
    setup: [
      'const withCounter = withSessions(sessionManager, (req, res, session) => counter(req, res, session) ?? handler(req, res));',
    ],
    where: 'after your request handler `handler`; then serve it with `createServer(withCounter)`',
  },
};

export function wiringFor(framework: Framework, layout: Layout): Wiring {
  const { middleware, setup, where } = SETUP[framework];
  const fromEntry = relative(dirname(layout.entry ?? `${layout.srcDir || '.'}/index`), layout.srcDir || '.') || '.';
  const folder = fromEntry.startsWith('.') ? fromEntry : `./${fromEntry}`;
  const extension = layout.esm ? '.js' : '';
  const modules: Array<[names: string, from: string]> = [
    [middleware, `@session-manager/runtime/${framework}`],
    ['counter', `${folder}/counter${extension}`],
    ['sessionManager', `${folder}/session${extension}`],
  ];
  const useImport = layout.esm || layout.language === 'ts';
  const imports = modules.flatMap(([names, from]) => {
    // Under verbatimModuleSyntax a CommonJS file imports a module whole, typed, and takes names from it.
    if (layout.variant === 'ts-cjs-require') {
      const alias = requireAlias(from);
      return [`import ${alias} = require("${from}");`, `const { ${names} } = ${alias};`];
    }
    return useImport ? [`import { ${names} } from "${from}";`] : [`const { ${names} } = require("${from}");`];
  });
  return { entry: layout.entry, imports, setup, where };
}
