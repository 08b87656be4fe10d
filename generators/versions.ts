import semver from 'semver';

/**
 * How a dependency range the user already has compares with what the generated code works with:
 * `ok` keeps the user's range as it is (it allows a supported version, or only newer ones, or it is
 * something semver cannot judge: a git URL, a local path, a tag other than `latest`); `older` means
 * every version it allows is older than anything supported.
 */
export type Verdict = 'ok' | 'older';

const OPTIONS = { includePrerelease: true, loose: true } as const;

export function judgeRange(spec: string, accepts: string): Verdict {
  const range = comparableRange(spec);
  if (range === undefined || semver.validRange(range, OPTIONS) === null) return 'ok';
  if (semver.intersects(range, accepts, OPTIONS)) return 'ok';
  const lowest = semver.minVersion(range, OPTIONS);
  return lowest !== null && semver.gtr(lowest, accepts, OPTIONS) ? 'ok' : 'older';
}

/**
 * The semver range inside a package.json spec: `npm:express@^4` is `^4`, `workspace:^1.2.0` is
 * `^1.2.0`; undefined for what means "whatever is there" (`*`, `latest`, `workspace:*`, an empty
 * spec) and for what is not a registry range (git, file:, link:, URLs).
 */
export function comparableRange(spec: string): string | undefined {
  let range = spec.trim();
  if (range.startsWith('npm:')) {
    const at = range.lastIndexOf('@');
    // `npm:name` (no version, the name may be scoped): any version.
    range = at > 'npm:'.length ? range.slice(at + 1) : '';
  } else if (range.startsWith('workspace:')) {
    range = range.slice('workspace:'.length);
    if (range === '^' || range === '~') range = '';
  } else if (/^[a-z+]+:/i.test(range) || range.includes('/')) {
    return undefined;
  }
  if (range === '' || range === '*' || range === 'x' || range === 'latest') return undefined;
  return range;
}

/** The major versions a range allows, for messages: `^4.0.0 || ^5.0.0` is "4 and 5". */
export function majorsOf(accepts: string): string {
  const majors = accepts.split('||').map((part) => semver.minVersion(part.trim())?.major);
  const names = majors.filter((major): major is number => major !== undefined).map(String);
  return names.length <= 1 ? `${names[0] ?? accepts}` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The major version a user's range starts at ("3" for `^3.21.0`), or the spec itself when it has none. */
export function majorOfSpec(spec: string): string {
  const range = comparableRange(spec);
  const lowest = range === undefined ? null : semver.minVersion(range, OPTIONS);
  return lowest === null ? spec : String(lowest.major);
}
