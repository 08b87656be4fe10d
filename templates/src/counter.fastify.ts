import type {} from "@session-manager/runtime/fastify";
import type { FastifyPluginAsync } from "fastify";

/**
 * GET /counter: counts this browser's visits in its session. Register it with
 * `app.register(counter)` after the session plugin (`app.register(sessions, { manager })`).
 */
export const counter: FastifyPluginAsync = async (app) => {
  app.get("/counter", async (request) => {
    request.session.counter = (request.session.counter ?? 0) + 1;
    return `This is your ${request.session.counter} visit`;
  });
};
