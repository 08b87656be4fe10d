import { afterAll, describe, expect, it } from 'vitest';
import { SessionConfigError, SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { CookieJar, exchange, redisFixture } from '../support/harness.js';

/**
 * `waitForReplica` against the suite's redis, which has no replica: the cluster and sentinel tests
 * show the writes it acknowledges surviving a failover; these show what it refuses.
 */
describe('waitForReplica', () => {
  const fixture = redisFixture('wait-for-replica');
  afterAll(() => fixture.dispose());

  it('a write no replica acknowledged in time fails with a SessionStoreError (a 503), and says so', async () => {
    const manager = fixture.make({ waitForReplica: 50 } as never);
    const failure = await exchange(manager, new CookieJar(), (state) => {
      state.data.user = 'ada';
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as Error).message).toContain('no replica acknowledged the write within 50 ms');
  });

  it('is checked when the manager is made: below commandTimeout, and a client that can pipeline', () => {
    expect(() => SessionManager.redis(fixture.client, { waitForReplica: 2000 })).toThrow(SessionConfigError);
    expect(() => SessionManager.redis(fixture.client, { waitForReplica: 0 })).toThrow(SessionConfigError);
    expect(() => SessionManager.redis(fixture.client, { waitForReplica: Number.NaN })).toThrow(/waitForReplica/);
    // A client with the commands the store needs, but no pipeline().
    const redis = fixture.client;
    const client = { status: 'ready', eval: redis.eval.bind(redis), evalsha: redis.evalsha.bind(redis) };
    expect(() =>
      SessionManager.redis({ ...client, time: () => redis.time() } as never, { waitForReplica: 100 }),
    ).toThrow(/pipeline/);
  });
});
