import { AsyncLocalStorage } from 'node:async_hooks';
import { SessionContextError } from './errors.js';
import { shared } from './shared.js';
import { type SessionState, stateOf } from './state.js';
import type { Session, SessionData } from './types.js';

/**
 * The current request's session, for code anywhere in the handler's async call tree, as Emmett's
 * `session`. Adapters run each request's handler inside `runWithSession`. One per process, so the
 * ES module and CommonJS builds of the runtime see the same session.
 */
const storage = shared('context', () => new AsyncLocalStorage<SessionState<object>>());

export function runWithSession<R>(state: SessionState<object>, fn: () => R): R {
  return storage.run(state, fn);
}

function current(what: string): SessionState<object> {
  const state = storage.getStore();
  if (state === undefined) throw new SessionContextError(what);
  return state;
}

function resolveState(data: object | undefined, what: string): SessionState<object> {
  // `regenerateSession(session)` with the imported accessor means the current request's session.
  if (data === undefined || data === session) return current(what);
  const state = stateOf(data);
  if (state === undefined)
    throw new TypeError(`${what} needs a session object from a session middleware (req.session, ctx.session...).`);
  return state;
}

/** `session.counter`, `session.counter = 1`, `delete session.counter`, `'counter' in session`, `{ ...session }`. */
export const session: Session<SessionData> = new Proxy({} as Session<SessionData>, {
  get: (_, key) => Reflect.get(current('session').data, key),
  set: (_, key, value) => Reflect.set(current('session').data, key, value),
  deleteProperty: (_, key) => Reflect.deleteProperty(current('session').data, key),
  has: (_, key) => Reflect.has(current('session').data, key),
  ownKeys: () => Reflect.ownKeys(current('session').record),
  // Through the guard, which must see nested objects handed out (they can be changed in place).
  getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(current('session').data, key),
  defineProperty: (_, key, descriptor) => Reflect.defineProperty(current('session').data, key, descriptor),
});

/**
 * Gives the session a new id and deletes the old one, keeping the data. Call it when a user logs in,
 * so an id planted before login (session fixation) is worthless. Without an argument: the current request's.
 */
export function regenerateSession(data?: object): void {
  resolveState(data, 'regenerateSession()').regenerate();
}

/** Empties the session, deletes it from the store and clears the cookie (logout). */
export function destroySession(data?: object): void {
  resolveState(data, 'destroySession()').destroy();
}

export interface SessionInfo {
  /** The session's id: the store key for files and redis, a random id sealed inside the cookie for cookies. */
  readonly id: string;
  /** True until the session has been stored once. */
  readonly isNew: boolean;
  /** When the session expires unless it is used again. */
  readonly expiresAt: Date;
}

export function getSessionInfo(data?: object): SessionInfo {
  const state = resolveState(data, 'getSessionInfo()');
  return { id: state.id, isNew: state.isNew, expiresAt: new Date(state.expiresAt) };
}
