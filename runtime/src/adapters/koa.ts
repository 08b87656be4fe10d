import type { Middleware } from 'koa';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { commitBeforeSend, isStream } from './commit.js';
import { lateChangeCheck } from './late-changes.js';
import { type AdapterOptions, contextRunner, defaultOnError, failureResponse } from './respond.js';

export type { AdapterOptions } from './respond.js';

declare module 'koa' {
  interface ExtendableContext {
    /** The request's session, typed by your `SessionData` declaration. */
    session: Session<SessionData>;
  }
}

/**
 * Koa middleware: `app.use(sessions(manager))`. Middleware after it gets `ctx.session`, and
 * `session` from '@session-manager/runtime' works in their async call tree. The session is
 * committed when the downstream middleware is done, before koa sends the response; a throw
 * downstream keeps no change and is rethrown to koa's error handling.
 */
export function sessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  options: AdapterOptions = {},
): Middleware {
  const onError = options.onError ?? defaultOnError;
  const runInContext = contextRunner(options);
  const fail = (ctx: Parameters<Middleware>[0], error: unknown) => {
    onError(error);
    const { status, body } = failureResponse(error);
    if (isStream(ctx.body)) (ctx.body as { destroy?: () => void }).destroy?.();
    ctx.status = status;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = body;
  };
  return async (ctx, next) => {
    let state: SessionState<T>;
    try {
      const loading = manager.loadEager(ctx.headers.cookie);
      state = loading instanceof Promise ? await loading : loading;
    } catch (error) {
      fail(ctx, error);
      return;
    }
    ctx.session = state.data as Session<SessionData>;
    try {
      await runInContext(state as SessionState<object>, next);
    } catch (error) {
      state.discarded = true;
      throw error;
    }
    try {
      const committing = commitBeforeSend(manager, state, ctx.status);
      for (const cookie of committing instanceof Promise ? await committing : committing) {
        ctx.append('Set-Cookie', cookie);
      }
      if (isStream(ctx.body)) ctx.res.once('finish', lateChangeCheck(state as SessionState<object>, onError));
    } catch (error) {
      fail(ctx, error);
    }
  };
}
