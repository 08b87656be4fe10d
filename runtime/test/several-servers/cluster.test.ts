import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { TOMBSTONE } from '../../src/backends/redis-scripts.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import type { RedisOptions } from '../../src/backends/redis-options.js';
import { RedisRevocationList } from '../../src/backends/revocation.js';
import { type Framework, type RunningApp, startApp } from '../adapters/support/apps.js';
import { type Data, exchange } from '../support/harness.js';
import {
  describeFigures,
  expectNoLossBeyondReplication,
  failoverUnderTraffic,
  keysMissingOn,
  replicaCaughtUp,
  describeCatchUp,
} from './support/failover.js';

/**
 * The redis backend on a real Redis Cluster (3 masters, 3 replicas, started once for this file):
 * the counter over HTTP on two adapters, sessions spread over every master, and a master killed
 * under traffic, without and with the option that waits for a replica to acknowledge each write.
 */
const COMMAND_TIMEOUT = 1000;
/** A request makes at most two commands (read, then write), each bounded by the timeout; the rest is a busy machine. */
const LONGEST_REQUEST = 2 * COMMAND_TIMEOUT + 3000;
const SLOW_MACHINE_TIMEOUT = 10_000;

let cluster: RedisCluster;
const clients: Cluster[] = [];
const apps: RunningApp[] = [];

/** The client configuration the README recommends. */
function clusterClient(): Cluster {
  const client = new Cluster(cluster.startupNodes, {
    // Ask the cluster for its slots every second, besides on every MOVED: a promoted replica is found soon.
    slotsRefreshInterval: 1000,
    redisOptions: { connectTimeout: COMMAND_TIMEOUT },
  });
  // ioredis reports every failed reconnection to a dead node as an 'error' event; the store reports what matters.
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A client that has connected (as an app would be before it takes traffic; the machine may be slow). */
async function readyClusterClient(): Promise<Cluster> {
  const client = clusterClient();
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

/**
 * An app on a connected client. Tests that do not kill a server get a long command timeout: they
 * check results, not timings, on a machine that may be slow.
 */
async function appOn(framework: Framework, options: RedisOptions, onError?: (error: unknown) => void) {
  const manager = SessionManager.redis(await readyClusterClient(), {
    commandTimeout: SLOW_MACHINE_TIMEOUT,
    ...options,
  });
  const app = await startApp(framework, manager, onError ? { onError } : {});
  apps.push(app);
  return app;
}

/** Every key under `prefix` on each master, by the master's port. */
async function keysByMaster(prefix: string): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  for (const master of await cluster.masters()) {
    const redis = new Redis(master.port, '127.0.0.1');
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      result.set(master.port, keys);
    } finally {
      redis.disconnect();
    }
  }
  return result;
}

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
}, 120_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const client of clients) client.disconnect();
  await cluster?.dispose();
});

describe('redis backend on a Redis Cluster', () => {
  it('counts over HTTP on express and fastify, sessions spread over all three masters', async () => {
    const prefix = `csm-cluster:${randomUUID()}:`;
    const [express, fastify] = await Promise.all([appOn('express', { prefix }), appOn('fastify', { prefix })]);
    // Enough sessions that each master gets some (each id lands on a master at random).
    const jars = Array.from({ length: 40 }, () => new CookieJar());
    for (let visit = 1; visit <= 3; visit++) {
      const bodies = await Promise.all(
        jars.map(async (jar, index) => {
          // Alternate the adapters: each reads what the other wrote.
          const app = (index + visit) % 2 === 0 ? express : fastify;
          const { status, body } = await jar.get(`${app.url}/counter`);
          return `${status} ${body}`;
        }),
      );
      expect(bodies).toEqual(jars.map(() => `200 This is your ${visit} visit`));
    }

    const byMaster = await keysByMaster(prefix);
    expect(byMaster.size).toBe(3);
    for (const [port, keys] of byMaster) expect(keys.length, `master ${port}`).toBeGreaterThan(0);
    const stored = [...byMaster.values()].flat().sort();
    const ids = jars.map((jar) => `${prefix}${jar.cookies.get('emt_session')}`).sort();
    expect(stored).toEqual(ids);
  });

  it('regenerate, destroy and the revocation list work across slots (no multi-key command)', async () => {
    const client = await readyClusterClient();
    const prefix = `csm-cluster-ops:${randomUUID()}:`;
    const manager = SessionManager.redis<Data>(client, { prefix, commandTimeout: SLOW_MACHINE_TIMEOUT });
    const jar = new CookieJar();
    await exchange(manager, jar, (state) => {
      state.data.user = 'ada';
    });
    const first = jar.cookies.get('emt_session') as string;
    // Regenerate retires the old key (a tombstone), then writes the new one: two keys, most likely in two slots.
    await exchange(manager, jar, (state) => state.regenerate());
    const second = jar.cookies.get('emt_session') as string;
    expect(second).not.toBe(first);
    expect(await client.get(prefix + first)).toBe(TOMBSTONE);
    expect(await client.get(prefix + second)).toBe('{"user":"ada"}');
    await exchange(manager, jar, (state) => state.destroy());
    expect(await client.get(prefix + second)).toBe(TOMBSTONE);
    expect(jar.cookies.size).toBe(0);

    const revoked = new RedisRevocationList(client, {
      prefix: `${prefix}revoked:`,
      commandTimeout: SLOW_MACHINE_TIMEOUT,
    });
    await revoked.revoke(first, 60_000);
    expect(await revoked.isRevoked(first)).toBe(true);
    expect(await revoked.isRevoked(second)).toBe(false);
  });

  it('clear() removes the sessions on every master, and keys of other prefixes stay', async () => {
    const client = await readyClusterClient();
    const prefix = `csm-cluster-clear:${randomUUID()}:`;
    const manager = SessionManager.redis<Data>(client, { prefix, commandTimeout: SLOW_MACHINE_TIMEOUT });
    for (let n = 0; n < 30; n++) {
      await exchange(manager, new CookieJar(), (state) => {
        state.data.n = n;
      });
    }
    const before = await keysByMaster(prefix);
    expect([...before.values()].filter((keys) => keys.length > 0)).toHaveLength(3);
    const neighbour = `${prefix.slice(0, -1)}x:kept`;
    await client.set(neighbour, 'keep me', 'EX', 60);
    expect(await manager.clear()).toBe(30);
    expect([...(await keysByMaster(prefix)).values()].flat()).toEqual([]);
    expect(await client.get(neighbour)).toBe('keep me');
    await client.del(neighbour);
  });

  it.each([
    { label: 'cluster failover', options: {} },
    { label: 'cluster failover, waitForReplica: 500', options: { waitForReplica: COMMAND_TIMEOUT / 2 } },
  ])(
    '$label: a master killed under traffic gives 503s only, for a bounded time, and the app recovers by itself',
    async ({ label, options }) => {
      await cluster.waitHealthy();
      const prefix = `csm-cluster-failover:${randomUUID()}:`;
      const errors: unknown[] = [];
      const app = await appOn('node', { prefix, commandTimeout: COMMAND_TIMEOUT, ...options }, (error) =>
        errors.push(error),
      );
      let killedPort = 0;
      let catchUp: { waitedMs: number; caughtUp: boolean } | undefined;
      const { figures } = await failoverUnderTraffic({
        urlFor: () => `${app.url}/counter`,
        workers: 12,
        warmUpVisits: 2,
        kill: async (ids) => {
          // The master that holds the most of the workers' sessions.
          const masters = await Promise.all(ids.map((id) => cluster.masterOf(prefix + id)));
          const counts = new Map<number, number>();
          for (const port of masters) counts.set(port, (counts.get(port) ?? 0) + 1);
          killedPort = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] as number;
          const hitWorkers = masters.flatMap((port, worker) => (port === killedPort ? [worker] : []));
          // The replica that will take over (the cluster starts with one per master).
          const [replica] = (await cluster.masters()).find((master) => master.port === killedPort)?.replicas ?? [];
          if (replica !== undefined) catchUp = await replicaCaughtUp(killedPort, replica, { cluster: true });
          const missing =
            replica === undefined
              ? undefined
              : await keysMissingOn(
                  replica,
                  hitWorkers.map((worker) => prefix + ids[worker]),
                  { cluster: true },
                );
          await cluster.nodes.find((node) => node.port === killedPort)?.kill();
          return { hitWorkers, missingOnReplica: missing?.map((index) => hitWorkers[index] as number) };
        },
        afterKill: async () => {
          // Once its replica has taken over, the killed node comes back (as a supervisor would restart
          // it) and rejoins as the new master's replica.
          await waitUntil(async () => !(await cluster.masters()).some((m) => m.port === killedPort), 60_000);
          await cluster.nodes.find((node) => node.port === killedPort)?.restart();
        },
      });
      console.info(describeFigures(label, figures), describeCatchUp(catchUp));

      expect(figures.unexpected).toEqual([]);
      expect(figures.hitWorkers).toBeGreaterThan(0);
      expect(figures.failed).toBeGreaterThan(0);
      const lastErrors = [...new Set(errors.slice(-50).map(String))].slice(-3).join(' | ');
      expect(
        figures.recoveryMs,
        `${lastErrors}; ${`masters now ${JSON.stringify(await cluster.masters().catch(String))}`}`,
      ).toBeDefined();
      expect(figures.longestMs).toBeLessThan(LONGEST_REQUEST);
      expect(figures.failuresSettingCookies).toBe(0);
      expectNoLossBeyondReplication(figures, 'waitForReplica' in options);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.filter((error) => !(error instanceof SessionStoreError))).toEqual([]);
    },
    120_000,
  );
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
