import type {} from "@session-manager/runtime/express";
import { Router } from "express";

/**
 * GET /counter: counts this browser's visits in its session. Mount it with `app.use(counter)`
 * after the session middleware (`app.use(sessions(sessionManager))`).
 */
export const counter = Router();

counter.get("/counter", (req, res) => {
  req.session.counter = (req.session.counter ?? 0) + 1;
  res.type("text/plain").send(`This is your ${req.session.counter} visit`);
});
