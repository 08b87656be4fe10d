import { once } from "node:events";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type SessionVariables, sessions } from "@session-manager/runtime/hono";
import { Hono } from "hono";
import { sessionManager } from "./session.js";

export const app = new Hono<SessionVariables>();
app.use(sessions(sessionManager));

app.get("/counter", (c) => {
  const session = c.get("session");
  session.counter = (session.counter ?? 0) + 1;
  return c.text(`This is your ${session.counter} visit`);
});

/** Serves the app on 127.0.0.1; port 0 picks a free port (the tests use that). */
export async function startServer(port: number): Promise<Server> {
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
  await once(server, "listening");
  return server as Server;
}
