import { afterAll, describe, expect, it } from 'vitest';
import type { SessionManager } from '../src/manager.js';
import { type BackendFixture, CookieJar, type Data, exchange, filesFixture, redisFixture } from './support/harness.js';

/**
 * Logout and regenerate are final on the server-side stores: a request that loaded the session
 * before its id was retired must not bring it back when it commits afterwards, whether it changed
 * the session (a write) or only read it while its expiry was due to slide (a touch).
 */
const fixtures: BackendFixture[] = [filesFixture(), redisFixture('retired')];
afterAll(async () => {
  for (const fixture of fixtures) await fixture.dispose();
});

async function loggedIn(manager: SessionManager<Data>) {
  const jar = new CookieJar();
  const { state } = await exchange(manager, jar, (s) => {
    s.data.user = 'alice';
  });
  return { jar, id: state.id, cookie: jar.header() as string };
}

/** A request that loaded the session now and commits later: returns its commit. */
async function inFlight(manager: SessionManager<Data>, cookie: string, change?: (data: Data) => void) {
  const state = await manager.load(cookie);
  expect(state.data.user).toBe('alice');
  change?.(state.data);
  return async () => {
    const plan = manager.commit(state);
    await plan.persist?.();
  };
}

describe.each(fixtures)('$kind: a request in flight does not undo a retirement', (fixture) => {
  const retirements = {
    logout: (state: { destroy(): void }) => state.destroy(),
    regenerate: (state: { regenerate(): void }) => state.regenerate(),
  };

  describe.each(Object.entries(retirements))('%s', (_, retire) => {
    it('a write that commits after it is refused: the old id stays dead', async () => {
      const manager = fixture.make();
      const { jar, id, cookie } = await loggedIn(manager);
      const late = await inFlight(manager, cookie, (data) => {
        data.note = 'written back';
      });
      await exchange(manager, jar, retire);
      expect(await fixture.holds(id)).toBe(false);

      await late();
      expect(await fixture.holds(id)).toBe(false);
      const replay = await manager.load(cookie);
      expect(replay.isNew).toBe(true);
      expect(replay.data.user).toBeUndefined();
    });

    it("a read-only request's expiry slide that commits after it does not resurrect it", async () => {
      const manager = fixture.make({ refreshAfter: 0 });
      const { jar, id, cookie } = await loggedIn(manager);
      const late = await inFlight(manager, cookie);
      await exchange(manager, jar, retire);

      await late();
      expect(await fixture.holds(id)).toBe(false);
      expect((await manager.load(cookie)).isNew).toBe(true);
    });
  });

  it('the session that replaced a regenerated id is untouched by the late write', async () => {
    const manager = fixture.make();
    const { jar, cookie } = await loggedIn(manager);
    const late = await inFlight(manager, cookie, (data) => {
      data.user = 'mallory';
    });
    await exchange(manager, jar, (s) => s.regenerate());
    await late();
    expect((await manager.load(jar.header())).data.user).toBe('alice');
  });

  it('an id that expired while a request was in flight is not written back either', async () => {
    const manager = fixture.make();
    const { id, cookie } = await loggedIn(manager);
    const late = await inFlight(manager, cookie, (data) => {
      data.note = 'late';
    });
    // The store forgot it (expired, or swept) before the request committed.
    await fixture.forget(id);
    await late();
    expect(await fixture.holds(id)).toBe(false);
  });
});
