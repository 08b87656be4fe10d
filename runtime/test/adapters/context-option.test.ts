import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { SessionManager } from '../../src/manager.js';
import { FRAMEWORKS, type RunningApp, startApp } from './support/apps.js';
import { SECRET } from '../support/harness.js';

/**
 * `context: false` on every adapter: the framework's own idiom keeps working, and the imported
 * `session` says clearly that there is no context, rather than reaching some other request's.
 */
describe.each(FRAMEWORKS)('%s adapter', (framework) => {
  const manager = SessionManager.cookies(SECRET);
  let errors: unknown[];
  let withContext: RunningApp;
  let withoutContext: RunningApp;

  // Apps of each test's own, so what one test reports never reaches another.
  beforeEach(async () => {
    const seen: unknown[] = [];
    errors = seen;
    const onError = (error: unknown) => seen.push(error);
    withContext = await startApp(framework, manager, { onError });
    withoutContext = await startApp(framework, manager, { onError, context: false });
  });
  afterEach(async () => {
    await withContext?.close();
    await withoutContext?.close();
  });

  it('with context: false, counts visits through its own idiom', async () => {
    const jar = new CookieJar();
    for (const n of [1, 2])
      expect((await jar.get(`${withoutContext.url}/counter`)).body).toBe(`This is your ${n} visit`);
    expect(errors).toEqual([]);
  });

  it('with context: false, the imported session throws SessionContextError; by default it reaches the session', async () => {
    const jar = new CookieJar();
    await jar.get(`${withoutContext.url}/counter`);
    expect((await jar.get(`${withoutContext.url}/context`)).body).toBe('off');
    expect((await jar.get(`${withContext.url}/context`)).body).toBe('on');
  });
});
