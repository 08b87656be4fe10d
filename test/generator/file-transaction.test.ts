import { chmodSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileTransaction } from '../../generators/file-transaction.js';
import { projectWith, snapshotEntries } from './support.js';

// The generator's all-or-nothing writes, in process against real temp folders.
let dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function project(files: Record<string, string>): string {
  const dir = projectWith('csm-transaction-', files);
  dirs.push(dir);
  return dir.path;
}

const snapshot = snapshotEntries;

describe('FileTransaction', () => {
  it('puts every staged file in place only at commit, keeping modes and symbolic links', () => {
    const dir = project({ 'secret.env': 'A=1\n', 'real/config.json': '{}\n' });
    chmodSync(join(dir, 'secret.env'), 0o600);
    symlinkSync('real/config.json', join(dir, 'config.json'));
    const before = snapshot(dir);

    const transaction = new FileTransaction(dir);
    transaction.stage('secret.env', 'A=1\nB=2\n');
    transaction.stage('config.json', '{ "b": 2 }\n');
    transaction.stage('src/deep/new.ts', 'export {};\n');
    // Staged is not written: the user's files are untouched until commit.
    const staged = snapshot(dir);
    for (const [path, entry] of Object.entries(before)) expect(staged[path]).toBe(entry);
    expect(readFileSync(join(dir, 'secret.env'), 'utf8')).toBe('A=1\n');

    transaction.commit();
    const after = snapshot(dir);
    expect(Object.keys(after).sort()).toEqual([
      'config.json',
      'real/',
      'real/config.json',
      'secret.env',
      'src/',
      'src/deep/',
      'src/deep/new.ts',
    ]);
    expect(after['secret.env']).toBe('600 A=1\nB=2\n');
    // Written through the link, in the linked file's own mode.
    expect(after['config.json']).toBe('-> real/config.json');
    expect(after['real/config.json']).toBe(`${before['real/config.json']!.split(' ')[0]} { "b": 2 }\n`);
    expect(after['src/deep/new.ts']).toMatch(/^\d+ export \{\};\n$/);
    expect(lstatSync(join(dir, 'config.json')).isSymbolicLink()).toBe(true);
  });

  it('a staging failure removes the temp files and folders made so far, and says nothing changed', () => {
    const dir = project({ 'package.json': '{ "name": "mine" }\n', lib: 'a file, not a folder\n' });
    const before = snapshot(dir);
    const transaction = new FileTransaction(dir);
    transaction.stage('package.json', '{ "name": "mine", "type": "module" }\n');
    transaction.stage('src/session.ts', 'export {};\n');

    expect(() => transaction.stage('lib/app.ts', 'export {};\n')).toThrow(
      new RegExp(`^Could not write ${join(dir, 'lib/app.ts')}: .+\\(ENOTDIR\\)\\.\\nNothing was changed`),
    );
    expect(snapshot(dir)).toEqual(before);
  });

  it('a rename failing at commit puts back every file replaced before it and removes the new ones', () => {
    const dir = project({ 'package.json': '{ "name": "mine" }\n', '.gitignore': 'dist\n', 'test/helpers.ts': '' });
    chmodSync(join(dir, '.gitignore'), 0o640);
    const transaction = new FileTransaction(dir);
    transaction.stage('package.json', '{ "name": "mine", "type": "module" }\n');
    transaction.stage('.gitignore', 'dist\n.env\n');
    transaction.stage('src/session.ts', 'export {};\n');
    transaction.stage('test/counter.test.ts', 'export {};\n');
    // Between staging and commit a folder appears where the last file goes: its rename fails.
    mkdirSync(join(dir, 'test/counter.test.ts/keep'), { recursive: true });
    const before = snapshot(dir);
    const staged = Object.keys(before).filter((path) => /\.tmp$/.test(path));
    expect(staged).toHaveLength(4);

    expect(() => transaction.commit()).toThrow(
      new RegExp(`^Could not write ${join(dir, 'test/counter.test.ts')}: .+\\nNothing was changed`),
    );
    const after = snapshot(dir);
    for (const path of staged) delete before[path];
    // src/ was created by the run and is gone again.
    delete before['src/'];
    expect(after).toEqual(before);
    expect(after['.gitignore']).toBe('640 dist\n');
  });
});
