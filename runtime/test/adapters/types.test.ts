import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUNTIME = fileURLToPath(new URL('../../', import.meta.url));

describe('types', () => {
  const tsc = (project: string) =>
    promisify(execFile)(`${ROOT}node_modules/.bin/tsc`, ['--noEmit', '-p', `${RUNTIME}test/types-fixture/${project}`], {
      cwd: ROOT,
    }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? String(error) }),
    );

  // The fixture's `@ts-expect-error` lines prove wrong types are rejected: tsc fails on any that is not.
  it('type req.session, request.session, ctx.session and c.get("session") from the declared SessionData', async () => {
    const result = await tsc('tsconfig.json'); // @session-manager/runtime mapped to the sources
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);

  it('type them the same through the built package, as users import it', async () => {
    // Resolved through runtime/package.json's exports to dist/*.d.ts (built by `npm run build`).
    const result = await tsc('tsconfig.package.json');
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);

  it("type them the same for an app on express 4, fastify 4 and koa 2, with those majors' own types", async () => {
    // Through the built package, with `express`, `fastify` and `koa` mapped to the older majors.
    const result = await tsc('tsconfig.older-majors.json');
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);

  it('export every adapter as a subpath, built from a source file, with types', () => {
    const pkg = JSON.parse(readFileSync(`${RUNTIME}package.json`, 'utf8')) as {
      exports: Record<string, unknown>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const adapters = ['node', 'express', 'fastify', 'koa', 'hono'];
    expect(Object.keys(pkg.exports)).toEqual(['.', ...adapters.map((name) => `./${name}`)]);
    for (const name of adapters) {
      // `import` gets the ES module build, `require` the CommonJS one, each with its declarations.
      expect(pkg.exports[`./${name}`]).toEqual({
        import: { types: `./dist/adapters/${name}.d.ts`, default: `./dist/adapters/${name}.js` },
        require: { types: `./dist/cjs/adapters/${name}.d.ts`, default: `./dist/cjs/adapters/${name}.js` },
      });
      // TypeScript's older `node` resolution ignores exports: typesVersions finds the subpath's types.
      expect(pkg.typesVersions['*']?.[name]).toEqual([`./dist/cjs/adapters/${name}.d.ts`]);
      expect(existsSync(`${RUNTIME}src/adapters/${name}.ts`)).toBe(true);
    }
  });

  it('load no framework at run time: a user of one framework installs none of the others', () => {
    const runtimeImports = (name: string) =>
      [...readFileSync(`${RUNTIME}src/adapters/${name}.ts`, 'utf8').matchAll(/^import (?!type )[^;]*?from '([^']+)'/gm)]
        .map((match) => match[1] as string)
        .filter((specifier) => !specifier.startsWith('.'));
    expect(runtimeImports('node')).toEqual([]);
    expect(runtimeImports('express')).toEqual([]);
    expect(runtimeImports('koa')).toEqual([]);
    expect(runtimeImports('hono')).toEqual([]);
    // fastify-plugin is a dependency of the runtime package (a few lines, no dependencies of its own).
    expect(runtimeImports('fastify')).toEqual(['fastify-plugin']);
    const pkg = JSON.parse(readFileSync(`${RUNTIME}package.json`, 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    // cookie checks the cookie attributes at start-up (no dependencies of its own either).
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['cookie', 'fastify-plugin']);
    for (const framework of ['express', 'fastify', 'koa', 'hono', '@hono/node-server']) {
      expect(pkg.peerDependenciesMeta[framework]).toEqual({ optional: true });
    }
  });
});
