/**
 * The four variants of a code template: TypeScript or JavaScript, ES modules or CommonJS. The
 * templates are written once, as `ts` (TypeScript, ES modules); the build derives the others
 * into dist/templates/<variant>/ (scripts/derive.ts).
 */
export type Variant = 'ts' | 'ts-cjs' | 'js' | 'js-cjs';
export const DERIVED_VARIANTS: readonly Variant[] = ['ts-cjs', 'js', 'js-cjs'];

export function variantOf(language: 'ts' | 'js', moduleSystem: 'esm' | 'cjs'): Variant {
  return moduleSystem === 'esm' ? language : `${language}-cjs`;
}

/** A code template: TypeScript, with handlebars (`.ts.hbs`) or without (`.ts`). */
export const CODE_TEMPLATE = /\.ts(\.hbs)?$/;

/** The derived template's file name: `server.ts.hbs` becomes `server.js.hbs` in JavaScript, `app.express.ts` `app.express.js`. */
export function derivedName(templatePath: string, variant: Variant): string {
  return variant.startsWith('js') ? templatePath.replace(CODE_TEMPLATE, '.js$1') : templatePath;
}
