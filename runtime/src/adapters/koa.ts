import type { Context, Middleware, Next } from 'koa';
import { thrownStatus } from '../keeps-changes.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { BODY_HEADERS, failureResponse } from './failure.js';
import { type AdapterOptions, adapterKit, isStream, lateChangeCheck } from './kit.js';

export type { AdapterOptions } from './kit.js';

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
 * downstream keeps no change (unless it is a 4xx, `ctx.throw(401)`) and is rethrown to koa's error
 * handling.
 */
export function sessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  options: AdapterOptions = {},
): Middleware {
  const { onError, runInContext, load, commitBeforeSend } = adapterKit(manager, options);
  const fail = (ctx: Context, error: unknown) => {
    onError(error);
    const { status, body } = failureResponse(error);
    if (isStream(ctx.body)) (ctx.body as { destroy?: () => void }).destroy?.();
    for (const name of BODY_HEADERS) ctx.remove(name);
    ctx.status = status;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = body;
  };
  /** Commits once the downstream middleware is done; a commit that fails answers 503 or 500. */
  const commit = (ctx: Context, state: SessionState<T>): Promise<void> | void => {
    const setCookies = (cookies: string[]) => {
      for (const cookie of cookies) ctx.append('Set-Cookie', cookie);
      if (isStream(ctx.body)) ctx.res.once('finish', lateChangeCheck(state as SessionState<object>, onError));
    };
    try {
      const committing = commitBeforeSend(state, ctx.status);
      if (!(committing instanceof Promise)) return setCookies(committing);
      return committing.then(setCookies).catch((error: unknown) => fail(ctx, error));
    } catch (error) {
      fail(ctx, error);
    }
  };
  const run = (ctx: Context, next: Next, state: SessionState<T>): Promise<void> => {
    ctx.session = state.data as Session<SessionData>;
    const discard = (error: unknown): Promise<void> => {
      if (!manager.handlerThrew(state, error)) throw error;
      // ctx.throw(401): koa's error handling answers it, first removing every header and then
      // setting the error's own `headers`: the session's cookies go there, so its changes are kept.
      const rethrow = (cookies: string[]) => {
        if (cookies.length > 0) {
          const withHeaders = error as { headers?: Record<string, unknown> };
          withHeaders.headers = { ...withHeaders.headers, 'Set-Cookie': cookies };
        }
        throw error;
      };
      let committing: string[] | Promise<string[]>;
      try {
        committing = commitBeforeSend(state, thrownStatus(error) as number);
      } catch (commitError) {
        fail(ctx, commitError);
        return Promise.resolve();
      }
      if (!(committing instanceof Promise)) return rethrow(committing);
      return committing.then(rethrow, (commitError: unknown) => fail(ctx, commitError));
    };
    let downstream: Promise<unknown>;
    try {
      // Koa's next() gives a native promise, which Promise.resolve hands back as it is.
      downstream = Promise.resolve(runInContext(state as SessionState<object>, next));
    } catch (error) {
      return Promise.reject(error).catch(discard);
    }
    return downstream.then(() => commit(ctx, state), discard);
  };
  // Not an async function: with the session context on, node runs a hook for every promise, and an
  // async middleware and its awaits make several a request where one `then` does.
  return (ctx, next) =>
    load(
      ctx.headers.cookie,
      (state) => run(ctx, next, state),
      (error: unknown) => fail(ctx, error),
    );
}
