import { STATUS_CODES, ServerResponse } from 'node:http';
import { type CommitPlan, NOTHING_TO_COMMIT } from '../backends/backend.js';
import type { SessionManager } from '../manager.js';
import { shared, sharedSymbol } from '../shared.js';
import type { SessionState } from '../state.js';
import { BODY_HEADERS, failureResponse } from './failure.js';
import { lateChangeCheck } from './kit.js';

/** Answers a request the session layer could not serve (503 for a store outage), reporting the error. */
export function sendFailure(res: ServerResponse, error: unknown, onError: (error: unknown) => void): void {
  onError(error);
  const { status, body } = failureResponse(error);
  for (const name of BODY_HEADERS) res.removeHeader(name);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}

/** The reason phrase of a status, as a plain text body ('Unauthorized'). */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? String(status);
}

/** A session to commit with a response; a response of an app with two session middlewares has two. */
interface PendingCommit {
  readonly manager: SessionManager<object>;
  readonly state: SessionState<object>;
  readonly onError: (error: unknown) => void;
  /** Decided as the headers went out (writeHead); undefined until then. */
  plan: CommitPlan | undefined;
  /** The store write, started when the plan was decided; it reports its own failure to onError. */
  persisting: Promise<void> | undefined;
  checkLateChanges: (() => void) | undefined;
  readonly previous: PendingCommit | undefined;
}

const PENDING = sharedSymbol('pending session commit');
type Response = ServerResponse & { [PENDING]?: PendingCommit | undefined };

/**
 * Commits a session around a node:http response, for the adapters of frameworks that write to
 * ServerResponse (node:http, express).
 *
 * - `res.end` with headers not yet sent: the store write is awaited first, then the cookies are set
 *   and the response ends, so the browser never holds a cookie for data that was not stored, and a
 *   store failure becomes a 503 instead of a false success.
 * - Headers sent earlier (`res.writeHead`, a first `res.write`): the session is committed then. Its
 *   cookies join the headers and the store write starts; the response is corked, so neither the
 *   headers nor any chunk reach the client before that write is done. If it fails, the connection
 *   is aborted: no cookie ever refers to a session that was not stored. A handler that fails after
 *   this point cannot take the cookie back, so what it changed before is kept (as with the cookies
 *   backend, where the change rides in the cookie). A change made after the headers went out cannot
 *   be saved: it is reported to `onError` when the response ends.
 * - A handler's own Set-Cookie (`res.writeHead(status, { 'Set-Cookie': ... })`, or a raw header
 *   array) goes out beside the session's, never in place of it.
 * - A 5xx response keeps no session change; a 4xx keeps it (the manager's `commitResponse`).
 * - A session that cannot be committed (an unstorable value, too large for the cookies) makes the
 *   response a 500 and reaches `onError`: the client is never told a change was kept when it was not.
 *
 * `writeHead` and `end` are wrapped once, on ServerResponse.prototype, and find the commit under a
 * private symbol; they pass straight through for a response without one. Wrapping them on each
 * response, as express-session does, gives every response two own function properties, which
 * makes each express request dearer.
 */
export function commitWithResponse<T extends object>(
  res: ServerResponse,
  manager: SessionManager<T>,
  state: SessionState<T>,
  onError: (error: unknown) => void,
): void {
  installOnce();
  const response = res as Response;
  response[PENDING] = {
    manager: manager as unknown as SessionManager<object>,
    state: state as SessionState<object>,
    onError,
    plan: undefined,
    persisting: undefined,
    checkLateChanges: undefined,
    previous: response[PENDING],
  };
}

function decide(pending: PendingCommit, status: number): CommitPlan {
  pending.plan = pending.manager.commitResponse(pending.state, status);
  return pending.plan;
}

function setCookies(res: ServerResponse, cookies: readonly string[]): void {
  for (const cookie of cookies) res.appendHeader('Set-Cookie', cookie);
}

/** Starts a plan's store write; a failure is reported once, here, and still rejects. */
function startPersist(pending: PendingCommit, plan: CommitPlan): Promise<void> | undefined {
  if (plan.persist === undefined) return undefined;
  const { onError } = pending;
  pending.persisting = plan.persist().catch((error: unknown) => {
    onError(error);
    throw error;
  });
  return pending.persisting;
}

/** The headers are going out: decide every pending commit now, add its cookies, start its writes. */
function beforeHeaders(res: Response, args: unknown[]): void {
  let writes: Promise<void>[] | undefined;
  for (let pending = res[PENDING]; pending !== undefined; pending = pending.previous) {
    if (pending.plan !== undefined) continue;
    try {
      const plan = decide(pending, typeof args[0] === 'number' ? args[0] : res.statusCode);
      setCookies(res, plan.setCookies);
      pending.checkLateChanges = lateChangeCheck(pending.state, pending.onError);
      const writing = startPersist(pending, plan);
      if (writing !== undefined) {
        writes ??= [];
        writes.push(writing);
      }
    } catch (error) {
      // An unstorable or too large session, found as the handler sends its headers: the change is
      // lost, so the response must not claim success. It goes out as a 500 with the handler's body.
      pending.plan = NOTHING_TO_COMMIT;
      pending.state.discarded = true;
      pending.onError(error);
      args[0] = 500;
      if (typeof args[1] === 'string') args.splice(1, 1);
    }
  }
  if (writes !== undefined) holdUntilStored(res, writes);
}

/**
 * Keeps the headers (and any chunk written meanwhile) from the client until the store writes their
 * cookies refer to are done; aborts the connection if one fails. Corking holds the bytes in the
 * socket (or in the response, before it has a socket); destroying it drops them unsent.
 */
function holdUntilStored(res: ServerResponse, writes: Promise<void>[]): void {
  res.cork();
  (writes.length === 1 ? (writes[0] as Promise<void>) : Promise.all(writes)).then(
    () => res.uncork(),
    (error: unknown) => res.destroy(error instanceof Error ? error : undefined),
  );
}

const isSetCookie = (name: unknown) => typeof name === 'string' && name.toLowerCase() === 'set-cookie';

/**
 * `writeHead(status, [message,] headers)` with a Set-Cookie: node would set it over the session's
 * cookie. Apply it first, as node would (an object replaces, a raw array removes then appends), and
 * pass the other headers on, so the session's cookies are added beside it.
 */
function liftSetCookies(res: ServerResponse, args: unknown[]): void {
  const at = typeof args[1] === 'string' ? 2 : 1;
  const headers = args[at];
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0 || !headers.some((name, i) => i % 2 === 0 && isSetCookie(name))) return;
    const rest: unknown[] = [];
    res.removeHeader('set-cookie');
    for (let i = 0; i < headers.length; i += 2) {
      if (isSetCookie(headers[i])) res.appendHeader('set-cookie', headers[i + 1] as string | string[]);
      else rest.push(headers[i], headers[i + 1]);
    }
    args[at] = rest;
  } else if (typeof headers === 'object' && headers !== null) {
    let rest: Record<string, unknown> | undefined;
    for (const name of Object.keys(headers)) {
      if (!isSetCookie(name)) continue;
      rest ??= { ...headers };
      res.setHeader('set-cookie', rest[name] as string | string[]);
      delete rest[name];
    }
    if (rest !== undefined) args[at] = rest;
  }
}

/** A commit or store write failed as the response ends: a 503 or 500 instead, or an abort if too late. */
function endWithFailure(res: Response, error: unknown, originalEnd: EndFunction): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const { status, body } = failureResponse(error);
  res.statusCode = status;
  for (const name of BODY_HEADERS) res.removeHeader(name);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  originalEnd.call(res, body);
}

/**
 * The response ends (`end(...args)`): commit what writeHead did not, await the store writes, then
 * end it. Plain arguments rather than closures: most requests end here at once, with nothing to wait for.
 */
function endWithCommits(res: Response, first: PendingCommit, args: unknown[], originalEnd: EndFunction): void {
  let cookies: string[] | undefined;
  let writes: Promise<void>[] | undefined;
  for (let pending: PendingCommit | undefined = first; pending !== undefined; pending = pending.previous) {
    pending.checkLateChanges?.();
    const headersOut = pending.plan !== undefined;
    let plan: CommitPlan;
    try {
      plan = pending.plan ?? decide(pending, res.statusCode);
    } catch (error) {
      pending.onError(error);
      endWithFailure(res, error, originalEnd);
      return;
    }
    if (!headersOut && plan.setCookies.length > 0) {
      cookies ??= [];
      cookies.push(...plan.setCookies);
    }
    const writing = headersOut ? pending.persisting : startPersist(pending, plan);
    if (writing !== undefined) {
      writes ??= [];
      writes.push(writing);
    }
  }
  if (writes === undefined) {
    if (cookies !== undefined) setCookies(res, cookies);
    originalEnd.apply(res, args);
    return;
  }
  (writes.length === 1 ? (writes[0] as Promise<void>) : Promise.all(writes)).then(
    () => {
      if (cookies !== undefined) setCookies(res, cookies);
      originalEnd.apply(res, args);
    },
    (error: unknown) => endWithFailure(res, error, originalEnd),
  );
}

type WriteHeadFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
type EndFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
// One per process, like PENDING: the ES module and CommonJS builds loaded in one app wrap once.
const hooks = shared('response hooks', () => ({ installed: false }));

function installOnce(): void {
  if (hooks.installed) return;
  hooks.installed = true;
  const proto = ServerResponse.prototype;
  const originalWriteHead = proto.writeHead as unknown as WriteHeadFunction;
  const originalEnd = proto.end as unknown as EndFunction;

  proto.writeHead = function writeHead(this: Response, ...args: unknown[]) {
    if (this[PENDING] !== undefined && !this.headersSent) {
      liftSetCookies(this, args);
      beforeHeaders(this, args);
    }
    return originalWriteHead.apply(this, args);
  } as ServerResponse['writeHead'];

  proto.end = function end(this: Response, ...args: unknown[]) {
    const pending = this[PENDING];
    if (pending === undefined) return originalEnd.apply(this, args);
    // Set to undefined rather than deleted, so the response keeps its shape; end() called again
    // (by a framework, or to send a failure) goes straight through.
    this[PENDING] = undefined;
    endWithCommits(this, pending, args, originalEnd);
    return this;
  } as ServerResponse['end'];
}
