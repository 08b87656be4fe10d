import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { TOMBSTONE } from '../../src/backends/redis-scripts.js';
import { destroySession, getSessionInfo, regenerateSession } from '../../src/context.js';
import { SessionStoreError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import { type RunningServer, startNodeApp } from './support/server.js';

/**
 * Redis failing between a request's load and its commit: the slide of the expiry, the logout's
 * tombstone, and each half of a regenerate. Real failures: redis stopped in the middle of the
 * request, or refusing a key through its ACL. Each is a typed SessionStoreError and a 503, and the
 * store is left in a state the 503 tells the truth about.
 */
const PREFIX = 'store-errors:';

let server: RedisServer;
let admin: Redis;
let client: Redis;
let app: RunningServer;
/** What the running request does between its load and its commit. */
let midRequest: (() => Promise<void>) | undefined;
let lastId = '';

beforeAll(async () => {
  // Its own server, with persistence: tests stop it and start it again.
  server = await startRedisServer({ persistence: true });
  admin = new Redis(server.url);
  await createAppUser();
  client = new Redis(server.url, { username: 'app', password: 'app-password' });
  for (const redis of [admin, client]) redis.on('error', () => {});
  if (client.status !== 'ready') await once(client, 'ready');
  const manager = SessionManager.redis<{ user: string }>(client, {
    prefix: PREFIX,
    commandTimeout: 1000,
    refreshAfter: 0,
  });
  app = await startNodeApp(manager, async (req, _res, session) => {
    lastId = getSessionInfo().id;
    if (req.url === '/login') session.user = 'alice';
    await midRequest?.();
    midRequest = undefined;
    if (req.url === '/logout') destroySession();
    if (req.url === '/regenerate') regenerateSession();
    return session.user ?? 'anonymous';
  });
});

afterAll(async () => {
  await app.close();
  client.disconnect();
  admin.disconnect();
  await server.dispose();
});

/** The user the app's client logs in as: every key and command, until a test takes keys away. */
async function createAppUser() {
  await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-password', '~*', '+@all');
}

async function loggedIn() {
  const jar = new CookieJar();
  expect((await jar.get(`${app.url}/login`)).body).toBe('alice');
  return { jar, id: lastId, stolen: jar.header() as string };
}

/** Stops redis for the rest of this request; `restart` brings it back with its data. */
function stopRedisMidRequest() {
  midRequest = () => server.stop();
  return async () => {
    const ready = new Promise((resolve) => client.once('ready', resolve));
    await server.start();
    // ACL users live in memory only: the app's user is made again before its client can log in.
    await createAppUser();
    await ready;
  };
}

function expectStoreError(operation: string) {
  const error = app.errors.at(-1);
  expect(error).toBeInstanceOf(SessionStoreError);
  expect((error as SessionStoreError).operation).toBe(operation);
}

describe('redis fails between the load and the commit', () => {
  it('the expiry slide (a read-only request): a 503', async () => {
    const { jar } = await loggedIn();
    const restart = stopRedisMidRequest();
    const response = await jar.get(`${app.url}/whoami`);
    expect(response.status).toBe(503);
    expect(response.setCookies).toEqual([]);
    expectStoreError('touch');
    await restart();
    expect((await jar.get(`${app.url}/whoami`)).body).toBe('alice');
  });

  it("the logout's tombstone: a 503, and the user is still logged in, as the 503 said", async () => {
    const { jar } = await loggedIn();
    const restart = stopRedisMidRequest();
    const response = await jar.get(`${app.url}/logout`);
    expect(response.status).toBe(503);
    expect(response.setCookies).toEqual([]);
    expectStoreError('delete');
    await restart();
    expect((await jar.get(`${app.url}/whoami`)).body).toBe('alice');
  });

  it('a regenerate whose old id cannot be retired writes no new id: a 503, and the session as it was', async () => {
    const { jar, id } = await loggedIn();
    // The ACL lets this connection reach no key at all.
    midRequest = async () => {
      await admin.call('ACL', 'SETUSER', 'app', 'resetkeys');
    };
    try {
      const response = await jar.get(`${app.url}/regenerate`);
      expect(response.status).toBe(503);
      expect(response.setCookies).toEqual([]);
      expectStoreError('delete');
    } finally {
      await admin.call('ACL', 'SETUSER', 'app', '~*');
    }
    expect(await admin.keys(`${PREFIX}*`)).toContain(PREFIX + id);
    expect((await jar.get(`${app.url}/whoami`)).body).toBe('alice');
  });

  it('a regenerate whose new id cannot be written once the old one is retired: a 503, and the old id is dead', async () => {
    const { jar, id, stolen } = await loggedIn();
    const before = (await admin.keys(`${PREFIX}*`)).length;
    // The ACL lets this connection reach the old key only.
    midRequest = async () => {
      await admin.call('ACL', 'SETUSER', 'app', 'resetkeys', `~${PREFIX}${id}`);
    };
    try {
      const response = await jar.get(`${app.url}/regenerate`);
      expect(response.status).toBe(503);
      expect(response.setCookies).toEqual([]);
      expectStoreError('write');
    } finally {
      await admin.call('ACL', 'SETUSER', 'app', '~*');
    }
    // Retired first: the old id (perhaps fixated or stolen) opens nothing; the user signs in again.
    expect(await admin.get(PREFIX + id)).toBe(TOMBSTONE);
    expect((await admin.keys(`${PREFIX}*`)).length).toBe(before);
    const replay = await fetch(`${app.url}/whoami`, { headers: { cookie: stolen } });
    expect(await replay.text()).toBe('anonymous');
  });
});
