import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askRedis, type RedisProcess, spawnOnFreePort, spawnRedis, waitFor } from './redis-process.js';

const HOST = '127.0.0.1';
export const SENTINEL_MASTER_NAME = 'sessions';

export interface SentinelDataServer {
  readonly port: number;
  readonly running: boolean;
  /** SIGKILL, as a crashed machine. */
  kill(): Promise<void>;
  /** Starts it again, empty, as a replica of the server on `replicaOf` (the master after a failover). */
  restart(replicaOf: number): Promise<void>;
  /** What its processes printed (each start's log, in order): says what replication did when a test fails. */
  log(): string;
}

export interface RedisSentinelSetup {
  /** What ioredis' `new Redis({ sentinels, name })` needs. */
  readonly sentinels: { host: string; port: number }[];
  readonly name: string;
  readonly downAfterMs: number;
  /** The master and the replica, in start order (the master first). */
  readonly servers: readonly SentinelDataServer[];
  /** The port every sentinel names as the master; fails while they disagree. */
  masterPort(): Promise<number>;
  /** Waits until the sentinels agree on a running master, know each other, and its replica is in sync. */
  waitHealthy(): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * A real Sentinel set-up for tests: one master, one replica and three `redis-server --sentinel`
 * processes (quorum 2) on loopback, with a short `down-after-milliseconds` (30 s by default in Redis)
 * so a failover takes seconds. No persistence.
 */
export async function startRedisSentinel(options: { downAfterMs?: number } = {}): Promise<RedisSentinelSetup> {
  const downAfterMs = options.downAfterMs ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'csm-sentinel-'));
  const processes: RedisProcess[] = [];
  const dataArgs = (port: number, replicaOf?: number) => {
    const dir = join(root, `data-${port}`);
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];
    if (replicaOf !== undefined) args.push('--replicaof', HOST, String(replicaOf));
    return args;
  };

  const servers: SentinelDataServer[] = [];
  const sentinelPorts: number[] = [];
  const startData = async (replicaOf?: number) => {
    const first = await spawnOnFreePort((port) => spawnRedis(port, dataArgs(port, replicaOf)));
    processes.push(first);
    let current: RedisProcess | undefined = first;
    const runs = [first];
    servers.push({
      port: first.port,
      get running() {
        return current !== undefined;
      },
      async kill() {
        await current?.stop({ kill: true });
        current = undefined;
      },
      async restart(master: number) {
        if (current) return;
        current = await spawnRedis(first.port, dataArgs(first.port, master));
        processes.push(current);
        runs.push(current);
      },
      log: () => runs.map((run) => run.output()).join('\n'),
    });
    return first.port;
  };

  try {
    const masterPort = await startData();
    await startData(masterPort);
    for (let i = 0; i < 3; i++) {
      const sentinel = await spawnOnFreePort((port) => {
        const dir = join(root, `sentinel-${port}`);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, 'sentinel.conf');
        // Sentinel rewrites its config file, so each gets its own.
        writeFileSync(
          file,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_MASTER_NAME} ${HOST} ${masterPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
            `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${Math.max(3000, downAfterMs * 3)}`,
            `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
            '',
          ].join('\n'),
        );
        return spawnRedis(port, [file, '--sentinel'], /\+monitor master/);
      });
      processes.push(sentinel);
      sentinelPorts.push(sentinel.port);
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop({ kill: true })));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const ask = askRedis;

  const masterPort = async () => {
    const answers = await Promise.all(
      sentinelPorts.map(
        async (port) =>
          (await ask(port, (redis) => redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME))) as [
            string,
            string,
          ],
      ),
    );
    const ports = new Set(answers.map(([, port]) => Number(port)));
    if (ports.size !== 1) throw new Error(`the sentinels disagree on the master: ${[...ports].join(', ')}`);
    return [...ports][0] as number;
  };

  const setup: RedisSentinelSetup = {
    sentinels: sentinelPorts.map((port) => ({ host: HOST, port })),
    name: SENTINEL_MASTER_NAME,
    downAfterMs,
    servers,
    masterPort,
    waitHealthy: () =>
      waitFor(
        'the sentinel set-up to be healthy',
        async () => {
          const master = await masterPort();
          if (!servers.some((server) => server.running && server.port === master)) return undefined;
          const role = (await ask(master, (redis) => redis.info('replication'))) as string;
          if (!/role:master/.test(role) || !/slave0:.*state=online/.test(role)) return undefined;
          for (const port of sentinelPorts) {
            const others = (await ask(port, (redis) =>
              redis.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME),
            )) as unknown[];
            const replicas = (await ask(port, (redis) =>
              redis.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME),
            )) as string[][];
            const replicaUp = replicas.some((fields) => {
              const flags = fields[fields.indexOf('flags') + 1] ?? '';
              return flags === 'slave';
            });
            if (others.length !== 2 || !replicaUp) return undefined;
          }
          return master;
        },
        60_000,
      ),
    async dispose() {
      await Promise.all(processes.map((p) => p.stop({ kill: true })));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await setup.waitHealthy();
  } catch (error) {
    await setup.dispose();
    throw error;
  }
  return setup;
}
