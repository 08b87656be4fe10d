import { createHash } from 'node:crypto';
import { sessions } from '@session-manager/runtime/fastify';
import Fastify, { type FastifyPluginCallback, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  announce,
  countVisit,
  EXPIRE_SECONDS,
  inRequestContext,
  loadPeer,
  ourManager,
  peekVisit,
  SECRET,
  sealedCounter,
  sealedSession,
  type Visits,
  VisitsThrough,
  variant,
} from './serve.js';

/**
 * fastify contenders: bare, this project's three backends, @fastify/secure-session, @fastify/session
 * and the sealed-cookie floor.
 */
const which = variant([
  'bare',
  'cookies',
  'files',
  'redis',
  'secure-session',
  'fastify-session',
  'seal-floor',
  'seal-floor-context',
  'seal-floor-session',
] as const);

const app = Fastify({ logger: false });
let session: (request: FastifyRequest, reply: FastifyReply) => Visits = () => ({});
let close: () => Promise<void> = async () => {};

type Plugin = FastifyPluginCallback<Record<string, unknown>>;
const floorSession = (request: FastifyRequest, reply: FastifyReply) =>
  sealedCounter(request.headers.cookie, (cookie) => reply.header('set-cookie', cookie));
const floorFullSession = (request: FastifyRequest, reply: FastifyReply) =>
  sealedSession(request.headers.cookie, (cookie) => reply.header('set-cookie', cookie));
const decorated = (request: FastifyRequest) => (request as unknown as { session: Visits }).session;

switch (which) {
  case 'bare':
    break;
  case 'seal-floor-context':
    app.addHook('onRequest', (request, _reply, next) => inRequestContext(request, next));
    session = floorSession;
    break;
  case 'seal-floor':
    session = floorSession;
    break;
  case 'seal-floor-session':
    app.addHook('onRequest', (request, _reply, next) => inRequestContext(request, next));
    session = floorFullSession;
    break;
  case 'cookies':
  case 'files':
  case 'redis': {
    const ours = ourManager(which);
    await app.register(sessions, { manager: ours.manager });
    session = decorated;
    close = ours.close;
    break;
  }
  case 'secure-session': {
    interface SecureSession {
      get(key: 'counter'): number | undefined;
      set(key: 'counter', value: number): void;
    }
    // libsodium's secretbox takes a 32-byte key; the README's way to make one from a secret.
    const key = createHash('sha256').update(SECRET).digest();
    await app.register(await loadPeer<Plugin>('@fastify/secure-session'), {
      key,
      expiry: EXPIRE_SECONDS,
      cookie: { path: '/', httpOnly: true, maxAge: EXPIRE_SECONDS },
    });
    // Its documented get/set API, which is cheaper than its property proxy.
    session = (request) => {
      const secure = (request as unknown as { session: SecureSession }).session;
      return new VisitsThrough(secure.get('counter'), (value) => secure.set('counter', value));
    };
    break;
  }
  case 'fastify-session': {
    await app.register(await loadPeer<Plugin>('@fastify/cookie'));
    await app.register(await loadPeer<Plugin>('@fastify/session'), {
      secret: SECRET,
      saveUninitialized: false,
      cookie: { secure: false, maxAge: EXPIRE_SECONDS * 1000 },
    });
    session = decorated;
    break;
  }
}

app.get('/counter', async (request, reply) => {
  reply.type('text/plain; charset=utf-8');
  return countVisit(session(request, reply));
});
app.get('/peek', async (request, reply) => {
  reply.type('text/plain; charset=utf-8');
  return peekVisit(session(request, reply));
});

await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server, async () => {
  await app.close();
  await close();
});
