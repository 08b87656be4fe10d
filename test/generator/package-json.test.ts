import { describe, expect, it } from 'vitest';
import { formatPackageJson, mergePackageJson, type PackageNeeds } from '../../generators/package-json.js';

const needs: PackageNeeds = {
  name: 'ignored-when-merging',
  scripts: { start: 'tsx src/server.ts', test: 'node --import tsx --test test/*.test.ts' },
  dependencies: { express: '^5.3.0', '@session-manager/runtime': '^0.1.0' },
  devDependencies: { typescript: '^7.0.2' },
  engines: { node: '>=20.12' },
};

describe('mergePackageJson', () => {
  it('adds what is missing and reports nothing when nothing differs', () => {
    const { json, conflicts } = mergePackageJson({ name: 'app', type: 'module' }, needs, false);
    expect(conflicts).toEqual([]);
    expect(json).toEqual({
      name: 'app',
      type: 'module',
      scripts: needs.scripts,
      dependencies: { '@session-manager/runtime': '^0.1.0', express: '^5.3.0' },
      devDependencies: { typescript: '^7.0.2' },
    });
  });

  it('keeps a dependency at the same major version, wherever the user listed it', () => {
    const user = { type: 'module', devDependencies: { express: '~5.0.1', typescript: '7.0.0' } };
    const { json, conflicts } = mergePackageJson(user, needs, false);
    expect(conflicts).toEqual([]);
    expect(json.devDependencies).toEqual({ express: '~5.0.1', typescript: '7.0.0' });
    expect(json.dependencies).toEqual({ '@session-manager/runtime': '^0.1.0' });
  });

  it('calls an older, unsupported major version (or an older 0.x minor) a conflict, replaced only with force', () => {
    const user = { type: 'module', dependencies: { express: '^3.21.0', '@session-manager/runtime': '^0.0.9' } };
    const kept = mergePackageJson(user, needs, false);
    expect(kept.conflicts).toEqual([
      'dependencies.express is "^3.21.0", the generated code needs "^5.3.0"',
      'dependencies.@session-manager/runtime is "^0.0.9", the generated code needs "^0.1.0"',
    ]);
    expect(kept.json.dependencies).toMatchObject(user.dependencies);

    const forced = mergePackageJson(user, needs, true);
    expect(forced.conflicts).toHaveLength(2);
    expect(forced.json.dependencies).toEqual({ express: '^5.3.0', '@session-manager/runtime': '^0.1.0' });
  });

  it('keeps a supported older major, a newer one and TypeScript 5 as the user has them', () => {
    const user = {
      type: 'module',
      dependencies: { express: '^4.21.2', '@session-manager/runtime': '^0.2.0' },
      devDependencies: { typescript: '^5.6.3' },
    };
    const { json, conflicts } = mergePackageJson(user, needs, false);
    expect(conflicts).toEqual([]);
    expect(json.dependencies).toEqual(user.dependencies);
    expect(json.devDependencies).toEqual(user.devDependencies);
  });

  it('adds to an existing app without touching "type" or its scripts, only adding the missing ones', () => {
    const user = { scripts: { start: 'node index.js', test: 'jest' } };
    const add = { ...needs, scripts: { test: 'node --test', 'test:sessions': 'node --test test/counter.test.js' } };
    const { json, conflicts } = mergePackageJson(user, add, false, 'add');
    expect(conflicts).toEqual([]);
    expect(json.type).toBeUndefined();
    expect(json.scripts).toEqual({ ...user.scripts, 'test:sessions': 'node --test test/counter.test.js' });
  });

  it('does not change the object it was given', () => {
    const user = { type: 'commonjs', scripts: { start: 'node .' } };
    mergePackageJson(user, needs, true);
    expect(user).toEqual({ type: 'commonjs', scripts: { start: 'node .' } });
  });
});

describe('formatPackageJson', () => {
  it("keeps the file's indentation, two spaces for a new file", () => {
    expect(formatPackageJson({ a: 1 })).toBe('{\n  "a": 1\n}\n');
    expect(formatPackageJson({ a: 1 }, '{\n\t"a": 0\n}')).toBe('{\n\t"a": 1\n}\n');
  });
});
