import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { CookieJar } from '../../support/cookie-jar.js';
import { askRedis } from '../../support/redis-process.js';

/** One request of the traffic. */
export interface Sample {
  worker: number;
  start: number;
  end: number;
  status: number;
  body: string;
  /** The visit count a 200 answered. */
  counter: number | undefined;
  /** Whether the response set a cookie. */
  setCookie: boolean;
}

export interface FailoverFigures {
  requests: number;
  /** Requests answered with anything but a 200. */
  failed: number;
  /** Of those, the requests of sessions that were not on the killed server. */
  failedElsewhere: number;
  /** Requests answered with neither a 200 nor a 503 (must be none). */
  unexpected: Sample[];
  /** Workers whose session still answered 200 after the kill, and those whose session was hit. */
  workers: number;
  hitWorkers: number;
  /** From the kill to the last worker's first 200 (ms); undefined if some worker never recovered. */
  recoveryMs: number | undefined;
  /** The longest request, in ms. */
  longestMs: number;
  /** Sessions that came back empty (their counter started again at 1). */
  sessionsLost: number;
  /** The workers whose session came back empty. */
  lostWorkers: number[];
  /** Workers whose session the server that took over did not hold at the kill (undefined: not checked). */
  missingOnReplica: number[] | undefined;
  /** Failed requests (not 200) that set a cookie: a failure must leave the visitor's cookie alone. */
  failuresSettingCookies: number;
  /** Acknowledged visits that a later 200 did not count (a write acknowledged, then lost). */
  writesLost: number;
}

export interface TrafficOptions {
  /** The /counter URL of worker `index` (lets workers spread over several apps). */
  urlFor(index: number): string;
  workers: number;
  /** Visits each worker makes before the traffic is measured, so every session exists. */
  warmUpVisits?: number;
  /** Traffic before the kill. */
  beforeKillMs?: number;
  /**
   * Picks and kills a server, knowing each worker's session id; resolves when it is dead. It may
   * also say which workers' sessions the replica that will take over did not hold just before the
   * kill: replication is asynchronous, so those are the only sessions the failover may lose.
   */
  kill(sessionIds: string[]): Promise<{ hitWorkers: number[]; missingOnReplica?: number[] }>;
  /** Runs after the kill, while the traffic goes on (for example: restart the killed node once replaced). */
  afterKill?(): Promise<void>;
  /** Gives up waiting for every worker to recover after this long. */
  recoveryDeadlineMs?: number;
  /** Traffic kept going after the last worker recovered. */
  afterRecoveryMs?: number;
}

const counterOf = (body: string) => {
  const match = /This is your (\d+) visit/.exec(body);
  return match ? Number(match[1]) : undefined;
};

/**
 * Workers that each keep one session and count visits with it while a redis server is killed. The
 * result holds every request, the kill time, and the figures the tests assert and print.
 */
export async function failoverUnderTraffic(options: TrafficOptions): Promise<{
  samples: Sample[];
  killedAt: number;
  figures: FailoverFigures;
}> {
  const jars = Array.from({ length: options.workers }, () => new CookieJar());
  for (let visit = 0; visit < (options.warmUpVisits ?? 1); visit++) {
    await Promise.all(
      jars.map(async (jar, index) => {
        // Not measured: a busy machine may time a command out, so a visit is tried again.
        for (let attempt = 1; ; attempt++) {
          const { status } = await jar.get(options.urlFor(index));
          if (status === 200) return;
          if (attempt === 5) throw new Error(`warm-up visit answered ${status}, ${attempt} times`);
        }
      }),
    );
  }
  const sessionIds = jars.map((jar) => [...jar.cookies.values()][0] ?? '');

  const samples: Sample[] = [];
  let running = true;
  const worker = async (index: number) => {
    const jar = jars[index] as CookieJar;
    while (running) {
      const start = performance.now();
      let status = 0;
      let body = '';
      let setCookies: string[] = [];
      try {
        ({ status, body, setCookies } = await jar.get(options.urlFor(index)));
      } catch (error) {
        body = String(error);
      }
      const end = performance.now();
      samples.push({
        worker: index,
        start,
        end,
        status,
        body,
        counter: counterOf(body),
        setCookie: setCookies.length > 0,
      });
      // A visitor's pace, not a load test: leave the busy machine room for the servers' own work.
      await sleep(status === 200 ? 20 : 50);
    }
  };
  const workers = jars.map((_, index) => worker(index));

  await sleep(options.beforeKillMs ?? 500);
  const { hitWorkers, missingOnReplica } = await options.kill(sessionIds);
  const killedAt = performance.now();
  const afterKill = options.afterKill?.();

  const recovered = () => {
    const seen = new Set<number>();
    for (const s of samples) if (s.status === 200 && s.start >= killedAt) seen.add(s.worker);
    return seen.size === options.workers;
  };
  const deadline = killedAt + (options.recoveryDeadlineMs ?? 45_000);
  while (!recovered() && performance.now() < deadline) await sleep(50);
  await afterKill;
  await sleep(options.afterRecoveryMs ?? 300);
  running = false;
  await Promise.all(workers);

  return {
    samples,
    killedAt,
    figures: figuresOf(samples, killedAt, options.workers, hitWorkers, missingOnReplica),
  };
}

function figuresOf(
  samples: Sample[],
  killedAt: number,
  workers: number,
  hitWorkers: number[],
  missingOnReplica: number[] | undefined,
): FailoverFigures {
  let recoveryMs: number | undefined = 0;
  let sessionsLost = 0;
  const lostWorkers = new Set<number>();
  let writesLost = 0;
  for (let worker = 0; worker < workers; worker++) {
    const own = samples.filter((s) => s.worker === worker);
    const firstAfter = own.find((s) => s.status === 200 && s.start >= killedAt);
    if (firstAfter === undefined) recoveryMs = undefined;
    else if (recoveryMs !== undefined) recoveryMs = Math.max(recoveryMs, firstAfter.end - killedAt);
    let previous: number | undefined;
    for (const sample of own) {
      if (sample.counter === undefined) continue;
      if (previous !== undefined && sample.counter === 1 && previous > 1) {
        sessionsLost++;
        lostWorkers.add(worker);
      } else if (previous !== undefined && sample.counter <= previous) writesLost += previous - sample.counter + 1;
      previous = sample.counter;
    }
  }
  return {
    requests: samples.length,
    failed: samples.filter((s) => s.status !== 200).length,
    failedElsewhere: samples.filter((s) => s.status !== 200 && !hitWorkers.includes(s.worker)).length,
    unexpected: samples.filter((s) => s.status !== 200 && s.status !== 503),
    workers,
    hitWorkers: hitWorkers.length,
    recoveryMs,
    longestMs: Math.max(...samples.map((s) => s.end - s.start)),
    sessionsLost,
    lostWorkers: [...lostWorkers],
    missingOnReplica,
    failuresSettingCookies: samples.filter((s) => s.status !== 200 && s.setCookie).length,
    writesLost,
  };
}

/** One line for the test output (and the README). */
export function describeFigures(label: string, figures: FailoverFigures): string {
  const recovery = figures.recoveryMs === undefined ? 'never' : `${(figures.recoveryMs / 1000).toFixed(1)} s`;
  return (
    `[several servers] ${label}: ${figures.failed} of ${figures.requests} requests failed (all 503: ` +
    `${figures.unexpected.length === 0 ? 'yes' : 'no'}; ${figures.failedElsewhere} of them for sessions on other ` +
    `servers), ${figures.hitWorkers} of ${figures.workers} sessions on ` +
    `the killed master, recovered ${recovery} after the kill, longest request ${Math.round(figures.longestMs)} ms, ` +
    `sessions lost ${figures.sessionsLost}${missing(figures)}, acknowledged writes lost ${figures.writesLost}`
  );
}

function missing(figures: FailoverFigures): string {
  if (figures.missingOnReplica === undefined) return '';
  return ` (${figures.missingOnReplica.length} not yet on the replica at the kill)`;
}

/**
 * The indexes of `keys` that the redis server on `port` (a replica) does not hold. A cluster
 * replica answers only after READONLY (otherwise it redirects to its master).
 */
export async function keysMissingOn(port: number, keys: string[], { cluster = false } = {}): Promise<number[]> {
  const held = await askRedis(port, async (redis) => {
    if (cluster) await redis.call('READONLY');
    return Promise.all(keys.map((key) => redis.exists(key)));
  });
  return held.flatMap((count, index) => (count === 0 ? [index] : []));
}

/**
 * What a failover may lose. With `waitForReplica`, nothing: each write a replica acknowledged survives
 * its master's death. Without it, replication is asynchronous, so only the sessions the replica did
 * not hold yet when the master died; never one it held. `explain` adds what to print on a failure.
 */
export function expectNoLossBeyondReplication(figures: FailoverFigures, waitedForReplica: boolean, explain = ''): void {
  expect(figures.missingOnReplica).toBeDefined();
  if (waitedForReplica) {
    expect(figures.sessionsLost).toBe(0);
    expect(figures.writesLost).toBe(0);
    return;
  }
  const heldButLost = figures.lostWorkers.filter((worker) => !figures.missingOnReplica?.includes(worker));
  expect(heldButLost, `sessions lost that the replica held${explain}`).toEqual([]);
}

/** A field of an INFO reply, as a number. */
function infoNumber(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(-?\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : undefined;
}

/**
 * Waits until the replica on `replicaPort` has everything its master on `masterPort` had when this
 * was called (its replication offset reached the master's), and says how long that took. A replica
 * can be behind by more than the last writes in flight, for instance during a full resync; a kill
 * right then would lose what the test means to measure the runtime on, so the tests wait for it.
 * Gives up (and says so) after `timeoutMs`.
 */
export async function replicaCaughtUp(
  masterPort: number,
  replicaPort: number,
  { cluster = false, timeoutMs = 20_000 } = {},
): Promise<{ waitedMs: number; caughtUp: boolean }> {
  const started = performance.now();
  const target = infoNumber(await askRedis(masterPort, (redis) => redis.info('replication')), 'master_repl_offset');
  for (;;) {
    const info = await askRedis(replicaPort, async (redis) => {
      if (cluster) await redis.call('READONLY');
      return redis.info('replication');
    });
    const offset = infoNumber(info, 'slave_repl_offset');
    const waitedMs = performance.now() - started;
    if (target !== undefined && offset !== undefined && /master_link_status:up/.test(info) && offset >= target) {
      return { waitedMs, caughtUp: true };
    }
    if (waitedMs > timeoutMs) return { waitedMs, caughtUp: false };
    await sleep(20);
  }
}

/** The catch-up wait, for the test output. */
export function describeCatchUp(catchUp: { waitedMs: number; caughtUp: boolean } | undefined): string {
  if (catchUp === undefined) return '(replica not checked)';
  const waited = `${Math.round(catchUp.waitedMs)} ms`;
  return catchUp.caughtUp ? `(replica caught up after ${waited})` : `(replica still behind after ${waited})`;
}
