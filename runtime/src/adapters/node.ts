import type { IncomingMessage, ServerResponse } from 'node:http';
import { thrownStatus } from '../keeps-changes.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { type AdapterKit, type AdapterOptions, adapterKit } from './kit.js';
import { commitWithResponse, sendFailure, statusText } from './node-response.js';

export type { AdapterOptions } from './kit.js';

/**
 * A node:http handler with sessions. The handler gets the session as its third argument (and
 * through `session` from '@session-manager/runtime'); it may end the response itself or return
 * a string or Buffer to send as the body.
 *
 *   http.createServer(withSessions(manager, () => {
 *     session.counter = (session.counter ?? 0) + 1
 *     return `This is your ${session.counter} visit`
 *   }))
 */
export function withSessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  handler: (req: IncomingMessage, res: ServerResponse, session: Session<T>) => unknown,
  options: AdapterOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const kit = adapterKit(manager, options);
  const serve = (req: IncomingMessage, res: ServerResponse, state: SessionState<T>) => {
    commitWithResponse(res, manager, state, kit.onError);
    let result: unknown;
    try {
      result = kit.runInContext(state as SessionState<object>, () => handler(req, res, state.data));
    } catch (error) {
      return fail(res, state, error, kit);
    }
    const finish = (value: unknown) => {
      try {
        send(res, value);
      } catch (error) {
        fail(res, state, error, kit);
      }
    };
    // Await only a handler that returned a promise: an async wrapper costs several promises a
    // request, which AsyncLocalStorage's hooks make dearer. A synchronous result is still sent
    // from a microtask: ending the response inside the HTTP parser's callback made node:http
    // slower than ending it right after (pipelined responses, compared in the benchmark).
    // Promise.resolve adopts a thenable as `await` would (a `then` that throws is a rejection) and
    // hands a native promise back as it is.
    if (isThenable(result)) Promise.resolve(result).then(finish, (error: unknown) => fail(res, state, error, kit));
    else queueMicrotask(() => finish(result));
  };
  return (req, res) => {
    kit.load(
      req.headers.cookie,
      (state) => serve(req, res, state),
      (error: unknown) => sendFailure(res, error, kit.onError),
    );
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A string or bytes the handler returned is the body, unless it ended the response itself. */
function send(res: ServerResponse, result: unknown): void {
  if (!res.writableEnded && (typeof result === 'string' || result instanceof Uint8Array)) {
    if (!res.hasHeader('Content-Type') && typeof result === 'string')
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(result);
  }
}

/**
 * A failed handler keeps no session change (see README: failure behaviour). One that threw an HTTP
 * error below 500 (an error with a `status` or `statusCode`, as http-errors makes) is answered with
 * that status and keeps them, as on the other adapters.
 */
function fail<T extends object>(res: ServerResponse, state: SessionState<T>, error: unknown, kit: AdapterKit<T>) {
  const answer = kit.manager.handlerThrew(state, error);
  if (!answer) kit.onError(error);
  if (!res.headersSent) {
    const status = answer ? (thrownStatus(error) as number) : 500;
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(answer ? statusText(status) : 'Internal Server Error');
  } else if (!res.writableEnded) {
    res.destroy(error instanceof Error ? error : undefined);
  }
}
