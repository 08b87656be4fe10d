import { once } from "node:events";
import type { Server } from "node:http";
import { sessions } from "@session-manager/runtime/koa";
import Koa from "koa";
import { sessionManager } from "./session.js";

export const app = new Koa();
app.use(sessions(sessionManager));

app.use(async (ctx, next) => {
  if (ctx.method !== "GET" || ctx.path !== "/counter") return next();
  ctx.session.counter = (ctx.session.counter ?? 0) + 1;
  ctx.body = `This is your ${ctx.session.counter} visit`;
});

/** Serves the app on 127.0.0.1; port 0 picks a free port (the tests use that). */
export async function startServer(port: number): Promise<Server> {
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}
