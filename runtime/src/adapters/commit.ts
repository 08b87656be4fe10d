import type { CommitPlan } from '../backends/backend.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';

/**
 * Commits a session for the frameworks that hold the response until their middleware is done
 * (fastify, koa, hono): a 5xx keeps no change, and the store write is awaited before the cookies
 * are handed back, so a browser never holds a cookie for data that was not stored. Synchronous
 * when there is nothing to store (cookies). Fails with the store's SessionStoreError (answer 503)
 * or a SessionDataError for an unstorable value (500).
 */
export function commitBeforeSend<T extends object>(
  manager: SessionManager<T>,
  state: SessionState<T>,
  status: number,
): string[] | Promise<string[]> {
  const plan = planCommit(manager, state, status);
  return plan.persist === undefined ? plan.setCookies : plan.persist().then(() => plan.setCookies);
}

/** What committing will do, decided now: a 5xx keeps no change. Throws SessionDataError. */
export function planCommit<T extends object>(
  manager: SessionManager<T>,
  state: SessionState<T>,
  status: number,
): CommitPlan {
  if (!keepsChanges(status)) state.discarded = true;
  return manager.commit(state);
}

/**
 * The one rule for which responses keep the session's changes: every answer below 500 (a 4xx
 * included: a failed-login counter counts, a flash set before a 401 is shown next, as Emmett keeps
 * them on `abort()`); a 5xx keeps none. Every adapter asks here, so the rule can move as one.
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

/** A response body written over time (a node stream or a web ReadableStream), not all at once. */
export function isStream(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (typeof (body as { pipe?: unknown }).pipe === 'function' || body instanceof ReadableStream)
  );
}
