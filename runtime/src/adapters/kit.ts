import { runWithSession } from '../context.js';
import { SessionError } from '../errors.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';

/** What every adapter accepts. */
export interface AdapterOptions {
  /**
   * Called with every error the session layer handles itself: a store outage (the response is a
   * 503), an unstorable value (500). Default: console.error.
   */
  onError?: (error: unknown) => void;
  /**
   * `false`: do not run requests inside the session context. The framework's own idiom
   * (`req.session`, `ctx.session`, `c.get('session')`, the handler's argument) works as before; the
   * imported `session` and the control functions without an argument throw SessionContextError.
   * The context is node's AsyncLocalStorage, which runs a hook for every promise and tick of the
   * process once enabled: turning it off makes fastify and koa requests, whose own work is short,
   * noticeably cheaper. Default: true.
   */
  context?: boolean;
}

type RunInContext = <R>(state: SessionState<object>, fn: () => R) => R;
const runOutsideContext: RunInContext = (_state, fn) => fn();

const defaultOnError = (error: unknown): void => {
  console.error('[session]', error);
};

/**
 * What every adapter does the same way, settled once when the adapter is made from its options; an
 * adapter adds only its framework's calls around it.
 */
export interface AdapterKit<T extends object> {
  readonly manager: SessionManager<T>;
  /** Reports an error the session layer handled itself. */
  readonly onError: (error: unknown) => void;
  /** Runs the rest of a request inside the session context, or outside it with `context: false`. */
  readonly runInContext: RunInContext;
  /**
   * Loads the request's session and goes on with `start`: at once, without a promise, when the
   * backend needs no I/O; once loaded otherwise. A load that fails (a store outage) goes to `fail`.
   */
  load<R>(
    cookieHeader: string | undefined,
    start: (state: SessionState<T>) => R,
    fail: (error: unknown) => R,
  ): R | Promise<R>;
  /**
   * Commits a session for the frameworks that hold the response until their middleware is done
   * (fastify, koa, hono): the manager decides what the response's status keeps, and the store write
   * is awaited before the cookies are handed back, so a browser never holds a cookie for data that
   * was not stored. Synchronous when there is nothing to store (cookies). Fails with the store's
   * SessionStoreError (answer 503) or a SessionDataError for an unstorable value (500).
   */
  commitBeforeSend(state: SessionState<T>, status: number): string[] | Promise<string[]>;
}

export function adapterKit<T extends object>(manager: SessionManager<T>, options: AdapterOptions = {}): AdapterKit<T> {
  return {
    manager,
    onError: options.onError ?? defaultOnError,
    runInContext: options.context === false ? runOutsideContext : runWithSession,
    load(cookieHeader, start, fail) {
      let loading: SessionState<T> | Promise<SessionState<T>>;
      try {
        loading = manager.loadEager(cookieHeader);
      } catch (error) {
        return fail(error);
      }
      return loading instanceof Promise ? loading.then(start, fail) : start(loading);
    },
    commitBeforeSend(state, status) {
      const plan = manager.commitResponse(state, status);
      return plan.persist === undefined ? plan.setCookies : plan.persist().then(() => plan.setCookies);
    },
  };
}

/** A response body written over time (a node stream or a web ReadableStream), not all at once. */
export function isStream(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (typeof (body as { pipe?: unknown }).pipe === 'function' || body instanceof ReadableStream)
  );
}

const NOTHING_TO_CHECK = () => {};

function snapshot(record: object): string | undefined {
  try {
    return JSON.stringify(record);
  } catch {
    return undefined; // an unstorable value set late: differs from any snapshot taken at commit
  }
}

/**
 * A session is committed with the response's headers; a change made later (while a body streams)
 * cannot be saved. Call this when committing; run the returned check once the response is finished:
 * it reports such a change through onError, so it is never lost silently.
 */
export function lateChangeCheck(state: SessionState<object>, onError: (error: unknown) => void): () => void {
  if (state.discarded) return NOTHING_TO_CHECK;
  const committed = snapshot(state.record);
  return () => {
    if (snapshot(state.record) === committed) return;
    onError(
      new SessionError(
        'SESSION_CHANGED_AFTER_COMMIT',
        'The session was changed after the response headers were sent, so the change was not saved. ' +
          'Change the session before you start streaming the response.',
      ),
    );
  };
}
