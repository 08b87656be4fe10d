import { SUPPORTED } from './catalogue.js';
import type { PackageJson } from './project.js';
import { judgeRange } from './versions.js';

/** What the generated code needs from package.json. */
export interface PackageNeeds {
  name: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: Record<string, string>;
}

export interface MergedPackageJson {
  json: PackageJson;
  /** One line per value the user has that the generated code would replace (only with --force). */
  conflicts: string[];
}

/** A package.json for a folder that has none. */
export function freshPackageJson(needs: PackageNeeds): PackageJson {
  return {
    name: needs.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: needs.engines,
    scripts: needs.scripts,
    dependencies: sorted(needs.dependencies),
    devDependencies: sorted(needs.devDependencies),
  };
}

/**
 * How the merge treats what the user has: a new app's files need `"type": "module"` and their own
 * scripts (a differing one is a conflict); added to an existing app they never touch `type` or an
 * existing script, and only add the scripts that are missing.
 */
export type MergeMode = 'new' | 'add';

/**
 * Adds what the generated code needs to the user's package.json and keeps everything else in place.
 * A value the user already has differently is a conflict; `force` replaces it. A dependency the
 * user has at a range that allows a supported version (versions.ts), or only newer ones, is kept
 * as it is.
 */
export function mergePackageJson(
  existing: PackageJson,
  needs: PackageNeeds,
  force: boolean,
  mode: MergeMode = 'new',
): MergedPackageJson {
  const json: PackageJson = structuredClone(existing);
  const conflicts: string[] = [];

  if (mode === 'new' && json.type !== 'module') {
    const current = json.type === undefined ? 'not set (CommonJS)' : JSON.stringify(json.type);
    conflicts.push(`"type" is ${current}; the generated code is ES modules and needs "module"`);
    if (force) json.type = 'module';
  }

  const scripts = { ...json.scripts };
  for (const [name, command] of Object.entries(needs.scripts)) {
    const current = scripts[name];
    if (current === undefined || current === command) {
      scripts[name] = command;
      continue;
    }
    if (mode === 'add') continue;
    conflicts.push(`scripts.${name} is ${JSON.stringify(current)}, the generator writes ${JSON.stringify(command)}`);
    if (force) scripts[name] = command;
  }
  if (json.scripts !== undefined || Object.keys(scripts).length > 0) json.scripts = scripts;

  for (const section of ['dependencies', 'devDependencies'] as const) {
    for (const [name, range] of Object.entries(needs[section])) {
      const where =
        json.dependencies?.[name] !== undefined
          ? 'dependencies'
          : json.devDependencies?.[name] !== undefined
            ? 'devDependencies'
            : undefined;
      if (where === undefined) {
        json[section] = sorted({ ...json[section], [name]: range });
        continue;
      }
      const current = json[where]![name]!;
      if (compatible(name, current, range)) continue;
      conflicts.push(
        `${where}.${name} is ${JSON.stringify(current)}, the generated code needs ${JSON.stringify(range)}`,
      );
      if (force) json[where] = { ...json[where], [name]: range };
    }
  }
  return { json, conflicts };
}

/** package.json text in the file's own indentation (two spaces for a new one), with a final newline. */
export function formatPackageJson(json: PackageJson, existingText?: string): string {
  const indent = existingText?.match(/^[{[]\r?\n([ \t]+)/)?.[1] ?? 2;
  return JSON.stringify(json, null, indent) + '\n';
}

/** Whether the user's range serves the generated code: what it supports (catalogue.ts), else the range it writes. */
function compatible(name: string, current: string, wanted: string): boolean {
  return current === wanted || judgeRange(current, SUPPORTED[name] ?? wanted) === 'ok';
}

function sorted(record: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}
