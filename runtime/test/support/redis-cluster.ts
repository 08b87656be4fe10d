import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askRedis, type RedisProcess, redisCli, spawnOnFreePort, spawnRedis, waitFor } from './redis-process.js';

const HOST = '127.0.0.1';

export interface ClusterNode {
  readonly port: number;
  readonly running: boolean;
  /** SIGKILL: the node dies as a crashed machine would, without a word to the others. */
  kill(): Promise<void>;
  /** Starts the node again on its port with its cluster state (it rejoins, as a replica if it lost its slots). */
  restart(): Promise<void>;
}

export interface ClusterMaster {
  port: number;
  /** Inclusive slot ranges. */
  slots: [number, number][];
  /** Ports of the replicas that follow it and are not marked failed. */
  replicas: number[];
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** What ioredis' `new Cluster(startupNodes)` needs. */
  readonly startupNodes: { host: string; port: number }[];
  readonly nodeTimeoutMs: number;
  /** The masters as a running node sees them (failed ones left out). */
  masters(): Promise<ClusterMaster[]>;
  /** The port of the master that serves `key` now. */
  masterOf(key: string): Promise<number>;
  /** Waits until every running node reports the cluster ok and `masters` masters each with a replica in sync. */
  waitHealthy(options?: { replicated?: boolean }): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas, plain `redis-server --cluster-enabled yes`
 * processes on loopback joined with `redis-cli --cluster create --cluster-replicas 1`. No persistence:
 * a killed node comes back empty and must rejoin as a replica (`restart` is for after its failover).
 * `nodeTimeoutMs` is Redis' `cluster-node-timeout` (15 s by default), which bounds how long a dead
 * master's slots stay unserved.
 */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const root = mkdtempSync(join(tmpdir(), 'csm-cluster-'));
  const argsFor = (port: number) => {
    const dir = join(root, String(port));
    mkdirSync(dir, { recursive: true });
    return [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      // A replica may take over however long it lost touch: the test kills masters on a busy machine.
      '--cluster-replica-validity-factor',
      '0',
    ];
  };

  const processes: RedisProcess[] = [];
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const first = await spawnOnFreePort((port) => spawnRedis(port, argsFor(port)));
      let current: RedisProcess | undefined = first;
      processes.push(first);
      const { port } = first;
      nodes.push({
        port,
        get running() {
          return current !== undefined;
        },
        async kill() {
          await current?.stop({ kill: true });
          current = undefined;
        },
        async restart() {
          if (current) return;
          current = await spawnRedis(port, argsFor(port));
          processes.push(current);
        },
      });
    }
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']);
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop({ kill: true })));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const ask = askRedis;

  const running = () => nodes.filter((node) => node.running);

  const masters = async (): Promise<ClusterMaster[]> => {
    const errors: unknown[] = [];
    for (const node of running()) {
      try {
        const text = (await ask(node.port, (redis) => redis.call('CLUSTER', 'NODES'))) as string;
        return parseClusterNodes(text);
      } catch (error) {
        errors.push(error);
      }
    }
    throw new Error(`no cluster node answered CLUSTER NODES: ${errors.map(String).join('; ')}`);
  };

  const cluster: RedisCluster = {
    nodes,
    startupNodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    nodeTimeoutMs,
    masters,
    async masterOf(key) {
      const [live] = running();
      if (!live) throw new Error('no cluster node is running');
      const slot = (await ask(live.port, (redis) => redis.call('CLUSTER', 'KEYSLOT', key))) as number;
      const master = (await masters()).find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
      if (!master) throw new Error(`no master serves slot ${slot}`);
      return master.port;
    },
    async waitHealthy({ replicated = true } = {}) {
      await waitFor(
        'the cluster to be healthy',
        async () => {
          for (const node of running()) {
            const info = (await ask(node.port, (redis) => redis.call('CLUSTER', 'INFO'))) as string;
            if (!/cluster_state:ok/.test(info)) return undefined;
          }
          const seen = await masters();
          const covered = seen.reduce((sum, m) => sum + m.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
          if (seen.length !== 3 || covered !== 16384) return undefined;
          if (!replicated) return true;
          for (const master of seen) {
            if (master.replicas.length === 0) return undefined;
            for (const replica of master.replicas) {
              if (!running().some((node) => node.port === replica)) return undefined;
              const info = (await ask(replica, (redis) => redis.info('replication'))) as string;
              if (!/master_link_status:up/.test(info) || /master_sync_in_progress:1/.test(info)) return undefined;
            }
          }
          return true;
        },
        60_000,
      );
    },
    async dispose() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await cluster.waitHealthy();
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return cluster;
}

/** The masters in a CLUSTER NODES reply, with their slots and live replicas. */
export function parseClusterNodes(text: string): ClusterMaster[] {
  const rows = text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', , , , , ...slots] = line.trim().split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1]);
      return { id, port, flags: flags.split(','), masterId, slots };
    });
  const failed = (flags: string[]) => flags.includes('fail') || flags.includes('noaddr');
  return rows
    .filter((row) => row.flags.includes('master') && !failed(row.flags) && row.slots.length > 0)
    .map((row) => ({
      port: row.port,
      slots: row.slots
        .filter((slot) => !slot.startsWith('['))
        .map((slot) => {
          const [from, to = from] = slot.split('-').map(Number) as [number, number?];
          return [from, to] as [number, number];
        }),
      replicas: rows
        .filter((other) => other.masterId === row.id && other.flags.includes('slave') && !failed(other.flags))
        .map((other) => other.port),
    }))
    .sort((a, b) => a.port - b.port);
}
