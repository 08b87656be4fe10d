import type { ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { commitBeforeSend, thrownKeepsChanges } from './commit.js';
import { lateChangeCheck } from './late-changes.js';
import { type AdapterOptions, BODY_HEADERS, contextRunner, defaultOnError, failureResponse } from './respond.js';

export type { AdapterOptions } from './respond.js';

declare module 'hono' {
  // Types `c.get('session')` in apps that do not chain `.use(sessions(...))` into their routes' type.
  interface ContextVariableMap {
    session: Session<SessionData>;
  }
}

/** What the middleware adds to hono's context: `c.get('session')`, typed by the manager's type. */
export interface SessionVariables<T extends object = SessionData> {
  Variables: { session: Session<T> };
}

/**
 * Hono middleware: `app.use(sessions(manager))`. Handlers get `c.get('session')`, and `session`
 * from '@session-manager/runtime' works in their async call tree. The session is committed once
 * the handler has produced its response; a thrown handler (hono's `c.error`) keeps no change,
 * unless it threw an HTTPException below 500.
 */
export function sessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  options: AdapterOptions = {},
): MiddlewareHandler<SessionVariables<T>> {
  const onError = options.onError ?? defaultOnError;
  const runInContext = contextRunner(options);
  return async (c, next) => {
    let state: SessionState<T>;
    try {
      const loading = manager.loadEager(c.req.header('cookie'));
      state = loading instanceof Promise ? await loading : loading;
    } catch (error) {
      onError(error);
      replaceWithFailure(c, error);
      return;
    }
    c.set('session', state.data);
    await runInContext(state as SessionState<object>, next);
    // An HTTPException below 500 is an answer, and keeps the changes; anything else thrown does not.
    if (c.error !== undefined && !thrownKeepsChanges(c.error)) state.discarded = true;
    try {
      const committing = commitBeforeSend(manager, state, c.res.status);
      for (const cookie of committing instanceof Promise ? await committing : committing) {
        c.header('Set-Cookie', cookie, { append: true });
      }
      // On @hono/node-server the node response is at hand: report changes made while the body streams.
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      outgoing?.once('finish', lateChangeCheck(state as SessionState<object>, onError));
    } catch (error) {
      onError(error);
      c.res.body?.cancel().catch(() => {});
      replaceWithFailure(c, error);
    }
  };
}

/**
 * The 503 (or 500) in place of a response that had not started. Built afresh rather than with
 * `c.text`, which would take the headers prepared for the replaced body (streamText's
 * `Transfer-Encoding: chunked`); the replaced response's other headers are kept.
 */
function replaceWithFailure(c: Context, error: unknown): void {
  const { status, body } = failureResponse(error);
  const headers = new Headers(c.res.headers);
  for (const name of BODY_HEADERS) headers.delete(name);
  headers.set('content-type', 'text/plain; charset=utf-8');
  // Unset first: assigning over a response would copy its headers back into the failure answer.
  c.res = undefined;
  c.res = new Response(body, { status, headers });
}
