import type { GeneratorResult } from './generator-bench.js';
import {
  byId,
  type ContenderResult,
  caseLabel,
  casesOf,
  cpuRatio,
  isNoisy,
  ofCase,
  ratio,
  ratioByRound,
  type SoakResult,
  type TargetCheck,
  rssCrests,
} from './results.js';

/**
 * The targets of issue 5 (one session) and issue 18 (many sessions), checked against one run's
 * figures. Ratios come from the same run and the same case (number of sessions), so the machine's
 * speed cancels out; noise does not, which the table's flags show.
 */

const fixed = (value: number | undefined, digits = 2) => (value === undefined ? 'not measured' : value.toFixed(digits));

/**
 * A req/s ratio against its threshold; the CPU-time ratio is shown next to it. With --repeat the
 * ratio judged is the median of the rounds' ratios (see ratioByRound), and the ratio of the
 * medians is shown too. When either side was measured while other work used the machine (flagged
 * noisy), req/s says more about that work than about the servers, so the CPU-time ratio is judged
 * instead, and the line says so.
 */
function atLeast(
  target: string,
  results: readonly ContenderResult[],
  ids: [string, string],
  route: 'counter' | 'peek',
  threshold: number,
): TargetCheck {
  const [a, b] = ids.map((id) => byId(results, id));
  const ofMedians = ratio(a, b, route);
  const byRound = ratioByRound(a, b, route);
  const rps = byRound ?? ofMedians;
  const cpu = ratioByRound(a, b, route, cpuRatio) ?? cpuRatio(a, b, route);
  const noisy = isNoisy(a?.[route]) || isNoisy(b?.[route]);
  const value = noisy && cpu !== undefined && rps !== undefined ? cpu : rps;
  const measured =
    rps === undefined
      ? 'not measured'
      : noisy && cpu !== undefined
        ? `${fixed(cpu)}x by CPU time per request, judged so because the machine was busy (req/s: ${fixed(rps)}x)`
        : byRound === undefined
          ? `${fixed(rps)}x (by CPU time per request: ${fixed(cpu)}x)`
          : `${fixed(rps)}x, median of the rounds' ratios (by CPU time per request: ${fixed(cpu)}x; ratio of the medians: ${fixed(ofMedians)}x)`;
  return {
    target,
    measured: measured + floorNote(results, ids, route, noisy),
    met: value === undefined ? undefined : value >= threshold,
  };
}

/**
 * How far the floor rows get against the same base, so a run shows whether a threshold is
 * reachable at all. For a cookies target: a bare AES-GCM cookie counter, no session logic, then the
 * same inside a request context, which an importable `session` needs. For a files target: a bare
 * atomic session file (read; on a change, a temp file renamed over it), and the bare framework
 * itself, which no session library can beat. For a redis target: the same store through a client
 * with enableAutoPipelining.
 */
function floorNote(
  results: readonly ContenderResult[],
  ids: [string, string],
  route: 'counter' | 'peek',
  byCpu: boolean,
): string {
  const [framework, variant] = ids[0].split('/');
  const base = byId(results, ids[1]);
  const against = (id: string) => {
    const floor = byId(results, id);
    return byCpu
      ? (ratioByRound(floor, base, route, cpuRatio) ?? cpuRatio(floor, base, route))
      : (ratioByRound(floor, base, route) ?? ratio(floor, base, route));
  };
  const how = byCpu ? ' by CPU time' : '';
  if (variant === 'files') {
    const file = against(`${framework}/file-floor`);
    const bare = ids[1].endsWith('/bare') ? undefined : against(`${framework}/bare`);
    const parts = [
      file === undefined ? '' : `the floor (bare atomic session file, no session logic)${how}: ${fixed(file)}x`,
      bare === undefined ? '' : `bare ${framework} itself: ${fixed(bare)}x`,
    ].filter(Boolean);
    return parts.length === 0 ? '' : `; ${parts.join('; ')}`;
  }
  if (variant === 'redis') {
    // The same store through a client with ioredis' enableAutoPipelining, which the runtime's README recommends.
    const pipelined = against(`${framework}/redis-autopipelining`);
    return pipelined === undefined ? '' : `; with enableAutoPipelining${how}: ${fixed(pipelined)}x`;
  }
  if (variant !== 'cookies') return '';
  const bare = against(`${framework}/seal-floor`);
  const withContext = against(`${framework}/seal-floor-context`);
  const session = against(`${framework}/seal-floor-session`);
  if (bare === undefined) return '';
  const context = withContext === undefined ? '' : `, with a request context: ${fixed(withContext)}x`;
  const carried =
    session === undefined ? '' : `, carrying a session's expiry, id and JSON (with a context): ${fixed(session)}x`;
  return `; the floor (bare AES-GCM cookie, no session logic)${how}: ${fixed(bare)}x${context}${carried}`;
}

/**
 * Memory: a leak grows RSS steadily, while a heap settling to its working size grows it early and
 * stops. A server whose young garbage is promoted before it dies also saws: its RSS climbs until a
 * full collection and drops back, so one sample a third in and one at the end can fall on a trough
 * and a crest of the same saw. Growth is therefore judged between the middle third of the run and
 * its last third, by their highest and by their lowest samples: a leak raises both, a saw repeats
 * them. The RSS after warm-up and the end-against-a-third growth are reported beside it.
 */
export const RSS_GROWTH_ALLOWED = 0.05;

function memoryCheck(soak: readonly SoakResult[]): TargetCheck {
  const seconds = soak[0]?.seconds ?? 0;
  const sessions = (soak[0]?.sessions ?? 1).toLocaleString('en-US');
  const growths = soak.map((row) => {
    const crests = rssCrests(row.samples, row.seconds);
    return {
      label: row.label,
      growth: crests.growth,
      text: `crests ${mb(crests.middle)} -> ${mb(crests.last)} MB; after warm-up / at ${Math.round(row.seconds / 3)} s / end: ${mb(row.rssStart)} / ${mb(row.rssSteady)} / ${mb(row.rssEnd)} MB`,
    };
  });
  const worst = growths.reduce((a, b) => (b.growth > a.growth ? b : a));
  return {
    target: `memory: the highest and the lowest RSS of the last third of a ${seconds} s /counter run over ${sessions} sessions are each <= ${RSS_GROWTH_ALLOWED * 100}% above those of its middle third`,
    measured: `worst ${worst.label}: ${(worst.growth * 100).toFixed(1)}% (${worst.text})`,
    met: worst.growth <= RSS_GROWTH_ALLOWED,
  };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** Issue 5's targets, for a run of one session. */
function oneSessionTargets(results: readonly ContenderResult[]): TargetCheck[] {
  const suffix = ' [1 session]';
  const checks = [
    atLeast(
      `cookies on express >= 0.85 x bare express (/counter)${suffix}`,
      results,
      ['express/cookies', 'express/bare'],
      'counter',
      0.85,
    ),
    atLeast(
      `cookies on fastify >= 0.70 x bare fastify (/counter)${suffix}`,
      results,
      ['fastify/cookies', 'fastify/bare'],
      'counter',
      0.7,
    ),
    atLeast(
      `redis on express >= 1.3 x express-session + connect-redis (/counter)${suffix}`,
      results,
      ['express/redis', 'express/express-session-redis'],
      'counter',
      1.3,
    ),
    atLeast(
      `files on express >= 10 x express-session + session-file-store (/counter)${suffix}`,
      results,
      ['express/files', 'express/express-session-files'],
      'counter',
      10,
    ),
  ];
  for (const framework of ['node', 'express', 'fastify', 'koa']) {
    if (!byId(results, `${framework}/cookies`)) continue;
    checks.push(
      atLeast(
        `cookies on ${framework}: read-only /peek >= 0.85 x bare ${framework}${suffix}`,
        results,
        [`${framework}/cookies`, `${framework}/bare`],
        'peek',
        0.85,
      ),
    );
  }
  return checks;
}

/** Issue 18's targets, for the run with the most sessions. */
function manySessionsTargets(results: readonly ContenderResult[], label: string): TargetCheck[] {
  const suffix = ` [${label}]`;
  const checks: TargetCheck[] = [];
  const pairs: [string, [string, string], 'counter' | 'peek', number][] = [
    [
      'files on express >= 5 x express-session + session-file-store',
      ['express/files', 'express/express-session-files'],
      'counter',
      5,
    ],
    [
      'files on express >= 10 x express-session + session-file-store',
      ['express/files', 'express/express-session-files'],
      'peek',
      10,
    ],
    [
      'redis on express >= 1.5 x express-session + connect-redis',
      ['express/redis', 'express/express-session-redis'],
      'counter',
      1.5,
    ],
    ['cookies on express >= 0.70 x bare express', ['express/cookies', 'express/bare'], 'counter', 0.7],
    ['cookies on express >= 0.70 x bare express', ['express/cookies', 'express/bare'], 'peek', 0.7],
    ['cookies on fastify >= 0.55 x bare fastify', ['fastify/cookies', 'fastify/bare'], 'counter', 0.55],
    ['cookies on fastify >= 0.55 x bare fastify', ['fastify/cookies', 'fastify/bare'], 'peek', 0.55],
    [
      'cookies on fastify >= 1.2 x @fastify/secure-session',
      ['fastify/cookies', 'fastify/secure-session'],
      'counter',
      1.2,
    ],
    ['cookies on fastify >= 1.2 x @fastify/secure-session', ['fastify/cookies', 'fastify/secure-session'], 'peek', 1.2],
  ];
  for (const [target, ids, route, threshold] of pairs) {
    if (!byId(results, ids[0])) continue;
    checks.push(atLeast(`${target} (/${route})${suffix}`, results, ids, route, threshold));
  }
  const redis = byId(results, 'express/redis')?.redis;
  if (redis) {
    checks.push({
      target: `redis: a read-only request (/peek) makes <= 1 round trip${suffix}`,
      measured: `${redis.peek.commands.toFixed(2)} commands per /peek (and ${redis.counter.commands.toFixed(2)} per /counter)`,
      met: redis.peek.commands <= 1,
    });
  }
  return checks;
}

export function checkTargets(
  results: readonly ContenderResult[],
  soak: readonly SoakResult[],
  generator: GeneratorResult | { skipped: string } | undefined,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (results.length > 0) {
    const cases = casesOf(results).filter((which) => !which.folderFiles);
    const one = cases.find((which) => which.sessions === 1);
    if (one) checks.push(...oneSessionTargets(ofCase(results, one)));
    const most = cases[cases.length - 1];
    if (most && most.sessions > 1) checks.push(...manySessionsTargets(ofCase(results, most), caseLabel(most)));
    const checked = results.filter((result) => result.distinctSeen !== undefined);
    if (checked.length > 0) {
      const short = checked.filter((result) => (result.distinctSeen ?? 0) < (result.distinctSent ?? 0));
      checks.push({
        target: 'the load sends as many distinct sessions as it was asked to (counted by each server)',
        measured:
          short.length === 0
            ? `all ${checked.length} checked runs`
            : short
                .map(
                  (result) => `${result.id} [${caseLabel(result)}]: ${result.distinctSeen} of ${result.distinctSent}`,
                )
                .join(', '),
        met: short.length === 0,
      });
    }
    const ours = results.filter((result) => result.kind === 'ours' && result.peekSetsCookie !== undefined);
    const writers = ours.filter((result) => result.peekSetsCookie);
    if (ours.length > 0) {
      checks.push({
        target: 'read-only /peek sends no Set-Cookie (all our backends)',
        measured: writers.length === 0 ? `none of ${ours.length}` : writers.map((w) => w.id).join(', '),
        met: writers.length === 0,
      });
    }
    if (soak.length === 0) {
      checks.push({
        target: 'memory: no RSS growth over a 60 s run',
        measured: 'measured by `npm run bench -- --soak` (the table shows RSS over this shorter run)',
        met: undefined,
      });
    }
  }
  for (const sessions of [...new Set(soak.map((row) => row.sessions ?? 1))]) {
    checks.push(memoryCheck(soak.filter((row) => (row.sessions ?? 1) === sessions)));
  }
  if (generator && !('skipped' in generator)) {
    const times = generator.oursMedianMs / generator.createViteMedianMs;
    checks.push({
      target: 'generator <= 3 x create-vite (median)',
      measured: `${times.toFixed(2)}x (${Math.round(generator.oursMedianMs)} ms vs ${Math.round(generator.createViteMedianMs)} ms)`,
      met: times <= 3,
    });
  }
  return checks;
}

// `node --import tsx bench/targets.ts bench/results/<run>.json`: the targets of a saved run, checked
// again (after a change to how they are judged, or to read an old run).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/targets.ts bench/results/<run>.json');
    process.exit(2);
  }
  const { readFileSync } = await import('node:fs');
  const run = JSON.parse(readFileSync(file, 'utf8')) as {
    contenders: ContenderResult[];
    soak: SoakResult[];
    generator?: GeneratorResult | { skipped: string };
  };
  // Runs saved before the number of sessions was a dimension measured one session.
  const contenders = run.contenders.map((result) => ({ ...result, sessions: result.sessions ?? 1 }));
  for (const check of checkTargets(contenders, run.soak, run.generator)) {
    const verdict = check.met === undefined ? 'NOT MEASURED' : check.met ? 'met' : 'NOT MET';
    console.log(`- [${verdict}] ${check.target}: ${check.measured}`);
  }
}
