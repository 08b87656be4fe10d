import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type BackendKind, createBackend, type TestBackend } from '../adapters/support/backends.js';
import { FRAMEWORKS, type RunningApp, startApp } from '../adapters/support/apps.js';
import { heldPost, watchLoads } from './support/held-post.js';

/**
 * The held-POST attack. An attacker with a stolen session cookie starts a POST and holds its body
 * open; the server has loaded the session and waits for the body. The victim logs out (or logs in
 * again, which regenerates the id). The attacker then sends the rest of the body: the request commits
 * the session it loaded. That commit must not bring the retired id back.
 */
const STORES = ['files', 'redis'] as const satisfies readonly BackendKind[];

describe.each(STORES)('held POST across a retirement: %s backend', (kind) => {
  describe.each(FRAMEWORKS)('%s', (framework) => {
    let backend: TestBackend;
    let app: RunningApp;
    let loaded: (cookie: string) => Promise<void>;
    beforeAll(async () => {
      backend = createBackend(kind);
      loaded = watchLoads(backend.manager);
      app = await startApp(framework, backend.manager, { onError: () => {} });
    });
    afterAll(async () => {
      await app.close();
      await backend.close();
    });

    /** The victim's session, with a copy of its cookie in the attacker's hands. */
    async function victim() {
      const jar = new CookieJar();
      expect((await jar.get(`${app.url}/counter`)).body).toBe('This is your 1 visit');
      return { jar, stolen: jar.header() as string };
    }

    /** The victim's own request, through the same manager as the app: retires the id. */
    async function retire(jar: CookieJar, how: 'destroy' | 'regenerate') {
      const state = await backend.manager.load(jar.header());
      expect(state.isNew).toBe(false);
      state[how]();
      const plan = backend.manager.commit(state);
      await plan.persist?.();
      jar.store(plan.setCookies);
    }

    it.each(['destroy', 'regenerate'] as const)('%s: the stolen cookie stays dead', async (how) => {
      const { jar, stolen } = await victim();
      const attackerLoaded = loaded(stolen);
      const attack = await heldPost(app.url, stolen, 'attacker was here');
      await attackerLoaded;

      await retire(jar, how);
      const response = await attack.finish();
      expect(response.status).toBeLessThan(500);

      // The stolen cookie opens nothing: a fresh, empty session.
      const replay = await fetch(`${app.url}/peek`, { headers: { cookie: stolen } });
      expect(await replay.text()).toBe('{}');
      if (how === 'regenerate') {
        // The victim's new session is theirs, without the attacker's note.
        expect(JSON.parse((await jar.get(`${app.url}/peek`)).body)).toEqual({ counter: 1 });
      }
    });
  });
});
