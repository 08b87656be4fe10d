import { describe, expect, it } from 'vitest';
import { comparableRange, judgeRange, majorsOf } from '../../generators/versions.js';

// The user's range against what the generated code supports: `ok` keeps theirs, `older` is a conflict.
const CASES: Array<{ spec: string; accepts: string; verdict: 'ok' | 'older'; why: string }> = [
  { spec: '^4.21.2', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'a supported older major' },
  { spec: '^5.1.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'the current major' },
  { spec: '^6.0.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'a newer major is kept' },
  { spec: '^3.21.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'an older major' },
  { spec: '~3.0.1', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'a tilde range on an older major' },
  { spec: '3.x', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'an x-range on an older major' },
  { spec: '*', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'any version' },
  { spec: '', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'an empty spec is any version' },
  { spec: 'latest', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'the latest tag' },
  { spec: '>=3', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'an open range that reaches a supported major' },
  { spec: '>=3 <4', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'a closed range below' },
  { spec: '<=3.5.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'an upper bound below' },
  { spec: 'workspace:*', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'a workspace package' },
  { spec: 'workspace:^', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: "a workspace's own version" },
  { spec: 'workspace:^3.0.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'a workspace range below' },
  { spec: 'npm:express@^4.21.2', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'an npm alias, supported' },
  { spec: 'npm:express@^3.0.0', accepts: '^4.0.0 || ^5.0.0', verdict: 'older', why: 'an npm alias, older' },
  { spec: 'npm:@scope/express', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'an alias without a version' },
  { spec: '^5.0.0-beta.3', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'a pre-release of a supported major' },
  { spec: '6.0.0-alpha.1', accepts: '^4.0.0 || ^5.0.0', verdict: 'ok', why: 'a pre-release of a newer major' },
  { spec: '4.0.0-rc.1', accepts: '^5.0.0', verdict: 'older', why: 'a pre-release of an older major' },
  { spec: '^5.6.3', accepts: '>=5.0.0', verdict: 'ok', why: 'TypeScript 5 is fine' },
  { spec: '~4.9.5', accepts: '>=5.0.0', verdict: 'older', why: 'TypeScript 4 is not' },
  { spec: '^22.10.0', accepts: '>=20.0.0', verdict: 'ok', why: '@types/node 22' },
  { spec: '^18.0.0', accepts: '>=20.0.0', verdict: 'older', why: '@types/node 18' },
  { spec: '^0.2.0', accepts: '^0.1.0', verdict: 'ok', why: 'a newer 0.x minor' },
  { spec: '^0.0.9', accepts: '^0.1.0', verdict: 'older', why: 'an older 0.x minor' },
  { spec: 'github:expressjs/express', accepts: '^5.0.0', verdict: 'ok', why: 'a git spec cannot be judged' },
  { spec: 'file:../express', accepts: '^5.0.0', verdict: 'ok', why: 'a local path cannot be judged' },
  { spec: 'next', accepts: '^5.0.0', verdict: 'ok', why: 'a dist-tag cannot be judged' },
];

describe('judgeRange', () => {
  it.each(CASES)('$spec against $accepts: $verdict ($why)', ({ spec, accepts, verdict }) => {
    expect(judgeRange(spec, accepts)).toBe(verdict);
  });
});

describe('comparableRange', () => {
  it.each([
    ['npm:express@^4', '^4'],
    ['npm:@types/express@~5.0.1', '~5.0.1'],
    ['workspace:~1.2.0', '~1.2.0'],
    ['workspace:*', undefined],
    ['latest', undefined],
    ['git+https://example.com/x.git', undefined],
  ])('%s is %s', (spec, range) => {
    expect(comparableRange(spec)).toBe(range);
  });
});

describe('majorsOf', () => {
  it('names the majors of a range for messages', () => {
    expect(majorsOf('^4.0.0 || ^5.0.0')).toBe('4 and 5');
    expect(majorsOf('^2.0.0 || ^3.0.0')).toBe('2 and 3');
    expect(majorsOf('^4.0.0')).toBe('4');
  });
});
