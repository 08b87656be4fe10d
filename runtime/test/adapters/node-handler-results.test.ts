import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { SessionManager } from '../../src/index.js';
import type { Session } from '../../src/types.js';
import { type RunningServer, startNodeApp } from '../faults/support/server.js';
import { SECRET } from '../support/harness.js';

/**
 * withSessions answers a handler's result without waiting when the handler is synchronous, and
 * awaits it only when it is a promise or another thenable. Each way of returning and of failing
 * must still commit, or keep no change, exactly as an async handler does.
 */

type Handler = (req: IncomingMessage, res: ServerResponse, session: Session) => unknown;
const count = (session: Session) => {
  session.counter = ((session.counter as number | undefined) ?? 0) + 1;
  return session.counter as number;
};

const ROUTES: Record<string, Handler> = {
  '/sync': (_req, _res, session) => `sync ${count(session)}`,
  '/bytes': (_req, _res, session) => new TextEncoder().encode(`bytes ${count(session)}`),
  '/async': async (_req, _res, session) => `async ${count(session)}`,
  // A thenable that is not a native promise: awaited as `await` would.
  '/thenable': (_req, _res, session) => ({
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise is the case under test
    then(resolve: (value: string) => void) {
      setImmediate(() => resolve(`thenable ${count(session)}`));
    },
  }),
  '/ends-itself': (_req, res, session) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`ended ${count(session)}`);
  },
  '/throws': (_req, _res, session) => {
    count(session);
    throw new Error('sync boom');
  },
  '/rejects': async (_req, _res, session) => {
    count(session);
    throw new Error('async boom');
  },
  // A thenable whose `then` throws: a rejection, as under `await`, never an uncaught exception.
  '/then-throws': (_req, _res, session) => ({
    // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the case under test
    then() {
      count(session);
      throw new Error('then boom');
    },
  }),
  '/peek': (_req, _res, session) => `peek ${String(session.counter)}`,
};

describe('withSessions: what the handler returns', () => {
  let app: RunningServer;
  let url: string;
  let errors: unknown[];

  beforeAll(async () => {
    app = await startNodeApp(SessionManager.cookies(SECRET), (req, res, session) =>
      (ROUTES[req.url ?? ''] as Handler)(req, res, session),
    );
    ({ url, errors } = app);
  });
  afterAll(() => app.close());

  it.each([
    ['/sync', 'sync'],
    ['/bytes', 'bytes'],
    ['/async', 'async'],
    ['/thenable', 'thenable'],
    ['/ends-itself', 'ended'],
  ])('%s: sends the body and commits the change', async (route, word) => {
    const jar = new CookieJar();
    const first = await jar.get(url + route);
    expect(first.status).toBe(200);
    expect(first.body).toBe(`${word} 1`);
    expect(first.setCookies).toHaveLength(1);
    expect((await jar.get(url + route)).body).toBe(`${word} 2`);
    expect((await jar.get(`${url}/peek`)).body).toBe('peek 2');
  });

  it.each([
    ['/throws', 'sync boom'],
    ['/rejects', 'async boom'],
    ['/then-throws', 'then boom'],
  ])('%s: answers 500, keeps no change and reports the error', async (route, message) => {
    const jar = new CookieJar();
    expect((await jar.get(`${url}/sync`)).body).toBe('sync 1');
    errors.length = 0;
    const failed = await jar.get(url + route);
    expect(failed.status).toBe(500);
    expect(failed.body).toBe('Internal Server Error');
    expect(failed.setCookies).toEqual([]);
    expect(errors.map((error) => (error as Error).message)).toEqual([message]);
    expect((await jar.get(`${url}/peek`)).body).toBe('peek 1');
  });
});
