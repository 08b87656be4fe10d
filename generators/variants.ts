/**
 * The variants of a code template: TypeScript or JavaScript, ES modules or CommonJS, and
 * `ts-cjs-require`, TypeScript for CommonJS under `verbatimModuleSyntax` (TypeScript 5.9's
 * `tsc --init` turns it on), which refuses ES module syntax in a CommonJS file: its imports are
 * `import x = require()` and its exports one `export =`. The templates are written once, as `ts`
 * (TypeScript, ES modules); the build derives the others into dist/templates/<variant>/
 * (scripts/derive.ts).
 */
export type Variant = 'ts' | 'ts-cjs' | 'ts-cjs-require' | 'js' | 'js-cjs';
export const DERIVED_VARIANTS: readonly Variant[] = ['ts-cjs', 'ts-cjs-require', 'js', 'js-cjs'];

export function variantOf(language: 'ts' | 'js', moduleSystem: 'esm' | 'cjs'): Variant {
  return moduleSystem === 'esm' ? language : `${language}-cjs`;
}

/**
 * The name a `ts-cjs-require` file gives a module it imports whole: its path in camel case, without
 * scope or `node:` (`@session-manager/runtime/express` is `runtimeExpress`), a relative one by its
 * file name with `Module` (`./session` is `sessionModule`). `taken` says whether a name is already
 * used in the file; then `Module` is added.
 */
export function requireAlias(specifier: string, taken: (name: string) => boolean = () => false): string {
  const relative = /^(?:\.{1,2}\/|__hbs\d+__)/.test(specifier);
  const path = relative ? (specifier.split('/').at(-1) ?? specifier) : specifier.replace(/^@[^/]+\/|^node:/, '');
  const words = path.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const name = words.map((word, index) => (index === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');
  return relative || taken(name) ? `${name}Module` : name;
}

/** A code template: TypeScript, with handlebars (`.ts.hbs`) or without (`.ts`). */
export const CODE_TEMPLATE = /\.ts(\.hbs)?$/;

/** The derived template's file name: `server.ts.hbs` becomes `server.js.hbs` in JavaScript, `app.express.ts` `app.express.js`. */
export function derivedName(templatePath: string, variant: Variant): string {
  return variant.startsWith('js') ? templatePath.replace(CODE_TEMPLATE, '.js$1') : templatePath;
}
