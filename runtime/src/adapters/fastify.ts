import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CommitPlan } from '../backends/backend.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { BODY_HEADERS, failureResponse } from './failure.js';
import { type AdapterOptions, adapterKit, isStream, lateChangeCheck } from './kit.js';

export type { AdapterOptions } from './kit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session, typed by your `SessionData` declaration. */
    session: Session<SessionData>;
  }
}

export interface FastifySessionsOptions<T extends object = SessionData> extends AdapterOptions {
  manager: SessionManager<T>;
}

/**
 * The request's session state, on a request decorator keyed by a private symbol: a WeakMap entry
 * per request would cost more garbage collection work (ephemerons) than loading the session.
 */
const STATE = Symbol('session state');
type WithState = { [STATE]: SessionState<object> | null };
const stateOf = (request: FastifyRequest) => (request as unknown as WithState)[STATE];
const setState = (request: FastifyRequest, state: SessionState<object> | null) => {
  (request as unknown as WithState)[STATE] = state;
};

type OnSendDone = (error: Error | null, payload?: unknown) => void;

function answerFailure(reply: FastifyReply, error: unknown): string {
  const { status, body } = failureResponse(error);
  for (const name of BODY_HEADERS) reply.removeHeader(name);
  reply.code(status).header('content-type', 'text/plain; charset=utf-8');
  return body;
}

/**
 * - onRequest loads the session (a store outage answers 503 before the body is read) and runs the
 *   rest of the chain inside the session context, so `session` works in later hooks and handlers;
 * - onError marks a thrown handler, whose changes are not kept unless it threw a 4xx (`statusCode`);
 * - onSend commits: the store write is awaited, then the cookies join the headers.
 * The hooks take callbacks rather than being async functions: with the cookies backend a request
 * then makes no promise of ours at all, which shows next to fastify's own short time a request.
 */
const plugin: FastifyPluginCallback<FastifySessionsOptions<object>> = (app, options, done) => {
  const { manager } = options;
  const { onError, runInContext } = adapterKit(manager, options);
  if (!app.hasRequestDecorator('session')) app.decorateRequest('session', null as unknown as Session<SessionData>);
  if (!app.hasRequestDecorator(STATE)) app.decorateRequest(STATE, null);

  // Plain functions of the request rather than closures made for each one: with the cookies
  // backend a request otherwise allocates several functions only to call each of them once.
  const start = (request: FastifyRequest, state: SessionState<object>, next: () => void) => {
    setState(request, state);
    request.session = state.data as Session<SessionData>;
    // The rest of the chain starts from next(); body parsing keeps the context (an AsyncResource).
    runInContext(state, next);
  };
  const loadFailed = (reply: FastifyReply, error: unknown) => {
    onError(error);
    reply.send(answerFailure(reply, error));
  };
  const commitFailed = (reply: FastifyReply, payload: unknown, next: OnSendDone, error: unknown) => {
    onError(error);
    (payload as { destroy?: () => void } | null)?.destroy?.();
    next(null, answerFailure(reply, error));
  };
  const send = (
    state: SessionState<object>,
    setCookies: readonly string[],
    reply: FastifyReply,
    payload: unknown,
    next: OnSendDone,
  ) => {
    for (const cookie of setCookies) reply.header('set-cookie', cookie);
    if (isStream(payload)) reply.raw.once('finish', lateChangeCheck(state, onError));
    next(null, payload);
  };

  app.addHook('onRequest', (request, reply, next) => {
    let loading: SessionState<object> | Promise<SessionState<object>>;
    try {
      loading = manager.loadEager(request.headers.cookie);
    } catch (error) {
      return loadFailed(reply, error);
    }
    if (loading instanceof Promise) {
      loading.then(
        (state) => start(request, state, next),
        (error: unknown) => loadFailed(reply, error),
      );
    } else start(request, loading, next);
  });

  app.addHook('onError', (request, _reply, error, next) => {
    const state = stateOf(request);
    // A 4xx thrown on purpose is an answer: its changes are kept (onSend then sees its status).
    if (state) manager.handlerThrew(state, error);
    next();
  });

  app.addHook('onSend', (request, reply, payload, next) => {
    const state = stateOf(request);
    if (!state) return next(null, payload);
    setState(request, null);
    let plan: CommitPlan;
    try {
      plan = manager.commitResponse(state, reply.statusCode);
    } catch (error) {
      return commitFailed(reply, payload, next, error);
    }
    if (plan.persist === undefined) return send(state, plan.setCookies, reply, payload, next);
    plan.persist().then(
      () => send(state, plan.setCookies, reply, payload, next),
      (error: unknown) => commitFailed(reply, payload, next, error),
    );
  });

  done();
};

/**
 * Fastify plugin: `await app.register(sessions, { manager })`. Registered at the root it serves
 * every route; registered inside a plugin, only that plugin's routes (fastify's encapsulation).
 */
export const sessions = fp(plugin, { fastify: '4.x || 5.x', name: '@session-manager/runtime/fastify' });
