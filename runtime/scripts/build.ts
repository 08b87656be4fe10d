/**
 * Builds the package twice from src/: an ES module build (dist/, by tsc, with the declarations) and a
 * CommonJS build (dist/cjs/, by esbuild, one file per source file, with the dependencies that are
 * only ES modules inlined). dist/cjs/package.json says
 * "type": "commonjs", so Node loads its .js files as CommonJS and TypeScript reads the declarations
 * copied beside them as CommonJS types. package.json's exports send `import` to dist/ and `require`
 * to dist/cjs/. Module-level state both builds must share lives in src/shared.ts.
 *
 * Built next to dist/ and swapped in, so a test or app running meanwhile finds a whole build.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const RUNTIME = fileURLToPath(new URL('../', import.meta.url));
const outdir = join(RUNTIME, 'dist');
const fresh = `${outdir}.new-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;

/**
 * Dependencies inlined into the CommonJS build, so it never depends on how a dependency is published
 * (require() of an ES module needs Node 20.19 or 22.12, and the runtime supports every Node 20).
 * Everything else stays a require() of its own file or package.
 */
const INLINED = new Set(['cookie']);
const inlineEsmOnly: Plugin = {
  name: 'inline-esm-only',
  setup(esbuild) {
    esbuild.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'entry-point' || INLINED.has(args.path) || args.importer.includes('node_modules')
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

const filesUnder = (folder: string, suffix: string): string[] =>
  readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath, entry.name));

try {
  const tsc = join(RUNTIME, '..', 'node_modules', '.bin', 'tsc');
  execFileSync(tsc, ['-p', join(RUNTIME, 'tsconfig.build.json'), '--outDir', fresh], { stdio: 'inherit' });

  const cjs = join(fresh, 'cjs');
  await build({
    entryPoints: filesUnder(join(RUNTIME, 'src'), '.ts'),
    outbase: join(RUNTIME, 'src'),
    outdir: cjs,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    bundle: true,
    plugins: [inlineEsmOnly],
    logLevel: 'warning',
  });
  writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
  for (const declaration of filesUnder(fresh, '.d.ts')) {
    if (declaration.startsWith(`${cjs}/`)) continue;
    const target = join(cjs, relative(fresh, declaration));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(declaration, target);
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
