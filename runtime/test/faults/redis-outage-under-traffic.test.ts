import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { RedisRevocationList } from '../../src/backends/revocation.js';
import { FRAMEWORKS, type RunningApp, startApp } from '../adapters/support/apps.js';
import { SECRET } from '../support/harness.js';

/**
 * One redis-server (append-only file on), and an app per framework on it, plus a cookies-backend app
 * whose revocation list lives in the same redis. Traffic runs through all of them while redis is
 * killed (SIGKILL) and started again.
 */
/** Shorter than the default (2000 ms) to keep the test short; longer than it, the outage would be dull. */
const COMMAND_TIMEOUT = 1000;
const TARGETS = [...FRAMEWORKS, 'cookies+revocation'] as const;
type Target = (typeof TARGETS)[number];

interface Sample {
  target: Target;
  worker: number;
  start: number;
  end: number;
  status: number;
  body: string;
}

let server: RedisServer;
const clients: Redis[] = [];
const apps = new Map<Target, RunningApp>();
const errors = new Map<Target, unknown[]>();

function client(): Redis {
  const redis = new Redis(server.url);
  // ioredis reports every failed reconnection as an 'error' event; the store reports what matters.
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  server = await startRedisServer({ persistence: true });
  for (const target of TARGETS) {
    const seen: unknown[] = [];
    errors.set(target, seen);
    const onError = (error: unknown) => seen.push(error);
    const manager =
      target === 'cookies+revocation'
        ? SessionManager.cookies(SECRET, {
            refreshAfter: 0,
            revocation: new RedisRevocationList(client(), {
              prefix: 'faults-outage-revoked:',
              commandTimeout: COMMAND_TIMEOUT,
            }),
          })
        : SessionManager.redis(client(), { prefix: `faults-outage:${target}:`, commandTimeout: COMMAND_TIMEOUT });
    apps.set(target, await startApp(target === 'cookies+revocation' ? 'node' : target, manager, { onError }));
  }
});

afterAll(async () => {
  await Promise.all([...apps.values()].map((app) => app.close()));
  for (const redis of clients) redis.disconnect();
  await server?.dispose();
});

const counterOf = (body: string) => Number(/This is your (\d+) visit/.exec(body)?.[1] ?? Number.NaN);

describe('redis outage under traffic', () => {
  it('answers 503 within a bounded time while redis is down, recovers by itself, and loses no session', async () => {
    const urlOf = (target: Target) => `${(apps.get(target) as RunningApp).url}/counter`;

    // Sessions written before the outage, left idle during it.
    const idle = new Map<Target, CookieJar>();
    for (const target of TARGETS) {
      const jar = new CookieJar();
      for (let i = 0; i < 2; i++) expect((await jar.get(urlOf(target))).status).toBe(200);
      idle.set(target, jar);
    }

    const samples: Sample[] = [];
    let running = true;
    const worker = async (target: Target, index: number) => {
      const jar = new CookieJar();
      while (running) {
        const start = performance.now();
        // Worker 0 keeps its session; worker 1 starts a new one on every request.
        const response = await (index === 0 ? jar : new CookieJar()).get(urlOf(target));
        samples.push({ target, worker: index, start, end: performance.now(), ...response });
        await sleep(5);
      }
    };
    const workers = TARGETS.flatMap((target) => [worker(target, 0), worker(target, 1)]);

    // Traffic first: every target has served its kept session before redis dies (a count, not a time).
    const servedBeforeKill = () =>
      TARGETS.every((target) => samples.some((s) => s.target === target && s.worker === 0 && s.status === 200));
    while (!servedBeforeKill()) await sleep(20);
    const stopCalled = performance.now();
    await server.stop({ kill: true });
    const down = performance.now();
    // Down until every target has answered a request that started after the kill with a 503 (the
    // cookies backend's only when a kept cookie is checked for revocation): an outage each one saw,
    // however slow the machine, rather than one of a fixed length.
    const refusedAfterKill = () =>
      TARGETS.every((target) =>
        samples.some((s) => s.target === target && s.worker === 0 && s.start >= down && s.status === 503),
      );
    while (!refusedAfterKill()) await sleep(20);
    const startCalled = performance.now();
    await server.start();
    const up = performance.now();

    // Keep the traffic going until every target has answered 200 again since redis came back, to the
    // worker that keeps its session too (its counter is checked below).
    const recoveredAt = new Map<Target, number>();
    const keptRecovered = new Set<Target>();
    const deadline = up + 15_000;
    while ((recoveredAt.size < TARGETS.length || keptRecovered.size < TARGETS.length) && performance.now() < deadline) {
      for (const sample of samples) {
        if (sample.status !== 200 || sample.start < up) continue;
        if (!recoveredAt.has(sample.target)) recoveredAt.set(sample.target, sample.end);
        if (sample.worker === 0) keptRecovered.add(sample.target);
      }
      await sleep(20);
    }
    await sleep(100);
    running = false;
    await Promise.all(workers);

    expect([...recoveredAt.keys()].sort()).toEqual([...TARGETS].sort());
    expect([...keptRecovered].sort()).toEqual([...TARGETS].sort());
    expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);

    const outage = samples.filter((s) => s.start >= down && s.end <= startCalled);
    const duringOutage = samples.filter((s) => s.end >= stopCalled && s.start <= up);
    // Started once redis was gone and ended before it was back: nothing but 503, except new sessions of
    // the cookies backend, which need no store at all (only a cookie that opens is checked for revocation).
    const newCookieSession = (s: Sample) => s.target === 'cookies+revocation' && s.worker === 1;
    expect(outage.length).toBeGreaterThan(0);
    expect(outage.filter((s) => s.status !== 503 && !newCookieSession(s))).toEqual([]);
    expect(outage.filter((s) => newCookieSession(s) && s.status !== 200)).toEqual([]);
    for (const target of TARGETS) {
      // A request in flight when redis died may wait for the command timeout, so count by overlap.
      const refused = duringOutage.filter((s) => s.target === target && s.status === 503);
      expect(refused.length, `${target} answered no 503 while redis was down`).toBeGreaterThan(0);
    }
    for (const sample of samples.filter((s) => s.status === 503)) {
      expect(sample.body).toBe('Service Unavailable: the session store is not answering.');
    }
    for (const [target, seen] of errors) {
      expect(seen.length, target).toBeGreaterThan(0);
      expect(seen.filter((error) => !(error instanceof SessionStoreError))).toEqual([]);
    }

    // Bounded: every request of the outage was answered (the workers ended); how long the longest took
    // is reported below, not asserted, as a loaded machine stretches it.
    const longest = Math.max(...duringOutage.map((s) => s.end - s.start));

    // The session kept by worker 0 never goes back: its counter after the outage continues from before.
    for (const target of TARGETS) {
      const kept = samples.filter((s) => s.target === target && s.worker === 0 && s.status === 200);
      const before = kept.filter((s) => s.end < stopCalled).map((s) => counterOf(s.body));
      const after = kept.filter((s) => s.start >= up).map((s) => counterOf(s.body));
      expect(before.length, target).toBeGreaterThan(0);
      expect(after[0] as number, target).toBeGreaterThan(before.at(-1) as number);
    }

    // Sessions written before the outage survived redis being killed (append-only file).
    for (const target of TARGETS) {
      const next = await (idle.get(target) as CookieJar).get(urlOf(target));
      expect(next.status, target).toBe(200);
      expect(next.body, target).toBe('This is your 3 visit');
    }

    const recovery = Math.max(...[...recoveredAt.values()].map((at) => at - up));
    const durations = outage.map((s) => s.end - s.start).sort((a, b) => a - b);
    const median = durations[Math.floor(durations.length / 2)] as number;
    console.info(
      `[faults] redis outage: ${samples.length} requests (${outage.length} while redis was down, ` +
        `median ${Math.round(median)} ms), ` +
        `longest request ${Math.round(longest)} ms (commandTimeout ${COMMAND_TIMEOUT} ms), recovered ${Math.round(recovery)} ms after redis ` +
        `accepted connections again (restart took ${Math.round(up - startCalled)} ms), ` +
        `targets: ${TARGETS.join(', ')}`,
    );
  }, 40_000);
});

describe('a redis that accepts connections but never answers', () => {
  it.each(FRAMEWORKS)('%s: every request ends with a 503 once the command timeout has passed', async (framework) => {
    const sockets = new Set<Socket>();
    const blackHole = createServer((socket) => {
      // Read and never answer, like a frozen or overloaded server behind a live connection.
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as AddressInfo;
    const redis = new Redis({ port, host: '127.0.0.1' });
    redis.on('error', () => {});
    const errors: unknown[] = [];
    const commandTimeout = 300;
    const manager = SessionManager.redis(redis, { prefix: 'faults-blackhole:', commandTimeout });
    const app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
    try {
      const jar = new CookieJar();
      const started = performance.now();
      // Without a cookie the write times out; with a well-shaped id, the read does.
      const cookie = `emt_session=${'A'.repeat(43)}`;
      const responses = await Promise.all(
        Array.from({ length: 5 }, (_, i) => jar.get(`${app.url}/counter`, i % 2 ? { headers: { cookie } } : {})),
      );
      const elapsed = performance.now() - started;
      expect(responses.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
      // The black hole never answers, so a 503 at all is the timeout's; the test's own timeout catches a hang.
      expect(elapsed).toBeGreaterThanOrEqual(commandTimeout - 5);
      expect(errors).toHaveLength(5);
      for (const error of errors) {
        expect(error).toBeInstanceOf(SessionStoreError);
        expect((error as SessionStoreError).message).toContain(`${commandTimeout} ms`);
      }
    } finally {
      await app.close();
      redis.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });
});
