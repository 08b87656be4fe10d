import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from '../runtime/test/support/redis-server.js';
import { CONTENDERS, type Contender, selectContenders } from './contenders.js';
import { benchGenerator } from './generator-bench.js';
import { type LoadSettings, measure, primeSessions, visitsNow } from './load.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import { cookieSizes, filesSweepStall } from './probes.js';
import { summarizeProfile } from './profile-summary.js';
import {
  renderContenders,
  renderCosts,
  renderGenerator,
  renderLegend,
  renderPeers,
  renderProbes,
  renderSoak,
  renderTargets,
  writeJson,
} from './report.js';
import {
  type Case,
  type ContenderResult,
  caseLabel,
  combineRounds,
  type RedisCost,
  type RunResult,
  type SoakResult,
} from './results.js';
import { compileServers, startServer } from './server-process.js';
import { canPin, GENERATOR_CORE, pinProcess, rssOf, SERVER_CORE } from './system.js';
import { checkTargets } from './targets.js';

/**
 * `npm run bench`: every contender as its own server process on core 1, autocannon here on core 0.
 * For each: start, prime a session and check it counts, warm up, measure /counter then /peek,
 * stop. Then the generator benchmark, the table, the targets, and the JSON file.
 */

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const parsed = parseOptions(process.argv.slice(2));
if (parsed === 'help') {
  console.log(USAGE);
  process.exit(0);
}
const options: BenchOptions = parsed;
const settings: LoadSettings = { connections: options.connections, pipelining: options.pipelining };

for (const built of ['runtime/dist/index.js', 'runtime/dist/adapters/express.js', 'runtime/dist/adapters/fastify.js']) {
  if (!existsSync(built)) {
    console.error(`${built} is missing: build the runtime first (npm run build).`);
    process.exit(1);
  }
}

compileServers();
const cores = availableParallelism();
if (canPin) pinProcess(process.pid, GENERATOR_CORE);
else console.warn('taskset or a second core is unavailable: server and load generator share the CPU.');

// Everything to undo on the way out, also on Ctrl-C: servers, redis, temp folders.
const cleanups = new Set<() => Promise<void> | void>();
async function cleanUp(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    await Promise.resolve()
      .then(cleanup)
      .catch(() => {});
  }
}
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping servers');
  void cleanUp().finally(() => process.exit(130));
});

const contenders = options.soak
  ? CONTENDERS.filter(
      (contender) =>
        contender.kind === 'ours' &&
        (options.only.length === 0 || options.only.some((filter) => contender.id.includes(filter))),
    )
  : selectContenders(options.only);

const run: RunResult = {
  startedAt: new Date().toISOString(),
  options,
  machine: {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores,
    pinned: canPin,
    loadAverageAtStart: loadavg(),
  },
  contenders: [],
  soak: [],
  targets: [],
};
if (run.machine.loadAverageAtStart[0] !== undefined && run.machine.loadAverageAtStart[0] > 0.5) {
  console.warn(`load average ${run.machine.loadAverageAtStart[0].toFixed(2)}: the machine is busy, expect noise.`);
}

let redis: { server: RedisServer; pid: number } | undefined;
if (contenders.some((contender) => contender.needs === 'redis')) {
  const server = await startRedisServer();
  cleanups.add(() => server.dispose());
  // Redis works for the server under test: it gets the server's core, not the generator's.
  const client = new Redis(server.url);
  const info = await client.info('server');
  client.disconnect();
  const pid = Number(info.match(/process_id:(\d+)/)?.[1]);
  pinProcess(pid, SERVER_CORE);
  redis = { server, pid };
}

const profileDir = options.profile ? join('bench/results/profiles', run.startedAt.replace(/[:.]/g, '-')) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

/** Starts the contender's server with what it needs; the returned stop also removes its temp folder. */
async function launch(contender: Contender) {
  const env: Record<string, string> = {};
  let folder: string | undefined;
  if (contender.needs === 'redis' && redis) {
    env.BENCH_REDIS_URL = redis.server.url;
    // Each contender starts on an empty redis, so what it holds afterwards is its own.
    await withRedis((client) => client.flushall());
  }
  if (contender.needs === 'files') {
    folder = mkdtempSync(join(tmpdir(), 'csm-bench-files-'));
    env.BENCH_FILES_DIR = folder;
  }
  const removeFolder = () => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  };
  cleanups.add(removeFolder);
  const server = await startServer(contender, env, profileDir).catch((error: unknown) => {
    removeFolder();
    cleanups.delete(removeFolder);
    throw error;
  });
  const stop = async () => {
    await server.stop();
    removeFolder();
    cleanups.delete(removeFolder);
    cleanups.delete(stop);
  };
  cleanups.add(stop);
  const pids = () => (contender.needs === 'redis' && redis ? [server.pid, redis.pid] : [server.pid]);
  return { server, pids, stop, folder };
}

function printProfile(contender: Contender): void {
  if (!profileDir) return;
  const newest = readdirSync(profileDir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(profileDir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest) console.log(`\nCPU profile of ${contender.id}: ${newest}\n${summarizeProfile(newest, 20)}\n`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function withRedis<R>(use: (client: Redis) => Promise<R>): Promise<R> {
  if (!redis) throw new Error('no redis-server was started');
  const client = new Redis(redis.server.url);
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Session files in a folder: every name but the dot-named temp files. */
function countFiles(folder: string): number {
  return readdirSync(folder).filter((name) => !name.startsWith('.')).length;
}

/**
 * What a redis contender costs redis: the mean MEMORY USAGE of sampled session keys, and, with
 * MONITOR on, the commands a few requests on distinct sessions send (round trips) and run inside
 * scripts. A marker command closes the window, so no count waits on a timer.
 */
async function redisCost(url: string, cookies: readonly string[]): Promise<RedisCost> {
  return withRedis(async (client) => {
    let bytes = 0;
    let sampled = 0;
    for (let i = 0; i < 100; i++) {
      const key = await client.randomkey();
      if (key === null) break;
      bytes += Number(await client.memory('USAGE', key, 'SAMPLES', '0'));
      sampled++;
    }
    // The marker goes out on a connection opened before MONITOR starts: a new connection's own
    // commands (its ready check) would be counted as the requests'.
    await client.ping();
    const monitor = await client.monitor();
    const perRoute = async (route: '/counter' | '/peek', requests: number, offset: number) => {
      let commands = 0;
      let inScripts = 0;
      const marker = `bench-marker-${route}`;
      const done = new Promise<void>((resolve) => {
        const listener = (_time: string, args: string[], source: string) => {
          if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) {
            monitor.off('monitor', listener);
            resolve();
          } else if (source === 'lua') inScripts++;
          else commands++;
        };
        monitor.on('monitor', listener);
      });
      // Distinct sessions when there are enough; with one, the same session again.
      for (let i = 0; i < requests; i++) await visitsOn(url, route, cookies[(offset + i) % cookies.length] as string);
      await client.echo(marker);
      await done;
      return { commands: commands / requests, inScripts: inScripts / requests };
    };
    const requests = 20;
    const counter = await perRoute('/counter', requests, 0);
    const peek = await perRoute('/peek', requests, requests);
    monitor.disconnect();
    return { bytesPerSession: sampled === 0 ? 0 : bytes / sampled, counter, peek };
  });
}

async function visitsOn(url: string, route: '/counter' | '/peek', cookie: string): Promise<void> {
  const answer = await fetch(url + route, { headers: cookie ? { cookie } : {} });
  await answer.text();
}

async function benchContender(contender: Contender, of: Case): Promise<ContenderResult> {
  const result: ContenderResult = { ...contender, ...of };
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  try {
    launched = await launch(contender);
    const { server, pids, folder } = launched;
    if (of.folderFiles && of.folderFiles > of.sessions && contender.kind !== 'bare') {
      // The folder's other sessions: one /counter each, without a cookie, so each makes a new one.
      await measure(server.url, '/counter', [''], { requests: of.folderFiles - of.sessions }, settings, pids);
    }
    const primed = await primeSessions(contender, server.url, of.sessions);
    const { cookies } = primed;
    if (contender.kind !== 'bare') {
      result.peekSetsCookie = primed.peekSetsCookie;
      result.cookieBytes = Buffer.byteLength(primed.cookie);
    }
    if (folder) result.stored = countFiles(folder);
    if (contender.needs === 'redis') {
      result.stored = await withRedis((client) => client.dbsize());
      result.redis = await redisCost(server.url, cookies);
    }
    result.rssAtBoot = rssOf(server.pid);
    const load = (route: '/counter' | '/peek', seconds: number) =>
      measure(server.url, route, cookies, { seconds }, settings, pids);
    // The warm-up doubles as the check that the load really spreads: the server counts the
    // distinct cookies it receives (its count is off while anything is measured).
    if (contender.kind !== 'bare') await server.command('track', 'tracking');
    const checked =
      options.warmup > 0
        ? await load('/counter', options.warmup)
        : await measure(server.url, '/peek', cookies, { requests: Math.min(cookies.length, 2000) }, settings, pids);
    if (contender.kind !== 'bare') {
      result.distinctSeen = Number((await server.command('seen', 'seen ')).split(' ')[1]);
      result.distinctSent = Math.min(cookies.length, checked.requests);
      if (result.distinctSeen < result.distinctSent || result.distinctSeen > cookies.length) {
        throw new Error(
          `the load was meant to send ${fmt(result.distinctSent)} distinct sessions; the server saw ${fmt(result.distinctSeen)}`,
        );
      }
    }
    result.rssStart = rssOf(server.pid);
    result.counter = await load('/counter', options.duration);
    if (contender.kind !== 'bare') result.visitsAfterCounter = await visitsNow(server.url, primed.cookie);
    if (options.warmup > 0) await load('/peek', options.warmup);
    result.peek = await load('/peek', options.duration);
    result.rssEnd = rssOf(server.pid);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    await launched?.stop();
  }
  const { counter, peek } = result;
  const name = `${contender.id} (${fmt(of.sessions)}${of.folderFiles ? `, ${fmt(of.folderFiles)} files` : ''})`;
  console.log(
    result.error
      ? `${name.padEnd(44)} FAILED: ${result.error}`
      : `${name.padEnd(44)} /counter ${fmt(counter?.rps ?? 0).padStart(7)} req/s ${fmt(counter?.cpuUsPerRequest ?? 0).padStart(4)} us/req` +
          ` | /peek ${fmt(peek?.rps ?? 0).padStart(7)} req/s ${fmt(peek?.cpuUsPerRequest ?? 0).padStart(4)} us/req` +
          ` | server ${counter?.serverCores?.toFixed(2) ?? '?'} cores, others ${counter?.otherCores?.toFixed(2) ?? '?'}`,
  );
  printProfile(contender);
  return result;
}

async function soakContender(contender: Contender, sessions: number): Promise<SoakResult> {
  const launched = await launch(contender);
  try {
    const { server, pids } = launched;
    const { cookies } = await primeSessions(contender, server.url, sessions);
    const soakLoad = (seconds: number) => measure(server.url, '/counter', cookies, { seconds }, settings, pids);
    await soakLoad(Math.max(options.warmup, 3));
    const rssStart = rssOf(server.pid) ?? 0;
    const samples = [{ second: 0, rss: rssStart }];
    const every = Math.max(1, Math.round(options.soakSeconds / 12));
    const started = performance.now();
    const timer = setInterval(() => {
      const rss = rssOf(server.pid);
      if (rss !== undefined) samples.push({ second: Math.round((performance.now() - started) / 1000), rss });
    }, every * 1000);
    const measurement = await soakLoad(options.soakSeconds);
    clearInterval(timer);
    const rssEnd = rssOf(server.pid) ?? 0;
    samples.push({ second: options.soakSeconds, rss: rssEnd });
    const rssSteady = samples.find((sample) => sample.second >= options.soakSeconds / 3)?.rss ?? rssStart;
    console.log(
      `${contender.id.padEnd(24)} soak ${options.soakSeconds} s over ${fmt(sessions)} sessions: RSS ${(rssStart / 2 ** 20).toFixed(1)} -> ${(rssEnd / 2 ** 20).toFixed(1)} MB`,
    );
    return {
      id: contender.id,
      label: contender.label,
      sessions,
      seconds: options.soakSeconds,
      samples,
      rssStart,
      rssSteady,
      rssEnd,
      measurement,
    };
  } finally {
    await launched.stop();
    printProfile(contender);
  }
}

/**
 * The cases every contender runs: each number of sessions; then, for this project's files
 * contender on express (and its bare base), the largest number of sessions in a folder of
 * `folderFiles` files.
 */
function casesToRun(): { of: Case; contenders: Contender[] }[] {
  const cases: { of: Case; contenders: Contender[] }[] = options.sessions.map((sessions) => ({
    of: { sessions },
    contenders,
  }));
  const largest = options.sessions[options.sessions.length - 1] ?? 1;
  // Not session-file-store: making its tens of thousands of sessions one request at a time takes
  // many minutes, longer than the rest of the run.
  const folderIds = ['express/bare', 'express/files'];
  const inFolder = contenders.filter((contender) => folderIds.includes(contender.id));
  if (options.folderFiles > largest && inFolder.some((contender) => contender.needs === 'files')) {
    cases.push({ of: { sessions: largest, folderFiles: options.folderFiles }, contenders: inFolder });
  }
  return cases;
}

try {
  if (options.soak) {
    const count = contenders.length * options.sessions.length;
    console.log(`Memory soak: ${count} runs x ${options.soakSeconds} s of /counter\n`);
    for (const sessions of options.sessions) {
      for (const contender of contenders) run.soak.push(await soakContender(contender, sessions));
    }
  } else {
    const cases = casesToRun();
    const perContender = 2 * (options.warmup + options.duration) + 3;
    const runs = cases.reduce((sum, one) => sum + one.contenders.length, 0);
    const minutes = Math.ceil((options.repeat * runs * perContender) / 60);
    console.log(
      `Benchmarking ${cases.map((one) => `${one.contenders.length} contenders x ${caseLabel(one.of)}`).join(', ')}; ` +
        `${options.repeat} round(s), ~${minutes} min plus priming\n`,
    );
    // Rounds go over every case and contender in turn, so a burst of noise hits one round, not one
    // contender; a case's contenders run one after another, so its ratios compare close neighbours.
    const rounds = new Map<string, ContenderResult[]>();
    const key = (contender: Contender, of: Case) => `${contender.id} ${caseLabel(of)}`;
    for (let round = 1; round <= options.repeat; round++) {
      if (options.repeat > 1) console.log(`Round ${round} of ${options.repeat}`);
      for (const { of, contenders: inCase } of cases) {
        for (const contender of inCase) {
          const result = await benchContender(contender, of);
          rounds.set(key(contender, of), [...(rounds.get(key(contender, of)) ?? []), result]);
        }
      }
    }
    run.contenders = cases.flatMap(({ of, contenders: inCase }) =>
      inCase.map((contender) => combineRounds(rounds.get(key(contender, of)) ?? [])),
    );
    run.probes = {};
    if (contenders.some((contender) => contender.kind === 'ours' && contender.variant === 'cookies')) {
      run.probes.cookies = await cookieSizes();
    }
    if (
      options.folderFiles > 0 &&
      contenders.some((contender) => contender.kind === 'ours' && contender.needs === 'files')
    ) {
      console.log(`\nFiles: writing ${fmt(options.folderFiles)} sessions, then sweeping them`);
      run.probes.sweep = await filesSweepStall(options.folderFiles);
    }
    if (options.generatorRuns > 0 && (options.only.length === 0 || options.only.includes('generator'))) {
      console.log(`\nGenerator: ${options.generatorRuns} runs of each scaffolder`);
      run.generator = benchGenerator(options.generatorRuns);
    }
  }
} finally {
  await cleanUp();
}

run.finishedAt = new Date().toISOString();
run.machine.loadAverageAtEnd = loadavg();
run.targets = checkTargets(run.contenders, run.soak, run.generator);

console.log();
if (run.contenders.length > 0) {
  console.log(renderContenders(run.contenders));
  console.log(`\n${renderPeers(run.contenders)}`);
  console.log(`\n${renderCosts(run.contenders)}`);
}
if (run.probes) console.log(`\n${renderProbes(run.probes)}`);
if (run.soak.length > 0) console.log(renderSoak(run.soak));
if (run.generator) console.log(`\n${renderGenerator(run.generator)}`);
console.log(`\n${renderLegend(run)}`);
console.log(`\nTargets:\n${renderTargets(run.targets)}`);
console.log(`\nFigures written to ${writeJson(run)}`);
