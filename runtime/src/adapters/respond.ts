import { runWithSession } from '../context.js';
import { SessionDataError, SessionStoreError } from '../errors.js';
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

/** How an adapter runs the rest of a request: inside the session context, unless `context: false`. */
export function contextRunner(options: AdapterOptions): RunInContext {
  return options.context === false ? runOutsideContext : runWithSession;
}

export const defaultOnError = (error: unknown): void => {
  console.error('[session]', error);
};

/**
 * Headers that describe a response's body (its framing, encoding, range, identity). A failure
 * answer replaces the body, so it drops them: a 503 with the route's `Transfer-Encoding: chunked`
 * beside its own Content-Length, or a plain text body marked gzip, is not valid HTTP.
 */
export const BODY_HEADERS: readonly string[] = [
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'content-range',
  'content-disposition',
  'content-language',
  'content-location',
  'etag',
  'last-modified',
  'trailer',
];

/** The status and body an adapter answers with when the session layer fails. */
export function failureResponse(error: unknown): { status: number; body: string } {
  if (error instanceof SessionStoreError)
    return { status: 503, body: 'Service Unavailable: the session store is not answering.' };
  if (error instanceof SessionDataError) return { status: 500, body: 'Internal Server Error' };
  return { status: 500, body: 'Internal Server Error' };
}
