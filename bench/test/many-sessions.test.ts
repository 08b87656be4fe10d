import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENDERS } from '../contenders.js';
import { measure, primeSessions, visitsNow } from '../load.js';
import { compileServers, type ServerProcess, startServer } from '../server-process.js';

/**
 * The benchmark's many-users harness against a real contender server (node:http + this project's
 * files backend, in a temp folder): priming must give N distinct, counting sessions, and the load
 * must send each of them, or every figure of `npm run bench -- --sessions N` would measure one.
 */
const SESSIONS = 50;
const ROUNDS = 3;
const contender = CONTENDERS.find((row) => row.id === 'node/files');

describe('bench: the load is spread over many sessions', () => {
  let folder: string;
  let server: ServerProcess;
  // Its own compiled copy, so a benchmark running meanwhile in the same checkout keeps its own.
  const compiled = `bench/node_modules/.cache/csm-bench-servers-test-${process.pid}`;

  beforeAll(async () => {
    if (!contender) throw new Error('node/files is not a contender any more');
    compileServers(compiled);
    folder = mkdtempSync(join(tmpdir(), 'csm-bench-test-'));
    server = await startServer(contender, { BENCH_FILES_DIR: folder }, undefined, compiled);
  });

  afterAll(async () => {
    await server?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
    rmSync(compiled, { recursive: true, force: true });
  });

  it('primes N distinct sessions at visit 2, and each request sends the next of them', async () => {
    if (!contender) throw new Error('node/files is not a contender any more');
    const primed = await primeSessions(contender, server.url, SESSIONS);
    expect(primed.cookies).toHaveLength(SESSIONS);
    expect(new Set(primed.cookies).size).toBe(SESSIONS);
    // One session file each on the server's side.
    expect(readdirSync(folder).filter((name) => !name.startsWith('.'))).toHaveLength(SESSIONS);

    await server.command('track', 'tracking');
    // Two requests in flight at most, so no two carry the same session and no visit is lost.
    const settings = { connections: 2, pipelining: 1 };
    const load = await measure(
      server.url,
      '/counter',
      primed.cookies,
      { requests: SESSIONS * ROUNDS },
      settings,
      () => [server.pid],
    );
    const seen = Number((await server.command('seen', 'seen ')).split(' ')[1]);
    expect(load.failures).toBe(0);
    expect(seen).toBe(SESSIONS);

    // Every session was sent as often as every other: each counted its 2 primed visits and ROUNDS more.
    const visits = await Promise.all(primed.cookies.map((cookie) => visitsNow(server.url, cookie)));
    expect(visits).toEqual(primed.cookies.map(() => 2 + ROUNDS));
  });
});
