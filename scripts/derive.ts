/**
 * Every code template is written once, in TypeScript with ES modules. The build derives the other
 * variants from it: TypeScript for a CommonJS project (relative imports without `.js`, which
 * CommonJS resolution and ts-node/ts-jest need), the same under `verbatimModuleSyntax` (with
 * `import x = require()` and `export =`), and JavaScript as ES modules or CommonJS (the types
 * blanked out by ts-blank-space, which uses TypeScript's own parser and, unlike transpileModule or
 * esbuild, keeps every comment and blank line; the ES module syntax then rewritten to `require` and
 * `module.exports` from es-module-lexer's positions). prettier formats each result.
 *
 * Handlebars survives the trip: block lines (`{{#if}}`, `{{/if}}`, a partial's `{{> name}}`) become
 * marker comments before the transformation and are put back after it, at the marker's indentation
 * (a partial indents its lines to match); every other `{{value}}`, in a string, a comment or where
 * code goes (`?? {{defaults.expire}}`), stands in as an identifier meanwhile.
 */
import { init, parse } from 'es-module-lexer';
import { format } from 'prettier';
import tsBlankSpace from 'ts-blank-space';
import { requireAlias, type Variant } from '../generators/variants.js';

const BLOCK_LINE = /^[ \t]*\{\{[#/^>]|^[ \t]*\{\{else[ }]/;
const MARKER = /^([ \t]*)\/\/ @hbs (\d+)$/gm;
const MUSTACHE = /\{\{\{?[^{}]*\}?\}\}/g;
const STAND_IN = /__hbs(\d+)__/g;

export async function deriveTemplate(source: string, variant: Variant, name: string): Promise<string> {
  if (variant === 'ts') return source;
  const blocks: string[] = [];
  const blockless = source
    .split('\n')
    .map((line) => {
      if (!BLOCK_LINE.test(line)) return line;
      blocks.push(line.trim());
      return `// @hbs ${blocks.length - 1}`;
    })
    .join('\n');
  const values: string[] = [];
  const protectedSource = blockless.replace(MUSTACHE, (mustache) => {
    values.push(mustache);
    return `__hbs${values.length - 1}__`;
  });

  const typescript = variant.startsWith('ts');
  let code = typescript ? withoutJsExtensions(protectedSource, name) : stripTypes(protectedSource, name);
  if (variant === 'js-cjs') code = await toCommonJs(code, name);
  if (variant === 'ts-cjs-require') code = toRequireSyntax(code, name);
  code = await format(code, { parser: typescript ? 'typescript' : 'babel' });

  const seen: number[] = [];
  const restored = code.replace(MARKER, (_line, indent: string, index: string) => {
    seen.push(Number(index));
    return indent + blocks[Number(index)]!;
  });
  if (seen.join() !== blocks.map((_, index) => index).join()) {
    throw new Error(`${name} (${variant}): handlebars blocks were lost or reordered by the transformation`);
  }
  const used = new Set<number>();
  const withValues = restored.replace(STAND_IN, (_standIn, index: string) => {
    used.add(Number(index));
    return values[Number(index)]!;
  });
  if (used.size !== values.length) {
    throw new Error(`${name} (${variant}): handlebars values were lost by the transformation`);
  }
  return withValues;
}

function stripTypes(source: string, name: string): string {
  const unsupported: string[] = [];
  const code = tsBlankSpace(source, (node) => unsupported.push(node.getText()));
  if (unsupported.length > 0) {
    throw new Error(`${name}: TypeScript that has no JavaScript without types: ${unsupported.join(', ')}`);
  }
  // Types are blanked in place, line for line: drop the lines that held only types (`import type`,
  // `declare module`), so they leave no gap behind.
  const before = source.split('\n');
  return code
    .split('\n')
    .filter((line, index) => line.trim() !== '' || before[index]!.trim() === '')
    .join('\n');
}

/** A relative import: `./x.js`, `../src/x.js`, or a path the template fills in (`{{testToSrc}}/x.js`, standing in). */
const RELATIVE = /^(?:\.{1,2}\/|__hbs\d+__)/;

function withoutJsExtensions(source: string, name: string): string {
  let count = 0;
  const code = source.replace(/(from\s+")([^"]+)\.js(")/g, (whole, open: string, path: string, close: string) => {
    if (!RELATIVE.test(path)) return whole;
    count++;
    return `${open}${path}${close}`;
  });
  if (count === 0 && /from\s+"\.{1,2}\//.test(source)) throw new Error(`${name}: relative imports without .js`);
  return code;
}

/**
 * ES module syntax to CommonJS, for the shapes the templates use: default, named and namespace
 * imports become `require` (relative paths lose `.js`), `export` on a declaration is dropped and the
 * names go to one `module.exports` at the end. Anything else is an error, not a silent guess.
 */
async function toCommonJs(code: string, name: string): Promise<string> {
  await init;
  const [imports, exports] = parse(code, name);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const entry of imports) {
    if (entry.type !== 'static') throw new Error(`${name}: dynamic import or import.meta is not rewritten to CommonJS`);
    const statement = code.slice(entry.importStart, entry.importEnd);
    edits.push({ start: entry.importStart, end: entry.importEnd, text: requireFor(statement, entry.specifier, name) });
  }
  const names: string[] = [];
  for (const entry of exports) {
    const keyword = /^export\s+(?=(?:const|let|function|async\s+function|class)\s)/.exec(code.slice(entry.exportStart));
    if (entry.type !== 'direct' || entry.name !== entry.localName || keyword === null) {
      throw new Error(`${name}: exports other than "export const/function/class" are not rewritten to CommonJS`);
    }
    names.push(entry.name);
    edits.push({ start: entry.exportStart, end: entry.exportStart + keyword[0].length, text: '' });
  }
  let result = code;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return names.length === 0 ? result : `${result.trimEnd()}\n\nmodule.exports = { ${names.join(', ')} };\n`;
}

function requireFor(statement: string, specifier: string, name: string): string {
  const path = RELATIVE.test(specifier) ? specifier.replace(/\.js$/, '') : specifier;
  const call = `require(${JSON.stringify(path)})`;
  const clause = /^import\s+([\s\S]*?)\s+from\s*["'][^"']*["'];?$/.exec(statement.trim())?.[1];
  if (clause === undefined) {
    if (/^import\s*["']/.test(statement.trim())) return `${call};`;
    throw new Error(`${name}: cannot rewrite ${statement} to CommonJS`);
  }
  const namespace = /^\*\s+as\s+([\w$]+)$/.exec(clause);
  if (namespace) return `const ${namespace[1]} = ${call};`;
  const named = /^\{([\s\S]*)\}$/.exec(clause);
  if (named) {
    const bindings = named[1]!
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => part.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'));
    return `const { ${bindings.join(', ')} } = ${call};`;
  }
  if (/^[\w$]+$/.test(clause)) return `const ${clause} = ${call};`;
  throw new Error(`${name}: cannot rewrite ${statement} to CommonJS`);
}

const IMPORT_STATEMENT = /^import\s+(?!type\s)([\s\S]*?)\s+from\s+"([^"]+)";$/gm;
const EXPORTED_DECLARATION = /^export\s+((?:const|let|function|async\s+function|class)\s+([\w$]+))/gm;

/**
 * ES module syntax to what TypeScript accepts in a CommonJS file under `verbatimModuleSyntax`: a
 * default or namespace import becomes `import x = require()`; named imports import the module whole
 * (`requireAlias`) and take their names from it, their `type` names staying an `import type`; the
 * exported declarations lose `export` and are exported by one `export = { ... }` at the end. Type-only
 * imports stay. Anything else is an error, not a silent guess.
 */
function toRequireSyntax(code: string, name: string): string {
  if (/^export\s+(?!const|let|function|async\s+function|class)/m.test(code)) {
    throw new Error(`${name}: exports other than "export const/function/class" have no "export =" form`);
  }
  // A name is taken when the code uses it: strings and comments do not count.
  const identifiers = code.replace(/"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
  const taken = (alias: string) => new RegExp(`\\b${alias}\\b`).test(identifiers);
  const imported = code.replace(IMPORT_STATEMENT, (statement, clause: string, specifier: string) => {
    const whole = /^(?:\*\s+as\s+)?([\w$]+)$/.exec(clause);
    if (whole) return `import ${whole[1]} = require("${specifier}");`;
    const named = /^\{([\s\S]*)\}$/.exec(clause);
    if (!named) throw new Error(`${name}: cannot rewrite ${statement} for verbatimModuleSyntax`);
    const parts = named[1]!
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
    const types = parts.filter((part) => part.startsWith('type ')).map((part) => part.slice(5));
    const values = parts
      .filter((part) => !part.startsWith('type '))
      .map((part) => part.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'));
    const alias = requireAlias(specifier, taken);
    return [
      ...(types.length > 0 ? [`import type { ${types.join(', ')} } from "${specifier}";`] : []),
      ...(values.length > 0
        ? [`import ${alias} = require("${specifier}");`, `const { ${values.join(', ')} } = ${alias};`]
        : []),
    ].join('\n');
  });
  const names: string[] = [];
  const declared = imported.replace(EXPORTED_DECLARATION, (_whole, declaration: string, exported: string) => {
    names.push(exported);
    return declaration;
  });
  return names.length === 0 ? declared : `${declared.trimEnd()}\n\nexport = { ${names.join(', ')} };\n`;
}
