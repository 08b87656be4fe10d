import type { IncomingMessage, ServerResponse } from "node:http";
import type { Session } from "@session-manager/runtime";

/**
 * GET /counter: counts this browser's visits in its session and returns the body; for any other
 * request it returns undefined, so your handler answers it. Call it from the handler you give to
 * `withSessions(sessionManager, handler)`.
 */
export function counter(
  req: IncomingMessage,
  _res: ServerResponse,
  session: Session,
): string | undefined {
  const { pathname } = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" || pathname !== "/counter") return undefined;
  session.counter = (session.counter ?? 0) + 1;
  return `This is your ${session.counter} visit`;
}
