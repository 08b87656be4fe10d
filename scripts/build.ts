/**
 * Bundles the generator (generators/, node-plop, handlebars) into dist/, so the
 * command starts without a TypeScript loader and without reading hundreds of small files.
 * inquirer is split into a chunk of its own that only an interactive run loads (lazy-inquirer.ts).
 * Run by the root `build` script; templates/ stay files, read at run time, and their JavaScript and
 * CommonJS variants are derived into dist/templates/ (derive.ts).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PACKAGE_ROOT, TEMPLATES_DIR } from '../generators/paths.js';
import { CODE_TEMPLATE, DERIVED_VARIANTS, derivedName } from '../generators/variants.js';
import { deriveTemplate } from './derive.js';

const lazyInquirer: Plugin = {
  name: 'lazy-inquirer',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^inquirer$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'node-plop')}`)
        ? { path: join(PACKAGE_ROOT, 'scripts', 'lazy-inquirer.ts') }
        : undefined,
    );
  },
};

// Built next to dist/ and swapped in, so a command running meanwhile finds a whole bundle.
const outdir = join(PACKAGE_ROOT, 'dist');
const fresh = `${outdir}.new-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;
await build({
  entryPoints: { cli: join(PACKAGE_ROOT, 'generators', 'cli.ts') },
  outdir: fresh,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [lazyInquirer],
  // Chunks stay next to cli.js: paths.ts finds the package root one level up.
  chunkNames: '[name]-[hash]',
  // Some bundled packages are CommonJS and call require(); give the ES module bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'linked',
});

const codeTemplates = readdirSync(TEMPLATES_DIR, { recursive: true, encoding: 'utf8' })
  .filter((path) => CODE_TEMPLATE.test(path))
  .sort();
try {
  for (const variant of DERIVED_VARIANTS) {
    for (const path of codeTemplates) {
      const source = readFileSync(join(TEMPLATES_DIR, path), 'utf8');
      const target = join(fresh, 'templates', variant, derivedName(path, variant));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await deriveTemplate(source, variant, path));
    }
  }
} catch (error) {
  rmSync(fresh, { recursive: true, force: true });
  throw error;
}

try {
  renameSync(outdir, old);
} catch {
  // No previous build.
}
renameSync(fresh, outdir);
rmSync(old, { recursive: true, force: true });
