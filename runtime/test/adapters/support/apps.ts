import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { streamText } from 'hono/streaming';
import Koa from 'koa';
import { sessions as expressSessions } from '../../../src/adapters/express.js';
import { sessions as fastifySessions } from '../../../src/adapters/fastify.js';
import { type SessionVariables, sessions as honoSessions } from '../../../src/adapters/hono.js';
import { sessions as koaSessions } from '../../../src/adapters/koa.js';
import { withSessions } from '../../../src/adapters/node.js';
import type { AdapterOptions } from '../../../src/adapters/kit.js';
import { session } from '../../../src/context.js';
import { SessionContextError } from '../../../src/errors.js';
import type { SessionManager } from '../../../src/manager.js';
import type { Session } from '../../../src/types.js';

declare module '../../../src/types.js' {
  interface SessionData {
    counter: number;
    late: boolean;
    note: string;
  }
}

export const FRAMEWORKS = ['node', 'express', 'fastify', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
/**
 * The older majors the adapters support (express 4, fastify 4, koa 2), installed under npm aliases.
 * Each serves the same app as its framework's current major; their types are checked by the types test.
 */
export const OLDER_MAJORS = ['express4', 'fastify4', 'koa2'] as const;
/** Every framework at every supported major. */
export const ALL_MAJORS = [...FRAMEWORKS, ...OLDER_MAJORS] as const;
export type AppKind = (typeof ALL_MAJORS)[number];

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The same small app in every framework, each in its own idiom:
 * - GET /counter   counts visits through the framework's session (req.session, c.get('session')...)
 * - GET /bump      counts visits through `session` from the runtime, after an await
 * - GET /peek      answers the session as JSON through `session`, changes nothing
 * - GET /context   'on' if `session` reaches the request's session after an await, 'off' if it throws
 *                  SessionContextError (the adapter was given `context: false`)
 * - GET /throw     changes the session, then throws after an await
 * - GET /fail      changes the session, then answers 500 without throwing
 * - GET /stream    counts a visit, streams a first chunk, then changes the session mid-stream
 * - POST /note     stores the JSON body's `note` through `session`, after the body was read
 * HEAD is served by the GET routes (as the frameworks do); OPTIONS gets no route.
 */
const visit = (s: Session) => {
  s.counter = (s.counter ?? 0) + 1;
  return `This is your ${s.counter} visit`;
};
const viaAccessor = async () => {
  await sleep(1);
  return visit(session);
};
const peek = async () => {
  await sleep(1);
  return JSON.stringify(session);
};
const contextState = async () => {
  await sleep(1);
  try {
    void session.counter;
    return 'on';
  } catch (error) {
    return error instanceof SessionContextError ? 'off' : 'failed';
  }
};
const saveNote = (body: unknown) => {
  session.note = (body as { note: string }).note;
  return 'saved';
};
async function readJson(stream: AsyncIterable<Buffer>): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
async function* streamed(s: Session) {
  yield 'first,';
  await sleep(30);
  s.late = true;
  yield 'second';
}

export async function startApp(
  framework: AppKind,
  manager: SessionManager,
  options: AdapterOptions = {},
): Promise<RunningApp> {
  // The older majors run the same code; typed as the current major, whose API the app keeps to.
  // Imported only when asked for: the app servers other tests start in processes of their own load less.
  switch (framework) {
    case 'node':
      return listen(createServer(withSessions(manager, nodeHandler, options)));
    case 'express':
      return listen(createServer(expressApp(express, manager, options)));
    case 'express4':
      return listen(createServer(expressApp((await olderMajor('express4')) as typeof express, manager, options)));
    case 'koa':
      return listen(createServer(koaApp(Koa, manager, options).callback()));
    case 'koa2':
      return listen(createServer(koaApp((await olderMajor('koa2')) as typeof Koa, manager, options).callback()));
    case 'fastify':
      return fastifyApp(Fastify, manager, options);
    case 'fastify4':
      return fastifyApp((await olderMajor('fastify4')) as typeof Fastify, manager, options);
    case 'hono':
      return honoApp(manager, options);
  }
}

async function olderMajor(name: (typeof OLDER_MAJORS)[number]): Promise<unknown> {
  const loaded = (await import(name)) as { default: unknown };
  return loaded.default;
}

async function nodeHandler(
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
  s: Session,
): Promise<string | undefined> {
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  if (req.method === 'POST' && req.url === '/note') return saveNote(await readJson(req));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 404;
    return 'Not Found';
  }
  switch (new URL(req.url ?? '/', 'http://x').pathname) {
    case '/counter':
      return visit(s);
    case '/bump':
      return viaAccessor();
    case '/peek':
      return peek();
    case '/context':
      return contextState();
    case '/throw':
      s.counter = 1000;
      await sleep(1);
      throw new Error('boom');
    case '/fail':
      s.counter = 500;
      res.statusCode = 500;
      return 'failed';
    case '/stream':
      visit(s);
      for await (const chunk of streamed(s)) res.write(chunk);
      res.end();
      return undefined;
    default:
      res.statusCode = 404;
      return 'Not Found';
  }
}

/** An async express route whose rejection reaches express' error handling, as express 5 does itself and 4 does not. */
const route =
  (handler: (req: express.Request, res: express.Response) => Promise<void>): express.RequestHandler =>
  (req, res, next) => {
    handler(req, res).catch(next);
  };

function expressApp(createApp: typeof express, manager: SessionManager, options: AdapterOptions) {
  const app = createApp();
  app.set('env', 'test'); // express' final handler logs errors outside 'test'
  app.use(expressSessions(manager, options));
  app.use(createApp.json());
  app.post('/note', (req, res) => {
    res.type('text/plain').send(saveNote(req.body));
  });
  app.get('/counter', (req, res) => {
    res.type('text/plain').send(visit(req.session));
  });
  app.get(
    '/bump',
    route(async (_req, res) => {
      res.type('text/plain').send(await viaAccessor());
    }),
  );
  app.get(
    '/peek',
    route(async (_req, res) => {
      res.type('text/plain').send(await peek());
    }),
  );
  app.get(
    '/context',
    route(async (_req, res) => {
      res.type('text/plain').send(await contextState());
    }),
  );
  app.get(
    '/throw',
    route(async (req) => {
      req.session.counter = 1000;
      await sleep(1);
      throw new Error('boom');
    }),
  );
  app.get('/fail', (req, res) => {
    req.session.counter = 500;
    res.status(500).send('failed');
  });
  app.get(
    '/stream',
    route(async (req, res) => {
      visit(req.session);
      res.type('text/plain');
      for await (const chunk of streamed(req.session)) res.write(chunk);
      res.end();
    }),
  );
  return app;
}

function koaApp(App: typeof Koa, manager: SessionManager, options: AdapterOptions) {
  const app = new App();
  app.silent = true; // koa logs every thrown error otherwise
  app.use(koaSessions(manager, options));
  app.use(async (ctx) => {
    if (ctx.method === 'POST' && ctx.path === '/note') {
      ctx.body = saveNote(await readJson(ctx.req));
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return; // koa answers 404
    ctx.type = 'text/plain';
    switch (ctx.path) {
      case '/counter':
        ctx.body = visit(ctx.session);
        return;
      case '/bump':
        ctx.body = await viaAccessor();
        return;
      case '/peek':
        ctx.body = await peek();
        return;
      case '/context':
        ctx.body = await contextState();
        return;
      case '/throw':
        ctx.session.counter = 1000;
        await sleep(1);
        throw new Error('boom');
      case '/fail':
        ctx.session.counter = 500;
        ctx.status = 500;
        ctx.body = 'failed';
        return;
      case '/stream':
        visit(ctx.session);
        ctx.body = Readable.from(streamed(ctx.session));
        return;
    }
  });
  return app;
}

async function fastifyApp(
  createApp: typeof Fastify,
  manager: SessionManager,
  options: AdapterOptions,
): Promise<RunningApp> {
  const app = createApp();
  await app.register(fastifySessions, { manager, ...options });
  app.post('/note', async (request, reply) => {
    reply.type('text/plain');
    return saveNote(request.body);
  });
  app.get('/counter', async (request, reply) => {
    reply.type('text/plain');
    return visit(request.session);
  });
  app.get('/bump', async (_request, reply) => {
    reply.type('text/plain');
    return viaAccessor();
  });
  app.get('/peek', async (_request, reply) => {
    reply.type('text/plain');
    return peek();
  });
  app.get('/context', async (_request, reply) => {
    reply.type('text/plain');
    return contextState();
  });
  app.get('/throw', async (request) => {
    request.session.counter = 1000;
    await sleep(1);
    throw new Error('boom');
  });
  app.get('/fail', async (request, reply) => {
    request.session.counter = 500;
    return reply.code(500).type('text/plain').send('failed');
  });
  app.get('/stream', async (request, reply) => {
    visit(request.session);
    reply.type('text/plain');
    return Readable.from(streamed(request.session));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

async function honoApp(manager: SessionManager, options: AdapterOptions): Promise<RunningApp> {
  const app = new Hono<SessionVariables>();
  app.onError((_error, c) => c.text('Internal Server Error', 500)); // hono logs errors otherwise
  app.use(honoSessions(manager, options));
  app.post('/note', async (c) => c.text(saveNote(await c.req.json())));
  app.get('/counter', (c) => c.text(visit(c.get('session'))));
  app.get('/bump', async (c) => c.text(await viaAccessor()));
  app.get('/peek', async (c) => c.text(await peek()));
  app.get('/context', async (c) => c.text(await contextState()));
  app.get('/throw', async (c) => {
    c.get('session').counter = 1000;
    await sleep(1);
    throw new Error('boom');
  });
  app.get('/fail', (c) => {
    c.get('session').counter = 500;
    return c.text('failed', 500);
  });
  app.get('/stream', (c) => {
    const s = c.get('session');
    visit(s);
    return streamText(c, async (stream) => {
      for await (const chunk of streamed(s)) await stream.write(chunk);
    });
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  return listen(server, true);
}

/** Serves `server` on a free loopback port (or waits for the port it took) and says where. */
export async function listen(server: Server, alreadyListening = false): Promise<RunningApp> {
  if (!alreadyListening) server.listen(0, '127.0.0.1');
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
