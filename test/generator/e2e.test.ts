import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CookieJar } from '../../runtime/test/support/cookie-jar.js';
import { childEnv, expectSuccess, killGroup, pool, run, waitForOutput } from './apps.js';
import { collect, assertBuilt, PAIRS, RUNTIME_SPEC, runCli, tempDir } from './support.js';

// Every framework x backend pair, as a user gets it: generated, installed from the npm registry
// (cache first), typechecked, its own test run, then started and visited over HTTP.
const workspace = tempDir('csm-e2e-');
const children = new Set<ChildProcess>();

beforeAll(() => {
  assertBuilt();
});

// Removing many installed apps takes a while on a busy machine.
afterAll(async () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  await rm(workspace.path, { recursive: true, force: true });
}, 600_000);

// Two pairs at a time: installs and typechecks are CPU-bound, and the machine may have two cores.
const slots = pool(2);

describe.concurrent('generated app', () => {
  it.each(PAIRS)(
    '$framework + $backend: installs, typechecks, passes its test, counts visits',
    async ({ framework, backend }) => {
      await slots(async () => {
        const dir = join(workspace.path, `${framework}-${backend}`);
        const sessionDir = join(workspace.path, `${framework}-${backend}-sessions`);
        const env = { REDIS_URL: inject('redisUrl'), SESSION_DIR: sessionDir };

        // One pair goes through the generator's own install step, as a user's first run does.
        const ownInstall = framework === 'node' && backend === 'cookies';
        const args = [dir, '--framework', framework, '--backend', backend, '--runtime', RUNTIME_SPEC];
        if (ownInstall) {
          const result = await runCli(args, {
            cwd: workspace.path,
            env: { npm_config_prefer_offline: 'true' },
          });
          expectSuccess(result, 'generate and install');
          expect(result.stdout).toContain('Running npm install');
          expect(result.stdout).not.toMatch(/^ {2}npm install$/m);
        } else {
          expectSuccess(await runCli([...args, '--no-install'], { cwd: workspace.path }), 'generate');
          const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir);
          expectSuccess(install, 'npm install');
        }
        expectSuccess(await run(join(dir, 'node_modules/.bin/tsc'), ['--noEmit'], dir), 'tsc --noEmit');

        const test = await run('npm', ['test'], dir, env);
        expectSuccess(test, 'npm test');
        expect(test.stdout).toMatch(/^# pass 3$/m);
        expect(test.stdout).toMatch(/^# fail 0$/m);
        if (backend === 'files') expect(readdirSync(sessionDir).some((name) => name.endsWith('.sess'))).toBe(true);

        await exerciseServer(dir, env);
      });
    },
    // Includes the wait for a slot in the pool.
    600_000,
  );
});

/** `PORT=0 npm start` (the app says where it listens), then /counter with cookie jars as browsers would, then a clean stop. */
async function exerciseServer(dir: string, env: Record<string, string>): Promise<void> {
  const server = spawn('npm', ['start'], { cwd: dir, env: childEnv({ ...env, PORT: '0' }), detached: true });
  children.add(server);
  const exited = collect(server);
  try {
    const [url = ''] = await waitForOutput(server, /Listening on (http:\/\/127\.0\.0\.1:\d+\/counter)/);
    const browser = new CookieJar();
    for (const count of [1, 2, 3]) {
      expect(await browser.get(url)).toMatchObject({ status: 200, body: `This is your ${count} visit` });
    }
    expect(await new CookieJar().get(url)).toMatchObject({ status: 200, body: 'This is your 1 visit' });

    const tampered = new CookieJar();
    for (const [name, value] of browser.cookies) tampered.cookies.set(name, value.slice(0, -4) + 'AAAA');
    expect(await tampered.get(url)).toMatchObject({ status: 200, body: 'This is your 1 visit' });
    const garbage = new CookieJar();
    garbage.cookies.set('emt_session', '%%%not-a-session');
    expect(await garbage.get(url)).toMatchObject({ status: 200, body: 'This is your 1 visit' });
  } finally {
    killGroup(server, 'SIGTERM');
    await exited;
    children.delete(server);
  }
}
