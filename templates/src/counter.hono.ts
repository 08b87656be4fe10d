import type { SessionVariables } from "@session-manager/runtime/hono";
import { Hono } from "hono";

/**
 * GET /counter: counts this browser's visits in its session. Mount it with
 * `app.route("/", counter)` after `app.use(sessions(sessionManager))`.
 */
export const counter = new Hono<SessionVariables>();

counter.get("/counter", (c) => {
  const session = c.get("session");
  session.counter = (session.counter ?? 0) + 1;
  return c.text(`This is your ${session.counter} visit`);
});
