import { AsyncLocalStorage } from 'node:async_hooks';
import { SessionContextError } from './errors.js';
import { checkUserId } from './ids.js';
import type { Flash } from './meta.js';
import { MAX_EXPIRE } from './options.js';
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

/**
 * This session's idle lifetime, in seconds, from now on and across requests: Emmett's
 * `session._expires_after(n)`, kept in the session ("remember me": `30 * 24 * 3600`). The cookie's
 * Max-Age says it, the server enforces it (sealed in the cookie, stored in the file, the redis TTL).
 * `0` makes a browser-session cookie (no Max-Age or Expires: gone when the browser closes) while the
 * server still ends the session after the manager's `expire` seconds unused. The manager's
 * `absoluteExpire`, when set, still caps it.
 */
export function setSessionExpiry(seconds: number, data?: object): void {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_EXPIRE) {
    throw new RangeError(
      `setSessionExpiry() takes a number of seconds from 0 (a browser-session cookie) to ${MAX_EXPIRE} (400 days, the most browsers keep a cookie), got ${String(seconds)}.`,
    );
  }
  resolveState(data, 'setSessionExpiry()').setLifetime(Math.floor(seconds));
}

/**
 * Extends the session now, without changing its data: the cookie and the stored copy get a new
 * expiry at the end of this request (a long form, a keep-alive ping). Never past `absoluteExpire`.
 */
export function touchSession(data?: object): void {
  resolveState(data, 'touchSession()').touchRequested = true;
}

/**
 * Ties the session to a user, so that `manager.revokeUser(userId)` ends it (sign out everywhere) and
 * `manager.listUserSessions(userId)` lists it. Call it at login, after regenerateSession(). Kept
 * beside the data, never in it, across regenerateSession(); destroySession() drops it.
 */
export function bindSessionToUser(userId: string, data?: object): void {
  resolveState(data, 'bindSessionToUser()').bindUser(checkUserId('bindSessionToUser()', userId));
}

/**
 * A message for the next request to show once, as Emmett's `flash()`: after a redirect,
 * `takeFlashes()` there returns it, and then it is gone. Kept beside the data, never in it.
 */
export function flash(message: string, category = 'message', data?: object): void {
  if (typeof message !== 'string' || typeof category !== 'string') {
    throw new TypeError('flash() takes a message string and an optional category string.');
  }
  resolveState(data, 'flash()').flash(message, category);
}

/**
 * The flashed messages, oldest first, taken out of the session (Emmett's `get_flashed_messages()`):
 * the first call in a request takes them; later calls in the same request return the same list.
 */
export function takeFlashes(data?: object): Flash[] {
  return resolveState(data, 'takeFlashes()').takeFlashes();
}

export interface SessionInfo {
  /** The session's id: the store key for files and redis, a random id sealed inside the cookie for cookies. */
  readonly id: string;
  /** True until the session has been stored once. */
  readonly isNew: boolean;
  /** When the session expires unless it is used again. */
  readonly expiresAt: Date;
  /** What listUserSessions() shows for this session, to mark "this device" in a list of sessions. */
  readonly idHash: string;
}

export function getSessionInfo(data?: object): SessionInfo {
  const state = resolveState(data, 'getSessionInfo()');
  const { id } = state;
  return { id, isNew: state.isNew, expiresAt: new Date(state.expiresAt), idHash: state.policy.idHash(id) };
}
