import { sessions } from '@session-manager/runtime/koa';
import Koa from 'koa';
import {
  announce,
  countVisit,
  EXPIRE_SECONDS,
  loadPeer,
  ourManager,
  peekVisit,
  SECRET,
  type Visits,
  variant,
} from './serve.js';

/** koa contenders: bare, this project's cookies backend, and koa-session (signed, not encrypted, cookies). */
const which = variant(['bare', 'cookies', 'koa-session'] as const);

const app = new Koa();
let session: (ctx: Koa.Context) => Visits = () => ({});
let close: () => Promise<void> = async () => {};

if (which === 'cookies') {
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
  announce(server.address(), async () => {
    server.close();
    await close();
  });
});
