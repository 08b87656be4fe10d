import type { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { commitBeforeSend } from './commit.js';
import { lateChangeCheck } from './late-changes.js';
import { type AdapterOptions, contextRunner, defaultOnError, failureResponse } from './respond.js';

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
 * the handler has produced its response; a thrown handler (hono's `c.error`) keeps no change.
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
      const { status, body } = failureResponse(error);
      return c.text(body, status as 500 | 503);
    }
    c.set('session', state.data);
    await runInContext(state as SessionState<object>, next);
    if (c.error !== undefined) state.discarded = true;
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
      const { status, body } = failureResponse(error);
      c.res.body?.cancel().catch(() => {});
      // Unset first: assigning over a response would carry its headers into the failure answer.
      c.res = undefined;
      c.res = c.text(body, status as 500 | 503);
    }
  };
}
