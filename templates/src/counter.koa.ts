import type {} from "@session-manager/runtime/koa";
import type { Middleware } from "koa";

/**
 * GET /counter: counts this browser's visits in its session; any other request goes on to the
 * next middleware. Add it with `app.use(counter)` after `app.use(sessions(sessionManager))`.
 */
export const counter: Middleware = async (ctx, next) => {
  if (ctx.method !== "GET" || ctx.path !== "/counter") return next();
  ctx.session.counter = (ctx.session.counter ?? 0) + 1;
  ctx.body = `This is your ${ctx.session.counter} visit`;
};
