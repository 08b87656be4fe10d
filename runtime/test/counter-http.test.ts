import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSessions } from '../src/adapters/node.js';
import { getSessionInfo, type SessionManager, session } from '../src/index.js';
import {
  type BackendFixture,
  CookieJar,
  cookieAttribute,
  cookiesFixture,
  filesFixture,
  redisFixture,
} from './support/harness.js';

declare module '../src/types.js' {
  interface SessionData {
    counter: number;
  }
}

/** Emmett's counter, as a user writes it: the session comes from the import, not from an argument. */
async function count(): Promise<string> {
  await new Promise((resolve) => setImmediate(resolve));
  session.counter = (session.counter ?? 0) + 1;
  return `This is your ${session.counter} visit`;
}

const fixtures: [string, () => BackendFixture][] = [
  ['cookies', cookiesFixture],
  ['files', filesFixture],
  ['redis', () => redisFixture('counter')],
];

describe.each(fixtures)('the counter over real HTTP, node:http adapter, %s backend', (kind, makeFixture) => {
  let fixture: BackendFixture;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    fixture = makeFixture();
    const manager = fixture.make() as unknown as SessionManager;
    server = createServer(
      withSessions(manager, (req) => {
        if (req.url === '/peek') return `counter is ${session.counter ?? 'unset'}, id ${getSessionInfo().id}`;
        return count();
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
    await fixture.dispose();
  });

  it('counts 1, 2, 3 with one cookie jar, and 1 again with a fresh jar', async () => {
    const jar = new CookieJar();
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await jar.get(`${url}/counter`);
      expect(response.status).toBe(200);
      bodies.push(response.body);
    }
    expect(bodies).toEqual(['This is your 1 visit', 'This is your 2 visit', 'This is your 3 visit']);
    expect((await new CookieJar().get(`${url}/counter`)).body).toBe('This is your 1 visit');
    // The first jar's session is untouched by the second.
    expect((await jar.get(`${url}/counter`)).body).toBe('This is your 4 visit');
  });

  it('sends one session cookie with the default attributes, and none for a request that changes nothing', async () => {
    const jar = new CookieJar();
    const first = await jar.get(`${url}/counter`);
    expect(first.setCookies).toHaveLength(1);
    const line = first.setCookies[0] as string;
    expect(line.startsWith('emt_session=')).toBe(true);
    expect(line).toMatch(/; HttpOnly/);
    expect(cookieAttribute(line, 'SameSite')).toBe('Lax');
    expect(cookieAttribute(line, 'Path')).toBe('/');
    const peek = await jar.get(`${url}/peek`);
    expect(peek.body).toMatch(/^counter is 1, id [A-Za-z0-9_-]{43}$/);
    expect(peek.setCookies).toEqual([]);
    if (kind !== 'cookies') expect(peek.body).toContain(jar.cookies.get('emt_session'));
    // A visitor who only peeks gets no cookie at all.
    expect((await new CookieJar().get(`${url}/peek`)).setCookies).toEqual([]);
  });

  it('keeps concurrent visitors apart', async () => {
    const jars = Array.from({ length: 8 }, () => new CookieJar());
    for (let round = 1; round <= 3; round++) {
      const bodies = await Promise.all(jars.map((jar) => jar.get(`${url}/counter`)));
      expect(bodies.map((b) => b.body)).toEqual(jars.map(() => `This is your ${round} visit`));
    }
  });
});
