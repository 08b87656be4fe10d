import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import type { SessionError } from '../../src/errors.js';
import { ALL_MAJORS, type RunningApp, startApp } from './support/apps.js';
import { BACKENDS, createBackend, type TestBackend } from './support/backends.js';

/**
 * The decisions the README ("When the session is saved") states, for every adapter and backend: a thrown handler or
 * a 5xx keeps no change; a streamed response carries the cookie in its headers and a change made
 * after the headers went out is not kept; HEAD behaves as GET; OPTIONS writes nothing.
 */
const CASES = ALL_MAJORS.flatMap((framework) => BACKENDS.map((backend) => ({ framework, backend })));

describe.each(CASES)('$framework with the $backend backend', ({ framework, backend: kind }) => {
  let backend: TestBackend;
  let app: RunningApp;
  /** This test's errors only: each test gets its own app, so nothing one reports reaches another. */
  let errors: unknown[];

  beforeAll(() => {
    backend = createBackend(kind);
  });
  afterAll(async () => {
    await backend?.close();
  });
  beforeEach(async () => {
    const seen: unknown[] = [];
    errors = seen;
    app = await startApp(framework, backend.manager, { onError: (error) => seen.push(error) });
  });
  afterEach(async () => {
    await app?.close();
  });

  /** A jar holding a session whose counter is 1. */
  async function visitor(): Promise<CookieJar> {
    const jar = new CookieJar();
    expect((await jar.get(`${app.url}/counter`)).body).toBe('This is your 1 visit');
    return jar;
  }
  const peek = async (jar: CookieJar) => JSON.parse((await jar.get(`${app.url}/peek`)).body) as unknown;

  it('keeps no change from a handler that throws', async () => {
    const jar = await visitor();
    const { status, setCookies } = await jar.get(`${app.url}/throw`);
    expect(status).toBe(500);
    expect(setCookies).toEqual([]);
    expect(await peek(jar)).toEqual({ counter: 1 });
    // node:http has no error handler of its own: withSessions answers the 500 and reports the error.
    expect(errors.map((error) => (error as Error).message)).toEqual(framework === 'node' ? ['boom'] : []);
  });

  it('keeps no change from a 5xx response', async () => {
    const jar = await visitor();
    const { status, body, setCookies } = await jar.get(`${app.url}/fail`);
    expect(status).toBe(500);
    expect(body).toBe('failed');
    expect(setCookies).toEqual([]);
    expect(await peek(jar)).toEqual({ counter: 1 });
  });

  it('sends the cookie with the headers of a streamed response; a change after them is not kept', async () => {
    const jar = await visitor();
    const { status, body, setCookies } = await jar.get(`${app.url}/stream`);
    expect(status).toBe(200);
    expect(body).toBe('first,second');
    expect(setCookies).toHaveLength(1);
    expect(await peek(jar)).toEqual({ counter: 2 });
    // The lost change is reported, not silent.
    // Reported when the response finishes on the server: wait for the report, not for a time.
    await vi.waitFor(() =>
      expect(errors.map((error) => (error as SessionError).code)).toEqual(['SESSION_CHANGED_AFTER_COMMIT']),
    );
  });

  it('serves HEAD as GET: the change is kept and its cookie sent', async () => {
    const jar = await visitor();
    const response = await jar.fetch(`${app.url}/counter`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(await peek(jar)).toEqual({ counter: 2 });
  });

  it('writes nothing on OPTIONS, with or without a session', async () => {
    const jar = await visitor();
    const withSession = await jar.fetch(`${app.url}/counter`, { method: 'OPTIONS' });
    expect(withSession.status).toBeLessThan(500);
    expect(withSession.headers.getSetCookie()).toEqual([]);
    const preflight = await fetch(`${app.url}/counter`, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBeLessThan(500);
    expect(preflight.headers.getSetCookie()).toEqual([]);
    expect(await peek(jar)).toEqual({ counter: 1 });
  });

  it('gives `session` to handlers that read a request body first', async () => {
    const jar = await visitor();
    const { status, body } = await jar.get(`${app.url}/note`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'hello' }),
    });
    expect(status).toBe(200);
    expect(body).toBe('saved');
    expect(await peek(jar)).toEqual({ counter: 1, note: 'hello' });
    expect(errors).toEqual([]);
  });
});
