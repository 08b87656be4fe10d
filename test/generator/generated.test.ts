import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, PAIRS, printTree, readTree, RUNTIME_SPEC, runCli, tempDir } from './support.js';

// The complete output of every pair, committed under __snapshots__/: a change to a template
// shows up in review as a change to what users get.
const workspace = tempDir();
beforeAll(assertBuilt);
afterAll(workspace.remove);

describe.each(PAIRS)('$framework + $backend', ({ framework, backend }) => {
  const dir = join(workspace.path, `${framework}-${backend}`);
  let tree: Record<string, string>;

  beforeAll(async () => {
    const args = [dir, '--framework', framework, '--backend', backend, '--runtime', RUNTIME_SPEC, '--no-install'];
    const result = await runCli(args, { cwd: workspace.path });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    tree = readTree(dir);
  });

  it('writes the complete, expected set of files', async () => {
    await expect(printTree(tree)).toMatchFileSnapshot(`__snapshots__/generated/${framework}-${backend}.txt`);
  });

  it('writes code that prettier (default settings) leaves as it is', async () => {
    for (const [path, content] of Object.entries(tree)) {
      if (!/\.(ts|json)$/.test(path)) continue;
      expect.soft(await check(content, { filepath: path }), `${path} is not prettier-formatted`).toBe(true);
    }
  });
});

describe('an existing package.json', () => {
  it("is merged: name, type, order, indentation and every other field stay the user's", async () => {
    const project = tempDir();
    try {
      const userPackage = {
        name: 'my-shop',
        version: '2.3.4',
        description: 'The shop',
        type: 'module',
        scripts: { dev: 'node --watch src/server.ts', lint: 'biome lint .' },
        dependencies: { express: '^5.1.0', zod: '^3.23.0' },
        devDependencies: { vitest: '^3.0.0' },
        prettier: { semi: false },
      };
      writeFileSync(join(project.path, 'package.json'), JSON.stringify(userPackage, null, 4) + '\n');
      const args = ['--yes', '--backend', 'redis', '--runtime', RUNTIME_SPEC, '--no-install'];
      const result = await runCli(args, { cwd: project.path });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);

      const tree = readTree(project.path);
      const merged = JSON.parse(tree['package.json']!);
      expect(Object.keys(merged).slice(0, 4)).toEqual(['name', 'version', 'description', 'type']);
      expect(merged).toMatchObject({ name: 'my-shop', type: 'module', prettier: { semi: false } });
      expect(merged.scripts).toMatchObject(userPackage.scripts);
      // The user's range is kept, not rewritten to ours.
      expect(merged.dependencies.express).toBe('^5.1.0');
      expect(tree['package.json']).toMatch(/^\{\n {4}"name"/);
      // express was in the user's dependencies: sessions are added to that app, with a mountable counter.
      expect(tree['counter.js']).toContain('from "express"');
      expect(tree['src/app.ts']).toBeUndefined();
      await expect(printTree({ 'package.json': tree['package.json']! })).toMatchFileSnapshot(
        '__snapshots__/merged-package.json.txt',
      );
    } finally {
      project.remove();
    }
  });
});
