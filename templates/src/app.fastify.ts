import type { Server } from "node:http";
import { sessions } from "@session-manager/runtime/fastify";
import Fastify from "fastify";
import { sessionManager } from "./session.js";

export const app = Fastify();
await app.register(sessions, { manager: sessionManager });

app.get("/counter", async (request) => {
  request.session.counter = (request.session.counter ?? 0) + 1;
  return `This is your ${request.session.counter} visit`;
});

/** Serves the app on 127.0.0.1; port 0 picks a free port (the tests use that). */
export async function startServer(port: number): Promise<Server> {
  await app.listen({ port, host: "127.0.0.1" });
  return app.server;
}
