import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnServer } from '../support/server-process.js';

/**
 * Two requests of one session at the same time, each on its own server process (as behind a load
 * balancer), sharing a session folder or a redis server. A barrier in this test holds each request
 * after its session was loaded, until the test releases it: both have read the same stored session
 * before either writes, which is exactly when one request's change used to be lost.
 */
const SERVER = fileURLToPath(new URL('./fixtures/pair-server.ts', import.meta.url));
const PAIRS = 50;
const BACKENDS = ['files', 'redis'] as const;

/** Requests parked until released, by pair and role. */
class Barrier {
  private readonly parked = new Map<string, { role: string; response: ServerResponse }[]>();
  private readonly waiters: (() => void)[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      const pair = query.get('pair') ?? '';
      const list = this.parked.get(pair) ?? [];
      list.push({ role: query.get('role') ?? '', response: res });
      this.parked.set(pair, list);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Resolves once `count` requests of `pair` are parked (each has loaded its session). */
  async arrived(pair: string, count: number): Promise<void> {
    while ((this.parked.get(pair)?.length ?? 0) < count) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Lets the parked requests of `pair` (only those with `role`, if given) go on. */
  release(pair: string, role?: string): void {
    const list = this.parked.get(pair) ?? [];
    for (const entry of list.filter((e) => role === undefined || e.role === role)) entry.response.end('go');
    this.parked.set(
      pair,
      list.filter((e) => role !== undefined && e.role !== role),
    );
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const barrier = new Barrier();
const servers = new Map<(typeof BACKENDS)[number], [string, string]>();
const children: ChildProcess[] = [];
let directory: string;

beforeAll(async () => {
  await barrier.start();
  directory = mkdtempSync(join(tmpdir(), 'csm-concurrent-changes-'));
  const env = {
    BARRIER: barrier.url,
    DIRECTORY: directory,
    REDIS_URL: inject('redisUrl'),
    PREFIX: `csm-concurrent-changes:${randomUUID()}:`,
  };
  await Promise.all(
    BACKENDS.map(async (backend) => {
      const pair = await Promise.all([
        spawnServer(SERVER, { ...env, BACKEND: backend }),
        spawnServer(SERVER, { ...env, BACKEND: backend }),
      ]);
      children.push(...pair.map((server) => server.process));
      servers.set(backend, [pair[0].url, pair[1].url]);
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
  await barrier.close();
  rmSync(directory, { recursive: true, force: true });
});

/** A new session (`{ base: 1 }`) on `url`; its Cookie header. */
async function startSession(url: string): Promise<string> {
  const response = await fetch(`${url}/start`);
  expect(response.status).toBe(200);
  const [setCookie = ''] = response.headers.getSetCookie();
  return setCookie.split(';')[0] as string;
}

async function peek(url: string, cookie: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/peek`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return JSON.parse(await response.text());
}

async function get(url: string, cookie: string): Promise<number> {
  const response = await fetch(url, { headers: { cookie } });
  await response.text();
  return response.status;
}

/**
 * PAIRS sessions; for each, one request sets `left` through the first server while another sets
 * `right` through the second, both released once both have loaded. The count of changes lost.
 */
async function runPairs(backend: (typeof BACKENDS)[number], base: '' | '/off'): Promise<number> {
  const [first, second] = servers.get(backend) as [string, string];
  const lost = await Promise.all(
    Array.from({ length: PAIRS }, async (_, index) => {
      const pair = `${backend}${base.replace('/', '-')}-${index}`;
      const cookie = await startSession(`${first}${base}`);
      const requests = Promise.all([
        get(`${first}${base}/change?key=left&pair=${pair}`, cookie),
        get(`${second}${base}/change?key=right&pair=${pair}`, cookie),
      ]);
      await barrier.arrived(pair, 2);
      barrier.release(pair);
      expect(await requests).toEqual([200, 200]);
      const stored = await peek(`${first}${base}`, cookie);
      expect(stored.base).toBe(1);
      return (stored.left === pair ? 0 : 1) + (stored.right === pair ? 0 : 1);
    }),
  );
  return lost.reduce((sum, n) => sum + n, 0);
}

describe.each(BACKENDS)('%s backend: two requests of one session on two servers at once', (backend) => {
  it(`changing different keys: both changes kept, in ${PAIRS} of ${PAIRS} pairs`, async () => {
    expect(await runPairs(backend, '')).toBe(0);
  }, 60_000);

  it(`with merge: false, the same pairs lose one change each (last write wins whole)`, async () => {
    expect(await runPairs(backend, '/off')).toBe(PAIRS);
  }, 60_000);

  it('changing the same key: the last write wins', async () => {
    const [first, second] = servers.get(backend) as [string, string];
    for (let index = 0; index < 5; index++) {
      const pair = `${backend}-same-${index}`;
      const cookie = await startSession(first);
      const a = get(`${first}/change?key=same&value=a&pair=${pair}`, cookie);
      const b = get(`${second}/change?key=same&value=b&pair=${pair}`, cookie);
      await barrier.arrived(pair, 2);
      // Both loaded the same session; the one released second writes last, and its value stays.
      const [early, late] = index % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      barrier.release(pair, early);
      expect(await (early === 'a' ? a : b)).toBe(200);
      barrier.release(pair, late);
      expect(await Promise.all([a, b])).toEqual([200, 200]);
      expect((await peek(first, cookie)).same).toBe(late);
    }
  });

  it('a change that commits after a logout does not bring the session back', async () => {
    const [first, second] = servers.get(backend) as [string, string];
    for (let index = 0; index < 5; index++) {
      const pair = `${backend}-logout-${index}`;
      const cookie = await startSession(first);
      const logout = get(`${first}/logout?pair=${pair}`, cookie);
      const change = get(`${second}/change?key=left&pair=${pair}`, cookie);
      await barrier.arrived(pair, 2);
      barrier.release(pair, 'logout');
      expect(await logout).toBe(200);
      barrier.release(pair, 'left');
      expect(await change).toBe(200);
      expect(await peek(first, cookie)).toEqual({});
    }
  });
});
