import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import Koa from 'koa';
import { sessions as expressSessions } from '../../src/adapters/express.js';
import { sessions as fastifySessions } from '../../src/adapters/fastify.js';
import { type SessionVariables, sessions as honoSessions } from '../../src/adapters/hono.js';
import { sessions as koaSessions } from '../../src/adapters/koa.js';
import { withSessions } from '../../src/adapters/node.js';
import {
  bindSessionToUser,
  destroySession,
  flash,
  regenerateSession,
  session,
  setSessionExpiry,
  takeFlashes,
  touchSession,
} from '../../src/context.js';
import type { SessionManager } from '../../src/manager.js';
import { listen } from '../adapters/support/apps.js';

export const FRAMEWORKS = ['node', 'express', 'fastify', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

type Data = Record<string, unknown>;

/** What a route answers; `error` is thrown the framework's way (express `err.status`, koa `ctx.throw`, ...). */
export interface Answer {
  status?: number;
  body: string;
  error?: 401 | 500;
}

/**
 * A route of the lifetimes app: the path, its query, the framework's own session object, and
 * whether the control functions must be given that object (koa and fastify) or find the request's
 * session through the context (the others).
 */
export type Route = (path: string, query: URLSearchParams, s: Data, explicit: boolean) => Answer | undefined;

/**
 * The routes every lifetimes app has:
 * - /count      counts visits
 * - /failures   the failure count
 * - /deny       counts a failure and flashes, then a 401 thrown the framework's way
 * - /big?size=N  stores a repetitive string of N characters
 * - /crash      counts a failure, then an unhandled exception
 * - /fail       counts a failure, then a 500 answered without throwing
 */
const baseRoutes: Route = (path, query, s, explicit) => {
  const fail = () => {
    s.failures = ((s.failures as number | undefined) ?? 0) + 1;
  };
  switch (path) {
    case '/count':
      s.counter = ((s.counter as number | undefined) ?? 0) + 1;
      return { body: String(s.counter) };
    case '/failures':
      return { body: String(s.failures ?? 0) };
    case '/deny':
      fail();
      flash('Wrong password', 'error', explicit ? s : undefined);
      return { body: 'denied', error: 401 };
    case '/big':
      s.blob = 'session data '.repeat(Math.ceil(Number(query.get('size') ?? 1000) / 13));
      return { body: 'stored' };
    case '/crash':
      fail();
      return { body: 'crashed', error: 500 };
    case '/fail':
      fail();
      return { status: 500, body: 'failed' };
    default:
      return undefined;
  }
};

/**
 * Session lifetimes, the way an app uses them (the control functions get the framework's session on
 * koa and fastify, and find the request's session through the context elsewhere):
 * - /login?user=ada&remember=N   regenerate, store and bind the user, remember for N seconds, flash a welcome
 * - /me                          the user and the flashes, as JSON, through the imported `session`
 * - /touch                       touchSession()
 * - /logout                      destroySession(), then a flash for the next page
 * - /flash?m=text                flashes a message
 */
const lifetimeRoutes: Route = (path, query, s, explicit) => {
  const target = explicit ? s : undefined;
  switch (path) {
    case '/login': {
      const user = query.get('user') ?? 'ada';
      regenerateSession(target);
      s.user = user;
      bindSessionToUser(user, target);
      const remember = query.get('remember');
      if (remember !== null) setSessionExpiry(Number(remember), target);
      flash(`Welcome ${user}`, 'success', target);
      return { body: 'ok' };
    }
    case '/me':
      return { body: JSON.stringify({ user: session.user ?? null, flashes: takeFlashes() }) };
    case '/touch':
      touchSession(target);
      return { body: 'touched' };
    case '/logout':
      destroySession(target);
      flash('Signed out', undefined, target);
      return { body: 'bye' };
    case '/flash':
      flash(query.get('m') ?? '', undefined, target);
      return { body: 'flashed' };
    default:
      return undefined;
  }
};

const routes: Route[] = [lifetimeRoutes, baseRoutes];

/** Adds routes to every lifetimes app started after this call (the first route that answers wins). */
export function addRoutes(route: Route): void {
  if (!routes.includes(route)) routes.unshift(route);
}

function answer(url: string | undefined, s: Data, explicit: boolean): Answer {
  const parsed = new URL(url ?? '/', 'http://x');
  for (const route of routes) {
    const found = route(parsed.pathname, parsed.searchParams, s, explicit);
    if (found !== undefined) return found;
  }
  return { status: 404, body: 'Not Found' };
}

/** An HTTP error as http-errors (express, koa) makes it: an Error with a `status`. */
const httpError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: true });

export async function startApp(framework: Framework, manager: SessionManager): Promise<RunningApp> {
  switch (framework) {
    case 'node':
      return listen(createServer(withSessions(manager, nodeHandler, { onError: () => {} })));
    case 'express':
      return listen(createServer(expressApp(manager)));
    case 'koa':
      return listen(createServer(koaApp(manager).callback()));
    case 'fastify':
      return fastifyApp(manager);
    case 'hono':
      return honoApp(manager);
  }
}

function nodeHandler(req: IncomingMessage, res: ServerResponse, s: Data): string {
  const { status, body, error } = answer(req.url, s, false);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  if (error === 401) throw httpError(401, body);
  if (error === 500) throw new Error('boom');
  res.statusCode = status ?? 200;
  return body;
}

function expressApp(manager: SessionManager) {
  const app = express();
  app.set('env', 'test'); // express' final handler logs errors outside 'test'
  app.use(expressSessions(manager, { onError: () => {} }));
  app.use((req, res) => {
    const { status, body, error } = answer(req.url, req.session as Data, false);
    // express' final handler answers with err.status.
    if (error === 401) throw httpError(401, body);
    if (error === 500) throw new Error('boom');
    res
      .status(status ?? 200)
      .type('text/plain')
      .send(body);
  });
  return app;
}

function koaApp(manager: SessionManager) {
  const app = new Koa();
  app.silent = true;
  app.use(koaSessions(manager, { onError: () => {} }));
  app.use((ctx) => {
    const { status, body, error } = answer(ctx.url, ctx.session as Data, true);
    if (error === 401) ctx.throw(401, body);
    if (error === 500) throw new Error('boom');
    ctx.status = status ?? 200;
    ctx.type = 'text/plain';
    ctx.body = body;
  });
  return app;
}

async function fastifyApp(manager: SessionManager): Promise<RunningApp> {
  const app = Fastify();
  await app.register(fastifySessions, { manager, onError: () => {} });
  app.get('/*', async (request, reply) => {
    const { status, body, error } = answer(request.url, request.session as Data, true);
    // fastify answers a thrown error with its statusCode.
    if (error === 401) throw Object.assign(new Error(body), { statusCode: 401 });
    if (error === 500) throw new Error('boom');
    return reply
      .code(status ?? 200)
      .type('text/plain')
      .send(body);
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

async function honoApp(manager: SessionManager): Promise<RunningApp> {
  const app = new Hono<SessionVariables>();
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text('Internal Server Error', 500),
  );
  app.use(honoSessions(manager, { onError: () => {} }));
  app.get('*', (c) => {
    const { status, body, error } = answer(c.req.url, c.get('session') as Data, false);
    if (error === 401) throw new HTTPException(401, { message: body });
    if (error === 500) throw new Error('boom');
    return c.text(body, (status ?? 200) as 200);
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  return listen(server, true);
}
