import type { Contender } from './contenders.js';
import type { GeneratorResult } from './generator-bench.js';
import type { Measurement } from './load.js';
import type { BenchOptions } from './options.js';
import type { CookieSizes, SweepStall } from './probes.js';

/** What one run found: the shape of bench/results/<timestamp>.json. */

/** What a run of the contenders is spread over: the sessions the load sends, and the folder's size. */
export interface Case {
  /** Distinct sessions the requests send in turn. */
  sessions: number;
  /** For the folder run of the files contenders: session files in the folder (the load's among them). */
  folderFiles?: number;
}

export function caseLabel(of: Case): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const sessions = `${n(of.sessions)} session${of.sessions === 1 ? '' : 's'}`;
  return of.folderFiles ? `${sessions}, ${n(of.folderFiles)} files in the folder` : sessions;
}

export function sameCase(a: Case, b: Case): boolean {
  return a.sessions === b.sessions && (a.folderFiles ?? 0) === (b.folderFiles ?? 0);
}

/** What a redis contender costs redis, read after priming and in a short check with MONITOR on. */
export interface RedisCost {
  /** MEMORY USAGE of a session's key, mean over a sample. */
  bytesPerSession: number;
  /** Commands the server sent per request (round trips), and commands scripts ran inside redis. */
  counter: { commands: number; inScripts: number };
  peek: { commands: number; inScripts: number };
}

export interface ContenderResult extends Contender, Case {
  /** Distinct Cookie headers the server saw while the load's spreading was checked (bare: not checked). */
  distinctSeen?: number;
  /** Of how many requests, each meant to send a different session. */
  distinctSent?: number;
  /** Sessions the store holds after priming: session files in the folder, or keys in redis. */
  stored?: number;
  /** Bytes of the Cookie header a primed (visit 2) session sends. */
  cookieBytes?: number;
  redis?: RedisCost;
  counter?: Measurement;
  peek?: Measurement;
  /** Server RSS (bytes) right after start and priming, after warm-up, and after the last measurement. */
  rssAtBoot?: number;
  rssStart?: number;
  rssEnd?: number;
  peekSetsCookie?: boolean;
  /** /peek after the /counter run: a store that kept every write counts far past 2. */
  visitsAfterCounter?: number;
  error?: string;
  /** With --repeat: every round's figures; the ones above are their medians. */
  rounds?: ContenderResult[];
}

export interface SoakResult {
  id: string;
  label: string;
  /** Distinct sessions the soak's load was spread over. */
  sessions?: number;
  seconds: number;
  /** RSS (bytes) every few seconds, the first after warm-up. */
  samples: { second: number; rss: number }[];
  rssStart: number;
  /** The first sample a third into the run, when the heap has settled: growth is judged from here. */
  rssSteady: number;
  rssEnd: number;
  measurement: Measurement;
  error?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  /** Undefined when a contender it needs was not measured. */
  met: boolean | undefined;
}

export interface RunResult {
  startedAt: string;
  finishedAt?: string;
  options: BenchOptions;
  machine: {
    node: string;
    cpu: string;
    cores: number;
    pinned: boolean;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
  };
  contenders: ContenderResult[];
  soak: SoakResult[];
  /** Probes run next to the table: cookie sizes, the files sweep over a large folder. */
  probes?: { cookies?: CookieSizes; sweep?: SweepStall };
  generator?: GeneratorResult | { skipped: string };
  targets: TargetCheck[];
}

/** A measurement with more than this many cores of other work on the machine is flagged noisy. */
export const NOISY_OTHER_CORES = 0.15;

export function isNoisy(measurement: Measurement | undefined): boolean {
  return measurement?.otherCores !== undefined && measurement.otherCores > NOISY_OTHER_CORES;
}

/** The row of contender `id`; the results given must be one case's (see `ofCase`). */
export function byId(results: readonly ContenderResult[], id: string | undefined): ContenderResult | undefined {
  return id === undefined ? undefined : results.find((result) => result.id === id);
}

/** The distinct cases of a run, in the order they were measured. */
export function casesOf(results: readonly ContenderResult[]): Case[] {
  const cases: Case[] = [];
  for (const result of results) if (!cases.some((known) => sameCase(known, result))) cases.push(result);
  return cases;
}

/** The rows of one case: ratios are only ever taken between rows of the same case. */
export function ofCase(results: readonly ContenderResult[], which: Case): ContenderResult[] {
  return results.filter((result) => sameCase(result, which));
}

/** `a`'s req/s over `b`'s on a route; undefined when either is missing or failed. */
export function ratio(
  a: ContenderResult | undefined,
  b: ContenderResult | undefined,
  route: 'counter' | 'peek',
): number | undefined {
  const top = a?.[route];
  const bottom = b?.[route];
  if (!top || !bottom || top.failures > 0 || bottom.failures > 0 || bottom.rps === 0) return undefined;
  return top.rps / bottom.rps;
}

/**
 * The same ratio from server CPU time per request (`b`'s cost over `a`'s): robust to other work
 * stealing the server's core, so it is the figure to trust when a run is noisy.
 */
export function cpuRatio(
  a: ContenderResult | undefined,
  b: ContenderResult | undefined,
  route: 'counter' | 'peek',
): number | undefined {
  const top = a?.[route]?.cpuUsPerRequest;
  const bottom = b?.[route]?.cpuUsPerRequest;
  if (top === undefined || bottom === undefined || top === 0) return undefined;
  return bottom / top;
}

/**
 * With --repeat: the median of each round's ratio. The contenders of one round run a minute or two
 * apart, so a slow spell of the machine (this VM has spells in which everything runs about twice
 * as slow) hits both sides of one round's ratio more often than it hits both medians.
 * Undefined without rounds.
 */
export function ratioByRound(
  a: ContenderResult | undefined,
  b: ContenderResult | undefined,
  route: 'counter' | 'peek',
  of: typeof ratio = ratio,
): number | undefined {
  const [first, second] = [a?.rounds, b?.rounds];
  if (!first || !second || first.length !== second.length || first.length < 2) return undefined;
  const values = first
    .map((round, index) => of(round, second[index], route))
    .filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : median(values);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function medianOf(measurements: Measurement[]): Measurement | undefined {
  if (measurements.length === 0) return undefined;
  const of = (pick: (m: Measurement) => number | undefined) => {
    const values = measurements.map(pick).filter((value): value is number => value !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  return {
    rps: of((m) => m.rps) as number,
    p99: of((m) => m.p99) as number,
    requests: measurements.reduce((sum, m) => sum + m.requests, 0),
    failures: measurements.reduce((sum, m) => sum + m.failures, 0),
    serverCores: of((m) => m.serverCores),
    otherCores: of((m) => m.otherCores),
    cpuUsPerRequest: of((m) => m.cpuUsPerRequest),
  };
}

/** One contender's rounds folded into one row: the median of each figure, failures summed. */
export function combineRounds(rounds: ContenderResult[]): ContenderResult {
  const last = rounds[rounds.length - 1] as ContenderResult;
  if (rounds.length === 1) return last;
  const ok = rounds.filter((round) => round.error === undefined);
  const measured = (route: 'counter' | 'peek') =>
    ok.map((round) => round[route]).filter((m): m is Measurement => m !== undefined);
  return {
    ...last,
    counter: medianOf(measured('counter')),
    peek: medianOf(measured('peek')),
    error: ok.length === 0 ? last.error : undefined,
    rounds,
  };
}

/**
 * The highest and lowest RSS samples of a run's middle third and of its last third (bytes), and the
 * growth between them: the larger of the rise of the crests and the rise of the troughs, since a leak
 * raises both while a saw repeats them.
 */
export function rssCrests(samples: readonly { second: number; rss: number }[], seconds: number) {
  const third = seconds / 3;
  const middle = samples.filter((s) => s.second >= third && s.second <= 2 * third).map((s) => s.rss);
  const last = samples.filter((s) => s.second > 2 * third).map((s) => s.rss);
  if (middle.length === 0 || last.length === 0) return { middle: 0, last: 0, growth: 0 };
  const rise = (before: number, after: number) => after / before - 1;
  return {
    middle: Math.max(...middle),
    last: Math.max(...last),
    growth: Math.max(rise(Math.max(...middle), Math.max(...last)), rise(Math.min(...middle), Math.min(...last))),
  };
}
