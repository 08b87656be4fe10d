import type { ServerResponse } from 'node:http';
import type { CommitPlan } from '../backends/backend.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import { failureResponse } from './respond.js';

/**
 * Commits a session around a node:http response, for the adapters of frameworks that write to
 * ServerResponse (node:http, express).
 *
 * - `res.end` with headers not yet sent: the store write is awaited first, then the cookies are set
 *   and the response ends, so the browser never holds a cookie for data that was not stored, and a
 *   store failure becomes a 503 instead of a false success.
 * - Headers sent earlier (`res.writeHead`, a streamed body): the cookies are set as the headers go
 *   out; the store write is awaited before the response ends, and if it fails the connection is
 *   destroyed, so the client sees a failure.
 * - A 5xx response keeps no session change.
 */
export function commitWithResponse<T extends object>(
  res: ServerResponse,
  manager: SessionManager<T>,
  state: SessionState<T>,
  onError: (error: unknown) => void,
): void {
  let plan: CommitPlan | undefined;
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
      } catch (error) {
        // An unstorable value, found with the status already chosen: keep the response, report the bug.
        plan = { setCookies: [], persist: undefined };
        onError(error);
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
