import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SessionContextError } from '../src/errors.js';
import {
  destroySession,
  getSessionInfo,
  regenerateSession,
  runWithSession,
  type SessionState,
  session,
} from '../src/index.js';
import { SessionManager } from '../src/manager.js';
import { CookieJar, type Data, exchange, SECRET } from './support/harness.js';

declare module '../src/types.js' {
  interface SessionData {
    counter: number;
  }
}

const manager = SessionManager.cookies(SECRET);

/** A loaded (not new) session holding `data`, and the jar that holds its cookie. */
async function loadedState(data: Data): Promise<SessionState> {
  const jar = new CookieJar();
  const untyped = manager as unknown as SessionManager<Data>;
  await exchange(untyped, jar, (state) => {
    Object.assign(state.data, data);
  });
  return manager.load(jar.header());
}

const inRequest = <R>(state: SessionState, fn: () => R): R => runWithSession(state as SessionState<object>, fn);

describe('the session accessor', () => {
  it('outside a request throws SessionContextError, for reads, writes and the control functions', () => {
    expect(() => session.counter).toThrow(SessionContextError);
    expect(() => {
      session.counter = 1;
    }).toThrow(SessionContextError);
    expect(() => 'counter' in session).toThrow(SessionContextError);
    expect(() => regenerateSession()).toThrow(SessionContextError);
    expect(() => destroySession()).toThrow(SessionContextError);
    expect(() => getSessionInfo()).toThrow(SessionContextError);
    let thrown: unknown;
    try {
      void session.counter;
    } catch (error) {
      thrown = error;
    }
    // Asserted outside the catch, so a read that throws nothing fails the test.
    expect((thrown as SessionContextError).code).toBe('SESSION_CONTEXT');
    expect((thrown as Error).message).toMatch(/outside a request/);
  });

  it('is typed by declaration merging', () => {
    expectTypeOf<typeof session.counter>().toEqualTypeOf<number | undefined>();
  });

  it('works in nested async functions, timers and promise chains of the handler', async () => {
    const state = await loadedState({ counter: 1 });
    const deep = async () => {
      await delay(1);
      return new Promise<number | undefined>((resolve) => setTimeout(() => resolve(session.counter), 1));
    };
    const result = await inRequest(state, async () => {
      const seen = await deep();
      await Promise.resolve().then(() => {
        session.counter = (session.counter ?? 0) + 1;
      });
      return seen;
    });
    expect(result).toBe(1);
    expect(state.data.counter).toBe(2);
  });

  it('keeps concurrent requests apart', async () => {
    const [a, b] = [await loadedState({ counter: 10 }), await loadedState({ counter: 20 })];
    const handler = async (wait: number) => {
      const before = session.counter as number;
      await delay(wait);
      session.counter = before + 1;
      await delay(wait);
      return session.counter;
    };
    const results = await Promise.all([inRequest(a, () => handler(5)), inRequest(b, () => handler(1))]);
    expect(results).toEqual([11, 21]);
  });

  it('spreads, lists keys and deletes like a plain object', async () => {
    const state = await loadedState({ counter: 3, other: 'x' });
    inRequest(state, () => {
      expect({ ...session }).toEqual({ counter: 3, other: 'x' });
      expect(Object.keys(session)).toEqual(['counter', 'other']);
      delete (session as Data).other;
      expect('other' in session).toBe(false);
    });
    expect(state.record).toEqual({ counter: 3 });
  });
});

describe('control functions', () => {
  it('getSessionInfo: without an argument, with the data object, and with the session accessor', async () => {
    const state = await loadedState({ counter: 1 });
    const fresh = await manager.load(undefined);
    inRequest(state, () => {
      const info = getSessionInfo();
      expect(info.id).toBe(state.id);
      expect(info.isNew).toBe(false);
      expect(info.expiresAt.getTime()).toBe(state.expiresAt);
      expect(getSessionInfo(session)).toEqual(info);
      // An explicit argument wins over the request's session.
      expect(getSessionInfo(fresh.data)).toEqual({
        id: fresh.id,
        isNew: true,
        expiresAt: new Date(fresh.expiresAt),
        // What listUserSessions() shows for it: a hash, never the id itself.
        idHash: expect.stringMatching(/^[\w-]{16}$/),
      });
      expect(getSessionInfo(fresh.data).idHash).not.toBe(info.idHash);
    });
    expect(getSessionInfo(state.data).id).toBe(state.id);
  });

  it('regenerateSession gives a new id and keeps the data, with or without an argument', async () => {
    const state = await loadedState({ counter: 1 });
    const original = state.id;
    inRequest(state, () => regenerateSession());
    expect(state.id).not.toBe(original);
    expect(state.replacedId).toBe(original);
    const second = state.id;
    regenerateSession(state.data);
    expect(state.id).not.toBe(second);
    inRequest(state, () => regenerateSession(session));
    // The id to delete stays the one the request came with.
    expect(state.replacedId).toBe(original);
    expect(state.record).toEqual({ counter: 1 });
  });

  it('destroySession empties the session, with or without an argument', async () => {
    for (const destroy of [
      () => destroySession(),
      (state: SessionState) => destroySession(state.data),
      () => destroySession(session),
    ]) {
      const state = await loadedState({ counter: 1 });
      const original = state.id;
      inRequest(state, () => destroy(state));
      expect(state.record).toEqual({});
      expect(state.isNew).toBe(true);
      expect(state.replacedId).toBe(original);
      const plan = manager.commit(state);
      expect(plan.setCookies).toHaveLength(1);
      expect(plan.setCookies[0]).toMatch(/^emt_session=; Max-Age=0/);
    }
  });

  it('refuse an object that is not a session', () => {
    expect(() => regenerateSession({})).toThrow(TypeError);
    expect(() => destroySession({ counter: 1 })).toThrow(/needs a session object/);
    expect(() => getSessionInfo([])).toThrow(TypeError);
  });
});
