import { sessions } from '@session-manager/runtime/koa';
import Koa from 'koa';
import { manager } from './manager.js';

const app = new Koa();
app.use(sessions(manager));
app.use(async (ctx) => {
  ctx.session.counter = (ctx.session.counter ?? 0) + 1;
  // @ts-expect-error a counter is a number
  ctx.session.counter = 'one';
  // @ts-expect-error no such key in SessionData
  ctx.session.missing = true;
  const counter: number | undefined = ctx.session.counter;
  ctx.body = String(counter);
});
