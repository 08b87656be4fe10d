/**
 * .env and .gitignore belong to the user as soon as they exist: the generator only appends the
 * lines it needs and never rewrites or reorders theirs.
 */

/** `.env` lines for the keys it lacks (`KEY=value`; `export KEY=` counts as present). */
export function missingEnvLines(existing: string, wanted: Record<string, string>): string[] {
  return Object.entries(wanted)
    .filter(([key]) => !new RegExp(`^\\s*(?:export\\s+)?${key}\\s*=`, 'm').test(existing))
    .map(([key, value]) => `${key}=${value}`);
}

/** `.gitignore` patterns it lacks; `node_modules`, `/node_modules` and `node_modules/` are the same. */
export function missingIgnoreLines(existing: string, wanted: readonly string[]): string[] {
  const normalize = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');
  const present = new Set(existing.split(/\r?\n/).map(normalize));
  return wanted.filter((line) => !present.has(normalize(line)));
}

/** The file with the lines appended, on a line of their own. */
export function appendLines(existing: string, lines: readonly string[]): string {
  if (lines.length === 0) return existing;
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  return existing + separator + lines.join('\n') + '\n';
}
