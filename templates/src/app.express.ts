import { once } from "node:events";
import type { Server } from "node:http";
import { sessions } from "@session-manager/runtime/express";
import express from "express";
import { sessionManager } from "./session.js";

export const app = express();
app.use(sessions(sessionManager));

app.get("/counter", (req, res) => {
  req.session.counter = (req.session.counter ?? 0) + 1;
  res.type("text/plain").send(`This is your ${req.session.counter} visit`);
});

/** Serves the app on 127.0.0.1; port 0 picks a free port (the tests use that). */
export async function startServer(port: number): Promise<Server> {
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}
