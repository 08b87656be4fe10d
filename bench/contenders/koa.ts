import { sessions } from '@session-manager/runtime/koa';
import Koa from 'koa';
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
  type Visits,
  variant,
} from './serve.js';

/**
 * koa contenders: bare, this project's cookies backend, koa-session (signed, not encrypted,
 * cookies), and the sealed-cookie floor, without and with a request context.
 */
const which = variant(['bare', 'cookies', 'koa-session', 'seal-floor', 'seal-floor-context'] as const);

const app = new Koa();
let session: (ctx: Koa.Context) => Visits = () => ({});
let close: () => Promise<void> = async () => {};

const floorSession = (ctx: Koa.Context) => sealedCounter(ctx.headers.cookie, (cookie) => ctx.set('set-cookie', cookie));

if (which === 'seal-floor') {
  session = floorSession;
} else if (which === 'seal-floor-context') {
  app.use((ctx, next) => inRequestContext(ctx, next));
  session = floorSession;
} else if (which === 'cookies') {
  const ours = ourManager('cookies');
  app.use(sessions(ours.manager));
  session = (ctx) => ctx.session as Visits;
  close = ours.close;
} else if (which === 'koa-session') {
  app.keys = [SECRET];
  const createSession = await loadPeer<(options: object, app: Koa) => Koa.Middleware>('koa-session');
  app.use(createSession({ maxAge: EXPIRE_SECONDS * 1000 }, app));
  session = (ctx) => (ctx as unknown as { session: Visits }).session;
}

app.use(async (ctx) => {
  if (ctx.path === '/counter') ctx.body = countVisit(session(ctx));
  else if (ctx.path === '/peek') ctx.body = peekVisit(session(ctx));
});

const server = app.listen(0, '127.0.0.1', () => {
  announce(server, async () => {
    server.close();
    await close();
  });
});
