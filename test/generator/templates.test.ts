import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DERIVED_TEMPLATES_DIR, TEMPLATES_DIR } from '../../generators/paths.js';

// templates/ reads as the tree a run writes: a template's path is where its file lands, with the
// framework or backend after the first dot of the name, and only templates with handlebars in them
// are .hbs.
const templates = readdirSync(TEMPLATES_DIR, { recursive: true, encoding: 'utf8' })
  .filter((path) => !path.startsWith('_partials') && /\.[a-z]+$/.test(path))
  .sort();

describe.each(templates)('templates/%s', (path) => {
  const text = readFileSync(join(TEMPLATES_DIR, path), 'utf8');

  it(path.endsWith('.hbs') ? 'holds handlebars' : 'holds no handlebars, so it is a plain file', () => {
    expect(/\{\{/.test(text)).toBe(path.endsWith('.hbs'));
  });
});

it('every template lands in the project root, src/ or test/', () => {
  expect(templates.length).toBeGreaterThan(0);
  for (const path of templates) expect(path).toMatch(/^(?:src\/|test\/)?[^/]+$/);
});

// TypeScript refuses ES module syntax in a CommonJS file under verbatimModuleSyntax (TS1295, TS1287):
// the derived variant for such projects may hold only type-only imports of that kind.
it('the verbatimModuleSyntax variant of every code template holds no ES module syntax but type-only imports', () => {
  const variant = join(DERIVED_TEMPLATES_DIR, 'ts-cjs-require');
  const derived = readdirSync(variant, { recursive: true, encoding: 'utf8' }).filter((path) =>
    /\.ts(\.hbs)?$/.test(path),
  );
  expect(derived.length).toBe(templates.filter((path) => /\.ts(\.hbs)?$/.test(path)).length);
  for (const path of derived) {
    const text = readFileSync(join(variant, path), 'utf8');
    expect(text, path).not.toMatch(/^import\s+(?!type\s)(?![\w$]+\s*=\s*require\()/m);
    expect(text, path).not.toMatch(/^export\s+(?!=)/m);
  }
});
