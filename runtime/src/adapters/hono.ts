import type { ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { BODY_HEADERS, failureResponse } from './failure.js';
import { type AdapterOptions, adapterKit, lateChangeCheck } from './kit.js';

export type { AdapterOptions } from './kit.js';

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
  const { onError, runInContext, load, commitBeforeSend } = adapterKit(manager, options);
  const failed = (c: Context, error: unknown): undefined => {
    onError(error);
    replaceWithFailure(c, error);
    return undefined;
  };
  return async (c, next) => {
    const loading = load<SessionState<T> | undefined>(
      c.req.header('cookie'),
      (loaded) => loaded,
      (error) => failed(c, error),
    );
    const state = loading instanceof Promise ? await loading : loading;
    if (state === undefined) return;
    c.set('session', state.data);
    await runInContext(state as SessionState<object>, next);
    // An HTTPException below 500 is an answer, and keeps the changes; anything else thrown does not.
    if (c.error !== undefined) manager.handlerThrew(state, c.error);
    try {
      const committing = commitBeforeSend(state, c.res.status);
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
