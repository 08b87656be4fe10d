import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { DEFAULTS } from '@session-manager/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type Backend, SESSION_DEFAULTS } from '../../generators/catalogue.js';
import { assertBuilt, readTree, RUNTIME_SPEC, runCli, tempDir } from './support.js';

// The generated session file spells out the runtime's defaults, so a user sees what there is to
// change; the generator keeps its own copy (catalogue.ts). These are checked against the runtime's
// DEFAULTS as built, so the two cannot drift apart.
const workspace = tempDir();
beforeAll(assertBuilt);
afterAll(workspace.remove);

/** The options a backend's session file must spell out with the runtime's default value. */
const SPELLED: Record<Backend, Array<keyof typeof DEFAULTS>> = {
  cookies: ['secure', 'sameSite', 'cookieName'],
  files: ['filenameTemplate', 'sweepInterval', 'secure', 'sameSite', 'cookieName'],
  redis: ['prefix', 'commandTimeout', 'secure', 'sameSite', 'cookieName'],
};

it("the generator's copy of the defaults is the runtime's", () => {
  expect(DEFAULTS).toMatchObject(SESSION_DEFAULTS);
});

describe.each(BACKEND_NAMES)('a new app with the %s backend', (backend) => {
  const dir = join(workspace.path, backend);
  let tree: Record<string, string>;

  beforeAll(async () => {
    const args = [dir, '--framework', 'express', '--backend', backend, '--runtime', RUNTIME_SPEC, '--no-install'];
    const result = await runCli(args, { cwd: workspace.path });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    tree = readTree(dir);
  });

  it("writes the runtime's default for each option it spells out", () => {
    const session = tree['src/session.ts']!;
    // `  name: <JSON literal>,` on a line of its own, not commented out.
    const written = Object.fromEntries(
      [...session.matchAll(/^ {2}(\w+): ("[^"]*"|-?\d+|true|false),$/gm)].map(([, name, literal]) => [
        name!,
        JSON.parse(literal!) as unknown,
      ]),
    );
    const spelled = Object.fromEntries(SPELLED[backend].map((name) => [name, DEFAULTS[name]]));
    expect(written).toMatchObject(spelled);
    for (const [name, value] of Object.entries(written)) {
      if (Object.hasOwn(DEFAULTS, name)) expect(value, name).toBe(DEFAULTS[name as keyof typeof DEFAULTS]);
    }
  });

  it("falls back to the runtime's defaults where the environment leaves a setting unset", () => {
    const session = tree['src/session.ts']!;
    expect(session).toContain(`Number(process.env.SESSION_EXPIRE ?? ${DEFAULTS.expire})`);
    if (backend === 'files') {
      expect(session).toContain(`directory: process.env.SESSION_DIR ?? ${JSON.stringify(DEFAULTS.directory)},`);
    }
    const example = parseEnv(tree['.env.example']!);
    expect(example.SESSION_EXPIRE).toBe(String(DEFAULTS.expire));
    const env = parseEnv(tree['.env']!);
    if (backend === 'files') {
      expect(example.SESSION_DIR).toBe(DEFAULTS.directory);
      expect(env.SESSION_DIR).toBe(DEFAULTS.directory);
    }
  });

  it('mentions the lifetimes that are off: an absolute timeout and remember-me', () => {
    const session = tree['src/session.ts']!;
    expect(session).toMatch(/^ {2}\/\/ absoluteExpire: /m);
    expect(session).toContain('setSessionExpiry(seconds)');
  });
});
