import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';
import { CONTENDERS, type Contender, selectContenders } from './contenders.js';
import { benchGenerator } from './generator-bench.js';
import { type LoadSettings, measure, primeAndCheck, visitsNow } from './load.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import { summarizeProfile } from './profile-summary.js';
import {
  renderContenders,
  renderGenerator,
  renderLegend,
  renderPeers,
  renderSoak,
  renderTargets,
  writeJson,
} from './report.js';
import { type ContenderResult, combineRounds, type RunResult, type SoakResult } from './results.js';
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
  if (contender.needs === 'redis' && redis) env.BENCH_REDIS_URL = redis.server.url;
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
  return { server, pids, stop };
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

async function benchContender(contender: Contender): Promise<ContenderResult> {
  const result: ContenderResult = { ...contender };
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  try {
    launched = await launch(contender);
    const { server, pids } = launched;
    const primed = await primeAndCheck(contender, server.url);
    if (contender.kind !== 'bare') result.peekSetsCookie = primed.peekSetsCookie;
    result.rssAtBoot = rssOf(server.pid);
    const load = (route: '/counter' | '/peek', seconds: number) =>
      measure(server.url, route, primed.cookie, seconds, settings, pids);
    if (options.warmup > 0) await load('/counter', options.warmup);
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
  console.log(
    result.error
      ? `${contender.id.padEnd(32)} FAILED: ${result.error}`
      : `${contender.id.padEnd(32)} /counter ${fmt(counter?.rps ?? 0).padStart(7)} req/s ${fmt(counter?.cpuUsPerRequest ?? 0).padStart(4)} us/req` +
          ` | /peek ${fmt(peek?.rps ?? 0).padStart(7)} req/s ${fmt(peek?.cpuUsPerRequest ?? 0).padStart(4)} us/req` +
          ` | server ${counter?.serverCores?.toFixed(2) ?? '?'} cores, others ${counter?.otherCores?.toFixed(2) ?? '?'}`,
  );
  printProfile(contender);
  return result;
}

async function soakContender(contender: Contender): Promise<SoakResult> {
  const launched = await launch(contender);
  try {
    const { server, pids } = launched;
    const primed = await primeAndCheck(contender, server.url);
    await measure(server.url, '/counter', primed.cookie, Math.max(options.warmup, 3), settings, pids);
    const rssStart = rssOf(server.pid) ?? 0;
    const samples = [{ second: 0, rss: rssStart }];
    const every = Math.max(1, Math.round(options.soakSeconds / 12));
    const started = performance.now();
    const timer = setInterval(() => {
      const rss = rssOf(server.pid);
      if (rss !== undefined) samples.push({ second: Math.round((performance.now() - started) / 1000), rss });
    }, every * 1000);
    const measurement = await measure(server.url, '/counter', primed.cookie, options.soakSeconds, settings, pids);
    clearInterval(timer);
    const rssEnd = rssOf(server.pid) ?? 0;
    samples.push({ second: options.soakSeconds, rss: rssEnd });
    const rssSteady = samples.find((sample) => sample.second >= options.soakSeconds / 3)?.rss ?? rssStart;
    console.log(
      `${contender.id.padEnd(24)} soak ${options.soakSeconds} s: RSS ${(rssStart / 2 ** 20).toFixed(1)} -> ${(rssEnd / 2 ** 20).toFixed(1)} MB`,
    );
    return {
      id: contender.id,
      label: contender.label,
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

try {
  if (options.soak) {
    console.log(`Memory soak: ${contenders.length} contenders x ${options.soakSeconds} s of /counter\n`);
    for (const contender of contenders) run.soak.push(await soakContender(contender));
  } else {
    const perContender = 2 * (options.warmup + options.duration) + 2;
    const minutes = Math.ceil((options.repeat * contenders.length * perContender) / 60);
    console.log(`Benchmarking ${contenders.length} contenders x ${options.repeat} round(s), ~${minutes} min\n`);
    // Rounds go over every contender in turn, so a burst of noise hits one round, not one contender.
    const rounds = new Map<string, ContenderResult[]>(contenders.map((contender) => [contender.id, []]));
    for (let round = 1; round <= options.repeat; round++) {
      if (options.repeat > 1) console.log(`Round ${round} of ${options.repeat}`);
      for (const contender of contenders) rounds.get(contender.id)?.push(await benchContender(contender));
    }
    run.contenders = contenders.map((contender) => combineRounds(rounds.get(contender.id) ?? []));
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
}
if (run.soak.length > 0) console.log(renderSoak(run.soak));
if (run.generator) console.log(`\n${renderGenerator(run.generator)}`);
console.log(`\n${renderLegend(run)}`);
console.log(`\nTargets (issue 5):\n${renderTargets(run.targets)}`);
console.log(`\nFigures written to ${writeJson(run)}`);
