/**
 * Which requests keep the session's changes: every response below 500 (a 4xx included: a
 * failed-login counter counts, a flash set before a 401 is shown next, as Emmett keeps them on
 * `abort()`); a 5xx keeps none, nor does a handler that threw anything but an HTTP answer below 500.
 * The manager applies the rule (`commitResponse`, `handlerThrew`), so every adapter follows it alike.
 */
export function keepsChanges(status: number): boolean {
  return status < 500;
}

/**
 * Whether a thrown error is an HTTP answer that keeps the session's changes: koa's `ctx.throw(401)`,
 * hono's `HTTPException`, an error with a `status` or `statusCode` on fastify, express or node:http,
 * below 500. Anything else thrown is a failure, and keeps none.
 */
export function thrownKeepsChanges(error: unknown): boolean {
  const code = thrownStatus(error);
  return code !== undefined && code >= 400 && keepsChanges(code);
}

/** The HTTP status a thrown error carries (`status`, else `statusCode`), if it carries one. */
export function thrownStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
}
