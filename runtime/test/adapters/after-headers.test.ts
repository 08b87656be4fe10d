import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { type StrictResponse, strictRequest } from '../faults/support/raw-http.js';
import { FRAMEWORKS, type Framework, type RunningApp } from './support/apps.js';
import { BACKENDS, createBackend, type TestBackend } from './support/backends.js';
import { startStreamingApp } from './support/streaming-apps.js';

/**
 * What "committed" means once the headers are out (README, "When the session is saved"): a session
 * cookie that reaches the client refers to data the store holds, and a failure after the headers
 * ends the response by aborting the connection, never by a second set of headers. Read with raw
 * sockets, so an invalid response cannot hide behind a lenient client.
 */
const CASES = FRAMEWORKS.flatMap((framework) => BACKENDS.map((backend) => ({ framework, backend })));

function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const portOf = (app: RunningApp) => Number(new URL(app.url).port);
/** The Cookie header a browser would send back after this response. */
const cookieFrom = (response: StrictResponse) =>
  response
    .header('set-cookie')
    .map((line) => line.split(';')[0])
    .join('; ');

describe.each(CASES)(
  '$framework with the $backend backend: a handler that fails after its headers went out',
  ({ framework, backend: kind }) => {
    let backend: TestBackend;
    let app: RunningApp;
    let release = gate();
    const errors: unknown[] = [];
    beforeEach(() => {
      errors.length = 0; // each test judges only what it caused
    });

    beforeAll(async () => {
      backend = createBackend(kind);
      app = await startStreamingApp(framework, backend.manager, {
        onError: (error) => errors.push(error),
        release: () => release.opened,
      });
    });
    afterAll(async () => {
      await app?.close();
      await backend?.close();
    });

    const peek = async (cookie: string) =>
      JSON.parse(await (await fetch(`${app.url}/peek`, { headers: { cookie } })).text()) as unknown;

    async function streamThenFail(cookie?: string): Promise<StrictResponse> {
      release = gate();
      const response = await strictRequest(portOf(app), { path: '/stream-fail', cookie }, (received) => {
        if (received.includes('first,')) release.open();
      });
      // The first chunk arrived, with the headers; then the connection was aborted, never answered twice.
      expect(response.statusLines).toBe(1);
      expect(response.status).toBe(200);
      expect(response.body).toBe('first,');
      expect(response.aborted).toBe(true);
      return response;
    }

    it('a new session: the cookie that went out refers to the stored change', async () => {
      const response = await streamThenFail();
      const cookie = cookieFrom(response);
      expect(cookie).not.toBe('');
      expect(await peek(cookie)).toEqual({ counter: 1 });
      expect(errors.filter((error) => error instanceof SessionStoreError)).toEqual([]);
    });

    it('an existing session: the change that went out with the headers is kept', async () => {
      const first = await streamThenFail();
      const again = await streamThenFail(cookieFrom(first));
      const cookie = again.header('set-cookie').length > 0 ? cookieFrom(again) : cookieFrom(first);
      expect(await peek(cookie)).toEqual({ counter: 2 });
    });
  },
);

describe.each(FRAMEWORKS)('%s: the store fails as the session is committed', (framework: Framework) => {
  const redisDown = new Redis({
    path: join(tmpdir(), `csm-no-redis-${process.pid}.sock`),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  redisDown.on('error', () => {}); // it never connects: that is the point
  let parent: string;
  const apps = new Map<'files' | 'redis', RunningApp>();
  const managers: SessionManager[] = [];
  const errors: unknown[] = [];
  beforeEach(() => {
    errors.length = 0; // each test judges only what it caused
  });

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'csm-after-headers-'));
    const directory = join(parent, 'sessions');
    const files = SessionManager.files({ directory, sweepInterval: 0 });
    // The sessions folder becomes a file: every write fails with ENOTDIR.
    rmSync(directory, { recursive: true });
    writeFileSync(directory, '');
    const redis = SessionManager.redis(redisDown, { commandTimeout: 1000 });
    managers.push(files, redis);
    const options = { onError: (error: unknown) => errors.push(error), release: async () => {} };
    apps.set('files', await startStreamingApp(framework, files, options));
    apps.set('redis', await startStreamingApp(framework, redis, options));
  });
  afterAll(async () => {
    for (const app of apps.values()) await app.close();
    for (const manager of managers) await manager.close();
    redisDown.disconnect();
    rmSync(parent, { recursive: true, force: true });
  });

  /** A 503 in place of a response that had not started: valid HTTP, none of the route's body headers. */
  function expectValid503(response: StrictResponse) {
    expect(response.statusLines).toBe(1);
    expect(response.status).toBe(503);
    expect(response.conflictingFraming).toBe(false);
    expect(response.complete).toBe(true);
    expect(response.header('content-encoding')).toEqual([]);
    expect(response.body).toContain('session store');
    expect(response.header('set-cookie')).toEqual([]);
  }

  it.each(['files', 'redis'] as const)(
    '%s: a body sent whole with its own Content-Encoding gets a valid 503',
    async (store) => {
      const response = await strictRequest(portOf(apps.get(store) as RunningApp), { path: '/gzip' });
      expectValid503(response);
    },
  );

  it.each(['files', 'redis'] as const)('%s: a streamed body with chunked framing', async (store) => {
    const response = await strictRequest(portOf(apps.get(store) as RunningApp), { path: '/chunked' });
    if (framework === 'node' || framework === 'express') {
      // The handler started the response itself (its first write): it is aborted before any byte
      // went out, so no cookie reaches the client for a session that was never stored.
      expect(response.raw.length).toBe(0);
      expect(response.aborted).toBe(true);
    } else {
      expectValid503(response);
    }
    expect(errors.some((error) => error instanceof SessionStoreError)).toBe(true);
  });
});
