import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareOf } from './contenders.js';
import type { Measurement } from './load.js';
import {
  byId,
  type ContenderResult,
  caseLabel,
  casesOf,
  ofCase,
  isNoisy,
  NOISY_OTHER_CORES,
  type RunResult,
  ratio,
  rssCrests,
  type SoakResult,
  type TargetCheck,
} from './results.js';

/** The printed report (markdown tables, so a run can be pasted into the README) and the JSON file. */

const MB = 1024 * 1024;
const rps = (m: Measurement | undefined) => (m ? Math.round(m.rps).toLocaleString('en-US') : '-');
const p99 = (m: Measurement | undefined) => (m ? `${m.p99}` : '-');
const cpuUs = (m: Measurement | undefined) => (m?.cpuUsPerRequest === undefined ? '-' : m.cpuUsPerRequest.toFixed(0));
const times = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(2));
const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : (bytes / MB).toFixed(0));

function flags(result: ContenderResult): string {
  const notes: string[] = [];
  if (result.error) return 'FAILED';
  if (isNoisy(result.counter) || isNoisy(result.peek)) notes.push('noisy');
  const failures = (result.counter?.failures ?? 0) + (result.peek?.failures ?? 0);
  if (failures > 0) notes.push(`${failures} failed requests`);
  if (result.peekSetsCookie) notes.push('peek sets cookie');
  return notes.join(', ');
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One table per case (number of sessions, folder size): ratios are taken within a case only. */
export function renderContenders(all: readonly ContenderResult[]): string {
  return casesOf(all)
    .map((which) => `### ${caseLabel(which)}\n\n${renderCase(ofCase(all, which))}`)
    .join('\n\n');
}

function renderCase(results: readonly ContenderResult[]): string {
  const rows = results.map((result) => {
    const bare = result.kind === 'bare' ? undefined : byId(results, bareOf(result));
    const peer = byId(results, result.peer);
    return [
      result.label,
      result.storage,
      rps(result.counter),
      p99(result.counter),
      cpuUs(result.counter),
      times(ratio(result, bare, 'counter')),
      times(ratio(result, peer, 'counter')),
      rps(result.peek),
      p99(result.peek),
      cpuUs(result.peek),
      times(ratio(result, bare, 'peek')),
      times(ratio(result, peer, 'peek')),
      `${mb(result.rssStart)} -> ${mb(result.rssEnd)}`,
      flags(result),
    ];
  });
  return table(
    [
      'contender',
      'session in',
      '/counter req/s',
      'p99 ms',
      'CPU us/req',
      'x bare',
      'x peer',
      '/peek req/s',
      'p99 ms',
      'CPU us/req',
      'x bare',
      'x peer',
      'RSS MB',
      'notes',
    ],
    rows,
  );
}

export function renderPeers(results: readonly ContenderResult[]): string {
  const seen = new Set<string>();
  const lines = results
    .filter((result) => result.peer && !seen.has(result.id) && seen.add(result.id))
    .map((result) => `- ${result.label}: x peer is against ${byId(results, result.peer)?.label ?? result.peer}`);
  return lines.join('\n');
}

/**
 * What each session costs beyond time, per case: the distinct sessions the server saw during the
 * check, the sessions the store holds, the cookie's size, and for redis the memory per session
 * and the commands per request.
 */
export function renderCosts(all: readonly ContenderResult[]): string {
  const rows = all
    .filter((result) => result.kind !== 'bare' && !result.error)
    .map((result) => {
      const redis = result.redis;
      const commands = (route: 'counter' | 'peek') =>
        redis ? `${redis[route].commands.toFixed(1)} (+${redis[route].inScripts.toFixed(1)} in scripts)` : '-';
      return [
        result.label,
        caseLabel(result),
        result.distinctSeen === undefined
          ? '-'
          : `${result.distinctSeen.toLocaleString('en-US')} of ${(result.distinctSent ?? 0).toLocaleString('en-US')}`,
        result.stored === undefined ? '-' : result.stored.toLocaleString('en-US'),
        result.cookieBytes === undefined ? '-' : `${result.cookieBytes}`,
        redis ? `${Math.round(redis.bytesPerSession)}` : '-',
        commands('counter'),
        commands('peek'),
      ];
    });
  return table(
    [
      'contender',
      'case',
      'distinct sessions seen (of sent)',
      'sessions stored',
      'Cookie bytes',
      'redis bytes/session',
      'redis commands /counter',
      'redis commands /peek',
    ],
    rows,
  );
}

export function renderProbes(probes: NonNullable<RunResult['probes']>): string {
  const lines: string[] = [];
  const { cookies, sweep } = probes;
  if (cookies) {
    lines.push(
      `- cookies (ours): the counter session's cookie is ${cookies.counter} bytes (name=value; ${cookies.counterHeader} with its attributes); ` +
        `a session holding 1,024 characters of text: ${cookies.oneKilobyte} bytes.`,
    );
  }
  if (sweep) {
    lines.push(
      `- files (ours): ${sweep.files.toLocaleString('en-US')} sessions written in ${sweep.writeSeconds.toFixed(1)} s (in-process, no HTTP); ` +
        `the sweep deleted them in ${sweep.sweepSeconds.toFixed(1)} s (${sweep.left.toLocaleString('en-US')} left); ` +
        `longest event-loop stall meanwhile ${sweep.maxStallMs.toFixed(1)} ms (p99 ${sweep.p99StallMs.toFixed(1)} ms, monitorEventLoopDelay; ` +
        `${sweep.quietMaxStallMs.toFixed(1)} ms over a quiet spell right after, which is the machine's own).`,
    );
  }
  return lines.join('\n');
}

export function renderSoak(soak: readonly SoakResult[]): string {
  return table(
    [
      'contender',
      'sessions',
      'seconds',
      '/counter req/s',
      'RSS MB after warm-up',
      'at a third',
      'at end',
      'growth from a third',
      'crests: middle -> last third',
      'crest growth',
      'samples (MB)',
    ],
    soak.map((row) => {
      const crests = rssCrests(row.samples, row.seconds);
      return [
        row.label,
        (row.sessions ?? 1).toLocaleString('en-US'),
        `${row.seconds}`,
        rps(row.measurement),
        mb(row.rssStart),
        mb(row.rssSteady),
        mb(row.rssEnd),
        `${((row.rssEnd / row.rssSteady - 1) * 100).toFixed(1)}%`,
        `${mb(crests.middle)} -> ${mb(crests.last)}`,
        `${(crests.growth * 100).toFixed(1)}%`,
        row.samples.map((sample) => mb(sample.rss)).join(' '),
      ];
    }),
  );
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  return checks
    .map((check) => {
      const verdict = check.met === undefined ? 'NOT MEASURED' : check.met ? 'met' : 'NOT MET';
      return `- [${verdict}] ${check.target}: ${check.measured}`;
    })
    .join('\n');
}

export function renderGenerator(generator: RunResult['generator']): string {
  if (generator === undefined) return 'Generator benchmark not run.';
  if ('skipped' in generator) return `Generator benchmark skipped: ${generator.skipped}.`;
  const list = (runs: number[]) => runs.map((ms) => Math.round(ms)).join(', ');
  return [
    `Generator, median of ${generator.runs} runs: create-session-manager --yes --no-install ${Math.round(generator.oursMedianMs)} ms, ` +
      `create-vite vanilla-ts ${Math.round(generator.createViteMedianMs)} ms ` +
      `(${(generator.oursMedianMs / generator.createViteMedianMs).toFixed(2)}x).`,
    `  runs (ms): ours ${list(generator.oursRunsMs)}; create-vite ${list(generator.createViteRunsMs)}`,
  ].join('\n');
}

export function renderLegend(run: RunResult): string {
  const { options, machine } = run;
  return [
    `node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; ` +
      (machine.pinned
        ? 'servers (and redis) on core 1, autocannon on core 0.'
        : 'NOT pinned (taskset unavailable): figures are indicative only.'),
    `autocannon: ${options.connections} connections x ${options.pipelining} pipelined, ` +
      `${options.warmup} s warm-up + ${options.duration} s measured per route, ` +
      'each request sending the next of the primed sessions (each at visit 2) in turn' +
      (options.repeat > 1 ? `, median of ${options.repeat} rounds. ` : '. ') +
      `Load average at start ${machine.loadAverageAtStart.map((n) => n.toFixed(2)).join(' ')}` +
      (machine.loadAverageAtEnd ? `, at end ${machine.loadAverageAtEnd.map((n) => n.toFixed(2)).join(' ')}.` : '.'),
    `"noisy": other processes used more than ${NOISY_OTHER_CORES} of a core while it was measured. ` +
      '"CPU us/req": server CPU time per request (with redis-server\'s for redis rows), robust to such noise.',
  ].join('\n');
}

/** Writes the run to bench/results/<timestamp>.json and returns the path. */
export function writeJson(run: RunResult, directory = 'bench/results'): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${run.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`);
  return path;
}
