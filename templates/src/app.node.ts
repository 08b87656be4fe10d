import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { withSessions } from "@session-manager/runtime/node";
import { sessionManager } from "./session.js";

const handler = withSessions(sessionManager, (req, res, session) => {
  const { pathname } = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" || pathname !== "/counter") {
    res.statusCode = 404;
    return "Not Found";
  }
  session.counter = (session.counter ?? 0) + 1;
  return `This is your ${session.counter} visit`;
});

/** Serves the app on 127.0.0.1; port 0 picks a free port (the tests use that). */
export async function startServer(port: number): Promise<Server> {
  const server = createServer(handler).listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}
