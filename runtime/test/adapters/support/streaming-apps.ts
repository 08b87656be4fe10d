import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
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
import type { SessionManager } from '../../../src/manager.js';
import type { Session } from '../../../src/types.js';
import { type Framework, listen, type RunningApp } from './apps.js';

/**
 * Routes whose response has a body that is streamed or described by its own headers, in each
 * framework's idiom, for what happens around the moment the headers go out:
 * - GET /stream-fail  counts a visit, sends the headers and a first chunk `first,`, waits for the
 *                     test's `release()`, then fails (a throw, or a stream that errors)
 * - GET /chunked      counts a visit and streams `first,second` with `Transfer-Encoding: chunked`
 *                     set by the route (hono's streamText does it itself)
 * - GET /gzip         counts a visit and sends a whole gzip body with `Content-Encoding: gzip`
 * - GET /peek         the session as JSON
 */
export interface StreamingAppOptions extends AdapterOptions {
  /** Resolves when the test lets /stream-fail go on to its failure. */
  release: () => Promise<void>;
}

const visit = (s: Session) => {
  s.counter = (s.counter ?? 0) + 1;
};
const GZIPPED = gzipSync('zipped body');

async function* firstThenFail(release: () => Promise<void>) {
  yield 'first,';
  await release();
  throw new Error('the stream broke');
}
async function* twoChunks() {
  yield 'first,';
  yield 'second';
}

export async function startStreamingApp(
  framework: Framework,
  manager: SessionManager,
  options: StreamingAppOptions,
): Promise<RunningApp> {
  const { release, ...adapterOptions } = options;
  switch (framework) {
    case 'node':
      return listen(
        createServer(withSessions(manager, (req, res, s) => nodeRoutes(req, res, s, release), adapterOptions)),
      );
    case 'express': {
      const app = express();
      app.set('env', 'test');
      app.use(expressSessions(manager, adapterOptions));
      app.get('/:route', (req, res, next) => {
        nodeRoutes(req, res, req.session, release).then((body) => {
          if (typeof body === 'string') res.type('text/plain').send(body);
        }, next);
      });
      return listen(createServer(app));
    }
    case 'koa': {
      const app = new Koa();
      app.silent = true;
      app.use(koaSessions(manager, adapterOptions));
      app.use(async (ctx) => {
        switch (ctx.path) {
          case '/stream-fail':
            visit(ctx.session);
            ctx.type = 'text/plain';
            ctx.body = Readable.from(firstThenFail(release));
            return;
          case '/chunked':
            visit(ctx.session);
            ctx.type = 'text/plain';
            ctx.set('Transfer-Encoding', 'chunked');
            ctx.body = Readable.from(twoChunks());
            return;
          case '/gzip':
            visit(ctx.session);
            ctx.type = 'text/plain';
            ctx.set('Content-Encoding', 'gzip');
            ctx.body = GZIPPED;
            return;
          case '/peek':
            ctx.body = JSON.stringify(ctx.session);
            return;
        }
      });
      return listen(createServer(app.callback()));
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(fastifySessions, { manager, ...adapterOptions });
      app.get('/stream-fail', async (request, reply) => {
        visit(request.session);
        reply.type('text/plain');
        return Readable.from(firstThenFail(release));
      });
      app.get('/chunked', async (request, reply) => {
        visit(request.session);
        reply.type('text/plain').header('transfer-encoding', 'chunked');
        return Readable.from(twoChunks());
      });
      app.get('/gzip', async (request, reply) => {
        visit(request.session);
        reply.type('text/plain').header('content-encoding', 'gzip');
        return GZIPPED;
      });
      app.get('/peek', async (request) => JSON.stringify(request.session));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    }
    case 'hono': {
      const app = new Hono<SessionVariables>();
      app.onError((_error, c) => c.text('Internal Server Error', 500));
      app.use(honoSessions(manager, adapterOptions));
      app.get('/stream-fail', (c) => {
        visit(c.get('session'));
        // hono's stream helpers catch a failing callback and end the body as if it were whole;
        // a web stream that errors is a failure the server sees.
        return c.body(Readable.toWeb(Readable.from(firstThenFail(release))) as ReadableStream, 200, {
          'Content-Type': 'text/plain',
        });
      });
      app.get('/chunked', (c) => {
        visit(c.get('session'));
        return streamText(c, async (stream) => {
          for await (const chunk of twoChunks()) await stream.write(chunk);
        });
      });
      app.get('/gzip', (c) => {
        visit(c.get('session'));
        return c.body(GZIPPED, 200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      });
      app.get('/peek', (c) => c.text(JSON.stringify(c.get('session'))));
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
      return listen(server, true);
    }
  }
}

/** node:http and express share these: both write to the ServerResponse themselves. */
async function nodeRoutes(
  req: IncomingMessage,
  res: ServerResponse,
  s: Session,
  release: () => Promise<void>,
): Promise<string | undefined> {
  switch (new URL(req.url ?? '/', 'http://x').pathname) {
    case '/stream-fail':
      visit(s);
      res.setHeader('Content-Type', 'text/plain');
      // The write's callback runs once the headers and the chunk are on their way to the client.
      await new Promise<void>((resolve, reject) => res.write('first,', (error) => (error ? reject(error) : resolve())));
      await release();
      throw new Error('the handler broke');
    case '/chunked':
      visit(s);
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Transfer-Encoding', 'chunked');
      for await (const chunk of twoChunks()) {
        await new Promise<void>((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())));
      }
      res.end();
      return undefined;
    case '/gzip':
      visit(s);
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', GZIPPED.length);
      res.end(GZIPPED);
      return undefined;
    case '/peek':
      return JSON.stringify(s);
    default:
      res.statusCode = 404;
      return 'Not Found';
  }
}
