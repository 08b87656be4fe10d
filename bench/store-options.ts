import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { spawnOnFreePort, spawnRedis, waitFor } from '../runtime/test/support/redis-process.js';
import { CONTENDERS, type Contender } from './contenders.js';
import { type Measurement, measure, primeSessions } from './load.js';
import { compileServers, startServer } from './server-process.js';
import { canPin, GENERATOR_CORE, pinProcess } from './system.js';

/**
 * `npm run bench:store-options`: what the files and redis stores' write options cost, on the
 * node:http contender of the main bench (its own process, on the server core): `merge` on (the
 * default) against off, and redis' `waitForReplica` against a master with one replica. /counter
 * writes on every request. With many sessions no two requests in flight share one (the merge only
 * compares); with one session every request overlaps others (the merge merges). Rounds alternate
 * the variants; each figure is the median of its rounds.
 *
 *   npm run bench:store-options -- [--seconds 5] [--rounds 3] [--sessions 1,1000]
 */
process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    sessions: { type: 'string', default: '1,1000' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const sessionCounts = (values.sessions as string).split(',').map(Number);
const settings = { connections: 16, pipelining: 1 };

interface Variant {
  label: string;
  contender: Contender;
  env: Record<string, string>;
}
const contender = (id: string) => CONTENDERS.find((c) => c.id === id) as Contender;
const VARIANTS: Variant[] = [
  { label: 'redis, merge (default)', contender: contender('node/redis'), env: {} },
  { label: 'redis, merge: false', contender: contender('node/redis'), env: { BENCH_MERGE: 'off' } },
  { label: 'redis, waitForReplica: 500', contender: contender('node/redis'), env: { BENCH_WAIT_FOR_REPLICA: '500' } },
  { label: 'files, merge (default)', contender: contender('node/files'), env: {} },
  { label: 'files, merge: false', contender: contender('node/files'), env: { BENCH_MERGE: 'off' } },
];

compileServers();
if (canPin) pinProcess(process.pid, GENERATOR_CORE);

const dir = mkdtempSync(join(tmpdir(), 'csm-bench-store-options-'));
const redisArgs = (port: number, extra: string[] = []) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
  ...extra,
];
const master = await spawnOnFreePort((port) => spawnRedis(port, redisArgs(port)));
const replica = await spawnOnFreePort((port) =>
  spawnRedis(port, redisArgs(port, ['--replicaof', '127.0.0.1', String(master.port)])),
);
const client = new Redis(master.port, '127.0.0.1');
await waitFor('the replica to be in sync', async () =>
  /slave0:.*state=online/.test(await client.info('replication')) ? true : undefined,
);

const results = new Map<string, Measurement[]>();
try {
  for (const sessions of sessionCounts) {
    for (let round = 1; round <= rounds; round++) {
      // Alternate the order, so no variant always runs first or last.
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        await client.flushall();
        const folder = mkdtempSync(join(dir, 'files-'));
        const server = await startServer(variant.contender, {
          BENCH_REDIS_URL: `redis://127.0.0.1:${master.port}`,
          BENCH_FILES_DIR: folder,
          ...variant.env,
        });
        try {
          const { cookies } = await primeSessions(variant.contender, server.url, sessions);
          const pids = () => [server.pid];
          await measure(server.url, '/counter', cookies, { seconds: 1 }, settings, pids);
          const measured = await measure(server.url, '/counter', cookies, { seconds }, settings, pids);
          if (measured.failures > 0) throw new Error(`${variant.label}: ${measured.failures} failed requests`);
          const key = `${sessions}|${variant.label}`;
          results.set(key, [...(results.get(key) ?? []), measured]);
          process.stderr.write(
            `${sessions} session(s), round ${round}, ${variant.label}: ${Math.round(measured.rps)} req/s, ` +
              `${measured.cpuUsPerRequest?.toFixed(1) ?? '?'} us server CPU a request\n`,
          );
        } finally {
          await server.stop();
          rmSync(folder, { recursive: true, force: true });
        }
      }
    }
  }
} finally {
  client.disconnect();
  await replica.stop();
  await master.stop();
  rmSync(dir, { recursive: true, force: true });
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
console.log(`\n/counter, node:http, ${settings.connections} connections, ${seconds} s x ${rounds} rounds (medians)\n`);
console.log('| sessions | variant | req/s | p99 ms | server CPU µs/request |');
console.log('| -------- | ------- | ----- | ------ | --------------------- |');
for (const sessions of sessionCounts) {
  for (const variant of VARIANTS) {
    const runs = results.get(`${sessions}|${variant.label}`) ?? [];
    const cpu = runs.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== undefined);
    console.log(
      `| ${sessions} | ${variant.label} | ${Math.round(median(runs.map((r) => r.rps)))} | ` +
        `${median(runs.map((r) => r.p99))} | ${cpu.length > 0 ? median(cpu).toFixed(1) : '?'} |`,
    );
  }
}
