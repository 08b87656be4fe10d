import type { ServerResponse } from 'node:http';
import type { CommitPlan } from '../backends/backend.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import { lateChangeCheck } from './late-changes.js';
import { failureResponse } from './respond.js';

/** Answers a request the session layer could not serve (503 for a store outage), reporting the error. */
export function sendFailure(res: ServerResponse, error: unknown, onError: (error: unknown) => void): void {
  onError(error);
  const { status, body } = failureResponse(error);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}

/**
 * Commits a session around a node:http response, for the adapters of frameworks that write to
 * ServerResponse (node:http, express).
 *
 * - `res.end` with headers not yet sent: the store write is awaited first, then the cookies are set
 *   and the response ends, so the browser never holds a cookie for data that was not stored, and a
 *   store failure becomes a 503 instead of a false success.
 * - Headers sent earlier (`res.writeHead`, a streamed body): the cookies are set as the headers go
 *   out; the store write is awaited before the response ends, and if it fails the connection is
 *   destroyed, so the client sees a failure. A change made after the headers went out cannot be
 *   saved: it is reported to `onError` when the response ends.
 * - A 5xx response keeps no session change.
 * - A session that cannot be committed (an unstorable value, too large for the cookies) makes the
 *   response a 500 and reaches `onError`: the client is never told a change was kept when it was not.
 */
export function commitWithResponse<T extends object>(
  res: ServerResponse,
  manager: SessionManager<T>,
  state: SessionState<T>,
  onError: (error: unknown) => void,
): void {
  let plan: CommitPlan | undefined;
  let checkLateChanges: (() => void) | undefined;
  const originalWriteHead = res.writeHead;
  const originalEnd = res.end;

  const decide = (status: number): CommitPlan => {
    if (status >= 500) state.discarded = true;
    plan = manager.commit(state);
    return plan;
  };
  const setCookies = (cookies: string[]) => {
    for (const cookie of cookies) res.appendHeader('Set-Cookie', cookie);
  };

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (plan === undefined && !res.headersSent) {
      try {
        setCookies(decide(typeof args[0] === 'number' ? args[0] : res.statusCode).setCookies);
        checkLateChanges = lateChangeCheck(state as SessionState<object>, onError);
      } catch (error) {
        // An unstorable or too large session, found as the handler sends its headers: the change is
        // lost, so the response must not claim success. It goes out as a 500 with the handler's body.
        plan = { setCookies: [], persist: undefined };
        state.discarded = true;
        onError(error);
        args[0] = 500;
        if (typeof args[1] === 'string') args.splice(1, 1);
      }
    }
    return (originalWriteHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];

  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    const finish = () => (originalEnd as (...a: unknown[]) => ServerResponse).apply(res, args);
    const fail = (error: unknown) => {
      onError(error);
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : undefined);
        return;
      }
      const { status, body } = failureResponse(error);
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.removeHeader('Content-Length');
      (originalEnd as (chunk: string) => void).call(res, body);
    };
    res.end = originalEnd;
    checkLateChanges?.();
    const headersOut = plan !== undefined;
    let current: CommitPlan;
    try {
      current = plan ?? decide(res.statusCode);
    } catch (error) {
      fail(error);
      return res;
    }
    if (current.persist === undefined) {
      if (!headersOut) setCookies(current.setCookies);
      return finish();
    }
    current.persist().then(() => {
      if (!headersOut) setCookies(current.setCookies);
      finish();
    }, fail);
    return res;
  } as ServerResponse['end'];
}
