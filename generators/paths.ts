import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_RANGE } from './catalogue.js';

// This file runs from generators/ in the sources and from dist/ once bundled: one level below the package root either way.
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');
/** Handlebars partials: text several templates share, written nowhere on its own. */
export const PARTIALS_DIR = join(TEMPLATES_DIR, '_partials');

/**
 * The spec written for @session-manager/runtime when --runtime is not given: the runtime next to
 * the generator in a source checkout (so generated apps run against the code under test), else the npm range.
 */
export function defaultRuntimeSpec(): string {
  const runtimeDir = join(PACKAGE_ROOT, 'runtime');
  return existsSync(join(runtimeDir, 'package.json')) ? `file:${runtimeDir}` : RUNTIME_RANGE;
}

/** The JavaScript and CommonJS variants of the code templates, derived from templates/ by the build (scripts/derive.ts). */
export const DERIVED_TEMPLATES_DIR = join(PACKAGE_ROOT, 'dist', 'templates');
