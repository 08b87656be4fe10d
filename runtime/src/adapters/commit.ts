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
  if (status >= 500) state.discarded = true;
  return manager.commit(state);
}

/** A response body written over time (a node stream or a web ReadableStream), not all at once. */
export function isStream(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (typeof (body as { pipe?: unknown }).pipe === 'function' || body instanceof ReadableStream)
  );
}
