import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPLATES_DIR } from '../../generators/paths.js';

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
