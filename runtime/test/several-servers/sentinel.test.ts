import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type RedisSentinelSetup, startRedisSentinel } from '../support/redis-sentinel.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import type { RedisOptions } from '../../src/backends/redis-options.js';
import { type Framework, type RunningApp, startApp } from '../adapters/support/apps.js';
import {
  describeFigures,
  expectNoLossBeyondReplication,
  failoverUnderTraffic,
  keysMissingOn,
  replicaCaughtUp,
  describeCatchUp,
} from './support/failover.js';

/**
 * The redis backend behind Redis Sentinel (one master, one replica, three sentinels, started once for
 * this file): the counter over HTTP on two adapters, and the master killed under traffic, without and
 * with the option that waits for the replica to acknowledge each write.
 */
const COMMAND_TIMEOUT = 1000;
/** A request makes at most two commands (read, then write), each bounded by the timeout; the rest is a busy machine. */
const LONGEST_REQUEST = 2 * COMMAND_TIMEOUT + 3000;
const SLOW_MACHINE_TIMEOUT = 10_000;

let setup: RedisSentinelSetup;
const clients: Redis[] = [];
const apps: RunningApp[] = [];

/** The client configuration the README recommends. */
function sentinelClient(): Redis {
  const client = new Redis({
    sentinels: setup.sentinels,
    name: setup.name,
    // Not `failoverDetector: true`: with it, a +switch-master that arrives while ioredis is reconnecting
    // can end the client for good (status 'end'), seen in this test on a busy machine.
    connectTimeout: COMMAND_TIMEOUT,
  });
  // ioredis reports every failed reconnection as an 'error' event; the store reports what matters.
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/**
 * An app on a connected client (as an app would be before it takes traffic). Tests that do not kill
 * a server get a long command timeout: they check results, not timings, on a machine that may be slow.
 */
async function appOn(framework: Framework, options: RedisOptions, onError?: (error: unknown) => void) {
  const client = sentinelClient();
  if (client.status !== 'ready') await once(client, 'ready');
  const manager = SessionManager.redis(client, { commandTimeout: SLOW_MACHINE_TIMEOUT, ...options });
  const app = await startApp(framework, manager, onError ? { onError } : {});
  apps.push(app);
  return app;
}

beforeAll(async () => {
  setup = await startRedisSentinel({ downAfterMs: 1000 });
}, 120_000);

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const client of clients) client.disconnect();
  await setup?.dispose();
});

describe('redis backend behind Redis Sentinel', () => {
  it('counts over HTTP on koa and hono, on the master the sentinels name', async () => {
    const prefix = `csm-sentinel:${randomUUID()}:`;
    const [koa, hono] = await Promise.all([appOn('koa', { prefix }), appOn('hono', { prefix })]);
    const jars = Array.from({ length: 10 }, () => new CookieJar());
    for (let visit = 1; visit <= 3; visit++) {
      const bodies = await Promise.all(
        jars.map(async (jar, index) => {
          const app = (index + visit) % 2 === 0 ? koa : hono;
          const { status, body } = await jar.get(`${app.url}/counter`);
          return `${status} ${body}`;
        }),
      );
      expect(bodies).toEqual(jars.map(() => `200 This is your ${visit} visit`));
    }
    // Written to the master the sentinels name.
    const master = new Redis(await setup.masterPort(), '127.0.0.1');
    try {
      expect((await master.keys(`${prefix}*`)).sort()).toEqual(
        jars.map((jar) => `${prefix}${jar.cookies.get('emt_session')}`).sort(),
      );
    } finally {
      master.disconnect();
    }
  });

  it.each([
    { label: 'sentinel failover', options: {} },
    { label: 'sentinel failover, waitForReplica: 500', options: { waitForReplica: COMMAND_TIMEOUT / 2 } },
  ])(
    '$label: the master killed under traffic gives 503s only, for a bounded time, and the app recovers by itself',
    async ({ label, options }) => {
      const masterPort = await setup.waitHealthy();
      const prefix = `csm-sentinel-failover:${randomUUID()}:`;
      const errors: unknown[] = [];
      const app = await appOn('express', { prefix, commandTimeout: COMMAND_TIMEOUT, ...options }, (error) =>
        errors.push(error),
      );
      let catchUp: { waitedMs: number; caughtUp: boolean } | undefined;
      const { figures } = await failoverUnderTraffic({
        urlFor: () => `${app.url}/counter`,
        workers: 12,
        warmUpVisits: 2,
        kill: async (ids) => {
          const replica = setup.servers.find((server) => server.running && server.port !== masterPort);
          if (replica) catchUp = await replicaCaughtUp(masterPort, replica.port);
          const missingOnReplica = replica
            ? await keysMissingOn(
                replica.port,
                ids.map((id) => prefix + id),
              )
            : undefined;
          await setup.servers.find((server) => server.port === masterPort)?.kill();
          return { hitWorkers: ids.map((_, worker) => worker), missingOnReplica };
        },
        afterKill: async () => {
          // Once the sentinels have promoted the replica, the killed server comes back as its replica.
          const promoted = await waitUntil(async () => {
            const port = await setup.masterPort();
            return port !== masterPort ? port : undefined;
          }, 60_000);
          await setup.servers.find((server) => server.port === masterPort)?.restart(promoted);
        },
      });
      console.info(describeFigures(label, figures), describeCatchUp(catchUp));

      expect(figures.unexpected).toEqual([]);
      expect(figures.failed).toBeGreaterThan(0);
      const lastErrors = [...new Set(errors.slice(-50).map(String))].slice(-3).join(' | ');
      expect(
        figures.recoveryMs,
        `${lastErrors}; ${`master now ${await setup.masterPort().catch(String)}, client ${clients.at(-1)?.status}`}`,
      ).toBeDefined();
      expect(figures.longestMs).toBeLessThan(LONGEST_REQUEST);
      expect(figures.failuresSettingCookies).toBe(0);
      const logs = setup.servers.map((server) => `${server.port}:\n${server.log().split('\n').slice(-25).join('\n')}`);
      expectNoLossBeyondReplication(figures, 'waitForReplica' in options, `; the servers' logs:\n${logs.join('\n')}`);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.filter((error) => !(error instanceof SessionStoreError))).toEqual([]);
    },
    120_000,
  );
});

async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
