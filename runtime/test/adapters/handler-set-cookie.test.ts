import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sessions as expressSessions } from '../../src/adapters/express.js';
import { withSessions } from '../../src/adapters/node.js';
import { destroySession } from '../../src/context.js';
import type { Session } from '../../src/types.js';
import { type StrictResponse, strictRequest } from '../faults/support/raw-http.js';
import type { RunningApp } from './support/apps.js';
import { BACKENDS, createBackend, type TestBackend } from './support/backends.js';

/**
 * node:http and express: a handler that sends its own Set-Cookie through `res.writeHead` must not
 * push the session's cookie out (node's writeHead replaces a Set-Cookie already set). Both go out.
 * Read with raw sockets: each Set-Cookie line as the server wrote it.
 */
type Route = (res: ServerResponse, s: Session<Record<string, unknown>>) => void;
const ROUTES: Record<string, Route> = {
  '/login-object': (res, s) => {
    s.user = 'ada';
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Set-Cookie': 'theme=dark; Path=/' }).end('in');
  },
  '/login-object-list': (res, s) => {
    s.user = 'ada';
    res.writeHead(200, { 'set-cookie': ['theme=dark; Path=/', 'lang=en; Path=/'] }).end('in');
  },
  '/login-message': (res, s) => {
    s.user = 'ada';
    res.writeHead(200, 'Welcome', { 'SET-COOKIE': 'theme=dark; Path=/' }).end('in');
  },
  '/login-raw': (res, s) => {
    s.user = 'ada';
    res.writeHead(200, ['Set-Cookie', 'theme=dark; Path=/', 'Content-Type', 'text/plain', 'set-cookie', 'lang=en']);
    res.end('in');
  },
  '/login-replaces-own': (res, s) => {
    s.user = 'ada';
    res.setHeader('Set-Cookie', 'draft=1');
    // As node does it: the handler's second Set-Cookie replaces its first, never the session's.
    res.writeHead(200, { 'Set-Cookie': 'theme=dark; Path=/' }).end('in');
  },
  '/logout': (res) => {
    destroySession();
    res.writeHead(200, { 'Set-Cookie': 'theme=; Max-Age=0; Path=/' }).end('out');
  },
  '/logout-raw': (res) => {
    destroySession();
    res.writeHead(200, ['Set-Cookie', 'theme=; Max-Age=0; Path=/']).end('out');
  },
  '/peek': (res, s) => {
    res.end(JSON.stringify(s));
  },
};

function route(req: IncomingMessage, res: ServerResponse, s: Session<Record<string, unknown>>) {
  const handle = ROUTES[new URL(req.url ?? '/', 'http://x').pathname];
  if (handle) handle(res, s);
  else res.writeHead(404).end();
}

const CASES = (['node', 'express'] as const).flatMap((framework) =>
  BACKENDS.map((backend) => ({ framework, backend })),
);

describe.each(CASES)(
  '$framework with the $backend backend: a handler sets its own cookie with writeHead',
  ({ framework, backend: kind }) => {
    let backend: TestBackend;
    let app: RunningApp & { port: number };
    const errors: unknown[] = [];
    beforeEach(() => {
      errors.length = 0; // each test judges only what it caused
    });

    beforeAll(async () => {
      backend = createBackend(kind);
      const manager = backend.manager as unknown as import('../../src/manager.js').SessionManager<
        Record<string, unknown>
      >;
      const onError = (error: unknown) => errors.push(error);
      let server: import('node:http').Server;
      if (framework === 'node') {
        server = createServer(withSessions(manager, (req, res, s) => route(req, res, s), { onError }));
      } else {
        const expressApp = express();
        expressApp.use(expressSessions(manager, { onError }));
        expressApp.use((req, res) => route(req, res, req.session as Session<Record<string, unknown>>));
        server = createServer(expressApp);
      }
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as import('node:net').AddressInfo;
      app = {
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    });
    afterAll(async () => {
      await app?.close();
      await backend?.close();
    });

    const sessionCookies = (response: StrictResponse) =>
      response.header('set-cookie').filter((line) => line.startsWith(`${backend.manager.options.cookieName}=`));
    const otherCookies = (response: StrictResponse) =>
      response
        .header('set-cookie')
        .filter((line) => !line.startsWith(`${backend.manager.options.cookieName}`))
        .map((line) => line.split(';')[0]);
    const cookieHeader = (response: StrictResponse) =>
      sessionCookies(response)
        .map((line) => line.split(';')[0])
        .join('; ');

    async function login(path: string): Promise<StrictResponse> {
      const response = await strictRequest(app.port, { path });
      expect(response.status).toBe(200);
      expect(sessionCookies(response)).toHaveLength(1);
      const peek = await strictRequest(app.port, { path: '/peek', cookie: cookieHeader(response) });
      expect(JSON.parse(peek.body)).toEqual({ user: 'ada' });
      return response;
    }

    it.each([
      ['an object', '/login-object', ['theme=dark']],
      ['an object with a list', '/login-object-list', ['theme=dark', 'lang=en']],
      ['a status message and an object', '/login-message', ['theme=dark']],
      ['a raw header array', '/login-raw', ['theme=dark', 'lang=en']],
      ['an object, after its own setHeader', '/login-replaces-own', ['theme=dark']],
    ])('login through %s: both cookies go out', async (_label, path, expected) => {
      const response = await login(path);
      expect(otherCookies(response)).toEqual(expected);
    });

    it.each(['/logout', '/logout-raw'])('%s: the session cookie is cleared beside the handler cookie', async (path) => {
      const loggedIn = await login('/login-object');
      const response = await strictRequest(app.port, { path, cookie: cookieHeader(loggedIn) });
      expect(response.status).toBe(200);
      expect(otherCookies(response)).toEqual(['theme=']);
      const cleared = sessionCookies(response);
      expect(cleared).toHaveLength(1);
      expect(cleared[0]).toMatch(/Max-Age=0/);
      expect(errors).toEqual([]);
    });
  },
);
