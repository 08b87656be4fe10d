import { sessions } from '@session-manager/runtime/express';
import express, { type Request, type RequestHandler } from 'express';
import { Redis } from 'ioredis';
import {
  announce,
  countVisit,
  EXPIRE_SECONDS,
  fileCounter,
  inRequestContext,
  loadPeer,
  loadPeerModule,
  ourManager,
  peekVisit,
  requireEnv,
  SECRET,
  sealedCounter,
  sealedSession,
  type Visits,
  variant,
} from './serve.js';

/**
 * express contenders: bare, this project's three backends, and the express peers. Each peer is set
 * up as its README recommends for a counter: no save of unchanged sessions, no empty sessions, an
 * hour of life.
 */
const which = variant([
  'bare',
  'cookies',
  'files',
  'redis',
  'redis-autopipelining',
  'express-session-memory',
  'express-session-redis',
  'express-session-files',
  'cookie-session',
  'iron-session',
  'seal-floor',
  'seal-floor-context',
  'seal-floor-session',
  'file-floor',
] as const);

type Middleware = RequestHandler;
/** How a peer's session object is reached, and what must be done after a change. */
interface Setup {
  middleware?: Middleware;
  session(req: Request, res: express.Response): Promise<Visits> | Visits;
  save?(session: Visits): Promise<void>;
  close?(): Promise<void> | void;
}

const MAX_AGE_MS = EXPIRE_SECONDS * 1000;
const floorSession = (req: Request, res: express.Response) =>
  sealedCounter(req.headers.cookie, (cookie) => res.setHeader('set-cookie', cookie));
const floorFullSession = (req: Request, res: express.Response) =>
  sealedSession(req.headers.cookie, (cookie) => res.setHeader('set-cookie', cookie));
const fileFloorSession = (folder: string) => (req: Request, res: express.Response) =>
  fileCounter(folder, req.headers.cookie, (cookie) => res.setHeader('set-cookie', cookie));
const requestSession = (req: Request) => (req as unknown as { session: Visits }).session;

async function expressSession(store?: unknown): Promise<Middleware> {
  const factory = await loadPeer<(options: object) => Middleware>('express-session');
  return factory({
    secret: SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: MAX_AGE_MS },
    ...(store === undefined ? {} : { store }),
  });
}

async function setup(): Promise<Setup> {
  switch (which) {
    case 'bare':
      return { session: () => ({}) };
    case 'seal-floor':
      return { session: floorSession };
    case 'seal-floor-context':
      return { middleware: (req, _res, next) => inRequestContext(req, next), session: floorSession };
    case 'seal-floor-session':
      return { middleware: (req, _res, next) => inRequestContext(req, next), session: floorFullSession };
    case 'file-floor':
      return { session: fileFloorSession(requireEnv('BENCH_FILES_DIR')) };
    case 'cookies':
    case 'files':
    case 'redis':
    case 'redis-autopipelining': {
      const ours = ourManager(which);
      return { middleware: sessions(ours.manager), session: requestSession, close: ours.close };
    }
    case 'express-session-memory':
      return { middleware: await expressSession(), session: requestSession };
    case 'express-session-redis': {
      const { RedisStore } = await loadPeerModule<{ RedisStore: new (options: object) => unknown }>('connect-redis');
      const client = new Redis(requireEnv('BENCH_REDIS_URL'));
      const store = new RedisStore({ client, prefix: 'bench-connect-redis:', ttl: EXPIRE_SECONDS });
      return {
        middleware: await expressSession(store),
        session: requestSession,
        close: () => client.disconnect(),
      };
    }
    case 'express-session-files': {
      const factory = await loadPeer<(session: unknown) => new (options: object) => unknown>('session-file-store');
      const FileStore = factory(await loadPeer('express-session'));
      // Its default logger prints every retry; the bench measures it, not its console.
      const store = new FileStore({ path: requireEnv('BENCH_FILES_DIR'), ttl: EXPIRE_SECONDS, logFn: () => {} });
      return { middleware: await expressSession(store), session: requestSession };
    }
    case 'cookie-session': {
      const factory = await loadPeer<(options: object) => Middleware>('cookie-session');
      return { middleware: factory({ keys: [SECRET], maxAge: MAX_AGE_MS }), session: requestSession };
    }
    case 'iron-session': {
      interface IronSession extends Visits {
        save(): Promise<void>;
      }
      const { getIronSession } = await loadPeerModule<{
        getIronSession(req: Request, res: express.Response, options: object): Promise<IronSession>;
      }>('iron-session');
      const options = { password: SECRET, cookieName: 'iron', ttl: EXPIRE_SECONDS };
      return {
        session: (req, res) => getIronSession(req, res, options),
        save: (session) => (session as IronSession).save(),
      };
    }
  }
}

const { middleware, session, save, close } = await setup();
const app = express();
if (middleware) app.use(middleware);
app.get('/counter', async (req, res) => {
  const data = await session(req, res);
  const body = countVisit(data);
  await save?.(data);
  res.type('text/plain').send(body);
});
app.get('/peek', async (req, res) => {
  res.type('text/plain').send(peekVisit(await session(req, res)));
});

const server = app.listen(0, '127.0.0.1', () => {
  announce(server, async () => {
    server.close();
    await close?.();
  });
});
